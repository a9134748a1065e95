//! What the generated client calls into: every builder's `send()` hands its
//! built request to [`json`], [`empty`] or [`stream`], which add the
//! credentials and idempotency key, run the retry loop (a tracing span per
//! attempt), read the body once and decode it from those bytes, or turn the
//! response into the SDK's [`Error`].
//!
//! Nothing here is specific to one operation: the facts about operations
//! (which take an idempotency key, which stream, which may be cached) come
//! from the generated [`crate::api::OPERATIONS`] table.

use crate::error::{Call, cause_chain};
pub use crate::error::{Error, Result};
use crate::retry::{RetryPolicy, is_retryable_status};
use bytes::{Bytes, BytesMut};
use progenitor_client::{ByteStream, ClientHooks, ClientInfo, ResponseValue};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

pub use crate::fields::{IntoItem, IntoJsonObject, IntoList, IntoOptional};
pub use crate::pagination::{ListEnvelope, ListOperation};
pub use crate::patch::Patch;
pub use crate::path::path_segment;
pub use crate::response::{Envelope, Response};

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

/// The largest body read into memory; beyond it the call fails.
const MAX_BODY_BYTES: usize = 64 << 20;

/// The most a body reserves before its bytes arrive, whatever its
/// `Content-Length` claims.
const MAX_RESERVE_BYTES: usize = 256 << 10;

const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
const API_VERSION: HeaderName = HeaderName::from_static("api-version");

/// Per-client settings carried by the generated client.
#[derive(Clone)]
pub struct Inner {
    /// The base URL, parsed once: each call's URL is a copy with its path
    /// set ([`url`]), which skips parsing the scheme and host again.
    pub(crate) base: reqwest::Url,
    pub(crate) retry: RetryPolicy,
    /// Each attempt's limit; for streams, the limit to the first byte.
    pub(crate) timeout: Option<Duration>,
    pub(crate) cache: Option<Arc<crate::cache::Cache>>,
    /// Whose key `auth` is: a printable label and an identity for the cache.
    pub(crate) account: crate::account::Account,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("account", &self.account.label())
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// progenitor's generated client asks for hooks; `send()` never calls them
/// (the generator hands each request to this module instead).
impl ClientHooks<Inner> for crate::api::Client {}

/// The URL of an operation: the client's base URL with `path` (a path
/// template filled with values from [`path_segment`]) after its path.
pub fn url(client: &crate::api::Client, path: std::fmt::Arguments<'_>) -> reqwest::Url {
    let base = &client.inner().base;
    let stem = base.path().trim_end_matches('/');
    let mut full = String::with_capacity(stem.len() + 64);
    full.push_str(stem);
    // Writing to a String fails only if a value's `Display` does; the
    // values here are strings.
    let _ = std::fmt::Write::write_fmt(&mut full, path);
    let mut url = base.clone();
    url.set_path(&full);
    url
}

/// The error of a request that could not be built (a missing parameter, a
/// path value refused by [`path_segment`], a header value that is not one).
pub fn invalid_request<E>(e: progenitor_client::Error<E>) -> Error {
    use progenitor_client::Error as P;
    match e {
        P::InvalidRequest(m) | P::Custom(m) => Error::InvalidRequest(m),
        P::CommunicationError(e) => Error::InvalidRequest(cause_chain(&e)),
        _ => Error::InvalidRequest("the request could not be built".to_string()),
    }
}

/// Sends a call whose success body is JSON and decodes it.
pub async fn json<T: serde::de::DeserializeOwned>(
    client: &crate::api::Client,
    request: reqwest::Request,
    op: &'static Operation,
) -> Result<ResponseValue<T>> {
    let done = Box::pin(call(client, request, op, false)).await?;
    let Reply::Read {
        status,
        headers,
        body,
    } = done.reply
    else {
        return Err(unexpected_stream(call_of(
            done.attempts,
            &done.key,
            &client.inner().account,
        )));
    };
    match serde_json::from_slice(&body) {
        Ok(value) => Ok(ResponseValue::new(value, status, headers)),
        Err(e) => Err(Error::decode(
            Some(status),
            request_id(&headers),
            &body,
            e,
            call_of(done.attempts, &done.key, &client.inner().account),
        )),
    }
}

/// Sends a call whose success has no body (204).
///
/// A DELETE retried after an attempt that may have been applied (its
/// response lost, or a 5xx) counts a 404 as done: the earlier attempt
/// deleted it. The response then carries status 404.
pub async fn empty(
    client: &crate::api::Client,
    request: reqwest::Request,
    op: &'static Operation,
) -> Result<ResponseValue<()>> {
    let done = Box::pin(call(client, request, op, false)).await?;
    match done.reply {
        Reply::Read {
            status, headers, ..
        } => Ok(ResponseValue::new((), status, headers)),
        Reply::Stream(_) => Err(unexpected_stream(call_of(
            done.attempts,
            &done.key,
            &client.inner().account,
        ))),
    }
}

/// Sends a call whose success body is a byte stream (a download, events).
/// The call's timeout bounds the wait for the response's first byte; the
/// client's stream idle timeout bounds each silence after it.
pub async fn stream(
    client: &crate::api::Client,
    request: reqwest::Request,
    op: &'static Operation,
) -> Result<ResponseValue<ByteStream>> {
    let done = Box::pin(call(client, request, op, true)).await?;
    match done.reply {
        Reply::Stream(response) => Ok(ResponseValue::stream(response)),
        // A success with a body already read (a cached or empty reply).
        Reply::Read {
            status,
            headers,
            body,
        } => {
            let chunks = futures::stream::once(async move { Ok::<_, reqwest::Error>(body) });
            Ok(ResponseValue::new(
                ByteStream::new(Box::pin(chunks)),
                status,
                headers,
            ))
        }
    }
}

fn unexpected_stream(call: Call) -> Error {
    Error::decode(
        None,
        None,
        b"",
        "a streamed body where JSON was expected",
        call,
    )
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    crate::response::header_str(headers, "x-request-id").map(str::to_string)
}

/// What a call got back.
enum Reply {
    /// A body read whole (JSON, an error, an empty body).
    Read {
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
    },
    /// A successful response whose body is still to be streamed.
    Stream(reqwest::Response),
}

impl Reply {
    fn status(&self) -> StatusCode {
        match self {
            Reply::Read { status, .. } => *status,
            Reply::Stream(r) => r.status(),
        }
    }

