//! The opt-in cache serves reference data and agent configurations (reads
//! the spec marks `x-ayra-cache`) until their time-to-live, and a write by
//! this client drops what it changed.

mod support;
use std::time::Duration;
use support::{Reply, Server, agent, ok};

fn api() -> impl Fn(&support::Recorded, usize) -> Reply + Send + Sync + 'static {
    |r, i| match (r.method.as_str(), r.target.split('?').next().unwrap_or("")) {
        ("GET", "/v1/voices") => {
            let body = serde_json::json!({
                "data": [{"id": "voice_ava", "name": "Ava", "language": "en-US", "gender": "female",
                          "preview_url": "https://cdn.ayra.ai/v.mp3"}],
                "meta": {"total": 1, "page": 1, "per_page": 25, "total_pages": 1,
                         "request_id": format!("req_test_{i}"), "timestamp": "2025-01-15T10:30:00Z"},
                "links": {"first": "https://x/v1/voices?page=1", "last": "https://x/v1/voices?page=1", "prev": null, "next": null}
            });
            Reply::Json(200, body.to_string())
        }
        ("GET", _) => Reply::Json(200, ok(agent("agt_1", "active"), i)),
        _ => Reply::Json(200, ok(agent("agt_1", "disabled"), i)),
    }
}

#[tokio::test]
async fn cached_reads_are_served_locally_until_the_ttl() {
    let server = Server::start(api()).await;
    let client = server
        .client()
        .cache_reference_data(Duration::from_secs(1))
        .build()
        .unwrap();
    for _ in 0..3 {
        let voices = client.list_voices().send().await.unwrap();
        assert_eq!(voices.data[0].id, "voice_ava");
    }
    assert_eq!(server.count(), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    client.list_voices().send().await.unwrap();
    assert_eq!(server.count(), 2, "expired entries are fetched again");
}

#[tokio::test]
async fn a_write_drops_the_cached_agent_and_nothing_else() {
    let server = Server::start(api()).await;
    let client = server
        .client()
        .cache_reference_data(Duration::from_secs(60))
        .build()
        .unwrap();
    client.get_agent().agent_id("agt_1").send().await.unwrap();
    client.list_voices().send().await.unwrap();
    client.get_agent().agent_id("agt_1").send().await.unwrap();
    assert_eq!(server.count(), 2);
    client
        .disable_agent()
        .agent_id("agt_1")
        .send()
        .await
        .unwrap();
    let after = client.get_agent().agent_id("agt_1").send().await.unwrap();
    assert_eq!(
        server.count(),
        4,
        "the agent was fetched again after the write"
    );
    assert_eq!(
        after.data.status,
        ayra::types::AgentStatus::Active,
        "from the server, not the cache"
    );
    client.list_voices().send().await.unwrap();
    assert_eq!(server.count(), 4, "voices stayed cached");
}

#[tokio::test]
async fn without_the_option_nothing_is_cached() {
    let server = Server::start(api()).await;
    let client = server.client().build().unwrap();
    client.list_voices().send().await.unwrap();
    client.list_voices().send().await.unwrap();
    assert_eq!(server.count(), 2);
}

/// A hit is not a response the server sent: no request id, and it says so.
#[tokio::test]
async fn a_hit_is_recognisable_and_carries_no_request_id() {
    use ayra::ResponseExt;
    let server = Server::start(api()).await;
    let client = server
        .client()
        .cache_reference_data(Duration::from_secs(60))
        .build()
        .unwrap();
    let fresh = client.list_voices().send().await.unwrap();
    assert!(!fresh.is_cached());
    assert_eq!(fresh.request_id(), Some("req_test_0"));
    let hit = client.list_voices().send().await.unwrap();
    assert!(hit.is_cached());
    assert_eq!(hit.request_id(), None, "no request was made");
    assert_eq!(hit.data, fresh.data);
}

/// The cache keeps a bounded number of responses; the oldest goes first.
#[tokio::test]
async fn the_cache_is_bounded() {
    let server = Server::start(api()).await;
    let client = server
        .client()
        .cache_reference_data(Duration::from_secs(60))
        .build()
        .unwrap();
    // 300 distinct agents, more than the cache holds.
    for n in 0..300 {
        let id = format!("agt_{n}");
        client.get_agent().agent_id(id).send().await.unwrap();
    }
    assert_eq!(server.count(), 300);
    client.get_agent().agent_id("agt_299").send().await.unwrap();
    assert_eq!(server.count(), 300, "the newest is still cached");
    client.get_agent().agent_id("agt_0").send().await.unwrap();
    assert_eq!(server.count(), 301, "the oldest was evicted");
}

/// A read in flight while this client writes must not store what it saw:
/// it may predate the write.
#[tokio::test]
async fn a_read_racing_a_write_is_not_cached() {
    let server = Server::start(|r, i| {
        let slow = r.method == "GET" && i == 0;
        let reply = api()(r, i);
        if slow {
            Reply::Late(Duration::from_secs(1), Box::new(reply))
        } else {
            reply
        }
    })
    .await;
    let client = server
        .client()
        .cache_reference_data(Duration::from_secs(60))
        .build()
        .unwrap();
    let reader = client.clone();
    let read = tokio::spawn(async move { reader.get_agent().agent_id("agt_1").send().await });
    server.received(1).await;
    client
        .disable_agent()
        .agent_id("agt_1")
        .send()
        .await
        .unwrap();
    read.await.unwrap().unwrap();
    client.get_agent().agent_id("agt_1").send().await.unwrap();
    assert_eq!(
        server.count(),
        3,
        "the racing read was not served from the cache"
    );
}

/// A write that failed may still have been applied: what it touches is
/// dropped all the same, including a read cached while it was in flight.
#[tokio::test]
async fn a_failed_write_still_drops_what_it_touches() {
    let server = Server::start(|r, i| match r.method.as_str() {
        "POST" => Reply::Late(
            Duration::from_secs(1),
            Box::new(Reply::Json(
                500,
                support::error("api_error", "internal_error", None, i),
            )),
        ),
        _ => api()(r, i),
    })
    .await;
    let client = server
        .client()
        .retry(ayra::RetryPolicy::none())
        .cache_reference_data(Duration::from_secs(60))
        .build()
        .unwrap();
    let writer = client.clone();
    let write = tokio::spawn(async move { writer.disable_agent().agent_id("agt_1").send().await });
    server.received(1).await;
    // Read while the write is in flight: cached, as far as this read knows.
    client.get_agent().agent_id("agt_1").send().await.unwrap();
    let err = write.await.unwrap().unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    let after = client.get_agent().agent_id("agt_1").send().await.unwrap();
    use ayra::ResponseExt;
    assert!(!after.is_cached(), "fetched again after the failed write");
    assert_eq!(server.count(), 3);
}
