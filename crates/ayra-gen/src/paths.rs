//! The path keys are OpenAPI path templates, and their `{name}`s are exactly
//! the path parameters of the operations under them: progenitor gives no
//! client method to an operation under a key such as `$agents`, and says
//! nothing.

use crate::problem::Problem;
use crate::spec::{METHODS, escape, resolve};
use serde_json::Value;

/// Checks every path key of the spec and the path parameters under it.
pub(crate) fn check(root: &Value, out: &mut Vec<Problem>) {
    for (path, item) in root["paths"].as_object().into_iter().flatten() {
        let at = format!("/paths/{}", escape(path));
        let names = match template(path) {
            Ok(names) => names,
            Err(why) => {
                out.push(Problem::new(
                    &at,
                    format!("`{path}` is not a path template: {why}"),
                ));
                continue;
            }
        };
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                out.push(Problem::new(
                    &at,
                    format!("`{{{name}}}` appears twice in `{path}`: each path parameter names one segment"),
                ));
            }
        }
        let declared = |list: &Value, pointer: String| -> Vec<(String, String)> {
            let params = list["parameters"].as_array().into_iter().flatten();
            params
                .enumerate()
                .filter_map(|(i, p)| {
                    let p = resolve(root, p)?;
                    let name = p["name"].as_str()?;
                    (p["in"] == "path")
                        .then(|| (name.to_string(), format!("{pointer}/parameters/{i}")))
                })
                .collect()
        };
        let shared = declared(item, at.clone());
        let mut unused = Vec::new();
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let op_at = format!("{at}/{method}");
            let own = declared(op, op_at.clone());
            let operation = op["operationId"].as_str().map_or_else(
                || format!("{} {path}", method.to_uppercase()),
                str::to_string,
            );
            for name in &names {
                if !own.iter().chain(&shared).any(|(n, _)| n == name) {
                    out.push(Problem {
                        operation: Some(operation.clone()),
                        ..Problem::new(
                            format!("{op_at}/parameters"),
                            format!("`{{{name}}}` in `{path}` is not a path parameter of this operation: declare `- name: {name}` with `in: path` and `required: true`"),
                        )
                    });
                }
            }
            unused.extend(own.into_iter().map(|p| (p, Some(operation.clone()))));
        }
        unused.extend(shared.into_iter().map(|p| (p, None)));
        for ((name, pointer), operation) in unused {
            if !names.contains(&name.as_str()) {
                out.push(Problem {
                    operation,
                    ..Problem::new(
                        pointer,
                        format!("path parameter `{name}` is not in `{path}`: write `{{{name}}}` in the path, or make it a query parameter"),
                    )
                });
            }
        }
    }
}

/// The parameter names of a path template, or why it is not one.
fn template(path: &str) -> Result<Vec<&str>, String> {
    if !path.starts_with('/') {
        return Err("a path starts with `/`, e.g. `/agents`".to_string());
    }
    let mut names = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("a `}` without its `{`: a path parameter is written `{name}`".to_string());
        }
        let after = &rest[open + 1..];
        let close = after
            .find(['{', '}'])
            .filter(|&c| after[c..].starts_with('}'))
            .ok_or("a `{` without its `}`: a path parameter is written `{name}`")?;
        let name = &after[..close];
        if name.is_empty() || name.contains('/') {
            return Err(format!(
                "`{{{name}}}` names no parameter: a path parameter is written `{{name}}`, within one segment"
            ));
        }
        names.push(name);
        rest = &after[close + 1..];
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::template;

    #[test]
    fn templates_and_what_is_not_one() {
        assert_eq!(template("/agents"), Ok(vec![]));
        assert_eq!(template("/a/{x}/b/{y}"), Ok(vec!["x", "y"]));
        assert_eq!(template("/a/{x}.{y}"), Ok(vec!["x", "y"]));
        for bad in [
            "$agents", "agents", "", "/a/{x", "/a/x}", "/a/{{x}}", "/a/{}", "/a/{x/y}", "/a/{x}}",
        ] {
            assert!(template(bad).is_err(), "{bad}");
        }
    }
}
