//! Faults on purpose: per-request headers and start-up configuration.

mod common;

use std::time::{Duration, Instant};

use ayra_sandbox::{Faults, Resource, Sandbox, TEST_API_KEY};
use common::Env;
use serde_json::json;

fn raw_post(
    env: &Env,
    path: &str,
    body: &serde_json::Value,
    headers: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    let mut rb = env
        .http
        .post(env.url(path))
        .header("authorization", format!("Bearer {TEST_API_KEY}"))
        .json(body);
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    rb
}

#[tokio::test]
async fn status_faults_happen_before_the_write() {
    let env = Env::new().await;
    let before = env.sb.count(Resource::Contacts);
    let body = json!({"first_name": "F", "email": "f@example.com"});
    for (fault, status, code) in [
        ("500", 500, "internal_error"),
        ("502", 502, "bad_gateway"),
        ("503", 503, "service_unavailable"),
        ("504", 504, "gateway_timeout"),
    ] {
        let r = env
            .post_h("/contacts", &body, &[("x-sandbox-fault", fault)])
            .await;
        r.assert_error(status, code, None);
    }
    let r = env
        .post_h(
            "/contacts",
            &body,
            &[("x-sandbox-fault", "429;retry-after=3")],
        )
        .await;
    r.assert_error(429, "rate_limit_exceeded", None);
    assert_eq!(r.json["error"]["type"], "rate_limit_exceeded");
    assert_eq!(r.header("retry-after"), Some("3"));
    let r = env
        .post_h(
            "/contacts",
            &body,
            &[("x-sandbox-fault", "503;retry-after=0")],
        )
        .await;
    assert_eq!(r.header("retry-after"), Some("0"));
    assert_eq!(r.json["error"]["type"], "service_unavailable");
    assert_eq!(
        env.sb.count(Resource::Contacts),
        before,
        "nothing was written"
    );
    let s = env.sb.stats();
    assert_eq!(s.faults.errors.get(&503), Some(&2));
    assert_eq!(s.faults.rate_limited, 1);
    assert_eq!(s.writes_applied, 0);
    assert_eq!(
        env.get_ro("/agents").await.status,
        200,
        "no fault without the header"
    );
    let bad = env
        .post_h("/contacts", &body, &[("x-sandbox-fault", "explode")])
        .await;
    bad.assert_error(400, "invalid_parameter", Some("X-Sandbox-Fault"));
}

#[tokio::test]
async fn fault_times_then_success() {
    let env = Env::new().await;
    let h = [("x-sandbox-fault", "503"), ("x-sandbox-fault-times", "2")];
    let statuses = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(
                env.send(
                    reqwest::Method::GET,
                    "/agents",
                    None,
                    &h,
                    Some(TEST_API_KEY),
                )
                .await
                .status,
            );
        }
        v
    };
    assert_eq!(statuses, [503, 503, 200, 200]);
    // With an idempotency key the count is per key.
    let body = json!({"first_name": "T", "email": "t@example.com"});
    for key in ["a", "b"] {
        let hk = [
            ("x-sandbox-fault", "500"),
            ("x-sandbox-fault-times", "1"),
            ("idempotency-key", key),
        ];
        assert_eq!(env.post_h("/contacts", &body, &hk).await.status, 500);
        assert_eq!(env.post_h("/contacts", &body, &hk).await.status, 201);
    }
}

#[tokio::test]
async fn drop_after_the_write_then_the_retry_replays() {
    let env = Env::new().await;
    let before = env.sb.count(Resource::Contacts);
    let body = json!({"first_name": "Dropped", "email": "drop@example.com"});
    let h = [
        ("x-sandbox-fault", "drop"),
        ("x-sandbox-fault-times", "1"),
        ("idempotency-key", "drop-1"),
    ];
    let err = raw_post(&env, "/contacts", &body, &h).send().await;
    assert!(
        err.is_err(),
        "the connection is closed without a response: {err:?}"
    );
    assert_eq!(
        env.sb.count(Resource::Contacts),
        before + 1,
        "the write was applied"
    );
    // The retry (same key) is replayed, not applied twice.
    let r = raw_post(&env, "/contacts", &body, &h).send().await.unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    assert_eq!(env.sb.count(Resource::Contacts), before + 1);
    let s = env.sb.stats();
    assert_eq!(
        (s.faults.dropped, s.writes_applied, s.idempotent_replays),
        (1, 1, 1)
    );
    // A drop on a read.
    let r = env
        .http
        .get(env.url("/voices"))
        .header("authorization", format!("Bearer {TEST_API_KEY}"))
        .header("x-sandbox-fault", "drop")
        .send()
        .await;
    assert!(r.is_err());
}

