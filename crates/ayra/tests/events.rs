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
    let started = event("evt_1", "started");
    // Multi-line data is joined with newlines (SSE), so split between tokens.
    let (head, tail) = started.split_at(started.find(",\"type\"").unwrap() + 1);
    let body = format!(
        ": keep-alive\r\n\r\nid: evt_1\r\nevent: started\r\ndata: {head}\r\ndata:{tail}\r\n\r\n\
         id: evt_2\nevent: sentiment_shift\ndata: {}\n\n\
         id: evt_3\nevent: ended\ndata: {}\n\n\
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
    assert!(matches!(err, ayra::Error::Decode { .. }), "{err:?}");
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
