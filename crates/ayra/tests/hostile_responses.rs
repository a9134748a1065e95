//! Whatever a server sends back, the SDK returns `Ok` or a typed error:
//! never a panic, a hang, or an allocation the body did not ask for.

mod support;
use proptest::prelude::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{Reply, Server, agent, ok};

/// A response head and body, as raw bytes.
fn raw(status: u16, headers: &[(String, Vec<u8>)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len()).into_bytes();
    for (k, v) in headers {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    let valid = ok(agent("agt_1", "active"), 0).into_bytes();
    let error = support::error("not_found", "resource_not_found", None, 0).into_bytes();
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        (
            Just(valid.clone()),
            any::<prop::sample::Index>(),
            any::<u8>()
        )
            .prop_map(|(mut b, i, x)| {
                let at = i.index(b.len());
                b[at] = x;
                b
            }),
        (Just(valid.clone()), any::<prop::sample::Index>())
            .prop_map(|(b, i)| b[..i.index(b.len())].to_vec()),
        (Just(error), any::<prop::sample::Index>())
            .prop_map(|(b, i)| b[..i.index(b.len())].to_vec()),
        (1usize..5000)
            .prop_map(|depth| format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()),
        (1usize..5000)
            .prop_map(|depth| format!("{{\"data\":{}", "{\"a\":".repeat(depth)).into_bytes()),
        Just(valid),
        Just(b"\xff\xfe\xfd not utf-8".to_vec()),
        Just(Vec::new()),
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let value = prop_oneof![
        "[ -~]{0,40}".prop_map(String::into_bytes),
        prop::collection::vec(0x80u8..=0xff, 1..20),
        Just(b"-1".to_vec()),
        Just(b"99999999999999999999999999".to_vec()),
        Just(b"Wed, 21 Oct 2015 07:28:00 GMT".to_vec()),
        Just(b"0".to_vec()),
    ];
    let name = prop_oneof![
        Just("content-type".to_string()),
        Just("retry-after".to_string()),
        Just("x-request-id".to_string()),
        Just("set-cookie".to_string()),
    ];
    prop::collection::vec((name, value), 0..4)
}

/// Cases per property: `AYRA_FUZZ_CASES` (set by `cargo xtask fuzz`) or the CI default.
fn cases(default: u32) -> u32 {
    std::env::var("AYRA_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(400)))]

    #[test]
    fn any_response_is_ok_or_a_typed_error(
        status in prop::sample::select(vec![200u16, 201, 204, 301, 400, 404, 409, 422, 429, 500, 502, 503, 504, 599]),
        headers in headers(),
        body in body(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let reply = raw(status, &headers, &body);
            let server = Server::start(move |_, _| Reply::Raw(reply.clone())).await;
            let client = server
                .client()
                .retry(support::retries(1).max_retry_after(Duration::from_millis(5)))
                .build()
                .unwrap();
            let call = client.get_agent().agent_id("agt_1").send();
            let result = tokio::time::timeout(Duration::from_secs(10), call).await;
            let result = result.expect("no hang");
            if let Err(e) = result {
                let line = e.to_string();
                assert_eq!(line.lines().count(), 1, "{line}");
                assert!(line.len() < 2_000, "bounded message: {} bytes", line.len());
            }
        });
    }
}

#[tokio::test]
async fn a_body_past_the_limit_is_refused_not_buffered() {
    // 65 MiB of JSON whitespace: beyond the 64 MiB cap on buffered bodies.
    let huge = Arc::new(Mutex::new(Some(vec![b' '; 65 << 20])));
    let server = Server::start(move |_, _| {
        let body = huge.lock().unwrap().take().unwrap_or_default();
        Reply::Raw(raw(200, &[], &body))
    })
    .await;
    let client = server
        .client()
        .retry(ayra::RetryPolicy::none())
        .build()
        .unwrap();
    let err = support::get_agent_error(&client).await;
    match &err {
        ayra::Error::Decode(e) => {
            assert!(e.reason.contains("limit"), "{}", e.reason);
            assert!(e.request_id.is_none());
        }
        other => panic!("{other:?}"),
    }
}