#[tokio::test]
async fn truncate_after_the_write() {
    let env = Env::new().await;
    let before = env.sb.count(Resource::Contacts);
    let body = json!({"first_name": "Cut", "email": "cut@example.com"});
    let h = [
        ("x-sandbox-fault", "truncate"),
        ("x-sandbox-fault-times", "1"),
        ("idempotency-key", "cut-1"),
    ];
    let r = raw_post(&env, "/contacts", &body, &h)
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(r.status(), 201);
    let announced: usize = r.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(announced > 10);
    assert!(r.bytes().await.is_err(), "the body is cut short");
    assert_eq!(env.sb.count(Resource::Contacts), before + 1);
    let r = raw_post(&env, "/contacts", &body, &h).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["data"]["first_name"], "Cut");
    assert_eq!(env.sb.count(Resource::Contacts), before + 1);
    assert_eq!(env.sb.stats().faults.truncated, 1);
    // 204s cannot be cut: the response is dropped instead.
    let f = env.sb.fixtures();
    let r = env
        .http
        .delete(env.url(&format!("/contacts/{}/tags/vip", f.contact)))
        .header("authorization", format!("Bearer {TEST_API_KEY}"))
        .header("x-sandbox-fault", "truncate")
        .send()
        .await;
    assert!(r.is_err());
}

#[tokio::test]
async fn latency_header() {
    let env = Env::new().await;
    let t = Instant::now();
    let r = env
        .send(
            reqwest::Method::GET,
            "/voices",
            None,
            &[("x-sandbox-fault", "latency=200")],
            Some(TEST_API_KEY),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(200));
    assert_eq!(env.sb.stats().faults.delayed, 1);
    // Combined with a status.
    let r = env
        .send(
            reqwest::Method::GET,
            "/voices",
            None,
            &[("x-sandbox-fault", "latency=50, 502")],
            Some(TEST_API_KEY),
        )
        .await;
    assert_eq!(r.status, 502);
}

#[tokio::test]
async fn configured_error_rate_and_latency() {
    let faults = Faults {
        error_rate: 1.0,
        error_statuses: vec![503],
        latency: Duration::from_millis(20),
        ..Faults::default()
    };
    let env = Env::with(Sandbox::builder().faults(faults)).await;
    let t = Instant::now();
    for _ in 0..3 {
        env.get("/agents")
            .await
            .assert_error(503, "service_unavailable", None);
    }
    assert!(t.elapsed() >= Duration::from_millis(60));
    let s = env.sb.stats();
    assert_eq!(s.faults.errors.get(&503), Some(&3));
    assert_eq!(s.faults.delayed, 3);
    // Faults can be changed at run time.
    env.sb.set_faults(Faults::none());
    assert_eq!(env.get("/agents").await.status, 200);
    // A partial rate is seeded: about half fail.
    env.sb.set_faults(Faults {
        error_rate: 0.5,
        seed: 7,
        ..Faults::default()
    });
    let mut failures = 0;
    for _ in 0..40 {
        if env.get("/voices").await.status >= 500 {
            failures += 1;
        }
    }
    assert!((8..=32).contains(&failures), "{failures}");
}

#[tokio::test]
async fn configured_rate_limit() {
    let faults = Faults {
        // A window no load outlasts: its end is the sandbox clock's, moved below.
        rate_limit: Some((3, Duration::from_secs(600))),
        ..Faults::default()
    };
    let env = Env::with(Sandbox::builder().faults(faults)).await;
    for _ in 0..3 {
        assert_eq!(env.get("/voices").await.status, 200);
    }
    let r = env.get("/voices").await;
    r.assert_error(429, "rate_limit_exceeded", None);
    let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=600).contains(&secs), "{secs}");
    // Per API key: the read-only key has its own budget.
    assert_eq!(env.get_ro("/voices").await.status, 200);
    // A new window, a new budget.
    env.sb.advance(Duration::from_secs(600));
    assert_eq!(env.get("/voices").await.status, 200);
}

#[tokio::test]
async fn configured_drops_and_truncations() {
    let env = Env::with(Sandbox::builder().faults(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    }))
    .await;
    let r = env
        .http
        .get(env.url("/voices"))
        .header("authorization", format!("Bearer {TEST_API_KEY}"))
        .send()
        .await;
    assert!(r.is_err());
    env.sb.set_faults(Faults {
        truncate_rate: 1.0,
        ..Faults::default()
    });
    let r = env
        .http
        .get(env.url("/voices"))
        .header("authorization", format!("Bearer {TEST_API_KEY}"))
        .send()
        .await
        .unwrap();
    assert!(r.bytes().await.is_err());
    let s = env.sb.stats();
    assert_eq!((s.faults.dropped, s.faults.truncated), (1, 1));
    assert_eq!(s.faults.total(), 2);
}
