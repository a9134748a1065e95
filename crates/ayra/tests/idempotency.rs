//! Every POST and PATCH carries one `Idempotency-Key` per logical call, the
//! same on each retry; the caller's own key wins.

mod support;
use support::{Reply, Server, agent, error, ok};

fn flaky_then_ok(i: usize) -> Reply {
    match i % 3 {
        0 => Reply::Json(503, error("service_unavailable", "s", None, i)),
        1 => Reply::Drop,
        _ => Reply::Json(201, ok(agent("agt_1", "active"), i)),
    }
}

#[tokio::test]
async fn retries_of_one_create_share_one_key_and_calls_do_not() {
    let server = Server::start(|_, i| flaky_then_ok(i)).await;
    let client = server.client().build().unwrap();
    for _ in 0..2 {
        client
            .create_agent()
            .body_map(|b| b.name("A").voice_id("voice_ava").prompt("Hi"))
            .send()
            .await
            .unwrap();
    }
    let keys: Vec<String> = server
        .recorded()
        .iter()
        .map(|r| {
            r.header("idempotency-key")
                .expect("a write carries a key")
                .to_string()
        })
        .collect();
    assert_eq!(keys.len(), 6);
    assert!(keys[0..3].iter().all(|k| *k == keys[0]), "{keys:?}");
    assert!(keys[3..6].iter().all(|k| *k == keys[3]), "{keys:?}");
    assert_ne!(keys[0], keys[3], "each logical call gets a fresh key");
    assert_eq!(
        uuid::Uuid::parse_str(&keys[0]).unwrap().get_version_num(),
        4
    );
}

#[tokio::test]
async fn the_callers_key_is_sent_and_reads_carry_none() {
    let server = Server::start(|r, i| {
        if r.method == "GET" {
            Reply::Json(200, ok(agent("agt_1", "active"), i))
        } else {
            Reply::Json(200, ok(agent("agt_1", "disabled"), i))
        }
    })
    .await;
    let client = server.client().build().unwrap();
    client
        .update_agent()
        .agent_id("agt_1")
        .idempotency_key("my-key-1")
        .body_map(|b| b.name("B"))
        .send()
        .await
        .unwrap();
    client.get_agent().agent_id("agt_1").send().await.unwrap();
    let recorded = server.recorded();
    assert_eq!(recorded[0].method, "PATCH");
    assert_eq!(recorded[0].header("idempotency-key"), Some("my-key-1"));
    assert_eq!(recorded[1].header("idempotency-key"), None);
}

/// Against the sandbox, which counts the writes it applies: the response to a
/// create is lost after the write was applied, the SDK retries with the same
/// key, and the sandbox replays instead of creating a second contact.
#[tokio::test]
async fn a_retried_create_whose_response_was_lost_is_applied_once() {
    let sandbox = ayra_sandbox::Sandbox::start().await;
    let mut faults = reqwest::header::HeaderMap::new();
    faults.insert("x-sandbox-fault", "drop".parse().unwrap());
    faults.insert("x-sandbox-fault-times", "1".parse().unwrap());
    let http = reqwest::Client::builder()
        .default_headers(faults)
        .build()
        .unwrap();
    let client = ayra::Client::builder()
        .api_key(sandbox.api_key())
        .base_url(sandbox.base_url())
        .http_client(http)
        .build()
        .unwrap();
    let before = sandbox.count(ayra_sandbox::Resource::Contacts);
    let created = client
        .create_contact()
        .body_map(|b| b.first_name("Once").email("once@example.com"))
        .send()
        .await
        .unwrap();
    let stats = sandbox.stats();
    assert_eq!(stats.faults.dropped, 1, "the first response was lost");
    assert_eq!(stats.idempotent_replays, 1, "the retry was replayed");
    assert_eq!(sandbox.count(ayra_sandbox::Resource::Contacts), before + 1);
    assert_eq!(created.data.first_name, "Once");
}

/// A client of `sandbox` whose requests ask it to apply, then drop the
/// response of, the first `times` requests with one key (or, without a key,
/// to one method and path); retried twice.
fn dropping_client(sandbox: &ayra_sandbox::Sandbox, times: &'static str) -> ayra::Client {
    use reqwest::header::{HeaderMap, HeaderValue};
    let mut faults = HeaderMap::new();
    faults.insert("x-sandbox-fault", HeaderValue::from_static("drop"));
    faults.insert("x-sandbox-fault-times", HeaderValue::from_static(times));
    let http = reqwest::Client::builder()
        .default_headers(faults)
        .build()
        .unwrap();
    ayra::Client::builder()
        .api_key(sandbox.api_key())
        .base_url(sandbox.base_url())
        .http_client(http)
        .retry(support::retries(2))
        .build()
        .unwrap()
}

/// A client of `sandbox` without faults.
fn plain_client(sandbox: &ayra_sandbox::Sandbox) -> ayra::Client {
    ayra::Client::builder()
        .api_key(sandbox.api_key())
        .base_url(sandbox.base_url())
        .build()
        .unwrap()
}

/// Every attempt of a create was applied by the sandbox and its response
/// lost: the error carries the key, and resending under it returns the
/// contact created by the first attempt instead of a second one.
#[tokio::test]
async fn a_failed_write_is_resent_under_its_key_without_a_duplicate() {
    let sandbox = ayra_sandbox::Sandbox::start().await;
    // The sandbox drops the response of the first 3 requests with one key,
    // after applying them.
    let client = dropping_client(&sandbox, "3");
    let create = |key: Option<&str>| {
        let call = client
            .create_contact()
            .body_map(|b| b.first_name("Resent").phone("+33600000042"));
        match key {
            Some(key) => call.idempotency_key(key),
            None => call,
        }
    };
    let err = create(None).send().await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.attempts(), 3);
    let key = err.idempotency_key().expect("the key the attempts carried");
    assert!(err.to_string().contains("3 attempts"), "{err}");

    let first = create(Some(key)).send().await.unwrap();
    let again = create(Some(key)).send().await.unwrap();
    assert_eq!(first.data.id, again.data.id);
    let plain = plain_client(&sandbox);
    let named: Vec<_> = plain
        .list_contacts()
        .q("Resent")
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(
        named.len(),
        1,
        "one contact, not one per attempt: {named:?}"
    );
}

/// Through the sandbox: a DELETE applied, its response dropped, retried.
#[tokio::test]
async fn a_delete_whose_response_was_lost_succeeds() {
    let sandbox = ayra_sandbox::Sandbox::start().await;
    let plain = plain_client(&sandbox);
    let contact = plain
        .create_contact()
        .body_map(|b| b.first_name("Gone").phone("+33600000043"))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    let client = dropping_client(&sandbox, "1");
    client
        .delete_contact()
        .contact_id(&contact.id)
        .send()
        .await
        .expect("the first attempt deleted it");
    let err = plain
        .get_contact()
        .contact_id(&contact.id)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_not_found());
}
