//! The sandbox's clock: started at a chosen instant, moved forward by
//! `Sandbox::advance` or `POST /v1/_sandbox/clock/advance`, and followed by
//! everything the sandbox dates or schedules.

mod common;

use std::time::Duration;

use ayra_sandbox::{Sandbox, TEST_API_KEY};
use chrono::{DateTime, Utc};
use common::{Env, assert_list};
use futures::StreamExt;
use serde_json::json;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn time(v: &serde_json::Value) -> DateTime<Utc> {
    at(v.as_str().unwrap_or_else(|| panic!("a time: {v}")))
}

#[tokio::test]
async fn a_sandbox_started_at_an_instant_dates_everything_from_it() {
    let start = at("2027-03-28T00:59:00Z");
    let env = Env::with(Sandbox::builder().now(start).seed_demo_data(3)).await;
    let close_to_start = |t: DateTime<Utc>| t >= start && t - start < chrono::Duration::minutes(5);
    let r = env
        .post(
            "/contacts",
            &json!({"first_name": "Clo", "email": "clo@example.com"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert!(close_to_start(time(&r.data()["created_at"])), "{}", r.json);
    assert!(close_to_start(time(&r.json["meta"]["timestamp"])));
    assert!(close_to_start(env.sb.now()));
    // The demo data lies in the 90 days before the clock.
    let convs = assert_list(&env.get("/conversations?per_page=100").await);
    assert!(!convs.is_empty());
    for c in &convs {
        let t = time(&c["started_at"]);
        assert!(
            t <= env.sb.now() && start - t < chrono::Duration::days(91),
            "{c}"
        );
    }
}

#[tokio::test]
async fn advancing_the_clock_over_http_finishes_jobs() {
    // Hour-long jobs: only the clock can finish them within the test.
    let env = Env::with(Sandbox::builder().job_duration(Duration::from_secs(3600))).await;
    let f = env.sb.fixtures();
    let run = env
        .post(
            &format!("/workflows/{}/trigger", f.workflow_active),
            &json!({"input": {}}),
        )
        .await;
    assert_eq!(run.status, 202, "{}", run.json);
    let path = format!(
        "/workflow-executions/{}",
        run.data()["id"].as_str().unwrap()
    );
    assert_eq!(env.get(&path).await.data()["status"], "queued");
    // Over HTTP, the sandbox-only route.
    let before = env.sb.now();
    let moved = env
        .post("/_sandbox/clock/advance", &json!({"seconds": 7200}))
        .await;
    assert_eq!(moved.status, 200, "{}", moved.json);
    let now = time(&moved.data()["now"]);
    // (`now` is in whole seconds.)
    assert!(now - before > chrono::Duration::hours(2) - chrono::Duration::seconds(1));
    assert!(time(&env.get("/_sandbox/clock").await.data()["now"]) >= now);
    let done = env.get(&path).await;
    assert_eq!(done.data()["status"], "succeeded");
    assert!(time(&done.data()["finished_at"]) <= now);
    // A bad request and a read-only key are refused.
    env.post("/_sandbox/clock/advance", &json!({"seconds": -1}))
        .await
        .assert_error(400, "invalid_field", Some("seconds"));
    env.post("/_sandbox/clock/advance", &json!({}))
        .await
        .assert_error(400, "missing_required_field", Some("seconds"));
    let ro = env
        .send(
            reqwest::Method::POST,
            "/_sandbox/clock/advance",
            Some(&json!({"seconds": 1})),
            &[],
            Some(ayra_sandbox::READ_ONLY_API_KEY),
        )
        .await;
    assert_eq!(ro.status, 403);
}

#[tokio::test]
async fn a_live_conversation_plays_on_when_the_clock_advances() {
    // One step of the call every 20 minutes: hours in real time.
    let env = Env::with(Sandbox::builder().job_duration(Duration::from_secs(3600))).await;
    let f = env.sb.fixtures();
    let url = format!(
        "{}/conversations/{}/events",
        env.base, f.conversation_in_progress
    );
    let response = common::client()
        .get(&url)
        .bearer_auth(TEST_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let reader = tokio::spawn(async move {
        let mut text = String::new();
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        }
        text
    });
    for _ in 0..20 {
        env.sb.advance(Duration::from_secs(3600));
        tokio::time::sleep(Duration::from_millis(20)).await;
        if reader.is_finished() {
            break;
        }
    }
    let text = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .expect("the stream ended")
        .unwrap();
    assert!(text.contains("event: ended"), "{text}");
    let c = env
        .get(&format!("/conversations/{}", f.conversation_in_progress))
        .await;
    assert_eq!(c.data()["status"], "completed");
    assert!(time(&c.data()["ended_at"]) <= env.sb.now());
}
