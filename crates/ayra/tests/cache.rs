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
