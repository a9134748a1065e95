//! Checks responses against `spec/ayra.yaml`: the status is one the operation
//! declares, every header it declares `required` is sent and every declared
//! header that is sent has a value of its schema (`Retry-After` an integer,
//! `Location` a URL, ...), `X-Request-Id` is the body's request id, the content
//! type is one it lists, and a JSON body validates against the declared schema
//! (OpenAPI 3.0's `nullable` mapped to JSON Schema's `null` type).

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The spec, ready to match paths and validate bodies.
pub struct SpecValidator {
    raw: Value,
    components: Value,
    routes: Vec<Route>,
    compiled: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

struct Route {
    method: String,
    segments: Vec<String>,
    pointer: String,
    id: String,
}

impl SpecValidator {
    /// Loads the workspace's spec.
    pub fn load() -> SpecValidator {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/ayra.yaml");
        let spec = ayra_gen::load(&path).unwrap_or_else(|f| panic!("{f}"));
        let raw = spec.raw;
        let mut routes = Vec::new();
        for (path, item) in raw["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                let Some(id) = op["operationId"].as_str() else {
                    continue;
                };
                routes.push(Route {
                    method: method.to_uppercase(),
                    segments: path
                        .trim_start_matches('/')
                        .split('/')
                        .map(str::to_string)
                        .collect(),
                    pointer: format!(
                        "/paths/{}/{method}",
                        path.replace('~', "~0").replace('/', "~1")
                    ),
                    id: id.to_string(),
                });
            }
        }
        let mut components = json!({"schemas": raw["components"]["schemas"].clone()});
        nullable_to_json_schema(&mut components);
        SpecValidator {
            raw,
            components,
            routes,
            compiled: Mutex::default(),
        }
    }

    /// The operation a request is for: `path` is relative to the base URL
    /// (`/agents/agt_1`).
    pub fn operation(&self, method: &str, path: &str) -> Option<&str> {
        self.route(method, path).map(|r| r.id.as_str())
    }

    fn route(&self, method: &str, path: &str) -> Option<&Route> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        // Prefer literal segments over templates (`/agents/x` vs `/agents/{id}`).
        self.routes
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.segments.len() == parts.len())
            .filter(|r| {
                r.segments
                    .iter()
                    .zip(&parts)
                    .all(|(s, p)| s.starts_with('{') || s == p)
            })
            .min_by_key(|r| r.segments.iter().filter(|s| s.starts_with('{')).count())
    }

    /// Checks one response; `Err` says what does not conform. `headers` are
    /// the response's (name, value) pairs.
    pub fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(), String> {
        let route = self
            .route(method, path)
            .ok_or_else(|| format!("{method} {path}: no operation in the spec"))?;
        let op = self.raw.pointer(&route.pointer).expect("route pointer");
        let code = status.to_string();
        let response = op["responses"]
            .get(&code)
            .or_else(|| op["responses"].get("default"))
            .ok_or_else(|| format!("{}: status {status} is not declared", route.id))?;
        let response = resolve(&self.raw, response);
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let mut problems = self.check_headers(response, &header);
        let body_problems = self.check_body(route, &code, response, &header, body);
        problems.extend(body_problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("{} {status}: {}", route.id, problems.join("; ")))
        }
    }

    /// The headers the response declares: present when required, of their schema when sent.
    fn check_headers<'h>(
        &self,
        response: &Value,
        header: &dyn Fn(&str) -> Option<&'h str>,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        let Some(declared) = response["headers"].as_object() else {
            return problems;
        };
        for (name, h) in declared {
            let h = resolve(&self.raw, h);
            let Some(value) = header(name) else {
                if h["required"] == Value::Bool(true) {
                    problems.push(format!("required header {name} is missing"));
                }
                continue;
            };
            let schema = &h["schema"];
            let fits = match schema["type"].as_str() {
                Some("integer") => value
                    .parse::<i64>()
                    .is_ok_and(|n| schema["minimum"].as_i64().is_none_or(|min| n >= min)),
                Some("boolean") => value == "true" || value == "false",
                _ if schema["format"] == "uri" => {
                    (value.starts_with("https://") || value.starts_with("http://"))
                        && !value.contains(char::is_whitespace)
                }
                _ => !value.is_empty(),
            };
            if !fits {
                problems.push(format!("header {name}: {value:?} does not fit {schema}"));
            }
        }
        problems
    }

    /// The content type and the body; `X-Request-Id` is the body's request id.
    fn check_body<'h>(
        &self,
        route: &Route,
        code: &str,
        response: &Value,
        header: &dyn Fn(&str) -> Option<&'h str>,
        body: &[u8],
    ) -> Vec<String> {
        let Some(content) = response["content"].as_object() else {
            return if body.is_empty() {
                vec![]
            } else {
                vec!["a body where the spec declares none".to_string()]
            };
        };
        let media = header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim();
        let Some(declared) = content.get(media) else {
            return vec![format!(
                "content type {media:?} is not one of {:?}",
                content.keys().collect::<Vec<_>>()
            )];
        };
        if media != "application/json" {
            return vec![];
        }
        let instance: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return vec![format!("not JSON: {e}")],
        };
        let mut problems = Vec::new();
        let in_body = instance["meta"]["request_id"]
            .as_str()
            .or(instance["error"]["request_id"].as_str());
        if let (Some(in_body), Some(in_header)) = (in_body, header("x-request-id"))
            && in_body != in_header
        {
            problems.push(format!(
                "X-Request-Id {in_header:?} is not the body's request id {in_body:?}"
            ));
        }
        match self.validator(&format!("{}{code}", route.pointer), &declared["schema"]) {
            Ok(validator) => problems.extend(
                validator
                    .iter_errors(&instance)
                    .take(5)
                    .map(|e| format!("{} at {}", e, e.instance_path())),
            ),
            Err(e) => problems.push(e),
        }
        problems
    }

    fn validator(&self, key: &str, schema: &Value) -> Result<Arc<jsonschema::Validator>, String> {
        if let Some(v) = self.compiled.lock().unwrap().get(key) {
            return Ok(v.clone());
        }
        let mut schema = schema.clone();
        nullable_to_json_schema(&mut schema);
        let root = json!({"allOf": [schema], "components": self.components});
        let v = jsonschema::draft4::options()
            .should_validate_formats(true)
            .build(&root)
            .map_err(|e| format!("schema for {key}: {e}"))?;
        let v = Arc::new(v);
        self.compiled
            .lock()
            .unwrap()
            .insert(key.to_string(), v.clone());
        Ok(v)
    }
}

