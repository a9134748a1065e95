//! Demo data and the binary.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use ayra_sandbox::{Resource, Sandbox, TEST_API_KEY};
use common::{Env, assert_list};

#[tokio::test]
async fn demo_data_is_large_and_deterministic() {
    let a = Sandbox::builder().seed_demo_data(1234).start().await;
    let b = Sandbox::builder().seed_demo_data(1234).start().await;
    let c = Sandbox::builder().seed_demo_data(99).start().await;
    assert!(a.count(Resource::Contacts) >= 3000);
    assert!(a.count(Resource::Conversations) >= 3000);
    assert!(a.count(Resource::Agents) >= 10);
    assert!(a.count(Resource::Appointments) > 100);
    assert!(a.count(Resource::Workflows) >= 4);
    assert_eq!(a.ids(Resource::Contacts), b.ids(Resource::Contacts));
    assert_eq!(
        a.ids(Resource::Conversations),
        b.ids(Resource::Conversations)
    );
    assert_ne!(a.ids(Resource::Contacts), c.ids(Resource::Contacts));
    // Spread over the last 90 days, with transcripts.
    let env = Env {
        base: a.base_url(),
        sb: a,
        http: common::client(),
    };
    let oldest = env.get("/conversations?per_page=1&page=3000").await;
    let items = assert_list(&oldest);
    let started =
        chrono::DateTime::parse_from_rfc3339(items[0]["started_at"].as_str().unwrap()).unwrap();
    let age = env.sb.now().signed_duration_since(started);
    assert!(
        age > chrono::Duration::days(60) && age < chrono::Duration::days(91),
        "{age}"
    );
    let id = items[0]["id"].as_str().unwrap();
    let t = env.get(&format!("/conversations/{id}/transcript")).await;
    assert_eq!(t.status, 200);
    b.shutdown().await;
    c.shutdown().await;
}

#[tokio::test]
async fn shutdown_and_drop_stop_the_server() {
    let sb = Sandbox::start().await;
    let url = format!("{}/voices", sb.base_url());
    let http = common::client();
    let ok = http
        .get(&url)
        .bearer_auth(TEST_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    sb.shutdown().await;
    assert!(
        http.get(&url)
            .bearer_auth(TEST_API_KEY)
            .send()
            .await
            .is_err()
    );
    let sb = Sandbox::start().await;
    let url = format!("{}/voices", sb.base_url());
    drop(sb);
    let mut stopped = false;
    for _ in 0..50 {
        if common::client()
            .get(&url)
            .bearer_auth(TEST_API_KEY)
            .send()
            .await
            .is_err()
        {
            stopped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(stopped);
}

#[tokio::test]
async fn binary_prints_the_url_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ayra-sandbox"))
        .args([
            "--port",
            "0",
            "--api-key",
            "sk_test_cli",
            "--latency-ms",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.rsplit(' ').next().unwrap().to_string();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/v1"),
        "{first}"
    );
    let key_line = lines.next().unwrap().unwrap();
    assert!(key_line.contains(TEST_API_KEY));
    let r = common::client()
        .get(format!("{url}/voices"))
        .bearer_auth("sk_test_cli")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let _ = child.kill();
    let _ = child.wait();
    // Bad arguments: exit code 2.
    let out = Command::new(env!("CARGO_BIN_EXE_ayra-sandbox"))
        .arg("--fault-rate")
        .arg("2")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_ayra-sandbox"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("--seed-demo-data"));
}
