//! A path value reaches the server as exactly one path segment, or is
//! refused before anything is sent: hostile values (`..`, backslashes,
//! slashes, percent signs) go through every operation that has a path
//! parameter, against a server that records the raw request target.

mod support;

use ayra::types::CancelScope;
use proptest::prelude::*;
use support::{Recorded, Reply, Server};

/// Calls `operation` with every path parameter set to `value`. `None` when
/// this test does not know the operation (the coverage test then fails).
async fn call(client: &ayra::Client, operation: &str, v: &str) -> Option<ayra::Result<()>> {
    fn done<T>(r: ayra::Result<T>) -> ayra::Result<()> {
        r.map(|_| ())
    }
    let c = client;
    Some(match operation {
        "get_agent" => done(c.get_agent().agent_id(v).send().await),
        "update_agent" => done(
            c.update_agent()
                .agent_id(v)
                .body_map(|b| b.name("x"))
                .send()
                .await,
        ),
        "delete_agent" => done(c.delete_agent().agent_id(v).send().await),
        "enable_agent" => done(c.enable_agent().agent_id(v).send().await),
        "disable_agent" => done(c.disable_agent().agent_id(v).send().await),
        "archive_agent" => done(c.archive_agent().agent_id(v).send().await),
        "get_conversation" => done(c.get_conversation().conversation_id(v).send().await),
        "get_conversation_transcript" => done(
            c.get_conversation_transcript()
                .conversation_id(v)
                .send()
                .await,
        ),
        "get_conversation_recording" => done(
            c.get_conversation_recording()
                .conversation_id(v)
                .send()
                .await,
        ),
        "stream_conversation_events" => done(
            c.stream_conversation_events()
                .conversation_id(v)
                .send()
                .await,
        ),
        "get_conversation_analytics" => done(
            c.get_conversation_analytics()
                .conversation_id(v)
                .send()
                .await,
        ),
        "get_contact" => done(c.get_contact().contact_id(v).send().await),
        "update_contact" => done(
            c.update_contact()
                .contact_id(v)
                .body_map(|b| b.first_name("x"))
                .send()
                .await,
        ),
        "delete_contact" => done(c.delete_contact().contact_id(v).send().await),
        "add_contact_tags" => done(
            c.add_contact_tags()
                .contact_id(v)
                .body_map(|b| b.tags(vec!["x".to_string()]))
                .send()
                .await,
        ),
        "remove_contact_tag" => done(c.remove_contact_tag().contact_id(v).tag(v).send().await),
        "list_contact_interactions" => {
            done(c.list_contact_interactions().contact_id(v).send().await)
        }
        "get_calendar" => done(c.get_calendar().calendar_id(v).send().await),
        "get_calendar_availability" => done(
            c.get_calendar_availability()
                .calendar_id(v)
                .start(ayra::chrono::Utc::now())
                .end(ayra::chrono::Utc::now())
                .send()
                .await,
        ),
        "get_appointment" => done(c.get_appointment().appointment_id(v).send().await),
        "update_appointment" => done(
            c.update_appointment()
                .appointment_id(v)
                .body_map(|b| b.title("x"))
                .send()
                .await,
        ),
        "cancel_appointment" => done(
            c.cancel_appointment()
                .appointment_id(v)
                .body_map(|b| b.scope(CancelScope::This))
                .send()
                .await,
        ),
        "get_workflow" => done(c.get_workflow().workflow_id(v).send().await),
        "update_workflow" => done(
            c.update_workflow()
                .workflow_id(v)
                .body_map(|b| b.name("x"))
                .send()
                .await,
        ),
        "delete_workflow" => done(c.delete_workflow().workflow_id(v).send().await),
        "trigger_workflow" => done(
            c.trigger_workflow()
                .workflow_id(v)
                .body_map(|b| b.input(serde_json::Map::new()))
                .send()
                .await,
        ),
        "list_workflow_executions" => {
            done(c.list_workflow_executions().workflow_id(v).send().await)
        }
        "get_workflow_execution" => done(c.get_workflow_execution().execution_id(v).send().await),
        "get_report" => done(c.get_report().report_id(v).send().await),
        "get_export" => done(c.get_export().export_id(v).send().await),
        "download_export" => done(c.download_export().export_id(v).send().await),
        _ => return None,
    })
}

/// The operations whose path has a parameter, from the generated table.
fn with_path_parameters() -> Vec<&'static ayra::runtime::Operation> {
    ayra::api::OPERATIONS
        .iter()
        .filter(|op| op.path.contains('{'))
        .collect()
}

/// Whether a URL parser (the client's or a server's) could read `segment`
/// as anything but one literal segment.
fn resolvable(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "" | "." | ".." | "%2e" | ".%2e" | "%2e." | "%2e%2e"
    ) || segment.contains(['\\', '/', '?', '#'])
}

