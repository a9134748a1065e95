//! Stages 6 and 10: faults injected on purpose (configured with
//! [`Faults`] or per request with `X-Sandbox-Fault`). Before the operation
//! runs: latency, the rate limit and error statuses; after it ran: the
//! response is lost or cut short while the effect stays.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::Notify;

use super::auth::Caller;
use super::render::{BoxError, RespBody};
use crate::clock::Clock;
use crate::error::ApiError;
use crate::faults::{Directive, Faults, parse_header};
use crate::state::lock;
use crate::stats::{Counters, inc};

/// Lets a request close its own connection (the `drop` fault).
#[derive(Default)]
pub(crate) struct Connection {
    pub kill: Notify,
}

/// The faults' own state: configuration, random draws, counters of
/// `X-Sandbox-Fault-Times` and rate-limit windows.
pub(crate) struct Injector {
    config: Mutex<Faults>,
    rng: Mutex<StdRng>,
    times: Mutex<HashMap<String, u64>>,
    rate: Mutex<HashMap<String, (DateTime<Utc>, u32)>>,
}

/// The faults of one request, decided before it runs.
pub(crate) struct Plan {
    directives: Vec<Directive>,
    config: Faults,
}

impl Injector {
    pub fn new(faults: Faults) -> Injector {
        Injector {
            rng: Mutex::new(StdRng::seed_from_u64(faults.seed)),
            config: Mutex::new(faults),
            times: Mutex::new(HashMap::new()),
            rate: Mutex::new(HashMap::new()),
        }
    }

    pub fn set(&self, faults: Faults) {
        *lock(&self.rng) = StdRng::seed_from_u64(faults.seed);
        *lock(&self.rate) = HashMap::new();
        *lock(&self.config) = faults;
    }

    /// Waits the injected latency, then fails the request if a fault says so.
    pub async fn before(
        &self,
        clock: &Clock,
        counters: &Counters,
        caller: &Caller,
        idem_key: Option<&str>,
        parts: &Parts,
    ) -> Result<Plan, ApiError> {
        let directives = self.directives(caller, idem_key, parts)?;
        let config = lock(&self.config).clone();
        let delay = directives.iter().fold(config.latency, |d, x| match x {
            Directive::Latency(l) => d + *l,
            _ => d,
        });
        if !delay.is_zero() {
            inc(&counters.delayed);
            tokio::time::sleep(delay).await;
        }
        if let Some((limit, window)) = config.rate_limit
            && let Some(retry) = self.rate_limited(clock.now(), &caller.key, limit, window)
        {
            inc(&counters.rate_limited);
            return Err(fault_error(
                429,
                Some(retry),
                "rate limit of the sandbox configuration",
            ));
        }
        if let Some(e) = self.injected_status(counters, &directives, &config) {
            return Err(e);
        }
        Ok(Plan { directives, config })
    }

