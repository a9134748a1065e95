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
    // Uncapped, the first wait alone would be a day.
    let err = tokio::time::timeout(Duration::from_secs(60), support::get_agent_error(&client))
        .await
        .expect("the capped waits end the call");
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

/// The call's timeout also bounds the body: a body that stops halfway is a
/// timeout that names the response's request id, and is retried.
#[tokio::test]
async fn a_body_that_stalls_times_out_and_is_retried() {
    let stall = |i| Reply::Stall(Duration::from_secs(2), 200, ok(agent("agt_1", "active"), i));
    let server = Server::start(move |_, i| stall(i)).await;
    let client = server
        .client()
        .timeout(Duration::from_millis(100))
        .retry(support::retries(1))
        .build()
        .unwrap();
    let err = support::get_agent_error(&client).await;
    let ayra::Error::Timeout { waiting_for, .. } = &err else {
        panic!("expected a timeout: {err:?}");
    };
    assert_eq!(*waiting_for, "the rest of the body");
    assert_eq!(err.request_id(), Some("req_test_1"));
    assert_eq!(server.count(), 2);

    let server = Server::start(move |_, i| if i == 0 { stall(i) } else { get_agent_ok(i) }).await;
    let client = server
        .client()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    client.get_agent().agent_id("agt_1").send().await.unwrap();
    assert_eq!(server.count(), 2);
}

/// `Retry-After` as an HTTP-date (RFC 9110): the next attempt does not come
/// before that date.
#[tokio::test]
async fn a_retry_after_date_is_waited_for() {
    use std::sync::{Arc, Mutex};
    use std::time::SystemTime;
    let date = Arc::new(Mutex::new(String::new()));
    let retried_at: Arc<Mutex<Option<SystemTime>>> = Arc::default();
    let (d, at) = (date.clone(), retried_at.clone());
    let server = Server::start(move |_, i| {
        if i == 0 {
            // Two seconds ahead, in whole seconds as the format has it.
            let when = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
            *d.lock().unwrap() = when.clone();
            Reply::With(
                429,
                vec![("retry-after", when)],
                error("rate_limited", "rate_limit_exceeded", None, i),
            )
        } else {
            *at.lock().unwrap() = Some(SystemTime::now());
            get_agent_ok(i)
        }
    })
    .await;
    let client = server.client().build().unwrap();
    client.get_agent().agent_id("agt_1").send().await.unwrap();
    let promised = httpdate::parse_http_date(&date.lock().unwrap()).unwrap();
    let retried = retried_at.lock().unwrap().expect("a second attempt");
    assert!(
        retried >= promised,
        "retried {:?} before the date",
        promised.duration_since(retried).unwrap_or_default()
    );
}

/// A DELETE whose first attempt was applied but whose response was lost:
/// the retry's 404 means "deleted", not "never existed".
#[tokio::test]
async fn a_404_on_a_retried_delete_counts_as_deleted() {
    let server = Server::start(|_, i| match i {
        0 => Reply::Drop,
        _ => Reply::Json(404, error("not_found", "contact_not_found", None, i)),
    })
    .await;
    let client = server.client().build().unwrap();
    let deleted = client
        .delete_contact()
        .contact_id("con_1")
        .send()
        .await
        .expect("deleted by the first attempt");
    assert_eq!(deleted.status().as_u16(), 404);
    assert_eq!(server.count(), 2);

    // Without an earlier attempt that may have been applied, 404 is 404.
    let server =
        Server::start(|_, i| Reply::Json(404, error("not_found", "contact_not_found", None, i)))
            .await;
    let client = server.client().build().unwrap();
    let err = client
        .delete_contact()
        .contact_id("con_1")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    // A 429 first is refused before any work: the 404 after it is real.
    let server = Server::start(|_, i| match i {
        0 => Reply::With(
            429,
            vec![("retry-after", "0".into())],
            error("rate_limited", "rate_limit_exceeded", None, i),
        ),
        _ => Reply::Json(404, error("not_found", "contact_not_found", None, i)),
    })
    .await;
    let client = server.client().build().unwrap();
    let err = client
        .delete_contact()
        .contact_id("con_1")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

/// A body cut short after the response started: the error keeps the
/// request id of the response, and says how many attempts were made.
#[tokio::test]
async fn a_body_cut_short_keeps_its_request_id_and_counts_attempts() {
    let server = Server::start(|_, i| Reply::Truncate(200, ok(agent("agt_1", "active"), i))).await;
    let client = server.client().retry(support::retries(2)).build().unwrap();
    let err = support::get_agent_error(&client).await;
    assert!(matches!(err, ayra::Error::Transport { .. }), "{err:?}");
    assert_eq!(err.request_id(), Some("req_test_2"));
    assert_eq!(err.attempts(), 3);
    let text = err.to_string();
    assert!(text.contains("3 attempts"), "{text}");
    assert_eq!(text.lines().count(), 1);
}
