//! Each error kind carries what a caller needs, and its one-line Display
//! names the request id.

mod support;
use support::{Reply, Server, error};

#[tokio::test]
async fn an_api_error_has_status_type_code_field_and_request_id() {
    let server = Server::start(|_, i| {
        Reply::Json(
            422,
            error(
                "unprocessable_entity",
                "invalid_custom_field",
                Some("custom_fields.age"),
                i,
            ),
        )
    })
    .await;
    let client = server.client().build().unwrap();
    let err = support::get_agent_error(&client).await;
    let api = err.api().expect("an API error");
    assert_eq!(api.status.as_u16(), 422);
    assert_eq!(api.error_type, "unprocessable_entity");
    assert_eq!(api.code, "invalid_custom_field");
    assert_eq!(api.field.as_deref(), Some("custom_fields.age"));
    assert_eq!(err.request_id(), Some("req_test_0"));
    assert!(!err.is_retryable());
    let line = err.to_string();
    assert_eq!(line.lines().count(), 1);
    assert!(
        line.contains("req_test_0")
            && line.contains("invalid_custom_field")
            && line.contains("custom_fields.age"),
        "{line}"
    );
}

#[tokio::test]
async fn a_404_is_not_found() {
    let server = Server::start(|_, i| {
        Reply::Json(
            404,
            error("not_found", "resource_not_found", Some("agent_id"), i),
        )
    })
    .await;
    let err = server
        .client()
        .build()
        .unwrap()
        .get_agent()
        .agent_id("agt_x")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_not_found());
}

#[tokio::test]
async fn a_malformed_success_body_is_a_decode_error_with_request_id_and_a_bounded_snippet() {
    let junk = format!("{{\"data\": {{\"id\": \"agt_1\", {}", "x".repeat(10_000));
    let server = Server::start(move |_, _| Reply::Json(200, junk.clone())).await;
    let err = server
        .client()
        .build()
        .unwrap()
        .get_agent()
        .agent_id("agt_1")
        .send()
        .await
        .unwrap_err();
    match &err {
        ayra::Error::Decode(e) => {
            assert_eq!(e.request_id.as_deref(), Some("req_test_0"));
            assert_eq!(e.status.map(|s| s.as_u16()), Some(200));
            assert!(
                e.snippet.starts_with("{\"data\"") && e.snippet.len() <= 256,
                "{}",
                e.snippet
            );
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert!(err.to_string().contains("req_test_0"));
    assert_eq!(err.to_string().lines().count(), 1);
}

/// A gateway's page in front of the API is a status error like any other:
/// code that handles `Error::Api` sees it, with the status, the request id
/// when one was sent, `Retry-After`, and the start of the body.
#[tokio::test]
async fn any_non_2xx_is_a_status_error_whatever_its_body() {
    type Headers = Vec<(&'static str, String)>;
    let cases: Vec<(u16, &str, Headers)> = vec![
        (
            502,
            "<html><body>502 Bad Gateway</body></html>",
            vec![("content-type", "text/html".into())],
        ),
        (
            503,
            r#"{"message":"upstream overloaded"}"#,
            vec![("retry-after", "7".into())],
        ),
        (504, "", vec![]),
        (418, "\u{0}\u{1}binary", vec![]),
        (404, r#"{"error": {"type": "not_found"}}"#, vec![]),
    ];
    for (status, body, headers) in cases {
        let (body, extra) = (body.to_string(), headers.clone());
        let expected = body.clone();
        let server =
            Server::start(move |_, _| Reply::With(status, extra.clone(), body.clone())).await;
        let client = server
            .client()
            .retry(ayra::RetryPolicy::none())
            .build()
            .unwrap();
        let err = support::get_agent_error(&client).await;
        let ayra::Error::Api(api) = &err else {
            panic!("{status}: expected Error::Api, got {err:?}");
        };
        assert_eq!(api.status.as_u16(), status);
        assert!(!api.is_envelope(), "{status}");
        assert_eq!(api.request_id.as_deref(), Some("req_test_0"));
        assert_eq!(server.count(), 1);
        assert_eq!(api.body_snippet.as_deref(), Some(expected.as_str()));
        if status == 503 {
            assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(7)));
        }
        assert_eq!(err.is_retryable(), [502, 503, 504].contains(&status));
        let text = err.to_string();
        assert!(text.starts_with(&status.to_string()), "{text}");
        assert_eq!(text.lines().count(), 1, "{text}");
    }
}

/// A snippet is bounded, cut on a character boundary.
#[tokio::test]
async fn a_huge_error_page_keeps_only_its_start() {
    let page = "é".repeat(10_000);
    let server = Server::start(move |_, _| Reply::Json(500, page.clone())).await;
    let client = server
        .client()
        .retry(ayra::RetryPolicy::none())
        .build()
        .unwrap();
    let err = support::get_agent_error(&client).await;
    let snippet = err.api().unwrap().body_snippet.clone().unwrap();
    assert!(
        snippet.len() <= 256 && snippet.len() >= 250,
        "{}",
        snippet.len()
    );
    assert!(snippet.chars().all(|c| c == 'é'));
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    drop(listener);
    let client = ayra::Client::builder()
        .api_key(support::KEY)
        .base_url(url)
        .retry(support::retries(1))
        .build()
        .unwrap();
    let err = support::get_agent_error(&client).await;
    assert!(matches!(err, ayra::Error::Transport { .. }), "{err:?}");
    assert!(err.is_retryable());
    let text = err.to_string();
    assert_eq!(text.lines().count(), 1);
    // What failed, how often, and no fragment that dangles ("for url:").
    assert!(text.starts_with("connection failed: "), "{text}");
    assert!(text.ends_with(", 2 attempts)"), "{text}");
    assert!(
        text.contains("(account …cdef, "),
        "the default label: {text}"
    );
    assert!(
        !text.contains("for url") && !text.contains("127.0.0.1"),
        "{text}"
    );
}

#[tokio::test]
async fn a_missing_required_parameter_is_an_invalid_request() {
    let server = Server::start(|_, _| Reply::Drop).await;
    let err = server
        .client()
        .build()
        .unwrap()
        .get_agent()
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, ayra::Error::InvalidRequest(_)), "{err:?}");
    assert_eq!(server.count(), 0, "nothing was sent");
}

#[test]
fn plain_http_is_refused_for_a_remote_host() {
    let err = ayra::Client::builder()
        .api_key(support::KEY)
        .base_url("http://api.ayra.ai/v1")
        .build()
        .unwrap_err();
    assert!(matches!(err, ayra::Error::Config(_)));
    assert!(err.to_string().contains("http"));
}
