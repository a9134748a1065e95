//! Whatever a server sends back (any status from 100 to 599, hostile
//! headers, damaged or cut bodies), for a read, a list, a write, a delete and
//! a download, the SDK returns the decoded value or the typed error of its
//! kind: a valid body decodes, a download gives exactly the bytes sent, a cut
//! body is a transport error, a 2xx that does not match is `Decode`, every
//! other status is `Api`. Never a panic, a hang, or an allocation the body did
//! not ask for.

mod support;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
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

/// The operations under test: one of each kind of response the SDK reads.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    /// `GET /agents/{id}`: a JSON object.
    Get,
    /// `GET /agents`: a page of a list.
    List,
    /// `POST /agents`: a write, retried with its idempotency key.
    Create,
    /// `DELETE /agents/{id}`: 204, no body.
    Delete,
    /// `GET /conversations/{id}/recording`: bytes, streamed.
    Download,
}

const OPS: [Op; 5] = [Op::Get, Op::List, Op::Create, Op::Delete, Op::Download];

impl Op {
    /// The status the spec declares for success.
    fn success(self) -> u16 {
        match self {
            Op::Create => 201,
            Op::Delete => 204,
            _ => 200,
        }
    }

    /// A body the operation must decode, and what it decodes to.
    fn valid(self) -> (Vec<u8>, Vec<u8>) {
        match self {
            Op::Get | Op::Create => (
                ok(agent("agt_1", "active"), 0).into_bytes(),
                b"agt_1".to_vec(),
            ),
            Op::List => {
                let page = serde_json::json!({
                    "data": [agent("agt_1", "active")],
                    "meta": {"total": 1, "page": 1, "per_page": 25, "total_pages": 1,
                             "request_id": "req_test_0", "timestamp": "2025-01-15T10:30:00Z"},
                    "links": {"first": "http://127.0.0.1/v1/agents?page=1", "prev": null,
                              "next": null, "last": "http://127.0.0.1/v1/agents?page=1"}
                });
                (page.to_string().into_bytes(), b"agt_1".to_vec())
            }
            Op::Delete => (Vec::new(), Vec::new()),
            Op::Download => (
                b"ID3\x04\x00 an mp3".to_vec(),
                b"ID3\x04\x00 an mp3".to_vec(),
            ),
        }
    }

    /// Calls the operation; `Ok` holds what it decoded (the id, or the bytes).
    async fn call(self, client: &ayra::Client) -> ayra::Result<Vec<u8>> {
        use ayra::Download as _;
        Ok(match self {
            Op::Get => client
                .get_agent()
                .agent_id("agt_1")
                .send()
                .await?
                .into_inner()
                .data
                .id
                .into_bytes(),
            Op::List => {
                let page = client.list_agents().send().await?.into_inner();
                page.data
                    .first()
                    .map(|a| a.id.clone().into_bytes())
                    .unwrap_or_default()
            }
            Op::Create => client
                .create_agent()
                .body_map(|b| b.name("A").voice_id("voice_ava").prompt("Hi"))
                .send()
                .await?
                .into_inner()
                .data
                .id
                .into_bytes(),
            Op::Delete => {
                client.delete_agent().agent_id("agt_1").send().await?;
                Vec::new()
            }
            Op::Download => {
                let mut out = Vec::new();
                client
                    .get_conversation_recording()
                    .conversation_id("conv_1")
                    .send()
                    .await?
                    .write_to(&mut out)
                    .await?;
                out
            }
        })
    }
}

