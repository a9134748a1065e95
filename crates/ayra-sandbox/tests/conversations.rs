//! Conversations: details, transcripts, recordings, event streams and analytics.

mod common;

use std::time::Duration;

use ayra_sandbox::TEST_API_KEY;
use common::{Env, assert_list};
use futures::StreamExt;
use serde_json::Value;

/// Reads an SSE stream to its end (bounded): returns the parsed events and comment lines.
async fn read_sse(env: &Env, path: &str) -> (String, Vec<(String, String, Value)>, usize) {
    read_sse_after(env, path, None).await
}

/// `read_sse` with a `Last-Event-ID`.
async fn read_sse_after(
    env: &Env,
    path: &str,
    last_event_id: Option<&str>,
) -> (String, Vec<(String, String, Value)>, usize) {
    let mut request = env
        .http
        .get(env.url(path))
        .header("authorization", format!("Bearer {TEST_API_KEY}"));
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    let r = request.send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let rid = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let mut body = String::new();
    let mut stream = r.bytes_stream();
    let read = async {
        while let Some(chunk) = stream.next().await {
            body.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("stream ended");
    let mut events = Vec::new();
    let mut comments = 0;
    for block in body.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let (mut id, mut kind, mut data) = (String::new(), String::new(), Value::Null);
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("id: ") {
                id = v.to_string();
            } else if let Some(v) = line.strip_prefix("event: ") {
                kind = v.to_string();
            } else if let Some(v) = line.strip_prefix("data: ") {
                data = serde_json::from_str(v).unwrap();
            } else if line.starts_with(':') {
                comments += 1;
            }
        }
        if !kind.is_empty() {
            assert_eq!(data["id"], id.as_str());
            assert_eq!(data["type"], kind.as_str());
            events.push((id, kind, data));
        }
    }
    (rid, events, comments)
}

#[tokio::test]
async fn details_transcript_and_recording() {
    let env = Env::new().await;
    let f = env.sb.fixtures();
    let c = env
        .get(&format!("/conversations/{}", f.conversation_completed))
        .await;
    assert_eq!(c.status, 200);
    assert_eq!(c.data()["status"], "completed");
    assert_eq!(c.data()["outcome"], "appointment_booked");
    assert_eq!(c.data()["has_recording"], true);
    let live = env
        .get(&format!("/conversations/{}", f.conversation_in_progress))
        .await;
    assert_eq!(
        live.data().get("outcome"),
        Some(&serde_json::Value::Null),
        "present and null while in progress"
    );
    assert!(live.data()["ended_at"].is_null() && live.data()["duration_seconds"].is_null());
    let t = env
        .get(&format!(
            "/conversations/{}/transcript",
            f.conversation_completed
        ))
        .await;
    let segs = t.data()["segments"].as_array().unwrap();
    assert!(segs.len() >= 4);
    assert!(
        segs.windows(2)
            .all(|w| w[0]["start_ms"].as_i64() <= w[1]["start_ms"].as_i64())
    );
    assert!(
        segs.iter()
            .all(|s| s["end_ms"].as_i64() >= s["start_ms"].as_i64())
    );
    let q = env
        .get(&format!(
            "/conversations/{}/transcript",
            f.conversation_queued
        ))
        .await;
    assert_eq!(q.data()["segments"], serde_json::json!([]));
    // Recording: MPEG-1 Layer III frames.
    let rec = env
        .get(&format!(
            "/conversations/{}/recording",
            f.conversation_completed
        ))
        .await;
    assert_eq!(rec.status, 200);
    assert_eq!(rec.header("content-type"), Some("audio/mpeg"));
    assert!(rec.bytes.len() > 1000);
    assert_eq!(rec.bytes[0], 0xFF);
    assert_eq!(rec.bytes[1] & 0xFE, 0xFA, "MPEG-1 Layer III sync");
    assert!(rec.request_id().starts_with("req_"));
    for id in [
        f.conversation_no_recording,
        f.conversation_in_progress,
        f.conversation_failed,
    ] {
        env.get(&format!("/conversations/{id}/recording"))
            .await
            .assert_error(404, "recording_not_available", Some("conversation_id"));
    }
    env.get("/conversations/conv_nope").await.assert_error(
        404,
        "resource_not_found",
        Some("conversation_id"),
    );
}

