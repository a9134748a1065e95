//! What a successful call returns: the decoded body with the response's
//! status and headers.

use progenitor_client::ResponseValue;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use std::ops::{Deref, DerefMut};

/// A successful response: the decoded body (`T`, for most operations an
/// envelope with the resource in `data` and `meta`), its status and headers.
///
/// It dereferences to the body, so `response.data` and `response.meta` read
/// directly while the request id stays at hand; [`into_data`](Self::into_data)
/// keeps just the resource.
///
/// ```no_run
/// use ayra::prelude::*;
/// # async fn run(client: ayra::Client) -> ayra::Result<()> {
/// let voices = client.list_voices().send().await?;
/// println!("{} voices (request {})", voices.meta.total, voices.request_id().unwrap_or("-"));
///
/// let agent: Agent = client
///     .create_agent()
///     .body_map(|b| b.name("Front desk").voice_id("voice_ava").prompt("Be brief."))
///     .send()
///     .await?
///     .into_data();
/// println!("{} is {}", agent.id, agent.status);
/// # Ok(()) }
/// ```
pub struct Response<T>(ResponseValue<T>);

impl<T> Response<T> {
    /// The HTTP status (a 2xx; a 404 for a DELETE whose earlier attempt
    /// may have been applied, see the README's retries).
    pub fn status(&self) -> StatusCode {
        self.0.status()
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        self.0.headers()
    }

    /// The decoded body (the whole envelope: `data`, `meta`, ...).
    pub fn into_inner(self) -> T {
        self.0.into_inner()
    }

    /// The resource the body carries in `data`, without the envelope.
    pub fn into_data(self) -> T::Data
    where
        T: Envelope,
    {
        self.0.into_inner().into_data()
    }

    /// The progenitor value, for the runtime's streaming bodies.
    pub(crate) fn into_value(self) -> ResponseValue<T> {
        self.0
    }
}

#[doc(hidden)]
impl<T> From<ResponseValue<T>> for Response<T> {
    fn from(value: ResponseValue<T>) -> Self {
        Response(value)
    }
}

impl<T> Deref for Response<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Response<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Response<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status())
            .field("request_id", &self.request_id())
            .field("body", &**self)
            .finish()
    }
}

/// A response body that carries its resource in `data` (implemented by the
/// generator for every such body).
pub trait Envelope {
    /// The resource (a list for list operations).
    type Data;
    /// The resource, without `meta` and `links`.
    fn into_data(self) -> Self::Data;
}

/// Reads the response metadata users ask for most.
///
/// ```no_run
/// # async fn run(client: ayra::Client) -> ayra::Result<()> {
/// use ayra::ResponseExt;
/// let contact = client
///     .create_contact()
///     .idempotency_key("import-42")
///     .body_map(|b| b.first_name("Ada"))
///     .send()
///     .await?;
/// if contact.is_replay() {
///     println!("already created by an earlier attempt (request {:?})", contact.request_id());
/// }
/// # Ok(()) }
/// ```
pub trait ResponseExt {
    /// The `X-Request-Id` the server gave this call (none for a response
    /// served from the client's cache).
    fn request_id(&self) -> Option<&str>;

    /// Whether the client's reference-data cache answered this call, without
    /// a request (see `ClientBuilder::cache_reference_data`).
    fn is_cached(&self) -> bool;

    /// Whether the server replayed the stored outcome of an earlier request
    /// with the same `Idempotency-Key` instead of performing the operation
    /// again (`Idempotent-Replayed: true`).
    fn is_replay(&self) -> bool;
}

impl<T> ResponseExt for Response<T> {
    fn request_id(&self) -> Option<&str> {
        header_str(self.headers(), "x-request-id")
    }

    fn is_cached(&self) -> bool {
        self.headers().contains_key(crate::cache::CACHE_HEADER)
    }

    fn is_replay(&self) -> bool {
        header_str(self.headers(), "idempotent-replayed")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }
}

pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
