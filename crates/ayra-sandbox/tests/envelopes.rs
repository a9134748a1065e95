//! Envelopes, pagination links, request ids, CORS, routing and request-level errors.

mod common;

use ayra_sandbox::{READ_ONLY_API_KEY, TEST_API_KEY};
use common::{Env, assert_list};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn success_envelope_and_request_id() {
    let env = Env::new().await;
    let f = env.sb.fixtures();
    let r = env.get(&format!("/agents/{}", f.agent_active)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.data()["id"], f.agent_active);
    assert_eq!(r.json["meta"]["request_id"], r.request_id());
    assert!(r.request_id().starts_with("req_"));
    assert!(r.json["meta"]["timestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert!(
        r.header("access-control-expose-headers")
            .unwrap()
            .contains("X-Request-Id")
    );
    // Distinct requests, distinct ids.
    let r2 = env.get(&format!("/agents/{}", f.agent_active)).await;
    assert_ne!(r.request_id(), r2.request_id());
}

#[tokio::test]
async fn pagination_links_keep_filters() {
    let env = Env::new().await;
    // 7 contacts tagged "pager" (plus none in the fixtures).
    for i in 0..7 {
        let r = env
            .post("/contacts", &json!({"first_name": format!("P{i}"), "email": format!("p{i}@example.com"), "tags": ["pager"]}))
            .await;
        assert_eq!(r.status, 201, "{}", r.json);
    }
    let first = env.get("/contacts?tag=pager&per_page=3").await;
    let items = assert_list(&first);
    assert_eq!(items.len(), 3);
    let m = &first.json["meta"];
    assert_eq!(
        (
            m["total"].as_u64(),
            m["page"].as_u64(),
            m["total_pages"].as_u64()
        ),
        (Some(7), Some(1), Some(3))
    );
    let l = &first.json["links"];
    assert!(l["prev"].is_null());
    let origin = env.base.trim_end_matches("/v1");
    assert_eq!(
        l["first"],
        format!("{origin}/v1/contacts?page=1&per_page=3&tag=pager")
    );
    assert_eq!(
        l["next"],
        format!("{origin}/v1/contacts?page=2&per_page=3&tag=pager")
    );
    assert_eq!(
        l["last"],
        format!("{origin}/v1/contacts?page=3&per_page=3&tag=pager")
    );
    // Follow the links (absolute URLs).
    let next = l["next"].as_str().unwrap();
    let middle = env.get(next.trim_start_matches(&env.base)).await;
    assert_list(&middle);
    assert_eq!(middle.json["meta"]["page"], 2);
    assert_eq!(middle.json["links"]["prev"], l["first"]);
    assert_eq!(middle.json["links"]["next"], l["last"]);
    let last = env.get("/contacts?tag=pager&per_page=3&page=3").await;
    assert_eq!(assert_list(&last).len(), 1);
    assert!(last.json["links"]["next"].is_null());
    // Newest first, no overlaps between pages.
    let mut names: Vec<String> = Vec::new();
    for r in [&first, &middle, &last] {
        for c in r.json["data"].as_array().unwrap() {
            names.push(c["first_name"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(names, ["P6", "P5", "P4", "P3", "P2", "P1", "P0"]);
    // Past the end: empty, not an error; prev points back inside.
    let past = env.get("/contacts?tag=pager&per_page=3&page=9").await;
    assert!(assert_list(&past).is_empty());
    assert!(past.json["links"]["next"].is_null());
    assert_eq!(past.json["links"]["prev"], l["last"]);
}

#[tokio::test]
async fn empty_list_has_zero_pages_and_valid_links() {
    let env = Env::new().await;
    let r = env.get("/contacts?tag=nobody-has-this").await;
    assert!(assert_list(&r).is_empty());
    assert_eq!(r.json["meta"]["total"], 0);
    assert_eq!(r.json["meta"]["total_pages"], 0);
    assert_eq!(r.json["meta"]["per_page"], 25);
    assert!(
        r.json["links"]["last"]
            .as_str()
            .unwrap()
            .contains("page=1&per_page=25")
    );
    assert!(r.json["links"]["prev"].is_null() && r.json["links"]["next"].is_null());
}

#[tokio::test]
async fn links_use_the_host_header() {
    let env = Env::new().await;
    let r = env
        .send(
            Method::GET,
            "/voices?per_page=2",
            None,
            &[("host", "sandbox.example.test:9999")],
            Some(TEST_API_KEY),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json["links"]["first"],
        "http://sandbox.example.test:9999/v1/voices?page=1&per_page=2"
    );
}

#[tokio::test]
async fn page_parameters_are_validated() {
    let env = Env::new().await;
    for (q, field) in [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("per_page=1.5", "per_page"),
    ] {
        env.get(&format!("/agents?{q}"))
            .await
            .assert_error(400, "invalid_parameter", Some(field));
    }
    assert_eq!(env.get("/agents?per_page=100").await.status, 200);
    // A huge page number is valid: past the end.
    let r = env.get("/agents?page=99999999999999999999999").await;
    assert_eq!(r.status, 200);
    assert!(assert_list(&r).is_empty());
}

#[tokio::test]
async fn query_filters_are_validated() {
    let env = Env::new().await;
    env.get("/agents?status=sleeping")
        .await
        .assert_error(400, "invalid_parameter", Some("status"));
    env.get("/agents?created_after=yesterday")
        .await
        .assert_error(400, "invalid_parameter", Some("created_after"));
    env.get("/conversations?agent_id=nope").await.assert_error(
        400,
        "invalid_parameter",
        Some("agent_id"),
    );
    env.get("/contacts?phone=123")
        .await
        .assert_error(400, "invalid_parameter", Some("phone"));
    env.get("/contacts?email=not-an-email").await.assert_error(
        400,
        "invalid_parameter",
        Some("email"),
    );
    env.get("/contacts?q=")
        .await
        .assert_error(400, "invalid_parameter", Some("q"));
    // An unencoded '+' in a time (decoded as a space) is still understood.
    assert_eq!(
        env.get("/agents?created_after=2025-01-01T00:00:00+01:00")
            .await
            .status,
        200
    );
    // Unknown ids as filters match nothing.
    let r = env.get("/conversations?agent_id=agt_doesnotexist").await;
    assert_eq!(r.json["meta"]["total"], 0);
}

#[tokio::test]
async fn path_parameters_are_validated() {
    let env = Env::new().await;
    env.get("/agents/not-an-id")
        .await
        .assert_error(400, "invalid_parameter", Some("agent_id"));
    env.get("/agents/agt_unknown1")
        .await
        .assert_error(404, "resource_not_found", Some("agent_id"));
    env.get("/contacts/cnt_x/interactions").await.assert_error(
        404,
        "resource_not_found",
        Some("contact_id"),
    );
    env.get("/workflow-executions/wf_123").await.assert_error(
        400,
        "invalid_parameter",
        Some("execution_id"),
    );
}

#[tokio::test]
async fn authentication_and_permissions() {
    let env = Env::new().await;
    let r = env.send(Method::GET, "/agents", None, &[], None).await;
    r.assert_error(401, "missing_api_key", None);
    assert_eq!(r.json["error"]["type"], "authentication_error");
    let r = env
        .send(Method::GET, "/agents", None, &[], Some("sk_live_nope"))
        .await;
    r.assert_error(401, "invalid_api_key", None);
    let r = env
        .send(
            Method::GET,
            "/agents",
            None,
            &[("authorization", "Basic abc")],
            None,
        )
        .await;
    r.assert_error(401, "invalid_api_key", None);
    // Read-only: reads work, writes are 403 and change nothing.
    assert_eq!(env.get_ro("/agents").await.status, 200);
    let before = env.sb.count(ayra_sandbox::Resource::Agents);
    let body = json!({"name": "x", "voice_id": "voice_aria01", "prompt": "p"});
    let r = env
        .send(
            Method::POST,
            "/agents",
            Some(&body),
            &[],
            Some(READ_ONLY_API_KEY),
        )
        .await;
    r.assert_error(403, "insufficient_permissions", None);
    assert_eq!(r.json["error"]["type"], "permission_error");
    let f = env.sb.fixtures();
    let r = env
        .send(
            Method::DELETE,
            &format!("/agents/{}", f.agent_active),
            None,
            &[],
            Some(READ_ONLY_API_KEY),
        )
        .await;
    r.assert_error(403, "insufficient_permissions", None);
    assert_eq!(env.sb.count(ayra_sandbox::Resource::Agents), before);
    // Extra keys.
    let env2 = Env::with(ayra_sandbox::Sandbox::builder().api_key("sk_test_other")).await;
    assert_eq!(
        env2.send(Method::GET, "/agents", None, &[], Some("sk_test_other"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let env = Env::new().await;
    env.get("/nope")
        .await
        .assert_error(404, "route_not_found", None);
    let r = env
        .send(Method::GET, "/../v2/agents", None, &[], Some(TEST_API_KEY))
        .await;
    assert_eq!(r.status, 404);
    let r = env
        .send(
            Method::PUT,
            "/agents",
            Some(&json!({})),
            &[],
            Some(TEST_API_KEY),
        )
        .await;
    r.assert_error(405, "method_not_allowed", None);
    assert_eq!(r.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
    let r = env
        .send(Method::DELETE, "/voices", None, &[], Some(TEST_API_KEY))
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.json["error"]["request_id"], r.request_id());
}

#[tokio::test]
async fn cors_preflight() {
    let env = Env::new().await;
    let r = env
        .send(
            Method::OPTIONS,
            "/agents",
            None,
            &[
                ("origin", "https://app.example.com"),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "authorization, idempotency-key",
                ),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET, HEAD, POST, OPTIONS")
    );
    assert_eq!(r.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("authorization, idempotency-key")
    );
    assert!(r.request_id().starts_with("req_"));
    let r = env
        .send(Method::OPTIONS, "/agents/agt_8Kq2mZ4vT1", None, &[], None)
        .await;
    assert_eq!(r.header("allow"), Some("GET, HEAD, PATCH, DELETE, OPTIONS"));
    let r = env.send(Method::OPTIONS, "/nowhere", None, &[], None).await;
    r.assert_error(404, "route_not_found", None);
}

#[tokio::test]
async fn bad_bodies_are_400s() {
    let env = Env::new().await;
    let send_raw = |ct: &'static str, body: Vec<u8>| {
        let http = env.http.clone();
        let url = env.url("/contacts");
        async move {
            let r = http
                .post(url)
                .header("authorization", format!("Bearer {TEST_API_KEY}"))
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let rid = r
                .headers()
                .get("x-request-id")
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            let json: Value = r.json().await.unwrap();
            assert_eq!(json["error"]["request_id"], rid);
            (status, json)
        }
    };
    let (s, j) = send_raw("application/json", b"{\"first_name\": ".to_vec()).await;
    assert_eq!(
        (s, j["error"]["code"].as_str()),
        (400, Some("invalid_json"))
    );
    let (s, j) = send_raw("application/json", b"[1,2]".to_vec()).await;
    assert_eq!(
        (s, j["error"]["code"].as_str()),
        (400, Some("invalid_json"))
    );
    let (s, j) = send_raw("application/json", Vec::new()).await;
    assert_eq!(
        (s, j["error"]["code"].as_str()),
        (400, Some("invalid_json"))
    );
    let (s, j) = send_raw("text/plain", b"{}".to_vec()).await;
    assert_eq!(
        (s, j["error"]["code"].as_str(), j["error"]["field"].as_str()),
        (400, Some("invalid_content_type"), Some("Content-Type"))
    );
    let big = format!(
        "{{\"first_name\": \"{}\"}}",
        "a".repeat(ayra_sandbox::MAX_BODY_BYTES + 10)
    );
    let (s, j) = send_raw("application/json", big.into_bytes()).await;
    assert_eq!(
        (s, j["error"]["code"].as_str()),
        (400, Some("payload_too_large"))
    );
    // Wrong JSON types name the field.
    env.post(
        "/contacts",
        &json!({"first_name": 42, "email": "a@example.com"}),
    )
    .await
    .assert_error(400, "invalid_field", Some("first_name"));
    env.post("/contacts", &json!({"email": "a@example.com"}))
        .await
        .assert_error(400, "missing_required_field", Some("first_name"));
    env.post(
        "/contacts",
        &json!({"first_name": "A", "email": "a@example.com", "tags": ["ok", 3]}),
    )
    .await
    .assert_error(400, "invalid_field", Some("tags[1]"));
    env.post(
        "/reports",
        &json!({"type": "agent_performance", "parameters": {"start": "2025-01-01T00:00:00Z"}}),
    )
    .await
    .assert_error(400, "missing_required_field", Some("parameters.end"));
    assert_eq!(env.sb.stats().panics, 0);
}

#[tokio::test]
async fn deletes_are_204_with_request_id() {
    let env = Env::new().await;
    let r = env
        .post(
            "/agents",
            &json!({"name": "Temp", "voice_id": "voice_ava", "prompt": "Hi"}),
        )
        .await;
    let id = r.data()["id"].as_str().unwrap().to_string();
    let d = env.delete(&format!("/agents/{id}")).await;
    assert_eq!(d.status, 204);
    assert!(d.bytes.is_empty());
    assert!(d.request_id().starts_with("req_"));
    env.get(&format!("/agents/{id}")).await.assert_error(
        404,
        "resource_not_found",
        Some("agent_id"),
    );
    env.delete(&format!("/agents/{id}")).await.assert_error(
        404,
        "resource_not_found",
        Some("agent_id"),
    );
}

#[tokio::test]
async fn reference_data_always_exists() {
    let env = Env::new().await;
    let voices = assert_list(&env.get("/voices?per_page=100").await);
    assert!(voices.len() >= 5);
    let names: Vec<&str> = voices.iter().map(|v| v["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "voices ordered by name");
    let tz = assert_list(&env.get("/timezones?per_page=100").await);
    assert!(tz.len() >= 30);
    assert!(
        tz.iter()
            .any(|t| t["id"] == "Europe/Paris" && t["utc_offset"] == "+01:00")
    );
    assert!(
        tz.iter()
            .any(|t| t["id"] == "Asia/Kolkata" && t["utc_offset"] == "+05:30")
    );
    let cals = assert_list(&env.get("/calendars").await);
    assert!(cals.len() >= 2);
}