/// A body for `op`: its valid body (whole, damaged or cut short), the error
/// envelope, or anything.
fn body(op: Op) -> impl Strategy<Value = Vec<u8>> {
    let valid = op.valid().0;
    let error = support::error("not_found", "resource_not_found", None, 0).into_bytes();
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        (
            Just(valid.clone()),
            any::<prop::sample::Index>(),
            any::<u8>()
        )
            .prop_map(|(mut b, i, x)| {
                if !b.is_empty() {
                    let at = i.index(b.len());
                    b[at] = x;
                }
                b
            }),
        (Just(valid.clone()), any::<prop::sample::Index>())
            .prop_map(|(b, i)| b[..i.index(b.len() + 1)].to_vec()),
        (Just(error.clone()), any::<prop::sample::Index>())
            .prop_map(|(b, i)| b[..i.index(b.len())].to_vec()),
        (1usize..5000)
            .prop_map(|depth| format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()),
        (1usize..5000)
            .prop_map(|depth| format!("{{\"data\":{}", "{\"a\":".repeat(depth)).into_bytes()),
        Just(valid.clone()),
        Just(valid.clone()),
        Just(valid),
        Just(error),
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

/// One response: the operation called, then what the server sends back.
#[derive(Debug, Clone)]
struct Case {
    op: Op,
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    /// Promise the whole body, send half of it, close the connection.
    cut: bool,
}

fn case() -> impl Strategy<Value = Case> {
    prop::sample::select(OPS.to_vec()).prop_flat_map(|op| {
        // Any status at all, with the operation's success status often enough
        // that the valid body meets it.
        let status = prop_oneof![Just(op.success()), 200u16..300, 100u16..=599];
        (status, headers(), body(op), prop::bool::weighted(0.2)).prop_map(
            move |(status, headers, body, cut)| Case {
                op,
                status,
                headers,
                body,
                cut,
            },
        )
    })
}

/// The seed of `cargo test`'s cases.
const SEED: u64 = 0x5eed_0019_a7a5_0002;

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

/// Whether a response with this status carries a body at all (HTTP/1.1).
fn has_body(status: u16) -> bool {
    !(status < 200 || status == 204 || status == 304)
}

/// What the SDK must make of `case`.
fn check(case: &Case, result: &ayra::Result<Vec<u8>>) -> Result<(), TestCaseError> {
    if let Err(e) = result {
        let line = e.to_string();
        prop_assert_eq!(line.lines().count(), 1, "{}", line);
        prop_assert!(line.len() < 2_000, "bounded message: {} bytes", line.len());
    }
    let status = case.status;
    let (valid, decoded) = case.op.valid();
    let cut = case.cut && has_body(status) && !case.body.is_empty();
    if status < 200 {
        // An informational status is not an answer: the connection then closes.
        prop_assert!(
            matches!(
                result,
                Err(ayra::Error::Transport { .. } | ayra::Error::Api(_))
            ),
            "{:?}",
            result
        );
    } else if cut {
        // A body cut short is a broken transfer, never a decoded value.
        match result {
            Err(ayra::Error::Transport { .. }) => {}
            Err(ayra::Error::Api(api)) if !(200..300).contains(&status) => {
                prop_assert_eq!(api.status.as_u16(), status);
            }
            other => prop_assert!(false, "a cut body gave {:?}", other),
        }
    } else if !has_body(status) && !case.body.is_empty() {
        // Bytes after a 204 or 304 are not a body but a broken connection.
        prop_assert!(
            matches!(
                result,
                Ok(_)
                    | Err(ayra::Error::Transport { .. }
                        | ayra::Error::Api(_)
                        | ayra::Error::Decode(_))
            ),
            "{:?}",
            result
        );
    } else if (200..300).contains(&status) {
        let sent = &case.body[..];
        match (case.op, result) {
            // A download is any bytes: exactly those that were sent.
            (Op::Download, Ok(bytes)) => prop_assert_eq!(&bytes[..], sent),
            (Op::Download, Err(e)) => prop_assert!(false, "a whole download failed: {e:?}"),
            (_, Ok(value)) if sent == valid => prop_assert_eq!(value, &decoded),
            (_, Err(e)) if sent == valid && status == case.op.success() => {
                prop_assert!(false, "a valid body did not decode: {e:?}")
            }
            (_, Ok(_)) => {}
            (_, Err(ayra::Error::Decode(d))) => {
                prop_assert_eq!(d.status.map(|s| s.as_u16()), Some(status));
            }
            (_, Err(e)) => prop_assert!(false, "a 2xx is Ok or Decode, not {e:?}"),
        }
    } else {
        // Every other status is the API's error, with the body's start
        // when the body is not the API's envelope.
        let Err(ayra::Error::Api(api)) = result else {
            return Err(TestCaseError::fail(format!("{status} gave {result:?}")));
        };
        prop_assert_eq!(api.status.as_u16(), status);
        let envelope = has_body(status)
            && case.body == support::error("not_found", "resource_not_found", None, 0).into_bytes();
        if envelope {
            prop_assert_eq!(api.code.as_str(), "resource_not_found");
            prop_assert!(api.body_snippet.is_none());
        } else {
            prop_assert!(api.body_snippet.is_some(), "{:?}", api);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn any_response_is_decoded_or_a_typed_error_of_its_kind(case in case()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let result = runtime.block_on(async {
            let reply = case.clone();
            let server = Server::start(move |_, _| {
                if reply.cut {
                    Reply::Truncate(reply.status, String::from_utf8_lossy(&reply.body).into_owned())
                } else {
                    Reply::Raw(raw(reply.status, &reply.headers, &reply.body))
                }
            })
            .await;
            let client = server
                .client()
                .retry(support::retries(1).max_retry_after(Duration::from_millis(5)))
                .build()
                .unwrap();
            tokio::time::timeout(Duration::from_secs(10), case.op.call(&client)).await
        });
        let result = result.expect("no hang");
        check(&case, &result)?;
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