    /// The `X-Sandbox-Fault` directives that apply to this request (none once
    /// `X-Sandbox-Fault-Times` requests with the same header got them).
    fn directives(
        &self,
        caller: &Caller,
        idem_key: Option<&str>,
        parts: &Parts,
    ) -> Result<Vec<Directive>, ApiError> {
        let Some(v) = parts.headers.get("x-sandbox-fault") else {
            return Ok(Vec::new());
        };
        let header = v.to_str().map_err(|_| "not ASCII".to_string());
        let directives = header.clone().and_then(parse_header).map_err(|msg| {
            ApiError::invalid_param(
                "X-Sandbox-Fault",
                format!("Invalid X-Sandbox-Fault header: {msg}."),
            )
        })?;
        let Some(times) = parts.headers.get("x-sandbox-fault-times") else {
            return Ok(directives);
        };
        let times = times
            .to_str()
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok())
            .ok_or_else(|| {
                ApiError::invalid_param(
                    "X-Sandbox-Fault-Times",
                    "X-Sandbox-Fault-Times must be a non-negative integer.",
                )
            })?;
        let scope = match idem_key {
            Some(k) => format!("key {k}"),
            None => match parts.uri.path_and_query() {
                Some(pq) => format!("{} {pq}", parts.method),
                None => format!("{} {}", parts.method, parts.uri.path()),
            },
        };
        let counter = format!(
            "{}\u{0}{}\u{0}{scope}",
            caller.key,
            header.unwrap_or_default()
        );
        let mut seen = lock(&self.times);
        let n = seen.entry(counter).or_insert(0);
        *n += 1;
        Ok(if *n <= times { directives } else { Vec::new() })
    }

    /// An error status from the header or from the configured random faults.
    fn injected_status(
        &self,
        counters: &Counters,
        directives: &[Directive],
        config: &Faults,
    ) -> Option<ApiError> {
        let count = |status: u16| {
            if status == 429 {
                inc(&counters.rate_limited);
            } else {
                counters.error(status);
            }
        };
        for d in directives {
            if let Directive::Status {
                status,
                retry_after,
            } = d
            {
                count(*status);
                return Some(fault_error(*status, *retry_after, "X-Sandbox-Fault"));
            }
        }
        if config.error_statuses.is_empty() || !self.chance(config.error_rate) {
            return None;
        }
        let i = lock(&self.rng).random_range(0..config.error_statuses.len());
        let status = config.error_statuses[i].clamp(400, 599);
        count(status);
        // A random 503 carries no Retry-After (the API says it may), so
        // clients fall back to their own backoff; a random 429 says 0 s.
        let retry = (status == 429).then_some(0);
        Some(fault_error(
            status,
            retry,
            "random fault of the sandbox configuration",
        ))
    }

    /// After the operation ran: the response is lost (the connection closes)
    /// or cut short, or goes out as it is.
    pub async fn after(
        &self,
        plan: &Plan,
        conn: &Connection,
        counters: &Counters,
        response: Response<RespBody>,
    ) -> Response<RespBody> {
        let mut drop =
            plan.directives.contains(&Directive::Drop) || self.chance(plan.config.drop_rate);
        let mut cut = !drop
            && (plan.directives.contains(&Directive::Truncate)
                || self.chance(plan.config.truncate_rate));
        if cut && response.status() == StatusCode::NO_CONTENT {
            // Nothing to cut short: lose the whole response instead.
            cut = false;
            drop = true;
        }
        if drop {
            inc(&counters.dropped);
            conn.kill.notify_one();
            futures::future::pending::<()>().await;
        }
        if cut {
            inc(&counters.truncated);
            return truncate(response).await;
        }
        response
    }

    fn chance(&self, p: f64) -> bool {
        if p <= 0.0 || p.is_nan() {
            return false;
        }
        lock(&self.rng).random_bool(p.min(1.0))
    }

    /// Fixed-window rate limit per API key (a key belongs to one account: an
    /// account at its limit leaves the others alone): `Some(retry_after_secs)` when over.
    fn rate_limited(
        &self,
        now: DateTime<Utc>,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> Option<u64> {
        let window = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
        let mut m = lock(&self.rate);
        let e = m.entry(key.to_string()).or_insert((now, 0));
        if now - e.0 >= window {
            *e = (now, 0);
        }
        e.1 = e.1.saturating_add(1);
        if e.1 <= limit {
            return None;
        }
        let left = (window - (now - e.0)).to_std().unwrap_or_default();
        Some(left.as_secs() + u64::from(left.subsec_nanos() > 0))
    }
}

fn fault_error(status: u16, retry_after: Option<u64>, how: &str) -> ApiError {
    let (code, msg) = match status {
        429 => (
            "rate_limit_exceeded",
            "Too many requests; retry after the number of seconds in Retry-After.",
        ),
        500 => (
            "internal_error",
            "An unexpected error occurred. Please retry.",
        ),
        502 => ("bad_gateway", "Bad gateway. Please retry."),
        503 => (
            "service_unavailable",
            "The service is temporarily unavailable; please retry shortly.",
        ),
        504 => ("gateway_timeout", "Gateway timeout. Please retry."),
        _ => ("sandbox_fault", "Error injected by the sandbox."),
    };
    let mut e = ApiError::new(status, code, format!("{msg} ({how})"));
    e.retry_after = retry_after;
    e
}

#[derive(Debug)]
struct Truncated;

impl std::fmt::Display for Truncated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("response truncated by the sandbox (X-Sandbox-Fault: truncate)")
    }
}

impl std::error::Error for Truncated {}

/// Sends the headers with the full Content-Length and only half of the body.
async fn truncate(resp: Response<RespBody>) -> Response<RespBody> {
    let (mut parts, body) = resp.into_parts();
    let is_stream = parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if is_stream {
        // Stream bodies: the first chunk, then the connection breaks.
        let mut stream = body.into_data_stream();
        let first = stream.next().await;
        let frames =
            futures::stream::iter(first.into_iter().map(|r| r.map(Frame::data))).chain(broken());
        return Response::from_parts(parts, StreamBody::new(frames).boxed_unsync());
    }
    let bytes = match body.collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let half = bytes.slice(0..bytes.len() / 2);
    if let Ok(v) = HeaderValue::from_str(&bytes.len().max(1).to_string()) {
        parts.headers.insert(header::CONTENT_LENGTH, v);
    }
    let frames = futures::stream::iter(vec![Ok(Frame::data(half))]).chain(broken());
    Response::from_parts(parts, StreamBody::new(frames).boxed_unsync())
}

/// After a pause (so that what was sent so far is flushed), the body fails and
/// the connection is closed.
fn broken() -> impl futures::Stream<Item = Result<Frame<Bytes>, BoxError>> {
    futures::stream::once(async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Err::<Frame<Bytes>, BoxError>(Box::new(Truncated))
    })
}