    fn headers(&self) -> &HeaderMap {
        match self {
            Reply::Read { headers, .. } => headers,
            Reply::Stream(r) => r.headers(),
        }
    }
}

struct Done {
    reply: Reply,
    attempts: u32,
    key: Option<Key>,
}

/// A call's idempotency key, kept to name it in errors: a generated key as
/// its UUID (a string is made only if an error needs one), a caller's as it
/// was sent.
enum Key {
    Generated(uuid::Uuid),
    Given(HeaderValue),
}

/// What a call did, for its error.
fn call_of(attempts: u32, key: &Option<Key>, account: &crate::account::Account) -> Call {
    let idempotency_key = key.as_ref().and_then(|key| match key {
        Key::Generated(uuid) => Some(uuid.hyphenated().to_string()),
        Key::Given(value) => value.to_str().ok().map(str::to_string),
    });
    Call {
        attempts,
        idempotency_key,
        account: Some(account.shared_label()),
    }
}

/// One logical call: credentials, idempotency key, the cache around the
/// retry loop.
async fn call(
    client: &crate::api::Client,
    mut request: reqwest::Request,
    op: &'static Operation,
    streaming: bool,
) -> Result<Done> {
    let inner = client.inner();
    let headers = request.headers_mut();
    headers.insert(AUTHORIZATION, inner.account.auth().clone());
    let version = <crate::api::Client as ClientInfo<Inner>>::api_version();
    headers.insert(API_VERSION, HeaderValue::from_static(version));
    let key = if op.idempotency_key {
        // One key per logical call: each retry sends a clone of this request.
        // A key the caller set (to resend a write) is kept.
        match headers.get(IDEMPOTENCY_KEY) {
            Some(value) => Some(Key::Given(value.clone())),
            None => {
                let uuid = uuid::Uuid::new_v4();
                let mut text = uuid::Uuid::encode_buffer();
                let text = uuid.hyphenated().encode_lower(&mut text);
                let value = HeaderValue::from_str(text).expect("a uuid is a valid header value");
                headers.insert(IDEMPOTENCY_KEY, value);
                Some(Key::Generated(uuid))
            }
        }
    } else {
        None
    };
    let streaming = streaming || op.streaming;
    let send = |request| with_retries(client.client(), inner, request, op, streaming, key);
    let Some(cache) = inner.cache.as_deref() else {
        return send(request).await;
    };
    let url = request.url().clone();
    if request.method() != Method::GET {
        // Before and after, whatever the outcome: a write that failed may
        // still have been applied, and a read racing it must not store what
        // it saw before the write.
        cache.invalidate(inner.account.id(), &url);
        let outcome = send(request).await;
        cache.invalidate(inner.account.id(), &url);
        return outcome;
    }
    if !op.cacheable {
        return send(request).await;
    }
    if let Some(hit) = cache.get(inner.account.id(), url.as_str()) {
        tracing::debug!(operation = op.id, "served from cache");
        let reply = Reply::Read {
            status: hit.status,
            headers: hit.headers,
            body: hit.body,
        };
        return Ok(Done {
            reply,
            attempts: 0,
            key: None,
        });
    }
    let generation = cache.generation();
    let done = send(request).await?;
    if let Reply::Read {
        status: StatusCode::OK,
        headers,
        body,
    } = &done.reply
    {
        cache.put(
            inner.account.id(),
            url.to_string(),
            generation,
            headers,
            body.clone(),
        );
    }
    Ok(done)
}

/// Sends `request`, and again after a backoff while the outcome is transient
/// and the policy allows; each attempt is a tracing span with its number.
async fn with_retries(
    http: &reqwest::Client,
    inner: &Inner,
    mut request: reqwest::Request,
    op: &'static Operation,
    streaming: bool,
    key: Option<Key>,
) -> Result<Done> {
    let (account, policy, limit) = (&inner.account, &inner.retry, inner.timeout);
    let is_delete = request.method() == Method::DELETE;
    // Whether an earlier attempt may have been applied by the server.
    let mut maybe_applied = false;
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        // The clone keeps the idempotency key: every attempt sends it.
        let spare = if attempts <= policy.retries() {
            request.try_clone()
        } else {
            None
        };
        let call = || call_of(attempts, &key, account);
        let span = tracing::debug_span!(
            "ayra.request",
            account = account.label(),
            operation = op.id,
            method = %request.method(),
            path = op.path,
            attempt = attempts,
            status = tracing::field::Empty,
            request_id = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let outcome = attempt(http, request, streaming, limit)
            .instrument(span.clone())
            .await;
        span.record("duration_ms", started.elapsed().as_millis() as u64);
        let (retry_after, applied) = match outcome {
            Ok(reply) => {
                let status = reply.status();
                span.record("status", status.as_u16());
                if let Some(id) = crate::response::header_str(reply.headers(), "x-request-id") {
                    span.record("request_id", id);
                }
                span.in_scope(|| tracing::debug!(status = status.as_u16(), "response"));
                if status.is_success() {
                    return Ok(Done {
                        reply,
                        attempts,
                        key,
                    });
                }
                if is_delete && maybe_applied && status == StatusCode::NOT_FOUND {
                    span.in_scope(|| {
                        tracing::info!("404 on a retried DELETE: an earlier attempt deleted it")
                    });
                    return Ok(Done {
                        reply,
                        attempts,
                        key,
                    });
                }
                let Reply::Read { headers, body, .. } = &reply else {
                    unreachable!("only a success is streamed");
                };
                if !is_retryable_status(status) || spare.is_none() {
                    return Err(Error::from_status(status, headers, body, call()));
                }
                // A 429 was refused before any work; a 5xx may have been applied.
                let applied = status != StatusCode::TOO_MANY_REQUESTS;
                (crate::retry::retry_after(headers), applied)
            }
            Err(failure) => {
                span.in_scope(|| tracing::debug!(error = %failure.describe(), "transport error"));
                if !failure.transient() || spare.is_none() {
                    return Err(failure.into_error(call()));
                }
                (None, true)
            }
        };
        maybe_applied |= applied;
        let Some(next) = spare else {
            unreachable!("returned above without a spare request");
        };
        let delay = policy.delay(attempts - 1, retry_after);
        span.in_scope(|| tracing::info!(delay_ms = delay.as_millis() as u64, "retrying"));
        tokio::time::sleep(delay).await;
        request = next;
    }
}

/// Why one attempt got no usable response.
enum Failure {
    /// reqwest failed: connecting, sending, or reading the body.
    Http {
        source: reqwest::Error,
        request_id: Option<String>,
        waiting_for: &'static str,
    },
    /// No first byte of a stream within the call's timeout.
    FirstByte,
    /// The response or the rest of its body did not come within the
    /// attempt's timeout.
    Timeout {
        waiting_for: &'static str,
        request_id: Option<String>,
    },
    /// The body exceeded [`MAX_BODY_BYTES`]: not retried.
    Oversized {
        status: StatusCode,
        request_id: Option<String>,
        start: Bytes,
    },
}

impl Failure {
    /// Whether another attempt may go better. Every call the SDK retries is
    /// safe to repeat: reads, deletes, and writes that carry a key.
    fn transient(&self) -> bool {
        match self {
            Failure::Http { source, .. } => {
                !(source.is_builder() || source.is_redirect() || source.is_status())
            }
            Failure::FirstByte | Failure::Timeout { .. } => true,
            Failure::Oversized { .. } => false,
        }
    }

