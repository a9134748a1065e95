//! `metadata` on agents and workflows: set on create, returned as written,
//! replaced as a whole by PATCH, cleared by null, limits as 422 `invalid_metadata`.

mod common;

use common::Env;
use serde_json::{Value, json};

fn agent(metadata: Option<Value>) -> Value {
    let mut body = json!({"name": "Desk", "voice_id": "voice_ava", "prompt": "Be brief."});
    if let Some(m) = metadata {
        body["metadata"] = m;
    }
    body
}

fn workflow(metadata: Option<Value>) -> Value {
    let mut body = json!({
        "name": "Welcome",
        "trigger_type": "api",
        "steps": [{"type": "wait", "config": {"seconds": 1}}],
    });
    if let Some(m) = metadata {
        body["metadata"] = m;
    }
    body
}

/// Creates, replaces, clears and lists metadata on `path` (`/agents` or `/workflows`).
async fn round_trip(env: &Env, path: &str, body: fn(Option<Value>) -> Value) {
    let none = env.post(path, &body(None)).await;
    assert_eq!(none.status, 201, "{}", none.json);
    assert_eq!(none.data()["metadata"], json!({}), "{path}: absent is {{}}");

    let written = json!({"ayra.managed-by": "clinics.yaml", "crm_id": "4411"});
    let r = env.post(path, &body(Some(written.clone()))).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.data()["metadata"], written, "{path}: returned as written");
    let id = r.data()["id"].as_str().unwrap().to_string();
    let one = format!("{path}/{id}");
    assert_eq!(env.get(&one).await.data()["metadata"], written);
    let listed = env.get(path).await;
    let item = listed.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(item["metadata"], written, "{path}: lists carry it");

    // Another field's PATCH leaves it; a PATCH of metadata replaces the whole object.
    let u = env.patch(&one, &json!({"name": "Renamed"})).await;
    assert_eq!(u.data()["metadata"], written);
    let u = env.patch(&one, &json!({"metadata": {"crm_id": "9"}})).await;
    assert_eq!(u.status, 200, "{}", u.json);
    assert_eq!(
        u.data()["metadata"],
        json!({"crm_id": "9"}),
        "{path}: replaced"
    );
    let u = env.patch(&one, &json!({"metadata": null})).await;
    assert_eq!(u.data()["metadata"], json!({}), "{path}: null clears");
    assert_eq!(env.get(&one).await.data()["metadata"], json!({}));
}

#[tokio::test]
async fn set_returned_replaced_and_cleared() {
    let env = Env::new().await;
    round_trip(&env, "/agents", agent).await;
    round_trip(&env, "/workflows", workflow).await;
}

#[tokio::test]
async fn limits_are_invalid_metadata() {
    let env = Env::new().await;
    let fifty: serde_json::Map<String, Value> =
        (0..50).map(|i| (format!("k{i}"), json!("v"))).collect();
    let mut fifty_one = fifty.clone();
    fifty_one.insert("k50".into(), json!("v"));
    let at_limits = json!({"k".repeat(40): "v".repeat(500)});
    for (path, body) in [
        ("/agents", agent as fn(Option<Value>) -> Value),
        ("/workflows", workflow),
    ] {
        for ok in [Value::Object(fifty.clone()), at_limits.clone()] {
            let r = env.post(path, &body(Some(ok))).await;
            assert_eq!(r.status, 201, "{path}: {}", r.json);
        }
        for bad in [
            Value::Object(fifty_one.clone()),
            json!({"k".repeat(41): "v"}),
            json!({"": "v"}),
            json!({"k": "v".repeat(501)}),
        ] {
            env.post(path, &body(Some(bad.clone()))).await.assert_error(
                422,
                "invalid_metadata",
                Some("metadata"),
            );
        }
        // Not an object of strings: a 400 naming the field.
        env.post(path, &body(Some(json!({"n": 1}))))
            .await
            .assert_error(400, "invalid_field", Some("metadata.n"));
        env.post(path, &body(Some(json!(["a"]))))
            .await
            .assert_error(400, "invalid_field", Some("metadata"));
        // null clears on PATCH only.
        env.post(path, &body(Some(Value::Null))).await.assert_error(
            400,
            "invalid_field",
            Some("metadata"),
        );
        let id = env.post(path, &body(None)).await.data()["id"]
            .as_str()
            .unwrap()
            .to_string();
        env.patch(
            &format!("{path}/{id}"),
            &json!({"metadata": {"k": "v".repeat(501)}}),
        )
        .await
        .assert_error(422, "invalid_metadata", Some("metadata"));
    }
}
