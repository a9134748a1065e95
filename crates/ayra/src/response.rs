//! What a successful call returns besides its body.

pub use progenitor_client::ResponseValue as Response;

/// Reads the response metadata users ask for most.
///
/// ```no_run
/// # async fn run(client: ayra::Client) -> ayra::Result<()> {
/// use ayra::ResponseExt;
/// let agents = client.list_agents().send().await?;
/// println!("request {:?} -> {} agents", agents.request_id(), agents.data.len());
/// # Ok(()) }
/// ```
pub trait ResponseExt {
    /// The `X-Request-Id` the server gave this call (none for a response
    /// served from the client's cache).
    fn request_id(&self) -> Option<&str>;

    /// Whether the client's reference-data cache answered this call, without
    /// a request (see `ClientBuilder::cache_reference_data`).
    fn is_cached(&self) -> bool;
}

impl<T> ResponseExt for Response<T> {
    fn request_id(&self) -> Option<&str> {
        header_str(self.headers(), "x-request-id")
    }

    fn is_cached(&self) -> bool {
        self.headers().contains_key(crate::cache::CACHE_HEADER)
    }
}

pub(crate) fn header_str<'a>(
    headers: &'a reqwest::header::HeaderMap,
    name: &str,
) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
