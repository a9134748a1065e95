//! Helpers shared by the integration tests: a raw HTTP client for a sandbox.
#![allow(dead_code)]

use std::time::Duration;

use ayra_sandbox::{READ_ONLY_API_KEY, Sandbox, SandboxBuilder, TEST_API_KEY};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;

pub struct Env {
    pub sb: Sandbox,
    pub http: reqwest::Client,
    pub base: String,
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
    pub json: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn request_id(&self) -> &str {
        self.header("x-request-id").unwrap_or("")
    }

    pub fn data(&self) -> &Value {
        &self.json["data"]
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// Asserts an error envelope: status, code, field; and request id consistency.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, field: Option<&str>) {
        assert_eq!(self.status, status, "body: {}", self.json);
        let e = &self.json["error"];
        assert_eq!(e["code"], code, "body: {}", self.json);
        match field {
            Some(f) => assert_eq!(e["field"], f, "body: {}", self.json),
            None => assert!(e["field"].is_null(), "body: {}", self.json),
        }
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(e["type"].is_string());
        assert_eq!(e["request_id"], self.request_id());
        assert!(self.request_id().starts_with("req_"));
    }
}

/// The instant [`Env::new`]'s sandbox starts at, so that a test gives the
/// same answer whatever the day and hour it runs. This one is kept because it
/// once broke a test: Saturday 23:30 UTC is already Sunday in Paris, and "a
/// Monday 8 days ahead" fell in the demo calendar's booked week.
/// `AYRA_TEST_NOW` (RFC 3339) starts it elsewhere; `cargo xtask fuzz` draws one.
pub const START: &str = "2026-12-05T23:30:00Z";

/// [`START`], or the instant `AYRA_TEST_NOW` names.
pub fn start_time() -> chrono::DateTime<chrono::Utc> {
    let at = std::env::var("AYRA_TEST_NOW").unwrap_or_else(|_| START.to_string());
    chrono::DateTime::parse_from_rfc3339(&at)
        .unwrap_or_else(|e| panic!("AYRA_TEST_NOW={at:?} is not RFC 3339: {e}"))
        .to_utc()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

impl Env {
    /// A sandbox whose clock starts at [`start_time`].
    pub async fn new() -> Env {
        Self::with(Sandbox::builder().now(start_time())).await
    }

    pub async fn with(b: SandboxBuilder) -> Env {
        let sb = b.start().await;
        let base = sb.base_url();
        Env {
            sb,
            http: client(),
            base,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
        key: Option<&str>,
    ) -> Resp {
        let mut rb = self.http.request(method, self.url(path));
        if let Some(k) = key {
            rb = rb.header("authorization", format!("Bearer {k}"));
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb
                .header("content-type", "application/json")
                .body(serde_json::to_vec(b).expect("json"));
        }
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = r.bytes().await.expect("body").to_vec();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            bytes,
            json,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None, &[], Some(TEST_API_KEY))
            .await
    }

    pub async fn get_ro(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None, &[], Some(READ_ONLY_API_KEY))
            .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(Method::POST, path, Some(body), &[], Some(TEST_API_KEY))
            .await
    }

    pub async fn post_h(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Resp {
        self.send(Method::POST, path, Some(body), headers, Some(TEST_API_KEY))
            .await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.send(Method::PATCH, path, Some(body), &[], Some(TEST_API_KEY))
            .await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, None, &[], Some(TEST_API_KEY))
            .await
    }

    /// Polls a job until it is final (bounded).
    /// Moves the sandbox's clock an hour on, past the end of any job, and
    /// returns the finished job (no sleeping).
    pub async fn wait_job(&self, path: &str) -> Resp {
        self.sb.advance(Duration::from_secs(3600));
        let r = self.get(path).await;
        let s = r.data()["status"].as_str().unwrap_or("");
        assert!(s == "succeeded" || s == "failed", "job {path}: {}", r.json);
        r
    }
}

/// Asserts the list envelope and returns the data items.
#[track_caller]
pub fn assert_list(r: &Resp) -> Vec<Value> {
    assert_eq!(r.status, 200, "{}", r.json);
    let m = &r.json["meta"];
    for k in ["total", "page", "per_page", "total_pages"] {
        assert!(m[k].is_u64(), "meta.{k}: {}", r.json);
    }
    assert_eq!(m["request_id"], r.request_id());
    assert!(m["timestamp"].is_string());
    let l = &r.json["links"];
    assert!(
        l["first"].is_string() && l["last"].is_string(),
        "{}",
        r.json
    );
    assert!(l.get("prev").is_some() && l.get("next").is_some());
    let total = m["total"].as_u64().unwrap_or(0);
    let per_page = m["per_page"].as_u64().unwrap_or(1);
    assert_eq!(
        m["total_pages"].as_u64().unwrap_or(0),
        total.div_ceil(per_page)
    );
    r.json["data"].as_array().cloned().unwrap_or_default()
}