    fn describe(&self) -> String {
        match self {
            Failure::Http { source, .. } => cause_chain(source),
            Failure::FirstByte => "no first byte before the timeout".to_string(),
            Failure::Timeout { waiting_for, .. } => format!("timed out waiting for {waiting_for}"),
            Failure::Oversized { .. } => "the body exceeds the limit".to_string(),
        }
    }

    fn into_error(self, call: Call) -> Error {
        match self {
            Failure::Http {
                source,
                request_id,
                waiting_for,
            } => Error::from_reqwest(source, request_id, waiting_for, call),
            Failure::FirstByte => Error::Timeout {
                waiting_for: "the first byte",
                request_id: None,
                call,
            },
            Failure::Timeout {
                waiting_for,
                request_id,
            } => Error::Timeout {
                waiting_for,
                request_id,
                call,
            },
            Failure::Oversized {
                status,
                request_id,
                start,
            } => Error::decode(
                Some(status),
                request_id,
                &start,
                format!("the body exceeds the {MAX_BODY_BYTES}-byte limit"),
                call,
            ),
        }
    }
}

/// One attempt: send, and unless it is a streamed success, read the body
/// whole (bounded) so that a connection dropped mid-body is retried like any
/// other failure. `limit` bounds the wait for the response and its body
/// (for a stream, the wait for the response only).
///
/// The limit is one timer in this future rather than reqwest's per-request
/// timeout, which boxes its timer and wraps the response body: that cost
/// 2,600 instructions and 7 allocations per call.
async fn attempt(
    http: &reqwest::Client,
    request: reqwest::Request,
    streaming: bool,
    limit: Option<Duration>,
) -> std::result::Result<Reply, Failure> {
    let mut deadline = std::pin::pin!(limit.map(tokio::time::sleep));
    let response = match before(deadline.as_mut(), http.execute(request)).await {
        Some(response) => response,
        None if streaming => return Err(Failure::FirstByte),
        None => {
            return Err(Failure::Timeout {
                waiting_for: "the response",
                request_id: None,
            });
        }
    };
    let mut response = response.map_err(|source| Failure::Http {
        source,
        request_id: None,
        waiting_for: "the response",
    })?;
    let status = response.status();
    if streaming && status.is_success() {
        return Ok(Reply::Stream(response));
    }
    let headers = std::mem::take(response.headers_mut());
    let Some(body) = before(deadline, read_body(&mut response)).await else {
        return Err(Failure::Timeout {
            waiting_for: "the rest of the body",
            request_id: request_id(&headers),
        });
    };
    let body = match body {
        Ok(Body::Whole(body)) => body,
        Ok(Body::Oversized(start)) => {
            let request_id = request_id(&headers);
            return Err(Failure::Oversized {
                status,
                request_id,
                start,
            });
        }
        Err(source) => {
            return Err(Failure::Http {
                source,
                request_id: request_id(&headers),
                waiting_for: "the rest of the body",
            });
        }
    };
    Ok(Reply::Read {
        status,
        headers,
        body,
    })
}

/// `work`'s output, or `None` when `deadline` passes first.
async fn before<F: std::future::Future>(
    mut deadline: std::pin::Pin<&mut Option<tokio::time::Sleep>>,
    work: F,
) -> Option<F::Output> {
    let mut work = std::pin::pin!(work);
    std::future::poll_fn(move |cx| {
        if let std::task::Poll::Ready(out) = work.as_mut().poll(cx) {
            return std::task::Poll::Ready(Some(out));
        }
        match deadline.as_mut().as_pin_mut() {
            Some(sleep) => sleep.poll(cx).map(|()| None),
            None => std::task::Poll::Pending,
        }
    })
    .await
}

enum Body {
    Whole(Bytes),
    /// The body passed [`MAX_BODY_BYTES`]; its first bytes, for the error.
    Oversized(Bytes),
}

/// Reads a whole body, up to [`MAX_BODY_BYTES`]. A body that arrives in one
/// chunk (the common case for API replies) is kept without a copy.
async fn read_body(resp: &mut reqwest::Response) -> reqwest::Result<Body> {
    let expected = resp.content_length();
    let Some(first) = resp.chunk().await? else {
        return Ok(Body::Whole(Bytes::new()));
    };
    if expected == Some(first.len() as u64) {
        return Ok(Body::Whole(first));
    }
    let Some(second) = resp.chunk().await? else {
        return Ok(Body::Whole(first));
    };
    let hint = (expected.unwrap_or(0) as usize).min(MAX_RESERVE_BYTES);
    let mut body = BytesMut::with_capacity(hint.max(first.len() + second.len()));
    body.extend_from_slice(&first);
    body.extend_from_slice(&second);
    while let Some(chunk) = resp.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            body.truncate(1024);
            return Ok(Body::Oversized(body.freeze()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Body::Whole(body.freeze()))
}
