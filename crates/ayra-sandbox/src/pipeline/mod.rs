//! The per-request pipeline. Each stage has one job and either hands the
//! request on or answers it:
//!
//! 1. [`request_id`]: names the request (`X-Request-Id`, error envelopes);
//! 2. [`observe`]: shows the exchange to the test's observer, if any;
//! 3. [`routing`] (preflight): answers CORS `OPTIONS` requests;
//! 4. [`body`]: reads the body, at most [`body::MAX_BODY_BYTES`];
//! 5. [`auth`]: the API key, resolved to its account (whose state alone the
//!    later stages see), full access or read-only;
//! 6. [`faults`] (before): injected latency, rate limit and error statuses;
//! 7. [`routing`]: the operation, its path parameters, the key's permission;
//! 8. [`idempotency`]: replays or runs once per `Idempotency-Key`;
//! 9. [`handler`]: runs the operation (`handlers/`) on the state;
//! 10. [`faults`] (after): loses or cuts the response, the effect stays;
//! 11. [`render`]: turns replies and errors into HTTP responses.

pub(crate) mod auth;
pub(crate) mod body;
pub(crate) mod faults;
pub(crate) mod handler;
pub(crate) mod idempotency;
pub(crate) mod observe;
pub(crate) mod render;
pub(crate) mod request_id;
pub(crate) mod routing;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use http::request::Parts;
use http::{Method, Request, Response};
use hyper::body::Incoming;

use crate::accounts::Accounts;
use crate::clock::Clock;
use crate::error::ApiError;
use crate::stats::{Counters, inc};
use faults::Connection;
use render::RespBody;

/// What the stages share: the accounts (their keys and data), the clock and
/// each stage's own state.
pub(crate) struct Pipeline {
    pub accounts: Accounts,
    pub clock: Arc<Clock>,
    pub faults: faults::Injector,
    pub idempotency: idempotency::Store,
    pub counters: Counters,
    /// Where the sandbox listens (the base URL when a request has no valid `Host`).
    pub addr: SocketAddr,
    pub observer: Option<observe::Observer>,
}

/// Serves one request; a panic in a handler becomes a 500, never a dropped connection.
pub(crate) async fn handle(
    p: Arc<Pipeline>,
    conn: Arc<Connection>,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, Infallible> {
    inc(&p.counters.requests);
    let rid = request_id::new();
    let watched = observe::watch(p.observer.as_ref(), &req);
    match AssertUnwindSafe(process(&p, &conn, req, &rid))
        .catch_unwind()
        .await
    {
        Ok(response) => Ok(observe::show(watched, response).await),
        Err(_) => {
            inc(&p.counters.panics);
            Ok(render::error(&ApiError::internal(), &rid))
        }
    }
}

async fn process(
    p: &Pipeline,
    conn: &Connection,
    req: Request<Incoming>,
    rid: &str,
) -> Response<RespBody> {
    let (parts, body) = req.into_parts();
    if parts.method == Method::OPTIONS {
        return routing::preflight(&parts, rid);
    }
    match stages(p, &parts, body, rid).await {
        Ok((response, faults)) => p.faults.after(&faults, conn, &p.counters, response).await,
        Err(e) => render::error(&e, rid),
    }
}

/// The stages between reading the request and the faults injected after it ran.
async fn stages(
    p: &Pipeline,
    parts: &Parts,
    body: Incoming,
    rid: &str,
) -> Result<(Response<RespBody>, faults::Plan), ApiError> {
    let body = body::read(&parts.headers, body).await?;
    let key = auth::authenticate(&p.accounts, &parts.headers)?;
    inc(&key.account.requests);
    let idem_key = idempotency::key(parts)?;
    let faults = p
        .faults
        .before(&p.clock, &p.counters, &key, idem_key.as_deref(), parts)
        .await?;
    let route = routing::route(parts, key.read_only)?;
    let ctx = handler::context(p, &key.account, parts, body, rid);
    let response = match idem_key {
        Some(idem_key) => {
            let run = || handler::run(&ctx, &route, &p.counters, &key.account);
            let idem = &p.idempotency;
            idem.run(&p.counters, &key, idem_key, &parts.method, &ctx, run)
                .await
        }
        None => {
            let reply = handler::run(&ctx, &route, &p.counters, &key.account);
            render::reply(reply, rid, false)
        }
    };
    Ok((response, faults))
}
