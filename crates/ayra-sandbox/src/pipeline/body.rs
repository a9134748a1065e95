//! Stage 4: reads the request body, refusing bodies over the limit.

use bytes::Bytes;
use http::HeaderMap;
use http::header;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

use crate::error::ApiError;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub(crate) async fn read(headers: &HeaderMap, body: Incoming) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            400,
            "payload_too_large",
            format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
        )
    };
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > MAX_BODY_BYTES as u64
    {
        return Err(too_large());
    }
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(too_large())
        }
        Err(_) => Err(ApiError::invalid_json(
            "The request body could not be read.",
        )),
    }
}
