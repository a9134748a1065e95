//! Stage 9: runs the operation on the caller's account's state, through `handlers/`.

use bytes::Bytes;
use http::header;
use http::request::Parts;

use super::Pipeline;
use super::routing::Route;
use crate::accounts::Account;
use crate::api::{Ctx, Reply};
use crate::stats::{Counters, inc};

/// What the handler sees of the request: of the data, only `account`'s.
pub(crate) fn context(
    p: &Pipeline,
    account: &Account,
    parts: &Parts,
    body: Bytes,
    rid: &str,
) -> Ctx {
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| valid_host(h))
        .map(str::to_string)
        .unwrap_or_else(|| p.addr.to_string());
    Ctx {
        state: account.state.clone(),
        clock: p.clock.clone(),
        request_id: rid.to_string(),
        path: parts.uri.path().to_string(),
        query: parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default(),
        base_url: format!("http://{host}/v1"),
        body,
        headers: parts.headers.clone(),
        now: p.clock.now(),
    }
}

/// Runs the operation; its errors become error envelopes.
pub(crate) fn run(ctx: &Ctx, route: &Route, counters: &Counters, account: &Account) -> Reply {
    let reply = match crate::handlers::dispatch(ctx, route.op, &route.params) {
        Ok(r) => r,
        Err(e) => Reply::error(&e, &ctx.request_id),
    };
    if route.op.is_write() && (200..300).contains(&reply.status) {
        inc(&counters.writes_applied);
        inc(&account.writes_applied);
    }
    reply
}

/// A `Host` header fit for links (else the listening address is used).
fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
}
