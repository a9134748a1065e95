//! What the generated client calls into: the hooks that run every request
//! (credentials, idempotency key, timeout, retry, tracing) and the `send`
//! that turns progenitor's error into the SDK's [`Error`].
//!
//! Nothing here is specific to one operation: the facts about operations
//! (which take an idempotency key, which stream) come from the generated
//! [`crate::api::operation`] table.

pub use crate::error::{Error, Result};
use crate::retry::{RetryPolicy, is_retryable_status};
use crate::types::ErrorEnvelope;
use bytes::{Bytes, BytesMut};
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo, ResponseValue};
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

pub use crate::pagination::{ListEnvelope, ListOperation};

pub use crate::patch::Patch;
pub use crate::text::IntoOptionalString;

pub use crate::path::path_segment;

/// A boxed future, as the generated list impls return.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Facts about one operation of the spec, emitted by the generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The `operationId`, also the client method's name.
    pub id: &'static str,
    /// HTTP method.
    pub method: &'static str,
    /// Path template.
    pub path: &'static str,
    /// Domain tag.
    pub tag: &'static str,
    /// Whether it returns the list envelope.
    pub list: bool,
    /// Whether it takes an `Idempotency-Key`.
    pub idempotency_key: bool,
    /// Whether its success body is streamed rather than JSON.
    pub streaming: bool,
    /// Whether its responses may be cached (`x-ayra-cache: true` in the spec).
    pub cacheable: bool,
}

/// The largest JSON body read into memory; beyond it the call fails.
const MAX_BODY_BYTES: usize = 64 << 20;

const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// Per-client settings carried by the generated client.
#[derive(Clone)]
pub struct Inner {
    pub(crate) auth: HeaderValue,
    pub(crate) retry: RetryPolicy,
    pub(crate) timeout: Option<Duration>,
    pub(crate) cache: Option<Arc<crate::cache::Cache>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("auth", &"<redacted>")
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// What one logical call learned, for errors that progenitor reports without
/// the response headers.
#[derive(Default)]
struct CallContext {
    request_id: Option<String>,
    status: Option<reqwest::StatusCode>,
    oversized: bool,
}

tokio::task_local! {
    static CALL: RefCell<CallContext>;
}

/// Runs a generated `send_raw` and converts its error. Called by every
/// generated `send()`.
pub fn send<T: Send>(
    call: impl std::future::Future<
        Output = std::result::Result<ResponseValue<T>, progenitor_client::Error<ErrorEnvelope>>,
    > + Send,
) -> impl std::future::Future<Output = Result<ResponseValue<T>>> + Send {
    // The call's future is several KiB (request, retry loop, hyper's
    // future); boxing it once keeps the future users hold small, instead of
    // copying it each time it is moved.
    let call = Box::pin(call);
    CALL.scope(RefCell::new(CallContext::default()), async move {
        match call.await {
            Ok(v) => Ok(v),
            Err(e) => Err(convert(e).await),
        }
    })
}

async fn convert(e: progenitor_client::Error<ErrorEnvelope>) -> Error {
    use progenitor_client::Error as P;
    let (request_id, status, oversized) = CALL
        .try_with(|c| {
            let c = c.borrow();
            (c.request_id.clone(), c.status, c.oversized)
        })
        .unwrap_or_default();
    match e {
        P::ErrorResponse(rv) => {
            let status = rv.status();
            let headers = rv.headers().clone();
            let api = crate::error::ApiError::new(status, &headers, rv.into_inner());
            Error::Api(Box::new(api))
        }
        P::UnexpectedResponse(resp) => {
            let status = resp.status();
            let headers = resp.headers().clone();
            match resp.bytes().await {
                Ok(body) => Error::from_error_body(status, &headers, &body),
                Err(source) => Error::from_reqwest(source, request_id),
            }
        }
        P::InvalidResponsePayload(body, e) if oversized => Error::decode(
            status,
            request_id,
            &body,
            format!("the body exceeds the {MAX_BODY_BYTES}-byte limit ({e})"),
        ),
        P::InvalidResponsePayload(body, e) => Error::decode(status, request_id, &body, e),
        P::CommunicationError(e) | P::ResponseBodyError(e) | P::InvalidUpgrade(e) => {
            Error::from_reqwest(e, request_id)
        }
        P::InvalidRequest(m) => Error::InvalidRequest(m),
        P::Custom(m) => Error::InvalidRequest(m),
    }
}

fn remember(resp: &reqwest::Response) {
    let _ = CALL.try_with(|c| {
        let mut c = c.borrow_mut();
        c.status = Some(resp.status());
        c.request_id =
            crate::response::header_str(resp.headers(), "x-request-id").map(str::to_string);
    });
}

/// Whether a transport error may go away on a second try. Every call the
/// SDK retries is safe to repeat: reads, deletes, and writes that carry an
/// idempotency key.
fn is_transient(e: &reqwest::Error) -> bool {
    !(e.is_builder() || e.is_redirect() || e.is_status())
}

impl ClientHooks<Inner> for crate::api::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> std::result::Result<(), progenitor_client::Error<E>> {
        let inner = self.inner();
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, inner.auth.clone());
        let takes_key =
            crate::api::operation(info.operation_id).is_some_and(|op| op.idempotency_key);
        if takes_key && !headers.contains_key(IDEMPOTENCY_KEY) {
            // One key per logical call: `exec` clones this request for each
            // retry, so every attempt carries the same key.
            let key = uuid::Uuid::new_v4().hyphenated().to_string();
            headers.insert(
                IDEMPOTENCY_KEY,
                HeaderValue::from_str(&key).expect("a uuid is a valid header value"),
            );
        }
        if let Some(timeout) = inner.timeout {
            *request.timeout_mut() = Some(timeout);
        }
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let inner = self.inner();
        let op = crate::api::operation(info.operation_id);
        let cache = inner.cache.as_deref();
        let cacheable = cache.filter(|_| {
            op.is_some_and(|op| op.cacheable) && request.method() == reqwest::Method::GET
        });
        if let Some(hit) = cacheable.and_then(|c| c.get(request.url().as_str())) {
            tracing::debug!(operation = info.operation_id, "served from cache");
            let url = request.url().clone();
            let version = reqwest::Version::HTTP_11;
            return Ok(rebuild(hit.status, version, hit.headers, hit.body, url));
        }
        // Only a client with a cache needs the target after the request is sent.
        let target = cache.map(|_| (request.method().clone(), request.url().clone()));
        let (resp, body) =
            with_retries(self.client(), &inner.retry, request, info.operation_id, op).await?;
        remember(&resp);
        if let (Some(cache), Some((method, url))) = (cache, target)
            && resp.status().is_success()
        {
            cache.invalidate(&method, &url);
            if let (Some(_), Some(body)) = (cacheable, body)
                && resp.status() == reqwest::StatusCode::OK
            {
                cache.put(url.to_string(), resp.status(), resp.headers().clone(), body);
            }
        }
        Ok(resp)
    }
}