#[tokio::test]
async fn list_filters() {
    let env = Env::with(ayra_sandbox::Sandbox::builder().seed_demo_data(9)).await;
    let f = env.sb.fixtures();
    let r = env
        .get("/conversations?per_page=100&status=completed&direction=outbound")
        .await;
    let items = assert_list(&r);
    assert!(items.len() > 10);
    assert!(
        items
            .iter()
            .all(|c| c["status"] == "completed" && c["direction"] == "outbound")
    );
    let started: Vec<&str> = items
        .iter()
        .map(|c| c["started_at"].as_str().unwrap())
        .collect();
    let mut sorted = started.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(started, sorted, "most recently started first");
    let by_contact = assert_list(
        &env.get(&format!("/conversations?contact_id={}", f.contact))
            .await,
    );
    assert!(!by_contact.is_empty());
    assert!(by_contact.iter().all(|c| c["contact_id"] == f.contact));
    let live = assert_list(&env.get("/conversations?status=in_progress").await);
    assert!(live.len() >= 2);
    let t = "2026-11-01T00:00:00Z";
    let all = env.get("/conversations?per_page=1").await.json["meta"]["total"]
        .as_u64()
        .unwrap();
    assert!(all >= 3000);
    let a = env
        .get(&format!("/conversations?started_after={t}&per_page=1"))
        .await
        .json["meta"]["total"]
        .as_u64()
        .unwrap();
    let b = env
        .get(&format!("/conversations?started_before={t}&per_page=1"))
        .await
        .json["meta"]["total"]
        .as_u64()
        .unwrap();
    assert_eq!(a + b, all);
}

#[tokio::test]
async fn completed_stream_is_a_replay_that_ends() {
    let env = Env::new().await;
    let f = env.sb.fixtures();
    let (rid, events, _) = read_sse(
        &env,
        &format!("/conversations/{}/events", f.conversation_completed),
    )
    .await;
    assert!(rid.starts_with("req_"));
    let kinds: Vec<&str> = events.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(kinds.first(), Some(&"started"));
    assert_eq!(kinds.last(), Some(&"ended"));
    assert_eq!(
        kinds.iter().filter(|k| **k == "transcript_segment").count(),
        6
    );
    assert!(kinds.contains(&"agent_action"));
    let ended = &events.last().unwrap().2;
    assert_eq!(ended["payload"]["status"], "completed");
    assert_eq!(ended["payload"]["outcome"], "appointment_booked");
    assert_eq!(ended["payload"]["duration_seconds"], 275);
    // Ids are stable across connections.
    let (_, again, _) = read_sse(
        &env,
        &format!("/conversations/{}/events", f.conversation_completed),
    )
    .await;
    let ids: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    let ids2: Vec<&str> = again.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(ids, ids2);
    let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len());
}

#[tokio::test]
async fn a_stream_resumes_after_its_last_event_id() {
    let env = Env::new().await;
    let path = format!(
        "/conversations/{}/events",
        env.sb.fixtures().conversation_completed
    );
    let (_, all, _) = read_sse(&env, &path).await;
    assert!(all.len() > 3);
    let ids = |events: &[(String, String, Value)]| -> Vec<String> {
        events.iter().map(|e| e.0.clone()).collect()
    };
    let (_, rest, _) = read_sse_after(&env, &path, Some(&all[1].0)).await;
    assert_eq!(ids(&rest), ids(&all[2..]), "the events after the id");
    let (_, none, _) = read_sse_after(&env, &path, Some(&all.last().unwrap().0)).await;
    assert!(none.is_empty(), "nothing after `ended`");
    let (_, replay, _) = read_sse_after(&env, &path, Some("evt_unknown")).await;
    assert_eq!(ids(&replay), ids(&all), "an unknown id replays everything");
    // The spec bounds the header at 64 characters.
    let too_long = env
        .http
        .get(env.url(&path))
        .header("authorization", format!("Bearer {TEST_API_KEY}"))
        .header("last-event-id", "e".repeat(65))
        .send()
        .await
        .unwrap();
    assert_eq!(too_long.status(), 400);
}

