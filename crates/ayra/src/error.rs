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
///
/// An error from a write that carries an `Idempotency-Key` keeps the key
/// ([`Error::idempotency_key`]): the write may have been applied before the
/// error (its response lost), so resend it under the same key and the API
/// answers with the first outcome instead of applying it twice.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a non-2xx status: the API's error envelope,
    /// or a page from something in between (a gateway's HTML 502).
    Api(Box<ApiError>),
    /// The connection failed or broke (DNS, refused, reset, TLS, truncated body).
    Transport {
        /// The underlying error (its URL carries no query string).
        source: reqwest::Error,
        /// The request id, when a response had started.
        request_id: Option<String>,
        /// What the call did.
        call: Call,
    },
    /// The call did not finish within its time limit.
    Timeout {
        /// What was being waited for: `the response`, `the first byte`,
        /// `the next chunk`.
        waiting_for: &'static str,
        /// The request id, when a response had started.
        request_id: Option<String>,
        /// What the call did.
        call: Call,
    },
    /// A 2xx response arrived but its body did not match its schema.
    Decode(Box<DecodeError>),
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

/// A 2xx body that did not match its schema.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DecodeError {
    /// The HTTP status of the response, when known.
    pub status: Option<StatusCode>,
    /// The request id from the response headers.
    pub request_id: Option<String>,
    /// The first bytes of the body (at most 256, lossy UTF-8).
    pub snippet: String,
    /// What the decoder said.
    pub reason: String,
    /// What the call did.
    pub call: Call,
}

/// What one call did before it failed: how many attempts it made and the
/// idempotency key they all carried.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Call {
    /// Attempts made (1 when the call was not retried).
    pub attempts: u32,
    /// The `Idempotency-Key` every attempt carried, for writes that take one.
    pub idempotency_key: Option<String>,
    /// The label of the account the call was made for
    /// ([`crate::Client::account_label`]); never the key.
    pub account: Option<std::sync::Arc<str>>,
}

/// A non-2xx response: the API's error envelope when the body was one, with
/// the response's status and headers.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Error family, e.g. `invalid_request` (open: new values may appear);
    /// `http_error` when the body was not the API's envelope.
    pub error_type: String,
    /// Machine-readable code, e.g. `missing_required_field`;
    /// `unexpected_body` when the body was not the API's envelope.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// The request field at fault, when there is one.
    pub field: Option<String>,
    /// The request id, for support: from the envelope, else from the
    /// `X-Request-Id` header (a gateway's page may have neither).
    pub request_id: Option<String>,
    /// How long the server asked to wait before retrying (429, 503).
    pub retry_after: Option<Duration>,
    /// The first bytes of the body (at most 256, lossy UTF-8) when it was
    /// not the API's envelope, e.g. a load balancer's HTML page.
    pub body_snippet: Option<String>,
    /// What the call did.
    pub call: Call,
}

impl Error {
    /// The HTTP status, when a response was received.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::Decode(e) => e.status,
            _ => None,
        }
    }

    /// The request id of the failed call, when the server sent one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.request_id.as_deref(),
            Error::Transport { request_id, .. } | Error::Timeout { request_id, .. } => {
                request_id.as_deref()
            }
            Error::Decode(e) => e.request_id.as_deref(),
            _ => None,
        }
    }

    /// What the call did (attempts, idempotency key), for errors of a call
    /// that reached the network.
    pub fn call(&self) -> Option<&Call> {
        match self {
            Error::Api(e) => Some(&e.call),
            Error::Transport { call, .. } | Error::Timeout { call, .. } => Some(call),
            Error::Decode(e) => Some(&e.call),
            _ => None,
        }
    }

    /// The same, to correct: a caller that retries a call itself (the bulk
    /// runner) counts all its attempts, not the last one's.
    pub(crate) fn call_mut(&mut self) -> Option<&mut Call> {
        match self {
            Error::Api(e) => Some(&mut e.call),
            Error::Transport { call, .. } | Error::Timeout { call, .. } => Some(call),
            Error::Decode(e) => Some(&mut e.call),
            _ => None,
        }
    }

    /// The `Idempotency-Key` the failed write carried. Resend the same write
    /// with `.idempotency_key(key)` on its builder: if an earlier attempt was
    /// applied, the API replays its outcome instead of applying it again.
    ///
    /// ```no_run
    /// # async fn run(client: ayra::Client) -> ayra::Result<()> {
    /// let create = |key: Option<&str>| {
    ///     let call = client
    ///         .create_contact()
    ///         .body_map(|b| b.first_name("Ada").phone("+33612345678"));
    ///     match key {
    ///         Some(key) => call.idempotency_key(key),
    ///         None => call,
    ///     }
    /// };
    /// let contact = match create(None).send().await {
    ///     // Later, and as often as needed: the same key never makes a duplicate.
    ///     Err(e) if e.is_retryable() && e.idempotency_key().is_some() => {
    ///         create(e.idempotency_key()).send().await?
    ///     }
    ///     other => other?,
    /// };
    /// # let _ = contact; Ok(()) }
    /// ```
    pub fn idempotency_key(&self) -> Option<&str> {
        self.call()?.idempotency_key.as_deref()
    }

    /// The label of the account the call was for ([`crate::Client::for_account`]).
    pub fn account(&self) -> Option<&str> {
        self.call()?.account.as_deref()
    }

    /// How many attempts the call made (0 when it never reached the network).
    pub fn attempts(&self) -> u32 {
        self.call().map_or(0, |c| c.attempts)
    }

    /// The API error envelope, for [`Error::Api`].
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The details of an [`Error::Decode`].
    pub fn decode_error(&self) -> Option<&DecodeError> {
        match self {
            Error::Decode(e) => Some(e),
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
        call: Call,
    ) -> Self {
        Error::Decode(Box::new(DecodeError {
            status,
            request_id,
            snippet: snippet(body),
            reason: reason.to_string(),
            call,
        }))
    }

    /// A transport error, or a timeout when that is what reqwest reports.
    pub(crate) fn from_reqwest(
        source: reqwest::Error,
        request_id: Option<String>,
        waiting_for: &'static str,
        call: Call,
    ) -> Self {
        if source.is_timeout() {
            Error::Timeout {
                waiting_for,
                request_id,
                call,
            }
        } else {
            Error::Transport {
                source: without_query(source),
                request_id,
                call,
            }
        }
    }

    /// The error of a non-2xx response: the envelope's fields when the body
    /// is the API's envelope, else the status with the start of the body.
    pub(crate) fn from_status(
        status: StatusCode,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
        call: Call,
    ) -> Self {
        let header_id = crate::response::header_str(headers, "x-request-id").map(str::to_string);
        let retry_after = crate::retry::retry_after(headers);
        let api = match serde_json::from_slice::<ErrorEnvelope>(body) {
            Ok(envelope) => {
                let e = envelope.error;
                ApiError {
                    status,
                    error_type: e.type_.to_string(),
                    code: e.code.to_string(),
                    message: e.message,
                    field: e.field,
                    request_id: Some(e.request_id).filter(|id| !id.is_empty()).or(header_id),
                    retry_after,
                    body_snippet: None,
                    call,
                }
            }
            Err(_) => ApiError {
                status,
                error_type: "http_error".to_string(),
                code: "unexpected_body".to_string(),
                message: format!(
                    "{} without the API's error envelope",
                    status.canonical_reason().unwrap_or("an HTTP error")
                ),
                field: None,
                request_id: header_id,
                retry_after,
                body_snippet: Some(snippet(body)),
                call,
            },
        };
        Error::Api(Box::new(api))
    }
}

