//! Reads the spec: YAML text to a JSON tree (for the checks, which speak in
//! JSON pointers) and to the typed `openapiv3` model (for progenitor).

use crate::problem::{Failure, Problem};
use std::path::Path;

/// A parsed spec: the raw tree and the typed document.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The file name used in messages.
    pub file: String,
    /// The document as plain JSON, for pointer-based checks.
    pub raw: serde_json::Value,
    /// The document as OpenAPI 3.0, for generation.
    pub api: openapiv3::OpenAPI,
}

/// Reads and parses the spec file at `path`.
pub fn load(path: &Path) -> Result<Spec, Failure> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| Failure::Read {
        file: file.clone(),
        error,
    })?;
    parse(&file, &text)
}

/// Parses spec text; `file` is only used to name the source in messages.
pub fn parse(file: &str, text: &str) -> Result<Spec, Failure> {
    let raw: serde_json::Value = serde_norway::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        Failure::Syntax {
            file: file.to_string(),
            line,
            column,
            message: e.to_string(),
        }
    })?;
    let version = raw.get("openapi").and_then(|v| v.as_str()).unwrap_or("");
    if !version.starts_with("3.0.") {
        let problem = Problem::new(
            "/openapi",
            format!(
                "`openapi` is {version:?}: this generator reads OpenAPI 3.0.x; write `openapi: 3.0.3`"
            ),
        );
        return Err(Failure::invalid(file, vec![problem]));
    }
    let api: openapiv3::OpenAPI = serde_path_to_error::deserialize(&raw).map_err(|e| {
        let mut pointer = pointer_of(&e.path().to_string());
        // A missing field is placed where it belongs, not at its parent
        // (which for a top-level field would be the empty pointer).
        let inner = e.inner().to_string();
        if let Some(field) = inner
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            pointer = format!("{pointer}/{}", field.replace('~', "~0").replace('/', "~1"));
        }
        let message = format!("not an OpenAPI 3.0 document here: {}", e.inner());
        Failure::invalid(file, vec![Problem::new(pointer, message)])
    })?;
    Ok(Spec {
        file: file.to_string(),
        raw,
        api,
    })
}

/// Turns serde_path_to_error's `a.b[0].c` into the JSON pointer `/a/b/0/c`.
fn pointer_of(path: &str) -> String {
    if path == "." {
        return String::new();
    }
    let mut out = String::new();
    for segment in path.split('.') {
        for (i, part) in segment.split('[').enumerate() {
            let part = if i > 0 {
                part.trim_end_matches(']')
            } else {
                part
            };
            if !part.is_empty() {
                out.push('/');
                out.push_str(&part.replace('~', "~0").replace('/', "~1"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn pointer_of_turns_paths_into_pointers() {
        assert_eq!(
            super::pointer_of("paths./agents.get"),
            "/paths/~1agents/get"
        );
        assert_eq!(super::pointer_of("tags[1].name"), "/tags/1/name");
    }
}