/// Checks that `request` names exactly the resource `template` with every
/// parameter equal to `value`.
fn assert_one_segment(template: &str, value: &str, request: &Recorded) {
    let path = request.target.split('?').next().unwrap();
    let path = path.strip_prefix("/v1").expect("under the base URL");
    let want: Vec<&str> = template.split('/').collect();
    let got: Vec<&str> = path.split('/').collect();
    assert_eq!(
        got.len(),
        want.len(),
        "{value:?} through {template} became {path}"
    );
    for (w, g) in want.iter().zip(&got) {
        if w.starts_with('{') {
            assert!(
                !resolvable(g),
                "{value:?} sent as a resolvable segment {g:?}"
            );
            let decoded = percent_encoding::percent_decode_str(g)
                .decode_utf8()
                .unwrap();
            assert_eq!(decoded, value, "{template}: {path}");
        } else {
            assert_eq!(w, g, "{value:?} through {template} became {path}");
        }
    }
}

/// A server that records every request and answers 404 (not retried).
async fn recorder() -> Server {
    Server::start(|_, i| Reply::Json(404, support::error("not_found", "not_found", None, i))).await
}

async fn check(server: &Server, client: &ayra::Client, value: &str) {
    for op in with_path_parameters() {
        let before = server.count();
        let outcome = call(client, op.id, value)
            .await
            .unwrap_or_else(|| panic!("this test does not call {}", op.id));
        let sent = &server.recorded()[before..];
        match outcome {
            Err(ayra::Error::InvalidRequest(message)) => {
                assert!(sent.is_empty(), "{}: refused but sent {sent:?}", op.id);
                assert!(
                    matches!(value, "" | "." | ".."),
                    "{}: {value:?} refused: {message}",
                    op.id
                );
            }
            _ => {
                assert_eq!(sent.len(), 1, "{}: {value:?} sent {sent:?}", op.id);
                assert_one_segment(op.path, value, &sent[0]);
            }
        }
    }
}

#[tokio::test]
async fn every_operation_with_a_path_parameter_is_covered() {
    let server = recorder().await;
    let client = server.client().build().unwrap();
    for op in with_path_parameters() {
        assert!(
            call(&client, op.id, "x").await.is_some(),
            "add {} to this test",
            op.id
        );
    }
    assert!(with_path_parameters().len() >= 31);
}

#[tokio::test]
async fn dot_segments_and_separators_never_leave_their_segment() {
    let server = recorder().await;
    let client = server.client().build().unwrap();
    for value in [
        "..",
        ".",
        "",
        "a\\..\\..",
        "..\\",
        "../..",
        "%2e%2e",
        ".%2E",
        "a/b",
        "?x=1",
        "#f",
        "%",
        "a b",
        "café",
        "...",
        "..;",
        "~user",
        "\\",
    ] {
        check(&server, &client, value).await;
    }
}

/// The seed of `cargo test`'s cases.
const SEED: u64 = 0x5eed_0019_a7a5_0004;

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

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn any_value_is_one_segment_or_refused(
        value in proptest::collection::vec(
            prop_oneof![
                Just("."), Just(".."), Just("\\"), Just("/"), Just("%"), Just("2e"),
                Just("2E"), Just("?"), Just("#"), Just(" "), Just("a"), Just("é"), Just(";"),
                Just("\u{7f}"), Just("\t"),
            ],
            0..6,
        ).prop_map(|parts| parts.concat())
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let server = recorder().await;
            let client = server.client().build().unwrap();
            check(&server, &client, &value).await;
        });
    }
}

/// Against the sandbox: the data-loss case of the bug, end to end.
#[tokio::test]
async fn a_tag_of_dot_dot_leaves_the_contact_alone() {
    let sandbox = ayra_sandbox::Sandbox::start().await;
    let client = ayra::Client::builder()
        .api_key(sandbox.api_key())
        .base_url(sandbox.base_url())
        .build()
        .unwrap();
    let contact = client
        .create_contact()
        .body_map(|b| b.first_name("Ada").phone("+33612345678"))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    for tag in ["..", ".", "a\\..\\..", "../..", "%2e%2e"] {
        let outcome = client
            .remove_contact_tag()
            .contact_id(&contact.id)
            .tag(tag)
            .send()
            .await;
        if matches!(tag, "." | "..") {
            assert!(
                matches!(outcome, Err(ayra::Error::InvalidRequest(_))),
                "{tag:?}: {outcome:?}"
            );
        }
        let still = client.get_contact().contact_id(&contact.id).send().await;
        assert!(
            still.is_ok(),
            "the contact is gone after removing tag {tag:?}"
        );
    }
}
