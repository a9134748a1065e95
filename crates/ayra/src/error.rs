//! The one error type of the SDK, with what a caller needs to decide what to do.

use crate::types::{ErrorCode, ErrorEnvelope};
use reqwest::StatusCode;
use std::fmt;
use std::time::Duration;

/// How many bytes of an undecodable body an error keeps, at most.
const SNIPPET_BYTES: usize = 256;

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong with a call. Never contains the API key.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with its error envelope (4xx or 5xx).
    Api(Box<ApiError>),
    /// The connection failed or broke (DNS, refused, reset, TLS, truncated body).
    Transport {
        /// The underlying error.
        source: reqwest::Error,
        /// The request id, when a response had started.
        request_id: Option<String>,
    },
    /// The call did not finish within its timeout.
    Timeout {
        /// The underlying error.
        source: reqwest::Error,
    },
    /// A response arrived but its body could not be decoded.
    Decode {
        /// The HTTP status of the response, when known.
        status: Option<StatusCode>,
        /// The request id from the response headers.
        request_id: Option<String>,
        /// The first bytes of the body (at most 256, lossy UTF-8).
        snippet: String,
        /// What the decoder said.
        reason: String,
    },
    /// The request could not be built (a missing or invalid parameter).
    InvalidRequest(String),
    /// The client is misconfigured (bad base URL, insecure scheme, bad key).
    Config(String),
    /// Writing a download to its destination failed.
    Io(std::io::Error),
    /// An asynchronous job did not finish before its deadline.
    Deadline {
        /// What was being waited for, e.g. `report rpt_123`.
        what: String,
        /// The status it had when the deadline passed.
        last_status: String,
    },
}

/// The API's error envelope, with the response's status and headers.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Error family, e.g. `invalid_request` (open: new values may appear).
    pub error_type: String,
    /// Machine-readable code, e.g. `missing_required_field`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// The request field at fault, when there is one.
    pub field: Option<String>,
    /// The request id, for support.
    pub request_id: String,
    /// How long the API asked to wait before retrying (429, 503).
    pub retry_after: Option<Duration>,
}

impl Error {
    /// The HTTP status, when a response was received.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::Decode { status, .. } => *status,
            Error::Transport { source, .. } => source.status(),
            _ => None,
        }
    }

    /// The request id of the failed call, when the server sent one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => Some(&e.request_id),
            Error::Transport { request_id, .. } | Error::Decode { request_id, .. } => {
                request_id.as_deref()
            }
            _ => None,
        }
    }

    /// The API error envelope, for [`Error::Api`].
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The API error `code`, e.g. `slot_unavailable`.
    pub fn code(&self) -> Option<&str> {
        self.api().map(|e| e.code.as_str())
    }

    /// The API error `code` as a typed [`ErrorCode`], e.g.
    /// `ErrorCode::SlotUnavailable`; each method's docs list the codes it can return.
    pub fn error_code(&self) -> Option<ErrorCode> {
        self.api().map(ApiError::error_code)
    }

    /// Whether trying the same call again later may succeed: transport
    /// failures, timeouts, 429, 500, 502, 503 and 504.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::Timeout { .. } => true,
            Error::Api(e) => crate::retry::is_retryable_status(e.status),
            Error::Decode { status, .. } => status.is_some_and(crate::retry::is_retryable_status),
            _ => false,
        }
    }

    /// Whether the resource does not exist (404).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// Whether the call was refused for its credentials (401) or permissions (403).
    pub fn is_auth(&self) -> bool {
        matches!(
            self.status(),
            Some(StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
        )
    }

    /// Whether the call hit the rate limit (429).
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(StatusCode::TOO_MANY_REQUESTS)
    }

    /// The wait the server asked for, when it sent `Retry-After`.
    pub fn retry_after(&self) -> Option<Duration> {
        self.api().and_then(|e| e.retry_after)
    }

    pub(crate) fn decode(
        status: Option<StatusCode>,
        request_id: Option<String>,
        body: &[u8],
        reason: impl fmt::Display,
    ) -> Self {
        let cut = body.len().min(SNIPPET_BYTES);
        Error::Decode {
            status,
            request_id,
            snippet: String::from_utf8_lossy(&body[..cut]).into_owned(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn from_reqwest(source: reqwest::Error, request_id: Option<String>) -> Self {
        if source.is_timeout() {
            Error::Timeout { source }
        } else {
            Error::Transport { source, request_id }
        }
    }

    /// Builds an [`Error::Api`] from an error body, or a decode error when the
    /// body is not the envelope.
    pub(crate) fn from_error_body(
        status: StatusCode,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
    ) -> Self {
        let request_id = crate::response::header_str(headers, "x-request-id").map(str::to_string);
        match serde_json::from_slice::<ErrorEnvelope>(body) {
            Ok(envelope) => Error::Api(Box::new(ApiError::new(status, headers, envelope))),
            Err(e) => Error::decode(Some(status), request_id, body, e),
        }
    }
}

impl ApiError {
    /// The `code` as a typed [`ErrorCode`]; a code this SDK does not know yet
    /// is `ErrorCode::Unknown`.
    pub fn error_code(&self) -> ErrorCode {
        ErrorCode::from(self.code.as_str())
    }

    pub(crate) fn new(
        status: StatusCode,
        headers: &reqwest::header::HeaderMap,
        envelope: ErrorEnvelope,
    ) -> Self {
        let e = envelope.error;
        ApiError {
            status,
            error_type: e.type_.to_string(),
            code: e.code.to_string(),
            message: e.message,
            field: e.field,
            request_id: e.request_id,
            retry_after: crate::retry::retry_after(headers),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(e) => fmt::Display::fmt(e, f),
            Error::Transport { source, request_id } => {
                write!(f, "transport error: {}", without_url(source))?;
                if let Some(id) = request_id {
                    write!(f, " (request_id {id})")?;
                }
                Ok(())
            }
            Error::Timeout { source } => write!(f, "timed out: {}", without_url(source)),
            Error::Decode {
                status,
                request_id,
                snippet,
                reason,
            } => {
                write!(f, "could not decode the response")?;
                if let Some(s) = status {
                    write!(f, " ({})", s.as_u16())?;
                }
                write!(f, ": {reason}; body starts {snippet:?}")?;
                if let Some(id) = request_id {
                    write!(f, " (request_id {id})")?;
                }
                Ok(())
            }
            Error::InvalidRequest(m) => write!(f, "invalid request: {m}"),
            Error::Io(e) => write!(f, "could not write the download: {e}"),
            Error::Config(m) => write!(f, "invalid configuration: {m}"),
            Error::Deadline { what, last_status } => {
                write!(
                    f,
                    "{what} did not finish before the deadline (last status {last_status})"
                )
            }
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} ({}): {}",
            self.status.as_u16(),
            self.error_type,
            self.code,
            self.message
        )?;
        if let Some(field) = &self.field {
            write!(f, " [field {field}]")?;
        }
        write!(f, " (request_id {})", self.request_id)
    }
}

/// reqwest's message without the URL it adds, which may carry query values.
pub(crate) fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url()
        && let Some(at) = text.find(&format!(" ({url})"))
    {
        text.replace_range(at..at + url.as_str().len() + 3, "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.replace('\n', " ")
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport { source, .. } | Error::Timeout { source } => Some(source),
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}