impl ApiError {
    /// The `code` as a typed [`ErrorCode`]; a code this SDK does not know yet
    /// is `ErrorCode::Unknown`.
    pub fn error_code(&self) -> ErrorCode {
        ErrorCode::from(self.code.as_str())
    }

    /// Whether the body was the API's error envelope (else a page from a
    /// proxy or gateway: see [`ApiError::body_snippet`]).
    pub fn is_envelope(&self) -> bool {
        self.body_snippet.is_none()
    }
}

/// The first bytes of a body, cut on a character boundary.
fn snippet(body: &[u8]) -> String {
    let mut cut = body.len().min(SNIPPET_BYTES);
    while cut > 0 && cut < body.len() && (body[cut] & 0xC0) == 0x80 {
        cut -= 1;
    }
    String::from_utf8_lossy(&body[..cut]).into_owned()
}

/// ` (account A, request_id X, N attempts)`, or what of it is known.
fn context(f: &mut fmt::Formatter<'_>, request_id: Option<&str>, call: &Call) -> fmt::Result {
    let account = call.account.as_deref().map(|a| format!("account {a}"));
    let request_id = request_id.map(|id| format!("request_id {id}"));
    let attempts = match call.attempts {
        0 => None,
        1 => Some("1 attempt".to_string()),
        n => Some(format!("{n} attempts")),
    };
    let parts: Vec<String> = [account, request_id, attempts]
        .into_iter()
        .flatten()
        .collect();
    if parts.is_empty() {
        return Ok(());
    }
    write!(f, " ({})", parts.join(", "))
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(e) => fmt::Display::fmt(e, f),
            Error::Transport {
                source,
                request_id,
                call,
            } => {
                write!(f, "connection failed: {}", cause_chain(source))?;
                context(f, request_id.as_deref(), call)
            }
            Error::Timeout {
                waiting_for,
                request_id,
                call,
            } => {
                write!(f, "timed out waiting for {waiting_for}")?;
                context(f, request_id.as_deref(), call)
            }
            Error::Decode(e) => fmt::Display::fmt(e, f),
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

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not decode the response")?;
        if let Some(s) = self.status {
            write!(f, " ({})", s.as_u16())?;
        }
        write!(f, ": {}; body starts {:?}", self.reason, self.snippet)?;
        context(f, self.request_id.as_deref(), &self.call)
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
        if let Some(body) = &self.body_snippet {
            write!(f, "; body starts {body:?}")?;
        }
        context(f, self.request_id.as_deref(), &self.call)
    }
}

/// The error with its URL cut to scheme, host and path: a query string may
/// carry emails or phone numbers, and `Debug` prints the URL.
fn without_query(e: reqwest::Error) -> reqwest::Error {
    match e.url().cloned() {
        Some(mut url) => {
            url.set_query(None);
            url.set_fragment(None);
            e.with_url(url)
        }
        None => e,
    }
}

/// reqwest's message and its causes, without the URL and without saying the
/// same thing twice.
pub(crate) fn cause_chain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url()
        && let Some(at) = text.find(&format!(" ({url})"))
    {
        text.replace_range(at..at + url.as_str().len() + 3, "");
    }
    let mut parts = vec![text.replace(" for url", "")];
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ").replace('\n', " ")
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport { source, .. } => Some(source),
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    /// `Result<T, Error>` is moved through every call: keep it small.
    #[test]
    fn the_error_stays_small() {
        assert!(std::mem::size_of::<super::Error>() <= 96);
    }
}