fn resolve<'a>(root: &'a Value, mut v: &'a Value) -> &'a Value {
    while let Some(target) = v.get("$ref").and_then(Value::as_str) {
        v = root
            .pointer(target.trim_start_matches('#'))
            .unwrap_or(&Value::Null);
    }
    v
}

/// `nullable: true` (OpenAPI 3.0) as JSON Schema: `null` is also allowed.
fn nullable_to_json_schema(node: &mut Value) {
    match node {
        Value::Object(map) => {
            if map.remove("nullable") == Some(Value::Bool(true)) {
                if let Some(Value::String(t)) = map.get("type").cloned() {
                    map.insert("type".into(), json!([t, "null"]));
                }
                if let Some(Value::Array(values)) = map.get_mut("enum")
                    && !values.contains(&Value::Null)
                {
                    values.push(Value::Null);
                }
            }
            // OpenAPI keywords JSON Schema does not know.
            for key in ["example", "x-ayra-cache"] {
                map.remove(key);
            }
            map.values_mut().for_each(nullable_to_json_schema);
        }
        Value::Array(items) => items.iter_mut().for_each(nullable_to_json_schema),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::SpecValidator;

    fn agent() -> serde_json::Value {
        serde_json::json!({"data": {
            "id": "agt_1", "name": "A", "description": null, "status": "active", "voice_id": "voice_ava",
            "language": "en-US", "prompt": "p", "first_message": null, "phone_number": null,
            "timezone": "Europe/Paris", "max_call_duration_seconds": 600, "metadata": {},
            "created_at": "2025-01-15T10:30:00Z", "updated_at": "2025-01-15T10:30:00Z"},
            "meta": {"request_id": "req_1", "timestamp": "2025-01-15T10:30:00Z"}})
    }

    /// The headers every sandbox response carries, with `extra` added.
    fn headers(content_type: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut h = vec![
            ("x-request-id", "req_1"),
            ("access-control-allow-origin", "*"),
            ("access-control-expose-headers", "X-Request-Id"),
        ];
        if !content_type.is_empty() {
            h.push(("content-type", content_type));
        }
        h.extend_from_slice(extra);
        h.into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn json() -> Vec<(String, String)> {
        headers("application/json", &[])
    }

    #[test]
    fn the_validator_accepts_a_conforming_response_and_names_what_breaks() {
        let v = SpecValidator::load();
        assert_eq!(v.operation("GET", "/agents/agt_1"), Some("get_agent"));
        assert_eq!(
            v.operation("POST", "/agents/agt_1/enable"),
            Some("enable_agent")
        );
        let ok = agent().to_string();
        v.check("GET", "/agents/agt_1", 200, &json(), ok.as_bytes())
            .unwrap();

        let mut missing = agent();
        missing["data"].as_object_mut().unwrap().remove("name");
        let err = v
            .check(
                "GET",
                "/agents/agt_1",
                200,
                &json(),
                missing.to_string().as_bytes(),
            )
            .unwrap_err();
        assert!(err.contains("name"), "{err}");
        let mut bad_time = agent();
        bad_time["meta"]["timestamp"] = "yesterday".into();
        assert!(
            v.check(
                "GET",
                "/agents/agt_1",
                200,
                &json(),
                bad_time.to_string().as_bytes()
            )
            .is_err()
        );
        let mut bad_null = agent();
        bad_null["data"]["name"] = serde_json::Value::Null;
        assert!(
            v.check(
                "GET",
                "/agents/agt_1",
                200,
                &json(),
                bad_null.to_string().as_bytes()
            )
            .is_err()
        );
        assert!(
            v.check("GET", "/agents/agt_1", 201, &json(), ok.as_bytes())
                .unwrap_err()
                .contains("not declared")
        );
        let html = headers("text/html", &[]);
        assert!(
            v.check("GET", "/agents/agt_1", 200, &html, ok.as_bytes())
                .is_err()
        );
        assert!(
            v.check("DELETE", "/agents/agt_1", 204, &headers("", &[]), b"")
                .is_ok()
        );
    }

    #[test]
    fn the_validator_checks_the_headers_the_spec_declares() {
        let v = SpecValidator::load();
        let ok = agent().to_string();
        let check = |status, headers: &[(String, String)]| {
            v.check("GET", "/agents/agt_1", status, headers, ok.as_bytes())
        };
        // X-Request-Id is required on every response, and is the body's id.
        let mut no_id = json();
        no_id.retain(|(k, _)| k != "x-request-id");
        let err = check(200, &no_id).unwrap_err();
        assert!(err.contains("X-Request-Id is missing"), "{err}");
        let mut other_id = json();
        other_id[0].1 = "req_2".into();
        let err = check(200, &other_id).unwrap_err();
        assert!(err.contains("not the body's request id"), "{err}");
        let mut no_cors = json();
        no_cors.retain(|(k, _)| k != "access-control-allow-origin");
        assert!(check(200, &no_cors).is_err());
        // Retry-After, when sent on a 429, is a whole number of seconds.
        let limited = serde_json::json!({"error": {"type": "rate_limit_exceeded",
            "code": "rate_limit_exceeded", "message": "slow down", "field": null, "request_id": "req_1"}})
        .to_string();
        let retry_after = |value: &str| {
            let h = headers("application/json", &[("retry-after", value)]);
            v.check("GET", "/agents/agt_1", 429, &h, limited.as_bytes())
        };
        retry_after("2").unwrap();
        assert!(retry_after("soon").unwrap_err().contains("Retry-After"));
        assert!(retry_after("-1").is_err());
        // A 202 names the job it created in Location, an absolute URL.
        let accepted = serde_json::json!({"data": {"id": "rpt_1", "type": "conversation_summary",
            "status": "queued", "parameters": {"start": "2025-01-01T00:00:00Z", "end": "2025-01-02T00:00:00Z"},
            "result": null, "error": null, "created_at": "2025-01-15T10:30:00Z",
            "completed_at": null},
            "meta": {"request_id": "req_1", "timestamp": "2025-01-15T10:30:00Z"}})
        .to_string();
        let create = |extra: &[(&str, &str)]| {
            let h = headers("application/json", extra);
            v.check("POST", "/reports", 202, &h, accepted.as_bytes())
        };
        let err = create(&[]).unwrap_err();
        assert!(err.contains("Location is missing"), "{err}");
        assert!(create(&[("location", "/v1/reports/rpt_1")]).is_err());
    }
}
