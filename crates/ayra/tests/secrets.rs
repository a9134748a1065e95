//! The API key never appears in what the SDK prints or logs: `Debug` and
//! `Display` of the client, its builder and every error kind, and tracing
//! output at TRACE level through success, retries and failures.

mod support;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{KEY, Reply, Server, agent, error, ok};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_key_is_in_no_debug_display_error_or_log_line() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = Server::start(|r, i| match r.target.rsplit('/').next().unwrap_or("") {
        "agt_ok" => Reply::Json(200, ok(agent("agt_ok", "active"), i)),
        "agt_422" => Reply::Json(
            422,
            error("unprocessable_entity", "agent_archived", Some("status"), i),
        ),
        "agt_503" => Reply::With(
            503,
            vec![("retry-after", "0".into())],
            error("service_unavailable", "s", None, i),
        ),
        "agt_junk" => Reply::Json(200, "{not json".into()),
        "agt_drop" => Reply::Drop,
        "agt_slow" => Reply::Late(
            Duration::from_millis(300),
            Box::new(Reply::Json(200, "{}".into())),
        ),
        _ => Reply::Json(
            404,
            error("not_found", "resource_not_found", Some("agent_id"), i),
        ),
    })
    .await;
    let builder = server.client().timeout(Duration::from_millis(100));
    let mut printed = vec![format!("{builder:?}")];
    let client = builder.build().unwrap();
    printed.push(format!("{client:?}"));
    printed.push(format!(
        "{:?}",
        client.with_options(|o| o.timeout(Duration::from_secs(1)))
    ));

    let ok = client.get_agent().agent_id("agt_ok").send().await.unwrap();
    printed.push(format!("{ok:?}"));
    for id in [
        "agt_422", "agt_503", "agt_junk", "agt_drop", "agt_slow", "agt_404",
    ] {
        let err = client.get_agent().agent_id(id).send().await.unwrap_err();
        printed.push(format!("{err}"));
        printed.push(format!("{err:?}"));
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            printed.push(format!("{s} {s:?}"));
            source = s.source();
        }
    }
    let config = ayra::Client::builder()
        .api_key(KEY)
        .base_url("http://example.com/v1")
        .build()
        .unwrap_err();
    printed.push(format!("{config} {config:?}"));

    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("ayra.request"),
        "tracing captured the requests:\n{logged}"
    );
    assert!(
        logged.contains("attempt=2"),
        "retries are visible with their attempt number:\n{logged}"
    );
    // The key did reach the server: the test would be vacuous otherwise.
    assert_eq!(
        server.recorded()[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    for text in printed.iter().chain(std::iter::once(&logged)) {
        assert!(
            !text.contains(KEY) && !text.contains("SECRET"),
            "the key leaked in:\n{text}"
        );
    }
}
