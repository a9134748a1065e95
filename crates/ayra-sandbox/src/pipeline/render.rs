//! Stage 11: turns replies and errors into HTTP responses with the common
//! headers (request id, CORS).

use bytes::Bytes;
use futures::StreamExt;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;

use crate::api::{Payload, Reply};
use crate::error::ApiError;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type RespBody = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

const EXPOSE: &str =
    "X-Request-Id, Retry-After, Idempotent-Replayed, Content-Disposition, Content-Length";

/// An error envelope.
pub(crate) fn error(e: &ApiError, rid: &str) -> Response<RespBody> {
    reply(Reply::error(e, rid), rid, false)
}

/// A reply; `replayed` keeps the stored headers as they are (a replayed file
/// already carries its `Content-Type`).
pub(crate) fn reply(reply: Reply, rid: &str, replayed: bool) -> Response<RespBody> {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = Response::builder().status(status);
    if let Some(h) = builder.headers_mut() {
        for (k, v) in reply.headers {
            h.append(k, v);
        }
        if let Ok(v) = HeaderValue::from_str(rid) {
            h.insert("x-request-id", v);
        }
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE),
        );
    }
    let (content_type, body) = match reply.payload {
        Payload::Json(b) => (Some(HeaderValue::from_static("application/json")), full(b)),
        Payload::File { content_type, data } => {
            let ct = HeaderValue::from_str(&content_type)
                .ok()
                .filter(|_| !replayed);
            (ct, full(data))
        }
        Payload::Empty => (None, full(Bytes::new())),
        Payload::Stream(s) => {
            let frames = s.map(|b| Ok::<_, BoxError>(Frame::data(b)));
            (None, StreamBody::new(frames).boxed_unsync())
        }
    };
    if let (Some(h), Some(ct)) = (builder.headers_mut(), content_type) {
        h.insert(header::CONTENT_TYPE, ct);
    }
    builder.body(body).unwrap_or_else(|_| {
        let mut r = Response::new(full(Bytes::from_static(b"{}")));
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

pub(crate) fn full(b: Bytes) -> RespBody {
    Full::new(b).map_err(|never| match never {}).boxed_unsync()
}