/// Sends `request`, and again after a backoff while the outcome is transient
/// and the policy allows; each attempt is a tracing span with its number.
async fn with_retries(
    client: &reqwest::Client,
    policy: &RetryPolicy,
    mut request: reqwest::Request,
    operation: &'static str,
    op: Option<&'static Operation>,
) -> reqwest::Result<(reqwest::Response, Option<Bytes>)> {
    let streaming = op.is_some_and(|op| op.streaming);
    let mut retry = 0u32;
    loop {
        // The clone keeps the idempotency key `pre` set: every attempt sends it.
        let spare = if retry < policy.retries() {
            request.try_clone()
        } else {
            None
        };
        let span = tracing::debug_span!(
            "ayra.request",
            operation,
            method = %request.method(),
            path = op.map_or("", |op| op.path),
            attempt = retry + 1,
            status = tracing::field::Empty,
            request_id = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let outcome = attempt(client, request, streaming)
            .instrument(span.clone())
            .await;
        span.record("duration_ms", started.elapsed().as_millis() as u64);
        let wait = match &outcome {
            Ok((resp, _)) => {
                span.record("status", resp.status().as_u16());
                if let Some(id) = crate::response::header_str(resp.headers(), "x-request-id") {
                    span.record("request_id", id);
                }
                span.in_scope(|| tracing::debug!(status = resp.status().as_u16(), "response"));
                is_retryable_status(resp.status())
                    .then(|| crate::retry::retry_after(resp.headers()))
            }
            Err(e) => {
                let error = crate::error::without_url(e);
                span.in_scope(|| tracing::debug!(%error, "transport error"));
                is_transient(e).then_some(None)
            }
        };
        let (Some(retry_after), Some(next)) = (wait, spare) else {
            return outcome;
        };
        let delay = policy.delay(retry, retry_after);
        span.in_scope(|| tracing::info!(delay_ms = delay.as_millis() as u64, "retrying"));
        tokio::time::sleep(delay).await;
        request = next;
        retry += 1;
    }
}

/// One attempt: send, and unless the body streams, read it whole (bounded)
/// so that a connection dropped mid-body is retried like any other. Returns
/// the body too when it was read.
async fn attempt(
    client: &reqwest::Client,
    request: reqwest::Request,
    streaming: bool,
) -> reqwest::Result<(reqwest::Response, Option<Bytes>)> {
    let mut resp = client.execute(request).await?;
    if streaming && resp.status().is_success() {
        return Ok((resp, None));
    }
    let status = resp.status();
    let version = resp.version();
    let url = resp.url().clone();
    let headers = std::mem::take(resp.headers_mut());
    let body = read_body(&mut resp).await?;
    Ok((
        rebuild(status, version, headers, body.clone(), url),
        Some(body),
    ))
}

/// Reads a whole body, up to [`MAX_BODY_BYTES`]. A body that arrives in one
/// chunk (the common case for API replies) is kept without a copy.
async fn read_body(resp: &mut reqwest::Response) -> reqwest::Result<Bytes> {
    let expected = resp.content_length();
    let Some(first) = resp.chunk().await? else {
        return Ok(Bytes::new());
    };
    if expected == Some(first.len() as u64) {
        return Ok(first);
    }
    let Some(second) = resp.chunk().await? else {
        return Ok(first);
    };
    let hint = resp.content_length().unwrap_or(0) as usize;
    let mut body =
        BytesMut::with_capacity(hint.max(first.len() + second.len()).min(MAX_BODY_BYTES));
    body.extend_from_slice(&first);
    body.extend_from_slice(&second);
    while let Some(chunk) = resp.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            let _ = CALL.try_with(|c| c.borrow_mut().oversized = true);
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A response from parts already read, for progenitor to decode. It keeps
/// the request's URL (reqwest would otherwise parse a placeholder URL for
/// every response).
fn rebuild(
    status: reqwest::StatusCode,
    version: reqwest::Version,
    headers: reqwest::header::HeaderMap,
    body: Bytes,
    url: reqwest::Url,
) -> reqwest::Response {
    use reqwest::ResponseBuilderExt;
    let mut response = http::Response::builder()
        .status(status)
        .version(version)
        .url(url)
        .body(body)
        .expect("status and version come from a valid response");
    *response.headers_mut() = headers;
    reqwest::Response::from(response)
}
