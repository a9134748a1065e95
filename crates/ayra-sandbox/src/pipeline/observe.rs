//! Stage 2: lets tests see every exchange the sandbox serves, e.g. to check each
//! response against the spec or to record which operations were called.

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use std::sync::Arc;

use super::render::RespBody;

/// One request and the response the sandbox gave it.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The request method.
    pub method: String,
    /// The request path below the base URL (`/agents/agt_1`), without the query.
    pub path: String,
    /// The response status.
    pub status: u16,
    /// The response `Content-Type` (empty when there is none).
    pub content_type: String,
    /// The response headers, as sent.
    pub headers: http::HeaderMap,
    /// The response body, for `application/json` responses (streams and
    /// binary files are not buffered).
    pub body: Option<Bytes>,
}

/// A function called with every exchange; see [`crate::SandboxBuilder::observe`].
pub type Observer = Arc<dyn Fn(&Exchange) + Send + Sync>;

/// What the observer will be told of the request.
pub(crate) struct Watched {
    observer: Observer,
    method: String,
    path: String,
}

/// Notes the request if there is an observer.
pub(crate) fn watch<B>(observer: Option<&Observer>, req: &Request<B>) -> Option<Watched> {
    observer.map(|o| Watched {
        observer: o.clone(),
        method: req.method().to_string(),
        path: req.uri().path().to_string(),
    })
}

/// Shows the exchange to the observer; JSON bodies are read and put back.
pub(crate) async fn show(
    watched: Option<Watched>,
    response: Response<RespBody>,
) -> Response<RespBody> {
    match watched {
        Some(w) => observe(&w.observer, w.method, w.path, response).await,
        None => response,
    }
}

/// Calls `observer` with the exchange; JSON bodies are read and put back.
async fn observe(
    observer: &Observer,
    method: String,
    path: String,
    response: Response<RespBody>,
) -> Response<RespBody> {
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let path = path.strip_prefix("/v1").unwrap_or(&path).to_string();
    let status = response.status().as_u16();
    if !content_type.starts_with("application/json") {
        observer(&Exchange {
            method,
            path,
            status,
            content_type,
            headers: response.headers().clone(),
            body: None,
        });
        return response;
    }
    let (parts, body) = response.into_parts();
    let headers = parts.headers.clone();
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    observer(&Exchange {
        method,
        path,
        status,
        content_type,
        headers,
        body: Some(bytes.clone()),
    });
    let body = Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync();
    Response::from_parts(parts, body)
}
