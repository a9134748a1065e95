//! The API's conventions, checked before anything is generated.
//!
//! Each rule reports every place that breaks it, by operation and JSON
//! pointer, with what to write instead, so that one run lists all the work.

use crate::load::Spec;
use crate::problem::{Failure, Problem};
use crate::spec::{ERROR_CODES, escape, event_data, operations, parameters, ref_of, resolve};
use serde_json::Value;

/// The error statuses every operation declares, and the shared response each
/// should point to. 404, 409 and 422 depend on the operation (see `check_errors`).
const STANDARD_ERRORS: [(&str, &str); 6] = [
    ("400", "BadRequest"),
    ("401", "Unauthorized"),
    ("403", "Forbidden"),
    ("429", "TooManyRequests"),
    ("500", "InternalError"),
    ("503", "ServiceUnavailable"),
];

/// Checks `spec` against the conventions; `Err` lists every problem found.
pub fn check(spec: &Spec) -> Result<(), Failure> {
    let mut problems = Vec::new();
    check_refs(&spec.raw, &spec.raw, String::new(), &mut problems);
    check_error_codes(&spec.raw, &mut problems);
    crate::paths::check(&spec.raw, &mut problems);
    crate::headers::check(&spec.raw, &mut problems);
    crate::enums::check(&spec.raw, &mut problems);
    let mut seen_ids = std::collections::BTreeMap::new();
    let tags: Vec<&str> = spec.raw["tags"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    for (path, item, method, op) in operations(&spec.raw) {
        let pointer = format!("/paths/{}/{method}", escape(path));
        let ctx = Operation {
            root: &spec.raw,
            item,
            op,
            method,
            pointer: &pointer,
            name: op["operationId"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("{} {path}", method.to_uppercase())),
        };
        let before = problems.len();
        ctx.check(&tags, &mut seen_ids, &mut problems);
        for p in &mut problems[before..] {
            p.operation = Some(ctx.name.clone());
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::invalid(&spec.file, problems))
    }
}

struct Operation<'a> {
    root: &'a Value,
    item: &'a Value,
    op: &'a Value,
    method: &'a str,
    pointer: &'a str,
    name: String,
}

