//! Waiting for a job: the deadline bounds everything, a stalled poll and
//! its retries included, and any duration is accepted.

mod support;
use std::time::Duration;
use support::{Reply, Server, ok};

fn report(status: &str) -> serde_json::Value {
    serde_json::json!({
        "id": "rpt_1", "status": status, "type": "conversation_summary",
        "created_at": "2026-01-05T10:00:00Z", "finished_at": null, "result": null, "error": null,
        "parameters": {"start": "2026-01-01T00:00:00Z", "end": "2026-01-05T00:00:00Z"}
    })
}

#[tokio::test]
async fn a_stalled_poll_does_not_outlast_the_deadline() {
    // The first poll says "running"; every later one stalls for 30 s.
    let server = Server::start(|_, i| {
        let reply = Reply::Json(200, ok(report("running"), i));
        if i == 0 {
            reply
        } else {
            Reply::Late(Duration::from_secs(30), Box::new(reply))
        }
    })
    .await;
    let client = server.client().build().unwrap();
    // Bounded well below the 30 s stall, so only the deadline ends the wait.
    let wait = client.wait_for_report("rpt_1", Duration::from_millis(500));
    let err = tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .expect("the deadline, not the stalled poll, ends the wait")
        .unwrap_err();
    assert!(matches!(err, ayra::Error::Deadline { .. }), "{err:?}");
    assert!(err.to_string().contains("running"), "{err}");
}

#[tokio::test]
async fn any_duration_is_a_valid_deadline() {
    let server = Server::start(|_, i| Reply::Json(200, ok(report("succeeded"), i))).await;
    let client = server.client().build().unwrap();
    for timeout in [Duration::MAX, Duration::from_secs(u64::MAX / 2)] {
        let done = client.wait_for_report("rpt_1", timeout).await.unwrap();
        assert_eq!(done.status, ayra::types::JobStatus::Succeeded);
    }
    // Zero leaves no time for a poll: an error, not a panic.
    let err = client
        .wait_for_report("rpt_1", Duration::ZERO)
        .await
        .unwrap_err();
    assert!(matches!(err, ayra::Error::Deadline { .. }), "{err:?}");
}
