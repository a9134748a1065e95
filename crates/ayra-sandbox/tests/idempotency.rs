//! Idempotency: replays, key reuse, scoping, 5xx not stored, concurrency.

mod common;

use ayra_sandbox::{Resource, TEST_API_KEY};
use common::Env;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn replay_and_reuse() {
    let env = Env::new().await;
    let before = env.sb.count(Resource::Contacts);
    let body = json!({"first_name": "Ida", "email": "ida@example.com"});
    let h = [("idempotency-key", "key-1")];
    let first = env.post_h("/contacts", &body, &h).await;
    assert_eq!(first.status, 201);
    assert!(first.header("idempotent-replayed").is_none());
    // Key order and whitespace do not matter: same JSON.
    let same = json!({"email": "ida@example.com", "first_name": "Ida"});
    let second = env.post_h("/contacts", &same, &h).await;
    assert_eq!(second.status, 201);
    assert_eq!(second.bytes, first.bytes, "same body");
    assert_eq!(second.request_id(), first.request_id(), "same X-Request-Id");
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(env.sb.count(Resource::Contacts), before + 1);
    // Another body, or another path, with the same key: 422.
    let other = json!({"first_name": "Ida", "email": "ida2@example.com"});
    let r = env.post_h("/contacts", &other, &h).await;
    r.assert_error(422, "idempotency_key_reused", Some("Idempotency-Key"));
    assert_ne!(r.request_id(), first.request_id());
    let r = env
        .post_h(
            "/custom-fields",
            &json!({"key": "k1", "label": "K", "type": "text"}),
            &h,
        )
        .await;
    r.assert_error(422, "idempotency_key_reused", Some("Idempotency-Key"));
    let s = env.sb.stats();
    assert_eq!((s.idempotent_replays, s.idempotency_conflicts), (1, 2));
    assert_eq!(env.sb.count(Resource::Contacts), before + 1);
    assert_eq!(env.sb.count(Resource::CustomFields), 4);
}

#[tokio::test]
async fn keys_are_scoped_to_the_api_key() {
    let env = Env::with(ayra_sandbox::Sandbox::builder().api_key("sk_test_second")).await;
    let before = env.sb.count(Resource::Contacts);
    let body = json!({"first_name": "Kim", "phone": "+14155550111"});
    let h = [("idempotency-key", "shared")];
    let a = env
        .send(
            Method::POST,
            "/contacts",
            Some(&body),
            &h,
            Some(TEST_API_KEY),
        )
        .await;
    let b = env
        .send(
            Method::POST,
            "/contacts",
            Some(&body),
            &h,
            Some("sk_test_second"),
        )
        .await;
    assert_eq!((a.status, b.status), (201, 201));
    assert_ne!(a.data()["id"], b.data()["id"]);
    assert_eq!(env.sb.count(Resource::Contacts), before + 2);
}

#[tokio::test]
async fn patch_and_state_changes_are_idempotent_too() {
    let env = Env::new().await;
    let f = env.sb.fixtures();
    let h = [("idempotency-key", "patch-1")];
    let p = format!("/agents/{}", f.agent_active);
    let a = env
        .send(
            Method::PATCH,
            &p,
            Some(&json!({"name": "Desk"})),
            &h,
            Some(TEST_API_KEY),
        )
        .await;
    let b = env
        .send(
            Method::PATCH,
            &p,
            Some(&json!({"name": "Desk"})),
            &h,
            Some(TEST_API_KEY),
        )
        .await;
    assert_eq!((a.status, b.status), (200, 200));
    assert_eq!(a.request_id(), b.request_id());
    // An archive replayed does not run again (updated_at unchanged, same response).
    let h2 = [("idempotency-key", "archive-1")];
    let x = env
        .post_h(
            &format!("/agents/{}/archive", f.agent_disabled),
            &json!({}),
            &h2,
        )
        .await;
    let y = env
        .post_h(
            &format!("/agents/{}/archive", f.agent_disabled),
            &json!({}),
            &h2,
        )
        .await;
    assert_eq!(x.bytes, y.bytes);
    assert_eq!(env.sb.stats().writes_applied, 2);
}