impl Operation<'_> {
    fn check(
        &self,
        tags: &[&str],
        seen_ids: &mut std::collections::BTreeMap<String, String>,
        out: &mut Vec<Problem>,
    ) {
        let at = |suffix: &str| format!("{}{suffix}", self.pointer);
        match self.op["operationId"].as_str() {
            None => out.push(Problem::new(
                self.pointer,
                "no `operationId`: add one in snake_case, e.g. `operationId: list_agents`",
            )),
            Some(id) if !is_snake_case(id) => out.push(Problem::new(
                at("/operationId"),
                format!("`operationId: {id}` is not snake_case: it names a Rust method"),
            )),
            Some(id) => {
                if let Some(first) = seen_ids.insert(id.to_string(), self.pointer.to_string()) {
                    out.push(Problem::new(
                        at("/operationId"),
                        format!("`operationId: {id}` is also used at #{first}: make it unique"),
                    ));
                }
            }
        }
        match self.op["tags"].as_array().map(Vec::as_slice) {
            None | Some([]) => out.push(Problem::new(
                self.pointer,
                "no `tags`: add the domain this operation belongs to, e.g. `tags: [agents]`",
            )),
            Some(list) => {
                for (i, tag) in list.iter().enumerate() {
                    let tag = tag.as_str().unwrap_or_default();
                    if !tags.contains(&tag) {
                        out.push(Problem::new(
                            at(&format!("/tags/{i}")),
                            format!("tag `{tag}` is not declared in the top-level `tags` list: declare it with a description"),
                        ));
                    }
                }
            }
        }
        for field in ["summary", "description"] {
            if self.op[field].as_str().is_none_or(|s| s.trim().is_empty()) {
                out.push(Problem::new(
                    self.pointer,
                    format!("no `{field}`: every operation is documented for the generated method's doc comment"),
                ));
            }
        }
        let params = self.parameters();
        let has = |location: &str, name: &str| {
            params.iter().any(|p| {
                p["in"] == location
                    && p["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
        };
        if matches!(self.method, "post" | "patch") && !has("header", "Idempotency-Key") {
            out.push(Problem::new(
                at("/parameters"),
                "a POST or PATCH takes an `Idempotency-Key`: add `- $ref: '#/components/parameters/IdempotencyKey'`",
            ));
        }
        let success = self.success_schema();
        let is_list = success
            .as_ref()
            .is_some_and(|(_, s)| self.is_list_envelope(s));
        let named_list = self.op["operationId"]
            .as_str()
            .is_some_and(|id| id.starts_with("list_"));
        if is_list || named_list {
            for (name, component) in [("page", "Page"), ("per_page", "PerPage")] {
                if !has("query", name) {
                    out.push(Problem::new(
                        at("/parameters"),
                        format!("a list operation takes `{name}`: add `- $ref: '#/components/parameters/{component}'`"),
                    ));
                }
            }
        }
        if named_list && !is_list {
            let pointer = success.map_or_else(|| at("/responses"), |(p, _)| p);
            out.push(Problem::new(
                pointer,
                "a list operation returns the list envelope: a `$ref` to a schema with `data` (array), `meta` ($ref ListMeta) and `links` ($ref Links)",
            ));
        }
        self.check_event_streams(out);
        let responses = &self.op["responses"];
        let missing: Vec<&str> = STANDARD_ERRORS
            .iter()
            .filter(|(code, _)| responses.get(*code).is_none())
            .map(|(code, _)| *code)
            .collect();
        if !missing.is_empty() {
            let fix: Vec<String> = STANDARD_ERRORS
                .iter()
                .filter(|(code, _)| missing.contains(code))
                .map(|(code, name)| format!("'{code}': {{$ref: '#/components/responses/{name}'}}"))
                .collect();
            out.push(Problem::new(
                at("/responses"),
                format!(
                    "missing the standard error response(s) {}: add {}",
                    missing.join(", "),
                    fix.join(", ")
                ),
            ));
        }
        self.check_errors(out);
    }

    /// An operation declares the errors it can return and no others: 404 only
    /// with an id in its path, 422 only with a 422 code, and every code it
    /// lists in `x-ayra-error-codes` belongs to a response it declares.
    fn check_errors(&self, out: &mut Vec<Problem>) {
        let at = |suffix: &str| format!("{}{suffix}", self.pointer);
        let responses = &self.op["responses"];
        let has_id = self.item_path().contains('{');
        match (responses.get("404").is_some(), has_id) {
            (true, false) => out.push(Problem::new(
                at("/responses/404"),
                "a 404 on an operation without an id in its path cannot happen: remove it",
            )),
            (false, true) => out.push(Problem::new(
                at("/responses"),
                "an id in the path can be unknown: add '404': {$ref: '#/components/responses/NotFound'}",
            )),
            _ => {}
        }
        let Some(codes) = self.op[ERROR_CODES].as_array() else {
            out.push(Problem::new(
                self.pointer,
                format!("no `{ERROR_CODES}`: list the codes of its 404, 409 and 422 responses, e.g. `{ERROR_CODES}: [resource_not_found]` (`[]` when it has none)"),
            ));
            return;
        };
        let codes: Vec<&str> = codes.iter().filter_map(Value::as_str).collect();
        let carried = |status: &str| -> Vec<&str> {
            responses
                .get(status)
                .and_then(|r| resolve(self.root, r))
                .and_then(|r| r[ERROR_CODES].as_array())
                .map(|c| c.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default()
        };
        let statuses: Vec<&str> = responses
            .as_object()
            .map(|r| {
                r.keys()
                    .map(String::as_str)
                    .filter(|s| s.starts_with(['4', '5']))
                    .collect()
            })
            .unwrap_or_default();
        for (i, code) in codes.iter().enumerate() {
            if !statuses.iter().any(|s| carried(s).contains(code)) {
                out.push(Problem::new(
                    at(&format!("/{}/{i}", escape(ERROR_CODES))),
                    format!("`{code}` is not a code of any error response this operation declares: declare the response that carries it, or remove the code"),
                ));
            }
        }
        for status in ["404", "409", "422"] {
            if responses.get(status).is_some()
                && (status != "404" || has_id)
                && !carried(status).iter().any(|c| codes.contains(c))
            {
                out.push(Problem::new(
                    at(&format!("/responses/{status}")),
                    format!("a {status} whose codes this operation never returns: list them in `{ERROR_CODES}`, or remove the {status}"),
                ));
            }
        }
        let takes_key = self.parameters().iter().any(|p| {
            p["in"] == "header"
                && p["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case("Idempotency-Key"))
        });
        if takes_key && !codes.contains(&"idempotency_key_reused") {
            out.push(Problem::new(
                at(&format!("/{}", escape(ERROR_CODES))),
                "an operation taking an `Idempotency-Key` can answer 422 `idempotency_key_reused`: list it (and declare the 422)",
            ));
        }
    }

    /// The path template this operation is under.
    fn item_path(&self) -> String {
        self.pointer
            .strip_prefix("/paths/")
            .and_then(|p| p.rsplit_once('/'))
            .map(|(p, _)| p.replace("~1", "/").replace("~0", "~"))
            .unwrap_or_default()
    }

    /// A `text/event-stream` body is text (`type: string`, so that mocks can
    /// serve it and validators accept it), and each event's `data` is
    /// described by `x-ayra-event-data`, a `$ref` to a component schema.
    fn check_event_streams(&self, out: &mut Vec<Problem>) {
        let responses = self.op["responses"].as_object().into_iter().flatten();
        for (code, response) in responses.filter(|(c, _)| c.starts_with('2')) {
            let Some(media) =
                resolve(self.root, response).and_then(|r| r["content"].get("text/event-stream"))
            else {
                continue;
            };
            let at = format!(
                "{}/responses/{code}/content/text~1event-stream",
                self.pointer
            );
            if resolve(self.root, &media["schema"]).is_none_or(|s| s["type"] != "string") {
                out.push(Problem::new(
                    format!("{at}/schema"),
                    "an event stream's body is text: `schema: {type: string}`, with each event's data in `x-ayra-event-data`",
                ));
            }
            if event_data(media).is_none() {
                out.push(Problem::new(
                    at,
                    "an event stream names the schema of each event's `data`: add `x-ayra-event-data: {$ref: '#/components/schemas/<Event>'}`",
                ));
            }
        }
    }

    fn parameters(&self) -> Vec<&Value> {
        parameters(self.root, self.item, self.op)
    }

    /// The JSON schema of the first 2xx response, with the pointer to it.
    fn success_schema(&self) -> Option<(String, &Value)> {
        let responses = self.op["responses"].as_object()?;
        let (code, response) = responses.iter().find(|(c, _)| c.starts_with('2'))?;
        let response = resolve(self.root, response)?;
        let schema = response["content"]["application/json"].get("schema")?;
        let pointer = format!(
            "{}/responses/{code}/content/application~1json/schema",
            self.pointer
        );
        Some((pointer, schema))
    }

    fn is_list_envelope(&self, schema: &Value) -> bool {
        if self.method != "get" || schema.get("$ref").is_none() {
            return false;
        }
        let Some(schema) = resolve(self.root, schema) else {
            return false;
        };
        let props = &schema["properties"];
        let data = resolve(self.root, &props["data"]);
        let is_ref_to =
            |v: &Value, name: &str| ref_of(v) == Some(&format!("#/components/schemas/{name}"));
        data.is_some_and(|d| d["type"] == "array")
            && is_ref_to(&props["meta"], "ListMeta")
            && is_ref_to(&props["links"], "Links")
    }
}

/// Every code listed in an `x-ayra-error-codes` is a value of the `ErrorCode`
/// schema, so that the SDK's typed `ErrorCode` knows it.
fn check_error_codes(root: &Value, out: &mut Vec<Problem>) {
    let known: Vec<&str> = root
        .pointer("/components/schemas/ErrorCode/enum")
        .and_then(Value::as_array)
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut lists = Vec::new();
    for (name, response) in root["components"]["responses"]
        .as_object()
        .into_iter()
        .flatten()
    {
        lists.push((
            format!("/components/responses/{}", escape(name)),
            &response[ERROR_CODES],
        ));
    }
    for (path, _, method, op) in operations(root) {
        lists.push((
            format!("/paths/{}/{method}", escape(path)),
            &op[ERROR_CODES],
        ));
    }
    for (pointer, list) in lists {
        for (i, code) in list.as_array().into_iter().flatten().enumerate() {
            let code = code.as_str().unwrap_or_default();
            if !known.contains(&code) {
                out.push(Problem::new(
                    format!("{pointer}/{}/{i}", escape(ERROR_CODES)),
                    format!(
                        "`{code}` is not a value of `components/schemas/ErrorCode`: add it there"
                    ),
                ));
            }
        }
    }
}

/// Every `$ref` must point into this document, at something that exists.
fn check_refs(root: &Value, node: &Value, pointer: String, out: &mut Vec<Problem>) {
    match node {
        Value::Object(map) => {
            if let Some(target) = map.get("$ref") {
                let target = target.as_str().unwrap_or_default();
                let found = target
                    .strip_prefix('#')
                    .and_then(|p| root.pointer(p))
                    .is_some();
                if !found {
                    out.push(Problem::new(
                        format!("{pointer}/$ref"),
                        format!("`$ref: '{target}'` points to nothing in this file: define it or fix the path"),
                    ));
                }
            }
            if map.get("additionalProperties") == Some(&Value::Bool(false)) {
                out.push(Problem::new(
                    format!("{pointer}/additionalProperties"),
                    "`additionalProperties: false` would make clients reject fields a newer API adds: remove it",
                ));
            }
            for (key, value) in map {
                check_refs(root, value, format!("{pointer}/{}", escape(key)), out);
            }
        }
        Value::Array(items) => {
            for (i, value) in items.iter().enumerate() {
                check_refs(root, value, format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn is_snake_case(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
