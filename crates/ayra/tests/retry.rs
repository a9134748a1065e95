//! Transient failures are retried with backoff, within limits; the rest are not.

mod support;
use std::time::{Duration, Instant};
use support::{Reply, Server, agent, error, ok};

fn get_agent_ok(i: usize) -> Reply {
    Reply::Json(200, ok(agent("agt_1", "active"), i))
}

#[tokio::test]
async fn a_503_is_retried_until_it_succeeds() {
    let server = Server::start(|_, i| {
        if i < 2 {
            Reply::Json(
                503,
                error("service_unavailable", "service_unavailable", None, i),
            )
        } else {
            get_agent_ok(i)
        }
    })
    .await;
    let client = server.client().build().unwrap();
    let agent = client.get_agent().agent_id("agt_1").send().await.unwrap();
    assert_eq!(agent.data.id, "agt_1");
    assert_eq!(server.count(), 3, "two retries, then success");
}

#[tokio::test]
async fn retries_stop_at_the_configured_maximum() {
    let server =
        Server::start(|_, i| Reply::Json(500, error("api_error", "internal_error", None, i))).await;
    let client = server.client().retry(support::retries(3)).build().unwrap();
    let err = support::get_agent_error(&client).await;
    assert_eq!(server.count(), 4, "one attempt and three retries");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(
        err.request_id(),
        Some("req_test_3"),
        "the last attempt's id"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn every_transient_status_is_retried_and_no_other() {
    for (status, retried) in [
        (429, true),
        (500, true),
        (502, true),
        (503, true),
        (504, true),
        (400, false),
        (401, false),
        (403, false),
        (404, false),
        (409, false),
        (422, false),
    ] {
        let server = Server::start(move |_, i| Reply::Json(status, error("x", "y", None, i))).await;
        let client = server.client().build().unwrap();
        let err = support::get_agent_error(&client).await;
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(
            server.count(),
            if retried { 3 } else { 1 },
            "status {status}"
        );
    }
}

#[tokio::test]
async fn retries_can_be_turned_off_per_client_and_per_call() {
    let server =
        Server::start(|_, i| Reply::Json(503, error("service_unavailable", "s", None, i))).await;
    let client = server
        .client()
        .retry(ayra::RetryPolicy::none())
        .build()
        .unwrap();
    support::get_agent_error(&client).await;
    assert_eq!(server.count(), 1);

    let client = server.client().build().unwrap();
    client
        .with_options(|o| o.retry(ayra::RetryPolicy::none()))
        .get_agent()
        .agent_id("agt_1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(server.count(), 2, "the per-call policy made one attempt");
    support::get_agent_error(&client).await;
    assert_eq!(server.count(), 5, "the client's own policy is unchanged");
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = Server::start(|_, i| {
        if i == 0 {
            Reply::With(
                429,
                vec![("retry-after", "1".into())],
                error("rate_limit_exceeded", "rate_limit_exceeded", None, i),
            )
        } else {
            get_agent_ok(i)
        }
    })
    .await;
    let client = server.client().build().unwrap();
    let started = Instant::now();
    client.get_agent().agent_id("agt_1").send().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn retry_after_is_capped() {
    let server = Server::start(|_, i| {
        Reply::With(
            429,
            vec![("retry-after", "86400".into())],
            error("rate_limit_exceeded", "rate_limit_exceeded", None, i),
        )
    })
    .await;
    let client = server
        .client()
        .retry(ayra::RetryPolicy::default().max_retry_after(Duration::from_millis(20)))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = support::get_agent_error(&client).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(err.is_rate_limited());
    assert_eq!(
        err.retry_after(),
        Some(Duration::from_secs(86400)),
        "the server's value is reported"
    );
}

#[tokio::test]
async fn a_dropped_connection_is_retried() {
    let server = Server::start(|_, i| if i == 0 { Reply::Drop } else { get_agent_ok(i) }).await;
    let client = server.client().build().unwrap();
    client.get_agent().agent_id("agt_1").send().await.unwrap();
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn a_truncated_body_is_retried() {
    let server = Server::start(|_, i| {
        if i == 0 {
            Reply::Truncate(200, ok(agent("agt_1", "active"), i))
        } else {
            get_agent_ok(i)
        }
    })
    .await;
    let client = server.client().build().unwrap();
    client.get_agent().agent_id("agt_1").send().await.unwrap();
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn a_slow_reply_times_out_and_is_retried_then_reported() {
    let server =
        Server::start(|_, i| Reply::Late(Duration::from_millis(400), Box::new(get_agent_ok(i))))
            .await;
    let client = server
        .client()
        .timeout(Duration::from_millis(50))
        .retry(support::retries(1))
        .build()
        .unwrap();
    let err = support::get_agent_error(&client).await;
    assert!(matches!(err, ayra::Error::Timeout { .. }), "{err:?}");
    assert_eq!(server.count(), 2);
    // A longer timeout for one call lets it through.
    client
        .with_options(|o| o.timeout(Duration::from_secs(5)))
        .get_agent()
        .agent_id("agt_1")
        .send()
        .await
        .unwrap();
}
