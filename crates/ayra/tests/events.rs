//! Live conversation events: the SSE body becomes typed events, whatever
//! line endings and keep-alives the server uses, and the stream ends with the
//! conversation.

mod support;
use ayra::types::ConversationEventType;
use futures::TryStreamExt;
use support::{Reply, Server};

fn sse(body: &str) -> Reply {
    Reply::Raw(
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nx-request-id: req_sse\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

fn event(id: &str, kind: &str) -> String {
    format!(
        r#"{{"id":"{id}","conversation_id":"conv_1","type":"{kind}","time":"2025-01-15T10:30:00Z","payload":{{}}}}"#
    )
}

#[tokio::test]
async fn events_are_parsed_across_line_endings_comments_and_split_data() {
    // CRLF, LF and a lone CR: the three line ends of the SSE format.
    let started = event("evt_1", "started");
    // Multi-line data is joined with newlines (SSE), so split between tokens.
    let (head, tail) = started.split_at(started.find(",\"type\"").unwrap() + 1);
    let body = format!(
        ": keep-alive\r\n\r\nid: evt_1\r\nevent: started\r\ndata: {head}\r\ndata:{tail}\r\n\r\n\
         id: evt_2\nevent: sentiment_shift\ndata: {}\n\n\
         id: evt_3\revent: ended\rdata: {}\r\r\
         id: evt_4\nevent: started\ndata: {}\n\n",
        event("evt_2", "sentiment_shift"),
        event("evt_3", "ended"),
        event("evt_4", "started"),
    );
    let server = Server::start(move |_, _| sse(&body)).await;
    let client = server.client().build().unwrap();
    let events: Vec<_> = client
        .conversation_events("conv_1")
        .try_collect()
        .await
        .unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.type_.clone()).collect();
    assert_eq!(
        kinds,
        vec![
            ConversationEventType::Started,
            ConversationEventType::Unknown("sentiment_shift".into()),
            ConversationEventType::Ended,
        ],
        "a split data field is joined, an unknown type is kept, nothing is read after `ended`"
    );
    assert_eq!(events[0].id, "evt_1");
}

#[tokio::test]
async fn a_broken_event_is_a_decode_error_with_the_request_id() {
    let server = Server::start(|_, _| sse("data: {not json\n\n")).await;
    let client = server.client().build().unwrap();
    let err = client
        .conversation_events("conv_1")
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(err, ayra::Error::Decode(_)), "{err:?}");
    assert_eq!(err.request_id(), Some("req_sse"));
}

#[tokio::test]
async fn a_404_ends_the_stream_with_a_typed_error() {
    let server = Server::start(|_, i| {
        Reply::Json(
            404,
            support::error(
                "not_found",
                "resource_not_found",
                Some("conversation_id"),
                i,
            ),
        )
    })
    .await;
    let client = server.client().build().unwrap();
    let results: Vec<_> = futures::StreamExt::collect(client.conversation_events("conv_x")).await;
    assert_eq!(results.len(), 1);
    assert!(results[0].as_ref().unwrap_err().is_not_found());
}

/// A stream cut after two events (the server closes the connection cleanly)
/// is resumed: the client reconnects with `Last-Event-ID` and gets the rest.
#[tokio::test]
async fn a_stream_cut_before_ended_resumes_after_the_last_event_id() {
    let server = Server::start(|r, _| match r.header("last-event-id") {
        None => sse(&format!(
            "retry: 1\n\nid: evt_1\ndata: {}\n\nid: evt_2\ndata: {}\n\n",
            event("evt_1", "started"),
            event("evt_2", "transcript_segment")
        )),
        Some(_) => sse(&format!("id: evt_3\ndata: {}\n\n", event("evt_3", "ended"))),
    })
    .await;
    let client = server.client().build().unwrap();
    let events: Vec<_> = client
        .conversation_events("conv_1")
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<_> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["evt_1", "evt_2", "evt_3"]);
    let recorded = server.recorded();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[1].header("last-event-id"), Some("evt_2"));
}

/// A server that keeps cutting the stream at the same place: after a bounded
/// number of reconnections the stream ends with an error, never quietly, and
/// replayed events are not yielded twice.
#[tokio::test]
async fn a_stream_that_cannot_be_resumed_ends_with_an_error() {
    let server = Server::start(|_, _| {
        sse(&format!(
            "retry: 1\n\nid: evt_1\ndata: {}\n\nid: evt_2\ndata: {}\n\n",
            event("evt_1", "started"),
            event("evt_2", "transcript_segment")
        ))
    })
    .await;
    let client = server.client().build().unwrap();
    let results: Vec<_> = futures::StreamExt::collect(client.conversation_events("conv_1")).await;
    assert_eq!(results.len(), 3, "two events, then the error: {results:?}");
    assert_eq!(results[1].as_ref().unwrap().id, "evt_2");
    let err = results[2].as_ref().unwrap_err();
    assert!(matches!(err, ayra::Error::Decode(_)), "{err:?}");
    assert!(err.to_string().contains("ended"), "{err}");
    assert_eq!(err.request_id(), Some("req_sse"));
    assert_eq!(
        server.count(),
        4,
        "the first connection and 3 reconnections"
    );
}

/// Against the sandbox: its `truncate` fault cuts the live stream of a
/// conversation in progress after the first event; the stream resumes and
/// yields the same events as an uncut replay, each once, through `ended`.
#[tokio::test]
async fn a_stream_cut_by_the_sandbox_resumes_to_the_end() {
    let sandbox = ayra_sandbox::Sandbox::builder()
        .job_duration(std::time::Duration::from_millis(60))
        .start()
        .await;
    let conversation = sandbox.fixtures().conversation_in_progress;
    let mut faults = reqwest::header::HeaderMap::new();
    faults.insert("x-sandbox-fault", "truncate".parse().unwrap());
    faults.insert("x-sandbox-fault-times", "1".parse().unwrap());
    let client = |headers: reqwest::header::HeaderMap| {
        ayra::Client::builder()
            .api_key(sandbox.api_key())
            .base_url(sandbox.base_url())
            .http_client(
                reqwest::Client::builder()
                    .default_headers(headers)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    };
    let cut: Vec<_> = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        client(faults)
            .conversation_events(conversation)
            .try_collect(),
    )
    .await
    .expect("the stream ends")
    .unwrap();
    assert_eq!(sandbox.stats().faults.truncated, 1, "the stream was cut");
    let replay: Vec<_> = client(Default::default())
        .conversation_events(conversation)
        .try_collect()
        .await
        .unwrap();
    let ids = |events: &[ayra::types::ConversationEvent]| -> Vec<String> {
        events.iter().map(|e| e.id.clone()).collect()
    };
    assert_eq!(ids(&cut), ids(&replay));
    assert_eq!(
        cut.last().map(|e| &e.type_),
        Some(&ConversationEventType::Ended)
    );
}
