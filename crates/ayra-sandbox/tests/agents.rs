//! Agents: CRUD, validation and the status state machine.

mod common;

use common::{Env, assert_list};
use serde_json::json;

fn new_agent() -> serde_json::Value {
    json!({
        "name": "Night Receptionist",
        "voice_id": "voice_leo02",
        "language": "fr-FR",
        "prompt": "Tu réponds aux appels de nuit.",
        "phone_number": "+33180001122",
        "timezone": "Europe/Paris",
    })
}

#[tokio::test]
async fn create_get_update_with_defaults() {
    let env = Env::new().await;
    let r = env
        .post(
            "/agents",
            &json!({"name": "Minimal", "voice_id": "voice_ava", "prompt": "Be brief."}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let a = r.data().clone();
    assert!(a["id"].as_str().unwrap().starts_with("agt_"));
    assert_eq!(a["status"], "active");
    assert_eq!(a["language"], "en-US");
    assert_eq!(a["timezone"], "UTC");
    assert_eq!(a["max_call_duration_seconds"], 1800);
    assert!(
        a["description"].is_null() && a["first_message"].is_null() && a["phone_number"].is_null()
    );
    assert_eq!(a["created_at"], a["updated_at"]);
    let id = a["id"].as_str().unwrap();
    let g = env.get(&format!("/agents/{id}")).await;
    assert_eq!(g.data(), &a);
    // Partial update: only the fields present change; null clears.
    let u = env
        .patch(
            &format!("/agents/{id}"),
            &json!({"description": "Desk", "max_call_duration_seconds": 600}),
        )
        .await;
    assert_eq!(u.status, 200, "{}", u.json);
    assert_eq!(u.data()["description"], "Desk");
    assert_eq!(u.data()["max_call_duration_seconds"], 600);
    assert_eq!(u.data()["name"], "Minimal");
    let u = env
        .patch(&format!("/agents/{id}"), &json!({"description": null}))
        .await;
    assert!(u.data()["description"].is_null());
    // An empty object changes nothing.
    let same = env.patch(&format!("/agents/{id}"), &json!({})).await;
    assert_eq!(same.data(), u.data());
}

#[tokio::test]
async fn validation_errors() {
    let env = Env::new().await;
    let mut b = new_agent();
    b["name"] = json!("x".repeat(101));
    env.post("/agents", &b)
        .await
        .assert_error(400, "invalid_field", Some("name"));
    let mut b = new_agent();
    b["phone_number"] = json!("0612345678");
    env.post("/agents", &b)
        .await
        .assert_error(400, "invalid_field", Some("phone_number"));
    let mut b = new_agent();
    b["max_call_duration_seconds"] = json!(59);
    env.post("/agents", &b).await.assert_error(
        400,
        "invalid_field",
        Some("max_call_duration_seconds"),
    );
    let mut b = new_agent();
    b["language"] = json!("French");
    env.post("/agents", &b)
        .await
        .assert_error(400, "invalid_field", Some("language"));
    let mut b = new_agent();
    b["voice_id"] = json!("voice_nobody");
    env.post("/agents", &b)
        .await
        .assert_error(422, "invalid_reference", Some("voice_id"));
    let mut b = new_agent();
    b["timezone"] = json!("Mars/Olympus");
    env.post("/agents", &b)
        .await
        .assert_error(422, "invalid_timezone", Some("timezone"));
    let mut b = new_agent();
    b["phone_number"] = json!(env.sb.fixtures().agent_active_phone);
    env.post("/agents", &b)
        .await
        .assert_error(422, "phone_number_in_use", Some("phone_number"));
    let mut b = new_agent();
    b.as_object_mut().unwrap().remove("prompt");
    env.post("/agents", &b)
        .await
        .assert_error(400, "missing_required_field", Some("prompt"));
    // PATCH validates too.
    let f = env.sb.fixtures();
    env.patch(
        &format!("/agents/{}", f.agent_disabled),
        &json!({"name": ""}),
    )
    .await
    .assert_error(400, "invalid_field", Some("name"));
    env.patch(
        &format!("/agents/{}", f.agent_disabled),
        &json!({"voice_id": "voice_zz"}),
    )
    .await
    .assert_error(422, "invalid_reference", Some("voice_id"));
    env.patch(
        &format!("/agents/{}", f.agent_disabled),
        &json!({"phone_number": f.agent_active_phone}),
    )
    .await
    .assert_error(422, "phone_number_in_use", Some("phone_number"));
    // Keeping its own number is fine.
    let r = env
        .patch(
            &format!("/agents/{}", f.agent_active),
            &json!({"phone_number": f.agent_active_phone}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
}

#[tokio::test]
async fn state_machine() {
    let env = Env::new().await;
    let id = env.post("/agents", &new_agent()).await.data()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = |a: &str| format!("/agents/{id}/{a}");
    let r = env.post(&path("disable"), &json!({})).await;
    assert_eq!(r.data()["status"], "disabled");
    let r = env.post(&path("disable"), &json!({})).await;
    assert_eq!(
        (r.status, r.data()["status"].as_str()),
        (200, Some("disabled"))
    );
    let r = env.post(&path("enable"), &json!({})).await;
    assert_eq!(r.data()["status"], "active");
    let r = env.post(&path("archive"), &json!({})).await;
    assert_eq!(r.data()["status"], "archived");
    assert!(
        r.data()["phone_number"].is_null(),
        "archiving releases the number"
    );
    // Archived is final.
    env.post(&path("enable"), &json!({}))
        .await
        .assert_error(422, "agent_archived", None);
    env.post(&path("disable"), &json!({}))
        .await
        .assert_error(422, "agent_archived", None);
    env.patch(&format!("/agents/{id}"), &json!({"name": "Back"}))
        .await
        .assert_error(422, "agent_archived", None);
    let r = env.post(&path("archive"), &json!({})).await;
    assert_eq!(
        (r.status, r.data()["status"].as_str()),
        (200, Some("archived"))
    );
    assert_eq!(
        env.get(&format!("/agents/{id}")).await.data()["status"],
        "archived"
    );
    // Its released number can be reused.
    let r = env.post("/agents", &new_agent()).await;
    assert_eq!(r.status, 201, "{}", r.json);
    // Archived agents can still be deleted.
    assert_eq!(env.delete(&format!("/agents/{id}")).await.status, 204);
    // State changes on a missing agent are 404.
    env.post("/agents/agt_missing/enable", &json!({}))
        .await
        .assert_error(404, "resource_not_found", Some("agent_id"));
}

#[tokio::test]
async fn list_filters() {
    let env = Env::new().await;
    let r = env.get("/agents?status=archived").await;
    let items = assert_list(&r);
    assert!(!items.is_empty() && items.iter().all(|a| a["status"] == "archived"));
    let r = env.get("/agents?q=RECEPTION").await;
    let items = assert_list(&r);
    assert!(
        items
            .iter()
            .any(|a| a["id"] == env.sb.fixtures().agent_active)
    );
    assert!(items.iter().all(|a| {
        a["name"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("reception")
    }));
    // created_after is inclusive, created_before exclusive.
    let created = env.post("/agents", &new_agent()).await.data()["created_at"]
        .as_str()
        .unwrap()
        .to_string();
    let after = assert_list(&env.get(&format!("/agents?created_after={created}")).await);
    assert!(after.iter().any(|a| a["created_at"] == created.as_str()));
    let before = assert_list(&env.get(&format!("/agents?created_before={created}")).await);
    assert!(!before.is_empty(), "the fixtures' agents are older");
    assert!(
        before
            .iter()
            .all(|a| a["created_at"].as_str().unwrap() < created.as_str())
    );
    // Newest first.
    let all = assert_list(&env.get("/agents").await);
    let times: Vec<&str> = all
        .iter()
        .map(|a| a["created_at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);
}
