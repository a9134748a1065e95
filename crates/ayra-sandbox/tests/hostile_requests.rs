//! Hostile requests: random bodies, query strings, path ids, idempotency keys
//! and headers against every kind of route. The sandbox answers each with a
//! 2xx or a 4xx carrying the error envelope and a matching `X-Request-Id`:
//! never a 5xx, never a dropped connection.

use proptest::prelude::*;
use std::sync::LazyLock;

struct World {
    runtime: tokio::runtime::Runtime,
    base: String,
    http: reqwest::Client,
    _sandbox: ayra_sandbox::Sandbox,
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sandbox = runtime.block_on(ayra_sandbox::Sandbox::start());
    World {
        base: sandbox.base_url(),
        http: reqwest::Client::new(),
        runtime,
        _sandbox: sandbox,
    }
});

/// The seed of `cargo test`'s cases.
const SEED: u64 = 0x5eed_0019_a7a5_0003;

/// The properties' configuration. `cargo test` draws `default_cases` cases
/// from a fixed seed, so that a commit passes or fails the same way on every
/// run and machine; `cargo xtask fuzz` explores with `AYRA_FUZZ_CASES` cases
/// from a fresh `AYRA_FUZZ_SEED`, which it prints to replay a failure. A
/// failure's case is saved beside this file (`.proptest-regressions`) and
/// replayed first on every run: commit it.
fn config(default_cases: u32) -> ProptestConfig {
    fn var<T: std::str::FromStr>(name: &str) -> Option<T> {
        std::env::var(name).ok()?.parse().ok()
    }
    ProptestConfig {
        cases: var("AYRA_FUZZ_CASES").unwrap_or(default_cases),
        rng_seed: proptest::test_runner::RngSeed::Fixed(var("AYRA_FUZZ_SEED").unwrap_or(SEED)),
        source_file: Some(file!()),
        ..ProptestConfig::default()
    }
}

const ROUTES: &[(&str, &str)] = &[
    ("GET", "/agents"),
    ("POST", "/agents"),
    ("GET", "/agents/{id}"),
    ("PATCH", "/agents/{id}"),
    ("DELETE", "/agents/{id}"),
    ("POST", "/agents/{id}/enable"),
    ("GET", "/conversations"),
    ("GET", "/conversations/{id}/transcript"),
    ("GET", "/contacts"),
    ("POST", "/contacts"),
    ("PATCH", "/contacts/{id}"),
    ("POST", "/contacts/{id}/tags"),
    ("DELETE", "/contacts/{id}/tags/{id}"),
    ("POST", "/custom-fields"),
    ("GET", "/calendars/{id}/availability"),
    ("GET", "/appointments"),
    ("POST", "/appointments"),
    ("POST", "/appointments/{id}/cancel"),
    ("POST", "/workflows"),
    ("POST", "/workflows/{id}/trigger"),
    ("GET", "/analytics/summary"),
    ("POST", "/reports"),
    ("POST", "/exports"),
    ("GET", "/exports/{id}/download"),
    ("GET", "/nowhere/{id}"),
];

/// Ids: fixture ids that exist, well-formed unknown ones, and junk.
fn id() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("agt_8Kq2mZ4vT1".to_string()),
        Just("cnt_5hJ2kW8rY4".to_string()),
        Just("cal_7tR4yU2iO9".to_string()),
        Just("wf_4zX7cV1bN3".to_string()),
        "[a-z]{2,5}_[A-Za-z0-9]{1,12}",
        "[^/?#]{0,40}",
        Just("%00%ff%2e%2e".to_string()),
        Just("a".repeat(5000)),
    ]
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(Into::into),
        any::<i64>().prop_map(Into::into),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Into::into),
        ".{0,30}".prop_map(Into::into),
        Just("2025-01-15T10:30:00Z".into()),
        Just("+14155550123".into()),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Into::into),
            prop::collection::btree_map(
                prop_oneof![
                    Just("name".to_string()),
                    Just("first_name".to_string()),
                    Just("email".to_string()),
                    Just("tags".to_string()),
                    Just("custom_fields".to_string()),
                    Just("start".to_string()),
                    Just("scope".to_string()),
                    Just("input".to_string()),
                    Just("type".to_string()),
                    Just("voice_id".to_string()),
                    Just("prompt".to_string()),
                    "[a-z_]{1,10}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        json_value().prop_map(|v| v.to_string().into_bytes()),
        prop::collection::vec(any::<u8>(), 0..200),
        Just(b"{\"first_name\": \"x\"".to_vec()),
        Just(vec![b'['; 100_000]),
    ]
}

fn query() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop_oneof![
                Just("page".to_string()),
                Just("per_page".to_string()),
                Just("status".to_string()),
                Just("start".to_string()),
                Just("end".to_string()),
                Just("created_after".to_string()),
                Just("tag".to_string()),
                Just("granularity".to_string()),
                "[a-z_]{1,8}",
            ],
            prop_oneof![
                "-?[0-9]{1,25}".boxed(),
                ".{0,20}".prop_map(|s| utf8_percent(&s)).boxed(),
                Just("2025-01-15T10:30:00Z".to_string()).boxed(),
            ],
        ),
        0..4,
    )
    .prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn utf8_percent(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn every_request_gets_a_2xx_or_a_4xx_envelope(
        route in prop::sample::select(ROUTES),
        ids in (id(), id()),
        query in query(),
        body in body(),
        key in prop::option::of(prop_oneof!["[ -~]{0,300}", Just(String::new())]),
        content_type in prop::sample::select(vec!["application/json", "text/plain", "application/json; charset=utf-8", ""]),
    ) {
        let world = &*WORLD;
        let (method, template) = route;
        let encode = |s: &str| s.bytes().map(|b| if b.is_ascii_alphanumeric() || b == b'_' { (b as char).to_string() } else { format!("%{b:02X}") }).collect::<String>();
        let path = template.replacen("{id}", &encode(&ids.0), 1).replacen("{id}", &encode(&ids.1), 1);
        let url = format!("{}{path}?{query}", world.base);
        let result = world.runtime.block_on(async {
            let mut req = world
                .http
                .request(method.parse().unwrap(), &url)
                .header("authorization", format!("Bearer {}", ayra_sandbox::TEST_API_KEY))
                .body(body.clone());
            if !content_type.is_empty() {
                req = req.header("content-type", content_type);
            }
            if let Some(key) = &key {
                req = req.header("idempotency-key", key.as_str());
            }
            let resp = req.send().await?;
            let status = resp.status().as_u16();
            let rid = resp.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_string);
            let ctype = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let bytes = resp.bytes().await?;
            Ok::<_, reqwest::Error>((status, rid, ctype, bytes))
        });
        let (status, rid, ctype, bytes) = match result {
            Ok(r) => r,
            Err(e) if e.is_builder() => return Ok(()), // reqwest refused to send it (e.g. a bad header)
            Err(e) => panic!("{method} {url}: the connection failed: {e}"),
        };
        prop_assert!(status < 500, "{method} {url} -> {status}: {}", String::from_utf8_lossy(&bytes));
        prop_assert!(rid.is_some(), "X-Request-Id on every response");
        if status >= 400 {
            let envelope: serde_json::Value = serde_json::from_slice(&bytes).expect("an error envelope");
            prop_assert_eq!(envelope["error"]["request_id"].as_str(), rid.as_deref());
            prop_assert!(envelope["error"]["code"].is_string() && envelope["error"]["message"].is_string());
            prop_assert!(ctype.starts_with("application/json"));
        }
    }
}