#[tokio::test]
async fn server_errors_are_not_stored() {
    let env = Env::new().await;
    let before = env.sb.count(Resource::Contacts);
    let body = json!({"first_name": "Max", "email": "max@example.com"});
    let r = env
        .post_h(
            "/contacts",
            &body,
            &[("idempotency-key", "k5"), ("x-sandbox-fault", "503")],
        )
        .await;
    r.assert_error(503, "service_unavailable", None);
    assert_eq!(env.sb.count(Resource::Contacts), before);
    let r = env
        .post_h("/contacts", &body, &[("idempotency-key", "k5")])
        .await;
    assert_eq!(r.status, 201, "the retry runs the operation");
    let again = env
        .post_h("/contacts", &body, &[("idempotency-key", "k5")])
        .await;
    assert_eq!(again.request_id(), r.request_id());
    assert_eq!(env.sb.count(Resource::Contacts), before + 1);
}

#[tokio::test]
async fn client_errors_are_replayed_too() {
    let env = Env::new().await;
    let body = json!({"first_name": "NoContact"});
    let h = [("idempotency-key", "k422")];
    let a = env.post_h("/contacts", &body, &h).await;
    a.assert_error(422, "missing_contact_method", None);
    let b = env.post_h("/contacts", &body, &h).await;
    assert_eq!((b.status, b.request_id()), (422, a.request_id()));
}

#[tokio::test]
async fn invalid_keys_are_rejected() {
    let env = Env::new().await;
    let long = "k".repeat(256);
    let r = env
        .post_h(
            "/contacts",
            &json!({"first_name": "A", "email": "a@example.com"}),
            &[("idempotency-key", long.as_str())],
        )
        .await;
    r.assert_error(400, "invalid_parameter", Some("Idempotency-Key"));
    let ok = "k".repeat(255);
    let r = env
        .post_h(
            "/contacts",
            &json!({"first_name": "A", "email": "a@example.com"}),
            &[("idempotency-key", ok.as_str())],
        )
        .await;
    assert_eq!(r.status, 201);
    // Only POST and PATCH look at the header.
    let r = env
        .send(
            Method::GET,
            "/agents",
            None,
            &[("idempotency-key", "")],
            Some(TEST_API_KEY),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn concurrent_requests_with_one_key_apply_once() {
    let env = Env::new().await;
    let before = env.sb.count(Resource::Contacts);
    let body = json!({"first_name": "Racer", "email": "racer@example.com"});
    let mut tasks = Vec::new();
    for _ in 0..24 {
        let http = env.http.clone();
        let url = env.url("/contacts");
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(url)
                .header("authorization", format!("Bearer {TEST_API_KEY}"))
                .header("idempotency-key", "race")
                .json(&body)
                .send()
                .await
                .unwrap();
            let rid = r.headers()["x-request-id"].to_str().unwrap().to_string();
            let status = r.status().as_u16();
            let v: serde_json::Value = r.json().await.unwrap();
            (status, rid, v["data"]["id"].as_str().unwrap().to_string())
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    assert!(results.iter().all(|r| r.0 == 201));
    assert!(
        results
            .iter()
            .all(|r| r.1 == results[0].1 && r.2 == results[0].2)
    );
    assert_eq!(env.sb.count(Resource::Contacts), before + 1);
    let s = env.sb.stats();
    assert_eq!((s.writes_applied, s.idempotent_replays), (1, 23));
}

#[tokio::test]
async fn a_key_expires_after_its_time_to_live() {
    // The API's 24 hours, passed on the sandbox's clock.
    let env = Env::new().await;
    let before = env.sb.count(Resource::Contacts);
    let body = json!({"first_name": "Eve", "email": "eve@example.com"});
    let h = [("idempotency-key", "short-lived")];
    let first = env.post_h("/contacts", &body, &h).await;
    let replay = env.post_h("/contacts", &body, &h).await;
    assert_eq!(
        replay.request_id(),
        first.request_id(),
        "replayed within the TTL"
    );
    env.sb.advance(std::time::Duration::from_secs(23 * 3600));
    let still = env.post_h("/contacts", &body, &h).await;
    assert_eq!(
        still.request_id(),
        first.request_id(),
        "replayed after 23 hours"
    );
    env.sb.advance(std::time::Duration::from_secs(3600));
    let again = env.post_h("/contacts", &body, &h).await;
    assert_eq!(again.status, 201);
    assert_ne!(
        again.request_id(),
        first.request_id(),
        "applied again after the TTL"
    );
    assert_eq!(env.sb.count(Resource::Contacts), before + 2);
}