#[tokio::test]
async fn live_stream_plays_the_call_and_ends_it() {
    let env =
        Env::with(ayra_sandbox::Sandbox::builder().job_duration(Duration::from_millis(60))).await;
    let f = env.sb.fixtures();
    let path = format!("/conversations/{}/events", f.conversation_in_progress);
    let (_, events, _) = read_sse(&env, &path).await;
    let kinds: Vec<&str> = events.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(kinds.first(), Some(&"started"));
    assert_eq!(kinds.last(), Some(&"ended"));
    assert_eq!(
        kinds.iter().filter(|k| **k == "transcript_segment").count(),
        6,
        "2 replayed + 4 live"
    );
    // The conversation is now over, with a recording and metrics.
    let c = env
        .get(&format!("/conversations/{}", f.conversation_in_progress))
        .await;
    assert_eq!(c.data()["status"], "completed");
    assert_eq!(c.data()["outcome"], "resolved");
    assert_eq!(c.data()["has_recording"], true);
    assert!(c.data()["duration_seconds"].as_i64().unwrap() >= 19);
    let t = env
        .get(&format!(
            "/conversations/{}/transcript",
            f.conversation_in_progress
        ))
        .await;
    assert_eq!(t.data()["segments"].as_array().unwrap().len(), 6);
    assert_eq!(
        env.get(&format!(
            "/conversations/{}/analytics",
            f.conversation_in_progress
        ))
        .await
        .status,
        200
    );
    // A queued call: waits, starts, plays, ends.
    let (_, events, comments) = read_sse(
        &env,
        &format!("/conversations/{}/events", f.conversation_queued),
    )
    .await;
    assert!(comments >= 1);
    let kinds: Vec<&str> = events.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "started",
            "transcript_segment",
            "transcript_segment",
            "transcript_segment",
            "ended"
        ]
    );
}

