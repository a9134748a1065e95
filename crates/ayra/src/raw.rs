//! Calls named by their operation instead of a typed builder, for programs
//! driven by the spec rather than written against it (the `ayra` command
//! line builds one command per entry of [`crate::api::OPERATIONS`]).
//!
//! A raw call goes through the same runtime as a builder's `send()`: the
//! credentials, retries, one idempotency key per call, timeouts and typed
//! [`Error`](crate::Error)s. Only the body stays JSON ([`serde_json::Value`]).
//!
//! ```no_run
//! # async fn run(client: ayra::Client) -> ayra::Result<()> {
//! let op = ayra::api::operation("list_agents").expect("in the spec");
//! let request = ayra::RawRequest::default().query("status", "active");
//! let agents = client.call(op, request).await?;
//! println!("{} agents", agents["meta"]["total"]);
//! # Ok(()) }
//! ```

use crate::error::{Error, Result};
use crate::pagination::ListEnvelope;
use crate::response::Response;
use crate::runtime::{self, BoxFuture, Operation};
use crate::types::{Links, ListMeta};
use serde_json::Value;

/// What a raw call sends besides its operation: path values, query, body.
#[derive(Debug, Clone, Default)]
pub struct RawRequest {
    path: Vec<(String, String)>,
    query: Vec<(String, String)>,
    body: Option<Value>,
    idempotency_key: Option<String>,
}

impl RawRequest {
    /// The value of the path template's `{name}` (encoded as one segment).
    pub fn path(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.path.push((name.into(), value.into()));
        self
    }

    /// A query parameter (repeat the name for a list).
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// The JSON request body.
    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// The `Idempotency-Key` to send instead of a generated one, so that a
    /// write resent later (by a rerun of the same plan) is applied once.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Sets the `page` query parameter, replacing one already set.
    fn with_page(mut self, page: u64) -> Self {
        self.query.retain(|(name, _)| name != "page");
        self.query.push(("page".to_string(), page.to_string()));
        self
    }

    /// The `reqwest::Request` of `op` on `client`.
    fn build(&self, client: &crate::Client, op: &Operation) -> Result<reqwest::Request> {
        let mut path = String::with_capacity(op.path.len() + 32);
        let mut rest = op.path;
        while let Some(open) = rest.find('{') {
            let close = rest[open..]
                .find('}')
                .map(|i| open + i)
                .ok_or_else(|| Error::InvalidRequest(format!("bad path template {}", op.path)))?;
            let name = &rest[open + 1..close];
            let value = self
                .path
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .ok_or_else(|| {
                    Error::InvalidRequest(format!("path parameter `{name}` is required"))
                })?;
            path.push_str(&rest[..open]);
            path.push_str(
                &runtime::path_segment::<()>(name, value).map_err(runtime::invalid_request)?,
            );
            rest = &rest[close + 1..];
        }
        path.push_str(rest);
        let mut url = runtime::url(client, format_args!("{path}"));
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        let method = reqwest::Method::from_bytes(op.method.as_bytes())
            .map_err(|_| Error::InvalidRequest(format!("bad method {}", op.method)))?;
        let mut builder = client.client.request(method, url).header(
            reqwest::header::ACCEPT,
            if op.streaming {
                "*/*"
            } else {
                "application/json"
            },
        );
        if let Some(body) = &self.body {
            builder = builder.json(body);
        }
        if let Some(key) = &self.idempotency_key {
            builder = builder.header("Idempotency-Key", key.as_str());
        }
        builder
            .build()
            .map_err(|e| Error::InvalidRequest(crate::error::cause_chain(&e)))
    }
}

impl crate::Client {
    /// Sends `op`, whose success is a JSON body, and returns that body.
    pub async fn call(
        &self,
        op: &'static Operation,
        request: RawRequest,
    ) -> Result<Response<Value>> {
        let http = request.build(self, op)?;
        runtime::json(self, http, op).await.map(Response::from)
    }

    /// Sends `op`, whose success has no body (a `204`).
    pub async fn call_empty(
        &self,
        op: &'static Operation,
        request: RawRequest,
    ) -> Result<Response<()>> {
        let http = request.build(self, op)?;
        runtime::empty(self, http, op).await.map(Response::from)
    }

    /// Sends `op`, whose success is a byte stream (a download, events).
    pub async fn call_stream(
        &self,
        op: &'static Operation,
        request: RawRequest,
    ) -> Result<Response<progenitor_client::ByteStream>> {
        let http = request.build(self, op)?;
        runtime::stream(self, http, op).await.map(Response::from)
    }

    /// A list operation's pages as a [`crate::Paginate`] stream of JSON
    /// items (`.items()`, `.pages()`), from the request's page on.
    pub fn call_list(&self, op: &'static Operation, request: RawRequest) -> RawList<'_> {
        RawList {
            client: self,
            op,
            request,
        }
    }
}

/// A list operation sent raw, for [`crate::Paginate`]: see
/// [`Client::call_list`](crate::Client::call_list).
#[derive(Debug, Clone)]
pub struct RawList<'a> {
    client: &'a crate::Client,
    op: &'static Operation,
    request: RawRequest,
}

impl<'a> crate::ListOperation<'a> for RawList<'a> {
    type Page = RawPage;

    fn with_page(mut self, page: u64) -> Self {
        self.request = self.request.with_page(page);
        self
    }

    fn send_page(self) -> BoxFuture<'a, Result<Response<RawPage>>> {
        Box::pin(async move {
            let http = self.request.build(self.client, self.op)?;
            runtime::json::<RawPage>(self.client, http, self.op)
                .await
                .map(Response::from)
        })
    }
}

/// One page of a raw list: the list envelope with its items as JSON.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RawPage {
    data: Vec<Value>,
    meta: ListMeta,
    links: Links,
}

impl ListEnvelope for RawPage {
    type Item = Value;

    fn into_parts(self) -> (Vec<Value>, ListMeta, Links) {
        (self.data, self.meta, self.links)
    }

    fn id(item: &Value) -> Option<&str> {
        item.get("id").and_then(Value::as_str)
    }
}
