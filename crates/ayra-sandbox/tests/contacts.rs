//! Contacts: search, tags, custom fields, interactions.

mod common;

use common::{Env, assert_list};
use serde_json::json;

#[tokio::test]
async fn create_with_custom_fields_and_type_checks() {
    let env = Env::new().await;
    let r = env
        .post(
            "/contacts",
            &json!({
                "first_name": "Lou", "last_name": "Reed", "email": "lou@example.com",
                "tags": ["vip", "vip", "new"],
                "custom_fields": {"insurance_provider": "AXA", "date_of_birth": "1990-02-03", "newsletter": true, "loyalty_points": 12.5}
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let c = r.data();
    assert_eq!(c["tags"], json!(["vip", "new"]), "duplicates are dropped");
    assert_eq!(c["custom_fields"]["loyalty_points"], 12.5);
    assert!(c["phone"].is_null());
    for (key, value) in [
        ("insurance_provider", json!(3)),
        ("date_of_birth", json!("03/02/1990")),
        ("date_of_birth", json!("1990-02-30")),
        ("newsletter", json!("yes")),
        ("loyalty_points", json!("12")),
        ("shoe_size", json!(42)),
    ] {
        env.post(
            "/contacts",
            &json!({"first_name": "X", "phone": "+14155550100", "custom_fields": {key: value}}),
        )
        .await
        .assert_error(
            422,
            "invalid_custom_field",
            Some(&format!("custom_fields.{key}")),
        );
    }
    env.post("/contacts", &json!({"first_name": "Nobody"}))
        .await
        .assert_error(422, "missing_contact_method", None);
    env.post(
        "/contacts",
        &json!({"first_name": "Nobody", "email": null, "phone": null}),
    )
    .await
    .assert_error(422, "missing_contact_method", None);
    env.post("/contacts", &json!({"first_name": "X", "email": "nope"}))
        .await
        .assert_error(400, "invalid_field", Some("email"));
    env.post("/contacts", &json!({"first_name": "X", "phone": "+0123"}))
        .await
        .assert_error(400, "invalid_field", Some("phone"));
    env.post(
        "/contacts",
        &json!({"first_name": "X", "phone": "+14155550100", "custom_fields": []}),
    )
    .await
    .assert_error(400, "invalid_field", Some("custom_fields"));
}

#[tokio::test]
async fn update_merges_custom_fields_and_replaces_tags() {
    let env = Env::new().await;
    let f = env.sb.fixtures();
    let path = format!("/contacts/{}", f.contact);
    let r = env
        .patch(&path, &json!({"email": "c.martin@example.org", "custom_fields": {"newsletter": false, "insurance_provider": null}, "tags": ["patient"]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let c = r.data();
    assert_eq!(c["email"], "c.martin@example.org");
    assert_eq!(c["custom_fields"]["newsletter"], false);
    assert!(
        c["custom_fields"].get("insurance_provider").is_none(),
        "null removes a value"
    );
    assert_eq!(
        c["custom_fields"]["date_of_birth"], "1988-04-12",
        "other values are kept"
    );
    assert_eq!(c["tags"], json!(["patient"]));
    assert_ne!(c["updated_at"], c["created_at"]);
    // Removing the last contact method is refused.
    let r = env
        .patch(
            &format!("/contacts/{}", f.contact_phone_only),
            &json!({"phone": null}),
        )
        .await;
    r.assert_error(422, "missing_contact_method", None);
    env.patch(&path, &json!({"custom_fields": {"date_of_birth": 1988}}))
        .await
        .assert_error(
            422,
            "invalid_custom_field",
            Some("custom_fields.date_of_birth"),
        );
    env.patch("/contacts/cnt_nothere", &json!({}))
        .await
        .assert_error(404, "resource_not_found", Some("contact_id"));
}

#[tokio::test]
async fn tags_add_and_remove() {
    let env = Env::new().await;
    let f = env.sb.fixtures();
    let r = env
        .post(
            &format!("/contacts/{}/tags", f.contact),
            &json!({"tags": ["vip", "follow_up"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.data()["tags"], json!(["patient", "vip", "follow_up"]));
    // Tags with special characters are percent-encoded in the path.
    let r = env
        .post(
            &format!("/contacts/{}/tags", f.contact),
            &json!({"tags": ["a/b c"]}),
        )
        .await;
    assert!(
        r.data()["tags"]
            .as_array()
            .unwrap()
            .contains(&json!("a/b c"))
    );
    let d = env
        .delete(&format!("/contacts/{}/tags/a%2Fb%20c", f.contact))
        .await;
    assert_eq!(d.status, 204);
    let d = env
        .delete(&format!("/contacts/{}/tags/vip", f.contact))
        .await;
    assert_eq!(d.status, 204);
    // Removing a tag it does not have is fine.
    assert_eq!(
        env.delete(&format!("/contacts/{}/tags/vip", f.contact))
            .await
            .status,
        204
    );
    let c = env.get(&format!("/contacts/{}", f.contact)).await;
    assert_eq!(c.data()["tags"], json!(["patient", "follow_up"]));
    env.delete("/contacts/cnt_gone/tags/vip")
        .await
        .assert_error(404, "resource_not_found", Some("contact_id"));
    env.post(
        &format!("/contacts/{}/tags", f.contact),
        &json!({"tags": []}),
    )
    .await
    .assert_error(400, "invalid_field", Some("tags"));
    env.post(&format!("/contacts/{}/tags", f.contact), &json!({}))
        .await
        .assert_error(400, "missing_required_field", Some("tags"));
    // At most 50 tags.
    let many: Vec<String> = (0..49).map(|i| format!("t{i}")).collect();
    let r = env
        .post(
            &format!("/contacts/{}/tags", f.contact),
            &json!({"tags": many}),
        )
        .await;
    r.assert_error(422, "too_many_tags", Some("tags"));
}

#[tokio::test]
async fn search_filters() {
    let env = Env::with(ayra_sandbox::Sandbox::builder().seed_demo_data(3)).await;
    let f = env.sb.fixtures();
    let by_email = assert_list(&env.get("/contacts?email=CAMILLE.MARTIN@example.com").await);
    assert_eq!(by_email.len(), 1);
    assert_eq!(by_email[0]["id"], f.contact);
    let by_phone = assert_list(&env.get("/contacts?phone=%2B14155550199").await);
    assert!(by_phone.iter().any(|c| c["id"] == f.contact_phone_only));
    assert!(by_phone.iter().all(|c| c["phone"] == "+14155550199"));
    let q = env.get("/contacts?q=martin&per_page=100").await;
    let items = assert_list(&q);
    assert!(!items.is_empty());
    for c in &items {
        let hay = format!(
            "{} {} {} {}",
            c["first_name"].as_str().unwrap_or(""),
            c["last_name"].as_str().unwrap_or(""),
            c["email"].as_str().unwrap_or(""),
            c["phone"].as_str().unwrap_or("")
        )
        .to_lowercase();
        assert!(hay.contains("martin"), "{hay}");
    }
    let vip = assert_list(&env.get("/contacts?tag=vip&q=a&per_page=100").await);
    assert!(!vip.is_empty());
    for c in vip {
        assert!(c["tags"].as_array().unwrap().contains(&json!("vip")));
    }
    // created_after/before partition the set.
    let all = env.get("/contacts?per_page=1").await.json["meta"]["total"]
        .as_u64()
        .unwrap();
    assert!(all >= 3000);
    let cut = "2026-01-01T00:00:00Z";
    let a = env
        .get(&format!("/contacts?created_after={cut}&per_page=1"))
        .await
        .json["meta"]["total"]
        .as_u64()
        .unwrap();
    let b = env
        .get(&format!("/contacts?created_before={cut}&per_page=1"))
        .await
        .json["meta"]["total"]
        .as_u64()
        .unwrap();
    assert_eq!(a + b, all);
}

#[tokio::test]
async fn delete_keeps_history_without_the_contact() {
    let env = Env::new().await;
    let f = env.sb.fixtures();
    assert_eq!(
        env.delete(&format!("/contacts/{}", f.contact)).await.status,
        204
    );
    env.get(&format!("/contacts/{}", f.contact))
        .await
        .assert_error(404, "resource_not_found", Some("contact_id"));
    let conv = env
        .get(&format!("/conversations/{}", f.conversation_completed))
        .await;
    assert!(conv.data()["contact_id"].is_null());
    let apt = env.get(&format!("/appointments/{}", f.appointment)).await;
    assert!(apt.data()["contact_id"].is_null());
}

#[tokio::test]
async fn interactions_newest_first() {
    let env = Env::with(
        ayra_sandbox::Sandbox::builder().job_duration(std::time::Duration::from_millis(30)),
    )
    .await;
    let f = env.sb.fixtures();
    // A new execution touching the contact comes first.
    let x = env
        .post(
            &format!("/workflows/{}/trigger", f.workflow_active),
            &json!({"input": {"contact_id": f.contact}}),
        )
        .await;
    assert_eq!(x.status, 202, "{}", x.json);
    let r = env
        .get(&format!(
            "/contacts/{}/interactions?per_page=100",
            f.contact
        ))
        .await;
    let items = assert_list(&r);
    assert_eq!(items[0]["type"], "workflow_execution");
    assert_eq!(items[0]["resource_id"], x.data()["id"]);
    let kinds: std::collections::BTreeSet<&str> =
        items.iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert!(
        kinds.contains("conversation")
            && kinds.contains("appointment")
            && kinds.contains("workflow_execution")
    );
    let times: Vec<&str> = items
        .iter()
        .map(|i| i["occurred_at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);
    for i in &items {
        let id = i["id"].as_str().unwrap();
        assert!(id.starts_with("int_") && id[4..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(!i["summary"].as_str().unwrap().is_empty());
    }
    assert!(items.iter().any(|i| {
        i["resource_id"] == f.conversation_completed
            && i["summary"]
                .as_str()
                .unwrap()
                .contains("appointment_booked")
    }));
}

#[tokio::test]
async fn custom_field_definitions() {
    let env = Env::new().await;
    let r = env
        .post(
            "/custom-fields",
            &json!({"key": "favourite_colour", "label": "Favourite colour", "type": "text"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert!(r.data()["id"].as_str().unwrap().starts_with("cf_"));
    env.post(
        "/custom-fields",
        &json!({"key": "favourite_colour", "label": "Again", "type": "text"}),
    )
    .await
    .assert_error(422, "custom_field_exists", Some("key"));
    env.post(
        "/custom-fields",
        &json!({"key": "Bad Key", "label": "x", "type": "text"}),
    )
    .await
    .assert_error(400, "invalid_field", Some("key"));
    env.post(
        "/custom-fields",
        &json!({"key": "k", "label": "x", "type": "colour"}),
    )
    .await
    .assert_error(400, "invalid_field", Some("type"));
    let list = assert_list(&env.get("/custom-fields").await);
    assert_eq!(
        list.last().unwrap()["key"],
        "favourite_colour",
        "oldest first"
    );
    // Now usable on contacts.
    let c = env
        .post("/contacts", &json!({"first_name": "Z", "email": "z@example.com", "custom_fields": {"favourite_colour": "teal"}}))
        .await;
    assert_eq!(c.status, 201, "{}", c.json);
}
