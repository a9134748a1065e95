//! Checks responses against `spec/ayra.yaml`: the status is one the operation
//! declares, the content type is one it lists, and a JSON body validates
//! against the declared schema (OpenAPI 3.0's `nullable` mapped to JSON
//! Schema's `null` type).

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

    /// Checks one response; `Err` says what does not conform.
    pub fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: &str,
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
        let Some(content) = response["content"].as_object() else {
            return if body.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "{} {status}: a body where the spec declares none",
                    route.id
                ))
            };
        };
        let media = content_type.split(';').next().unwrap_or("").trim();
        let Some(declared) = content.get(media) else {
            return Err(format!(
                "{} {status}: content type {media:?} is not one of {:?}",
                route.id,
                content.keys().collect::<Vec<_>>()
            ));
        };
        if media != "application/json" {
            return Ok(());
        }
        let instance: Value = serde_json::from_slice(body)
            .map_err(|e| format!("{} {status}: not JSON: {e}", route.id))?;
        let validator = self.validator(&format!("{}{code}", route.pointer), &declared["schema"])?;
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .take(5)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("{} {status}: {}", route.id, errors.join("; ")))
        }
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
            "timezone": "Europe/Paris", "max_call_duration_seconds": 600,
            "created_at": "2025-01-15T10:30:00Z", "updated_at": "2025-01-15T10:30:00Z"},
            "meta": {"request_id": "req_1", "timestamp": "2025-01-15T10:30:00Z"}})
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
        v.check(
            "GET",
            "/agents/agt_1",
            200,
            "application/json",
            ok.as_bytes(),
        )
        .unwrap();

        let mut missing = agent();
        missing["data"].as_object_mut().unwrap().remove("name");
        let err = v
            .check(
                "GET",
                "/agents/agt_1",
                200,
                "application/json",
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
                "application/json",
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
                "application/json",
                bad_null.to_string().as_bytes()
            )
            .is_err()
        );
        assert!(
            v.check(
                "GET",
                "/agents/agt_1",
                201,
                "application/json",
                ok.as_bytes()
            )
            .unwrap_err()
            .contains("not declared")
        );
        assert!(
            v.check("GET", "/agents/agt_1", 200, "text/html", ok.as_bytes())
                .is_err()
        );
        assert!(v.check("DELETE", "/agents/agt_1", 204, "", b"").is_ok());
    }
}
