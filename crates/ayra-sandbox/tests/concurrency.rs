//! Many concurrent clients: no lost and no doubled write.

mod common;

use std::collections::BTreeSet;

use ayra_sandbox::{Resource, TEST_API_KEY};
use common::Env;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_write_exactly_once() {
    let env = Env::new().await;
    let before = env.sb.count(Resource::Contacts);
    let mut tasks = Vec::new();
    // 50 tasks x 20 creates with distinct keys.
    for t in 0..50 {
        let http = env.http.clone();
        let url = env.url("/contacts");
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..20 {
                let r = http
                    .post(&url)
                    .header("authorization", format!("Bearer {TEST_API_KEY}"))
                    .header("idempotency-key", format!("k-{t}-{i}"))
                    .json(&json!({"first_name": format!("C{t}x{i}"), "email": format!("c{t}x{i}@example.com")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
                let v: serde_json::Value = r.json().await.unwrap();
                ids.push(v["data"]["id"].as_str().unwrap().to_string());
            }
            ids
        }));
    }
    // Plus 10 keys shared by 5 concurrent senders each.
    for k in 0..10 {
        for _ in 0..5 {
            let http = env.http.clone();
            let url = env.url("/contacts");
            tasks.push(tokio::spawn(async move {
                let r = http
                    .post(&url)
                    .header("authorization", format!("Bearer {TEST_API_KEY}"))
                    .header("idempotency-key", format!("shared-{k}"))
                    .json(&json!({"first_name": format!("S{k}"), "phone": "+14155550142"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
                let v: serde_json::Value = r.json().await.unwrap();
                vec![v["data"]["id"].as_str().unwrap().to_string()]
            }));
        }
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let distinct: BTreeSet<&String> = all.iter().collect();
    assert_eq!(all.len(), 1000 + 50);
    assert_eq!(distinct.len(), 1000 + 10);
    assert_eq!(env.sb.count(Resource::Contacts), before + 1010);
    let s = env.sb.stats();
    assert_eq!(s.writes_applied, 1010);
    assert_eq!(s.idempotent_replays, 40);
    assert_eq!(s.panics, 0);
    // The list agrees.
    let r = env.get("/contacts?per_page=1").await;
    assert_eq!(
        r.json["meta"]["total"].as_u64(),
        Some((before + 1010) as u64)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_bookings_of_one_slot_book_it_once() {
    let env = Env::new().await;
    let cal = env.sb.fixtures().calendar_always_open;
    let start = (env.sb.now() + chrono::Duration::days(5))
        .date_naive()
        .and_hms_opt(10, 0, 0)
        .unwrap()
        .and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let http = env.http.clone();
        let url = env.url("/appointments");
        let body = json!({"calendar_id": cal, "title": format!("Race {i}"), "start": start});
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .header("authorization", format!("Bearer {TEST_API_KEY}"))
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1);
    assert_eq!(statuses.iter().filter(|s| **s == 422).count(), 19);
}