#[tokio::test]
async fn conversation_analytics() {
    let env = Env::new().await;
    let f = env.sb.fixtures();
    let r = env
        .get(&format!(
            "/conversations/{}/analytics",
            f.conversation_completed
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let a = r.data();
    assert_eq!(a["conversation_id"], f.conversation_completed);
    assert_eq!(a["duration_seconds"], 275);
    assert_eq!(a["outcome"], "appointment_booked");
    let ratio = a["talk_ratio"].as_f64().unwrap();
    assert!(
        (0.0..=1.0).contains(&ratio) && ratio > 0.5,
        "the agent talks more here: {ratio}"
    );
    assert!(
        a["sentiment"].as_f64().unwrap() > 0.0,
        "'Perfect, thank you', 'great'"
    );
    assert!(a["words_per_minute"].as_f64().unwrap() > 0.0);
    assert!(a["interruptions"].as_u64().is_some());
    env.get(&format!(
        "/conversations/{}/analytics",
        f.conversation_queued
    ))
    .await
    .assert_error(422, "conversation_not_ended", None);
    let failed = env
        .get(&format!(
            "/conversations/{}/analytics",
            f.conversation_failed
        ))
        .await;
    assert_eq!(failed.status, 200);
    assert_eq!(failed.data()["talk_ratio"], 0.0);
}

#[tokio::test]
async fn summary_is_consistent_with_the_conversations() {
    // The sandbox's clock is set in mid-2026, so that the demo data (the 90
    // days before it) falls inside the window whenever the test runs.
    let mid_2026 = "2026-06-15T12:00:00Z".parse().unwrap();
    let env = Env::with(
        ayra_sandbox::Sandbox::builder()
            .seed_demo_data(21)
            .now(mid_2026),
    )
    .await;
    let f = env.sb.fixtures();
    let (start, end) = ("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
    let r = env
        .get(&format!(
            "/analytics/summary?start={start}&end={end}&granularity=week&agent_id={}",
            f.agent_active
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let s = r.data();
    assert_eq!(s["granularity"], "week");
    assert_eq!(s["agent_id"], f.agent_active);
    // Recompute from the list operation.
    let mut convs: Vec<Value> = Vec::new();
    for page in 1..=100 {
        let p = env
            .get(&format!("/conversations?agent_id={}&started_after={start}&started_before={end}&per_page=100&page={page}", f.agent_active))
            .await;
        let items = assert_list(&p);
        let done = items.is_empty();
        convs.extend(items);
        if done {
            break;
        }
    }
    let t = &s["totals"];
    assert_eq!(t["conversations"].as_u64(), Some(convs.len() as u64));
    let count = |st: &str| convs.iter().filter(|c| c["status"] == st).count() as u64;
    assert_eq!(t["completed"].as_u64(), Some(count("completed")));
    assert_eq!(t["failed"].as_u64(), Some(count("failed")));
    let ended: Vec<&Value> = convs
        .iter()
        .filter(|c| c["status"] == "completed" || c["status"] == "failed")
        .collect();
    let dur: i64 = ended
        .iter()
        .map(|c| c["duration_seconds"].as_i64().unwrap())
        .sum();
    assert_eq!(t["total_duration_seconds"].as_i64(), Some(dur));
    let avg = dur as f64 / ended.len() as f64;
    assert!((t["average_duration_seconds"].as_f64().unwrap() - avg).abs() < 0.06);
    let booked = convs
        .iter()
        .filter(|c| c["outcome"] == "appointment_booked")
        .count() as u64;
    assert_eq!(t["appointments_booked"].as_u64(), Some(booked));
    // Average sentiment = mean of the per-conversation analytics (sampled exhaustively for the fixtures' agent).
    assert!(ended.len() > 10, "the window holds the demo data");
    let mut sum = 0.0;
    for c in &ended {
        let a = env
            .get(&format!(
                "/conversations/{}/analytics",
                c["id"].as_str().unwrap()
            ))
            .await;
        sum += a.data()["sentiment"].as_f64().unwrap();
    }
    let mean = sum / ended.len() as f64;
    assert!((t["average_sentiment"].as_f64().unwrap() - mean).abs() < 0.006);
    // The series covers the range, aligned on Mondays, and sums to the totals.
    let series = s["series"].as_array().unwrap();
    assert_eq!(
        series[0]["bucket_start"], "2025-12-29T00:00:00Z",
        "the ISO week containing 2026-01-01"
    );
    assert_eq!(series.len(), 53);
    let sum_conv: u64 = series
        .iter()
        .map(|p| p["conversations"].as_u64().unwrap())
        .sum();
    let sum_done: u64 = series
        .iter()
        .map(|p| p["completed"].as_u64().unwrap())
        .sum();
    assert_eq!(sum_conv, t["conversations"].as_u64().unwrap());
    assert_eq!(sum_done, t["completed"].as_u64().unwrap());
    // Hour buckets and limits.
    let h = env.get("/analytics/summary?start=2026-11-01T10:30:00Z&end=2026-11-01T13:00:00Z&granularity=hour").await;
    let hs: Vec<&str> = h.data()["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["bucket_start"].as_str().unwrap())
        .collect();
    assert_eq!(
        hs,
        [
            "2026-11-01T10:00:00Z",
            "2026-11-01T11:00:00Z",
            "2026-11-01T12:00:00Z"
        ]
    );
    let d = env
        .get("/analytics/summary?start=2026-11-01T00:00:00Z&end=2026-11-03T00:00:00Z")
        .await;
    assert_eq!(d.data()["granularity"], "day");
    assert_eq!(d.data()["series"].as_array().unwrap().len(), 2);
    assert!(d.data()["agent_id"].is_null());
    env.get("/analytics/summary?start=2026-11-02T00:00:00Z&end=2026-11-01T00:00:00Z")
        .await
        .assert_error(422, "invalid_time_range", Some("end"));
    env.get(
        "/analytics/summary?start=2020-01-01T00:00:00Z&end=2026-01-01T00:00:00Z&granularity=hour",
    )
    .await
    .assert_error(422, "invalid_time_range", Some("end"));
    env.get("/analytics/summary?end=2026-01-01T00:00:00Z")
        .await
        .assert_error(400, "invalid_parameter", Some("start"));
    let none = env.get("/analytics/summary?start=2026-01-01T00:00:00Z&end=2026-01-02T00:00:00Z&agent_id=agt_unknown").await;
    assert_eq!(none.data()["totals"]["conversations"], 0);
    assert!(none.data()["totals"]["average_sentiment"].is_null());
    assert_eq!(none.data()["totals"]["average_duration_seconds"], 0.0);
}

#[tokio::test]
async fn realtime_metrics() {
    let env = Env::with(ayra_sandbox::Sandbox::builder().seed_demo_data(2)).await;
    let r = env.get("/analytics/realtime").await;
    assert_eq!(r.status, 200);
    let live = env
        .get("/conversations?status=in_progress&per_page=1")
        .await
        .json["meta"]["total"]
        .clone();
    let queued = env
        .get("/conversations?status=queued&per_page=1")
        .await
        .json["meta"]["total"]
        .clone();
    assert_eq!(r.data()["active_conversations"], live);
    assert_eq!(r.data()["queued_conversations"], queued);
    let today = env
        .sb
        .now()
        .date_naive()
        .format("%Y-%m-%dT00:00:00Z")
        .to_string();
    let n = env
        .get(&format!("/conversations?started_after={today}&per_page=1"))
        .await
        .json["meta"]["total"]
        .clone();
    assert_eq!(r.data()["today"]["conversations"], n);
    assert!(r.data()["as_of"].is_string());
}
