//! Hostile input never causes a 500, a panic or a hang.

mod common;

use ayra_sandbox::TEST_API_KEY;
use common::Env;
use reqwest::Method;
use serde_json::{Value, json};

/// Each write route with a body it accepts, so that a hostile value in any
/// one field is what the route judges (not a missing required field).
fn write_routes() -> Vec<(&'static str, &'static str, Value)> {
    let appointment = json!({"calendar_id": "cal_0aV4lW8yX5", "title": "t",
        "start": "2030-01-07T10:00:00Z", "duration_minutes": 30});
    vec![
        (
            "POST",
            "/agents",
            json!({"name": "R", "voice_id": "voice_aria01",
            "prompt": "Answer the phone.", "language": "en-US"}),
        ),
        ("PATCH", "/agents/agt_8Kq2mZ4vT1", json!({})),
        (
            "POST",
            "/contacts",
            json!({"first_name": "R", "email": "r@example.com"}),
        ),
        ("PATCH", "/contacts/cnt_5hJ2kW8rY4", json!({})),
        (
            "POST",
            "/contacts/cnt_5hJ2kW8rY4/tags",
            json!({"tags": ["r"]}),
        ),
        (
            "POST",
            "/custom-fields",
            json!({"key": "robust", "label": "R", "type": "text"}),
        ),
        ("POST", "/appointments", appointment),
        ("PATCH", "/appointments/apt_2wE5rT8yU1", json!({})),
        (
            "POST",
            "/appointments/apt_2wE5rT8yU1/cancel",
            json!({"scope": "this"}),
        ),
        (
            "POST",
            "/workflows",
            json!({"name": "w", "trigger_type": "api",
            "steps": [{"type": "send_sms", "config": {}}]}),
        ),
        ("PATCH", "/workflows/wf_4zX7cV1bN3", json!({})),
        (
            "POST",
            "/workflows/wf_4zX7cV1bN3/trigger",
            json!({"input": {}}),
        ),
        (
            "POST",
            "/reports",
            json!({"type": "contact_growth",
            "parameters": {"start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z"}}),
        ),
        (
            "POST",
            "/exports",
            json!({"resource": "contacts", "format": "csv"}),
        ),
    ]
}

fn nasty_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(-1),
        json!(1e308),
        json!(-9223372036854775808i64),
        json!(18446744073709551615u64),
        json!(""),
        json!("\u{0}\u{ffff}é🙂"),
        json!("9999-12-31T23:59:59Z"),
        json!("0000-01-01T00:00:00Z"),
        json!("2025-01-15T10:30:00+14:00"),
        json!([]),
        json!([null]),
        json!({}),
        json!({"nested": {"deep": [1, {"x": null}]}}),
        json!("x".repeat(5000)),
    ]
}

const FIELDS: &[&str] = &[
    "name",
    "voice_id",
    "prompt",
    "phone_number",
    "timezone",
    "max_call_duration_seconds",
    "first_name",
    "email",
    "phone",
    "tags",
    "custom_fields",
    "key",
    "label",
    "type",
    "calendar_id",
    "contact_id",
    "title",
    "start",
    "end",
    "duration_minutes",
    "recurrence",
    "scope",
    "reason",
    "steps",
    "trigger_type",
    "status",
    "input",
    "parameters",
    "resource",
    "format",
    "filters",
    "notes",
    "language",
    "description",
];

