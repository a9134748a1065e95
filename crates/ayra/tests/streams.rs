//! Streams (events, downloads) may last longer than the call's timeout as
//! long as bytes keep coming: the timeout bounds the first byte, the idle
//! timeout each silence. A download saved to a file is all or nothing.

mod support;

use ayra::Download;
use futures::TryStreamExt;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A server that answers every request with `head`, then each chunk of
/// `chunks` after `gap` (HTTP/1.1 chunked encoding), then ends the body,
/// or, with `cut`, closes the connection before the end.
async fn drip(head: &'static str, chunks: Vec<String>, gap: Duration, cut: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let chunks = chunks.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\n{head}\r\nx-request-id: req_drip\r\ntransfer-encoding: chunked\r\n\r\n"
                );
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for chunk in chunks {
                    tokio::time::sleep(gap).await;
                    let framed = format!("{:x}\r\n{chunk}\r\n", chunk.len());
                    if socket.write_all(framed.as_bytes()).await.is_err() {
                        return;
                    }
                }
                if !cut {
                    let _ = socket.write_all(b"0\r\n\r\n").await;
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    url
}

fn client_for(url: &str, timeout: Duration, idle: Option<Duration>) -> ayra::Client {
    ayra::Client::builder()
        .api_key(support::KEY)
        .base_url(url)
        .timeout(timeout)
        .stream_idle_timeout(idle)
        .retry(ayra::RetryPolicy::none())
        .build()
        .unwrap()
}

fn event(kind: &str, n: usize) -> String {
    let data = serde_json::json!({
        "id": format!("evt_{n}"), "type": kind, "time": "2026-01-05T10:00:00Z",
        "conversation_id": "conv_1", "payload": {}
    });
    format!("id: evt_{n}\ndata: {data}\n\n")
}

#[tokio::test]
async fn an_event_stream_outlives_the_call_timeout() {
    // Six events 100 ms apart: 600 ms of stream under a 150 ms timeout.
    let mut events: Vec<String> = (0..5).map(|n| event("transcript_segment", n)).collect();
    events.push(event("ended", 5));
    let url = drip(
        "content-type: text/event-stream",
        events,
        Duration::from_millis(100),
        false,
    )
    .await;
    let client = client_for(
        &url,
        Duration::from_millis(150),
        Some(Duration::from_secs(2)),
    );
    let events: Vec<_> = client
        .conversation_events("conv_1")
        .try_collect()
        .await
        .expect("the stream outlives the timeout");
    assert_eq!(events.len(), 6);
}

#[tokio::test]
async fn a_download_outlives_the_call_timeout() {
    let chunks: Vec<String> = (0..6).map(|n| format!("chunk {n};")).collect();
    let whole: String = chunks.concat();
    let url = drip(
        "content-type: text/csv",
        chunks,
        Duration::from_millis(100),
        false,
    )
    .await;
    let client = client_for(
        &url,
        Duration::from_millis(150),
        Some(Duration::from_secs(2)),
    );
    let mut out = Vec::new();
    let n = client
        .download_export()
        .export_id("exp_1")
        .send()
        .await
        .unwrap()
        .write_to(&mut out)
        .await
        .expect("the download outlives the timeout");
    assert_eq!(n as usize, whole.len());
    assert_eq!(out, whole.as_bytes());
}

#[tokio::test]
async fn a_silence_longer_than_the_idle_timeout_is_a_timeout() {
    let chunks = vec!["first;".to_string(), "late;".to_string()];
    let url = drip(
        "content-type: text/csv",
        chunks,
        Duration::from_millis(400),
        false,
    )
    .await;
    let client = client_for(
        &url,
        Duration::from_secs(5),
        Some(Duration::from_millis(150)),
    );
    let mut out = Vec::new();
    let outcome = client
        .download_export()
        .export_id("exp_1")
        .send()
        .await
        .unwrap()
        .write_to(&mut out)
        .await;
    let err = outcome.expect_err("the silence exceeds the idle timeout");
    assert!(matches!(err, ayra::Error::Timeout { .. }), "{err:?}");

    // Turned off, the same silence is waited out.
    let client = client_for(&url, Duration::from_secs(5), None);
    let mut out = Vec::new();
    client
        .download_export()
        .export_id("exp_1")
        .send()
        .await
        .unwrap()
        .write_to(&mut out)
        .await
        .unwrap();
    assert_eq!(out, b"first;late;");
}

#[tokio::test]
async fn no_first_byte_within_the_timeout_is_a_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    // Accepts, reads, never answers (bounded: the test ends first).
    let server = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let client = client_for(&url, Duration::from_millis(200), None);
    let err = client
        .download_export()
        .export_id("exp_1")
        .send()
        .await
        .map(|_| ())
        .unwrap_err();
    assert!(
        matches!(
            err,
            ayra::Error::Timeout {
                waiting_for: "the first byte",
                ..
            }
        ),
        "{err:?}"
    );
    server.abort();
}

#[tokio::test]
async fn a_failed_save_leaves_no_file_and_keeps_the_old_one() {
    let dir = std::env::temp_dir().join(format!("ayra-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("export.csv");
    std::fs::write(&path, b"the previous export").unwrap();

    let chunks: Vec<String> = (0..4).map(|n| format!("row {n}\n")).collect();
    let url = drip(
        "content-type: text/csv",
        chunks,
        Duration::from_millis(10),
        true,
    )
    .await;
    let client = client_for(&url, Duration::from_secs(5), Some(Duration::from_secs(5)));
    let err = client
        .download_export()
        .export_id("exp_1")
        .send()
        .await
        .unwrap()
        .save(&path)
        .await
        .expect_err("the body was cut short");
    assert!(matches!(err, ayra::Error::Transport { .. }), "{err:?}");
    assert_eq!(std::fs::read(&path).unwrap(), b"the previous export");
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 1, "no partial file beside it: {left:?}");

    let chunks: Vec<String> = (0..4).map(|n| format!("row {n}\n")).collect();
    let url = drip(
        "content-type: text/csv",
        chunks,
        Duration::from_millis(10),
        false,
    )
    .await;
    let client = client_for(&url, Duration::from_secs(5), Some(Duration::from_secs(5)));
    let n = client
        .download_export()
        .export_id("exp_1")
        .send()
        .await
        .unwrap()
        .save(&path)
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"row 0\nrow 1\nrow 2\nrow 3\n"
    );
    assert_eq!(n, 24);
    std::fs::remove_dir_all(&dir).unwrap();
}