#[tokio::test]
async fn no_500s_on_garbage_bodies() {
    let env = Env::new().await;
    let mut n = 0;
    for (method, path, valid) in write_routes() {
        let m: Method = method.parse().unwrap();
        // The base body is accepted, so each field below is judged on its own.
        let base = env
            .send(m.clone(), path, Some(&valid), &[], Some(TEST_API_KEY))
            .await;
        assert!(base.status < 300, "{method} {path} {valid}: {}", base.json);
        for field in FIELDS {
            for v in nasty_values() {
                let mut body = valid.clone();
                body[*field] = v;
                let r = env
                    .send(m.clone(), path, Some(&body), &[], Some(TEST_API_KEY))
                    .await;
                assert!(
                    r.status < 500,
                    "{method} {path} {body}: {} {}",
                    r.status,
                    r.json
                );
                if r.status >= 400 {
                    assert_eq!(
                        r.json["error"]["request_id"].as_str(),
                        Some(r.request_id()),
                        "{method} {path} {body}"
                    );
                }
                n += 1;
            }
        }
        // Recurrence and parameters with nasty members.
        for v in nasty_values() {
            for body in [
                json!({"calendar_id": "cal_0aV4lW8yX5", "title": "t", "start": "2030-01-01T10:00:00Z", "recurrence": {"frequency": "monthly", "interval": v, "count": 100}}),
                json!({"calendar_id": "cal_0aV4lW8yX5", "title": "t", "start": "9999-12-31T23:00:00Z", "recurrence": {"frequency": "daily", "until": v}}),
                json!({"type": "contact_growth", "parameters": {"start": "0001-01-01T00:00:00Z", "end": v}}),
                json!({"resource": "contacts", "format": "csv", "filters": {"created_after": v, "q": v}}),
            ] {
                let r = env
                    .send(m.clone(), path, Some(&body), &[], Some(TEST_API_KEY))
                    .await;
                assert!(
                    r.status < 500,
                    "{method} {path} {body}: {} {}",
                    r.status,
                    r.json
                );
                n += 1;
            }
        }
    }
    assert!(n > 1000);
    assert_eq!(env.sb.stats().panics, 0);
}

#[tokio::test]
async fn no_500s_on_extreme_queries() {
    let env = Env::new().await;
    let paths = [
        "/analytics/summary?start=0001-01-01T00:00:00Z&end=9999-12-31T23:59:59Z&granularity=week",
        "/analytics/summary?start=9999-12-31T00:00:00Z&end=9999-12-31T23:59:59Z&granularity=hour",
        "/analytics/summary?start=0001-01-01T00:00:00Z&end=0001-01-02T00:00:00Z",
        "/calendars/cal_7tR4yU2iO9/availability?start=9999-12-30T00:00:00Z&end=9999-12-31T23:59:59Z",
        "/calendars/cal_7tR4yU2iO9/availability?start=0001-01-01T00:00:00Z&end=0001-01-31T00:00:00Z",
        "/calendars/cal_0aV4lW8yX5/availability?start=2030-01-01T00:00:00Z&end=2030-02-01T00:00:00Z&duration_minutes=15",
        "/contacts?q=%00%FF%FE&page=18446744073709551616",
        "/contacts?created_after=9999-12-31T23:59:60Z",
        "/agents?page=1&page=2&per_page=3&per_page=abc",
        "/contacts/cnt_5hJ2kW8rY4/tags/%F0%9F%99%82",
        "/conversations?started_after=2025-13-01T00:00:00Z",
    ];
    for p in paths {
        let r = env.get(p).await;
        assert!(r.status < 500, "{p}: {} {}", r.status, r.json);
    }
    let r = env
        .send(
            Method::DELETE,
            "/contacts/cnt_5hJ2kW8rY4/tags/%F0%9F%99%82",
            None,
            &[],
            Some(TEST_API_KEY),
        )
        .await;
    assert_eq!(r.status, 204);
    let long_tag = "t".repeat(65);
    let r = env
        .send(
            Method::DELETE,
            &format!("/contacts/cnt_5hJ2kW8rY4/tags/{long_tag}"),
            None,
            &[],
            Some(TEST_API_KEY),
        )
        .await;
    r.assert_error(400, "invalid_parameter", Some("tag"));
    // Booking at the end of time is refused, not a crash.
    let r = env
        .post("/appointments", &json!({"calendar_id": "cal_0aV4lW8yX5", "title": "t", "start": "9999-12-31T23:30:00Z", "duration_minutes": 480}))
        .await;
    assert!(r.status == 422 || r.status == 201, "{}", r.json);
    assert_eq!(env.sb.stats().panics, 0);
}

#[tokio::test]
async fn garbage_headers() {
    let env = Env::new().await;
    for (k, v) in [
        ("x-sandbox-fault", "429;retry-after=-1"),
        ("x-sandbox-fault", "latency=abc"),
        ("x-sandbox-fault-times", "many"),
        (
            "content-type",
            "application/json; charset=utf-8; boundary=x",
        ),
        ("authorization", "Bearer"),
        ("idempotency-key", ""),
    ] {
        let r = env
            .send(
                Method::POST,
                "/contacts",
                Some(&json!({"first_name": "H", "email": "h@example.com"})),
                &[(k, v)],
                Some(TEST_API_KEY),
            )
            .await;
        assert!(r.status < 500, "{k}: {v}: {} {}", r.status, r.json);
    }
}
