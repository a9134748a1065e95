//! The HTTP server: accept loop, per-request pipeline (auth, faults, routing,
//! idempotency), and response rendering.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use futures::{FutureExt, StreamExt};
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::api::{ApiError, Ctx, Payload, Reply};
use crate::faults::{Directive, Faults, parse_header};
use crate::router::{RouteError, route};
use crate::state::{BASE62, State};
use crate::stats::{Counters, inc};

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type RespBody = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

pub(crate) struct Config {
    pub api_keys: HashSet<String>,
    pub read_only_keys: HashSet<String>,
    /// How long an idempotency key is remembered.
    pub idempotency_ttl: Duration,
}

/// The API keeps idempotency keys for 24 hours.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);

/// Every this many keys, expired ones are dropped (memory stays bounded by
/// the keys of the last `idempotency_ttl`).
const PRUNE_EVERY: usize = 4096;

/// A stored idempotent response.
#[derive(Clone)]
pub(crate) struct Stored {
    fingerprint: String,
    status: u16,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Option<Bytes>,
    request_id: String,
    stored_at: Instant,
}

type IdemSlot = Arc<tokio::sync::Mutex<Option<Stored>>>;

pub(crate) struct Shared {
    pub state: Mutex<State>,
    pub config: Config,
    pub faults: Mutex<Faults>,
    pub counters: Counters,
    idem: Mutex<HashMap<(String, String), IdemSlot>>,
    fault_times: Mutex<HashMap<String, u64>>,
    fault_rng: Mutex<StdRng>,
    rate: Mutex<HashMap<String, (Instant, u32)>>,
    pub addr: SocketAddr,
    pub observer: Option<crate::observe::Observer>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub fn new(state: State, config: Config, faults: Faults, addr: SocketAddr) -> Shared {
        let seed = faults.seed;
        Shared {
            state: Mutex::new(state),
            config,
            faults: Mutex::new(faults),
            counters: Counters::default(),
            idem: Mutex::new(HashMap::new()),
            fault_times: Mutex::new(HashMap::new()),
            fault_rng: Mutex::new(StdRng::seed_from_u64(seed)),
            rate: Mutex::new(HashMap::new()),
            addr,
            observer: None,
        }
    }

    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.fault_rng) = StdRng::seed_from_u64(faults.seed);
        *lock(&self.rate) = HashMap::new();
        *lock(&self.faults) = faults;
    }

    fn chance(&self, p: f64) -> bool {
        if p <= 0.0 || p.is_nan() {
            return false;
        }
        lock(&self.fault_rng).random_bool(p.min(1.0))
    }

    /// Fixed-window rate limit per API key: `Some(retry_after_secs)` when over.
    fn rate_limited(&self, key: &str, limit: u32, window: Duration) -> Option<u64> {
        let now = Instant::now();
        let mut m = lock(&self.rate);
        let e = m.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(e.0) >= window {
            *e = (now, 0);
        }
        e.1 = e.1.saturating_add(1);
        if e.1 > limit {
            let left = window.saturating_sub(now.duration_since(e.0));
            Some(left.as_secs() + u64::from(left.subsec_nanos() > 0))
        } else {
            None
        }
    }
}

// ---- accept loop ------------------------------------------------------------

/// Resolves once shutdown was requested (or the handle is gone).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await;
}

pub(crate) async fn run(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tasks = JoinSet::new();
    let conn_shutdown = shutdown.clone();
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tasks.spawn(serve_conn(stream, shared.clone(), conn_shutdown.clone()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            _ = stopped(&mut shutdown) => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    drop(listener);
    let drain = async { while tasks.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
    tasks.abort_all();
}

/// Lets a request close its own connection (the `drop` fault).
pub(crate) struct ConnCtl {
    kill: Notify,
}

async fn serve_conn(stream: TcpStream, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let ctl = Arc::new(ConnCtl {
        kill: Notify::new(),
    });
    let ctl2 = ctl.clone();
    let svc = service_fn(move |req| handle(shared.clone(), ctl2.clone(), req));
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = ctl.kill.notified() => return,
        _ = stopped(&mut shutdown) => {}
    }
    conn.as_mut().graceful_shutdown();
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = ctl.kill.notified() => {}
        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
    }
}

// ---- per-request pipeline ---------------------------------------------------

pub(crate) fn new_request_id() -> String {
    let mut rng = rand::rng();
    let mut id = String::from("req_");
    for _ in 0..16 {
        id.push(BASE62[rng.random_range(0..BASE62.len())] as char);
    }
    id
}

async fn handle(
    shared: Arc<Shared>,
    ctl: Arc<ConnCtl>,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, Infallible> {
    inc(&shared.counters.requests);
    let rid = new_request_id();
    let observed = shared
        .observer
        .clone()
        .map(|o| (o, req.method().to_string(), req.uri().path().to_string()));
    let fut = AssertUnwindSafe(process(shared.clone(), ctl, req, rid.clone()));
    match fut.catch_unwind().await {
        Ok(resp) => Ok(match observed {
            Some((observer, method, path)) => {
                crate::observe::observe(&observer, method, path, resp).await
            }
            None => resp,
        }),
        Err(_) => {
            inc(&shared.counters.panics);
            let err = ApiError::new(
                500,
                "internal_error",
                "An unexpected error occurred in the sandbox (a bug: please report it with the request id).",
            );
            Ok(finish(Reply::error(&err, &rid), &rid, false))
        }
    }
}

fn err_response(e: &ApiError, rid: &str) -> Response<RespBody> {
    finish(Reply::error(e, rid), rid, false)
}

const EXPOSE: &str =
    "X-Request-Id, Retry-After, Idempotent-Replayed, Content-Disposition, Content-Length";
const ALLOW_HEADERS: &str = "Authorization, Content-Type, Idempotency-Key, X-Sandbox-Fault, X-Sandbox-Fault-Times, X-Sandbox-Job, Accept, Last-Event-ID";

fn preflight(headers: &HeaderMap, allow: &'static str, rid: &str) -> Response<RespBody> {
    let mut r = Reply::empty(204);
    let allow_headers = headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or(HeaderValue::from_static(ALLOW_HEADERS));
    r.headers.push((
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(allow),
    ));
    r.headers
        .push((header::ACCESS_CONTROL_ALLOW_HEADERS, allow_headers));
    r.headers.push((
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    ));
    r.headers
        .push((header::ALLOW, HeaderValue::from_static(allow)));
    finish(r, rid, false)
}

async fn read_body(headers: &HeaderMap, body: Incoming) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            400,
            "payload_too_large",
            format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
        )
    };
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > MAX_BODY_BYTES as u64
    {
        return Err(too_large());
    }
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(too_large())
            } else {
                Err(ApiError::invalid_json(
                    "The request body could not be read.",
                ))
            }
        }
    }
}

fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
}

fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<(String, bool), ApiError> {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::new(
            401,
            "missing_api_key",
            "No API key provided. Send it as 'Authorization: Bearer <api key>'.",
        ));
    };
    let invalid = || {
        ApiError::new(
            401,
            "invalid_api_key",
            "The API key provided is invalid or has been revoked.",
        )
    };
    let s = v.to_str().map_err(|_| invalid())?.trim();
    let (scheme, key) = s.split_once(' ').ok_or_else(invalid)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(invalid());
    }
    let key = key.trim();
    if shared.config.api_keys.contains(key) {
        Ok((key.to_string(), false))
    } else if shared.config.read_only_keys.contains(key) {
        Ok((key.to_string(), true))
    } else {
        Err(invalid())
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

fn fingerprint(method: &Method, path: &str, body: &Bytes) -> String {
    let canon = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => serde_json::to_string(&v).unwrap_or_default(),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    format!("{method} {path}\n{canon}")
}

async fn process(
    shared: Arc<Shared>,
    ctl: Arc<ConnCtl>,
    req: Request<Incoming>,
    rid: String,
) -> Response<RespBody> {
    let (parts, body) = req.into_parts();
    if parts.method == Method::OPTIONS {
        let allow =
            segments(parts.uri.path()).and_then(|segs| match route(&Method::OPTIONS, &segs) {
                Err(RouteError::MethodNotAllowed(allow)) => Some(allow),
                _ => None,
            });
        return match allow {
            Some(allow) => preflight(&parts.headers, allow, &rid),
            None => err_response(&route_not_found(&parts.method, parts.uri.path()), &rid),
        };
    }
    let body = match read_body(&parts.headers, body).await {
        Ok(b) => b,
        Err(e) => return err_response(&e, &rid),
    };
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| valid_host(h))
        .map(str::to_string)
        .unwrap_or_else(|| shared.addr.to_string());
    let base_url = format!("http://{host}/v1");

    // Authentication.
    let (api_key, read_only) = match authenticate(&shared, &parts.headers) {
        Ok(k) => k,
        Err(e) => return err_response(&e, &rid),
    };

    // The Idempotency-Key header (POST and PATCH only; ignored on other methods).
    let idem_method = parts.method == Method::POST || parts.method == Method::PATCH;
    let idem_key = match parts.headers.get("idempotency-key").filter(|_| idem_method) {
        None => None,
        Some(v) => match v.to_str() {
            Ok(s) if !s.is_empty() && s.chars().count() <= 255 => Some(s.to_string()),
            _ => {
                return err_response(
                    &ApiError::invalid_param(
                        "Idempotency-Key",
                        "The Idempotency-Key header must be 1 to 255 visible ASCII characters.",
                    ),
                    &rid,
                );
            }
        },
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| parts.uri.path().to_string());

    // Per-request faults.
    let mut directives = Vec::new();
    if let Some(v) = parts.headers.get("x-sandbox-fault") {
        let parsed = v
            .to_str()
            .map_err(|_| "not ASCII".to_string())
            .and_then(parse_header);
        let ds = match parsed {
            Ok(ds) => ds,
            Err(msg) => {
                return err_response(
                    &ApiError::invalid_param(
                        "X-Sandbox-Fault",
                        format!("Invalid X-Sandbox-Fault header: {msg}."),
                    ),
                    &rid,
                );
            }
        };
        let times = match parts.headers.get("x-sandbox-fault-times") {
            None => None,
            Some(t) => match t.to_str().ok().and_then(|t| t.trim().parse::<u64>().ok()) {
                Some(n) => Some(n),
                None => {
                    return err_response(
                        &ApiError::invalid_param(
                            "X-Sandbox-Fault-Times",
                            "X-Sandbox-Fault-Times must be a non-negative integer.",
                        ),
                        &rid,
                    );
                }
            },
        };
        let active = match times {
            None => true,
            Some(n) => {
                let scope = match &idem_key {
                    Some(k) => format!("key {k}"),
                    None => format!("{} {}", parts.method, path_and_query),
                };
                let counter_key = format!("{api_key}\u{0}{}\u{0}{scope}", v.to_str().unwrap_or(""));
                let mut m = lock(&shared.fault_times);
                let c = m.entry(counter_key).or_insert(0);
                *c += 1;
                *c <= n
            }
        };
        if active {
            directives = ds;
        }
    }
    let cfg = lock(&shared.faults).clone();

    // Latency.
    let mut delay = cfg.latency;
    for d in &directives {
        if let Directive::Latency(l) = d {
            delay += *l;
        }
    }
    if !delay.is_zero() {
        inc(&shared.counters.delayed);
        tokio::time::sleep(delay).await;
    }

    // Errors injected before the operation runs.
    if let Some((limit, window)) = cfg.rate_limit
        && let Some(retry) = shared.rate_limited(&api_key, limit, window)
    {
        inc(&shared.counters.rate_limited);
        let e = fault_error(429, Some(retry), "rate limit of the sandbox configuration");
        return err_response(&e, &rid);
    }
    for d in &directives {
        if let Directive::Status {
            status,
            retry_after,
        } = d
        {
            if *status == 429 {
                inc(&shared.counters.rate_limited);
            } else {
                shared.counters.error(*status);
            }
            return err_response(&fault_error(*status, *retry_after, "X-Sandbox-Fault"), &rid);
        }
    }
    if !cfg.error_statuses.is_empty() && shared.chance(cfg.error_rate) {
        let i = lock(&shared.fault_rng).random_range(0..cfg.error_statuses.len());
        let status = cfg.error_statuses[i].clamp(400, 599);
        // A random 503 carries no Retry-After (the API says it may), so
        // clients fall back to their own backoff; a random 429 says 0 s.
        let retry = (status == 429).then_some(0);
        if status == 429 {
            inc(&shared.counters.rate_limited);
        } else {
            shared.counters.error(status);
        }
        return err_response(
            &fault_error(status, retry, "random fault of the sandbox configuration"),
            &rid,
        );
    }

    // Routing.
    let path = parts.uri.path().to_string();
    let Some(segs) = segments(&path) else {
        return err_response(&route_not_found(&parts.method, &path), &rid);
    };
    let matched = match route(&parts.method, &segs) {
        Ok(m) => m,
        Err(RouteError::NotFound) => {
            return err_response(&route_not_found(&parts.method, &path), &rid);
        }
        Err(RouteError::MethodNotAllowed(allow)) => {
            let mut e = ApiError::new(
                405,
                "method_not_allowed",
                format!(
                    "{} is not supported on {path}; allowed: {allow}.",
                    parts.method
                ),
            );
            e.allow = Some(allow);
            return err_response(&e, &rid);
        }
    };
    let is_write = matched.op.is_write();
    if read_only && is_write {
        let e = ApiError::new(
            403,
            "insufficient_permissions",
            "This API key does not have permission to perform this operation (it is read-only).",
        );
        return err_response(&e, &rid);
    }
    for (name, prefix, value) in &matched.params {
        let ok = if prefix.is_empty() {
            (1..=64).contains(&value.chars().count())
        } else {
            crate::validate::is_id(value, prefix)
        };
        if !ok {
            let msg = if prefix.is_empty() {
                format!("The '{name}' path parameter must be 1 to 64 characters long.")
            } else {
                format!(
                    "The '{name}' path parameter must be an id starting with '{prefix}_'; got '{value}'."
                )
            };
            return err_response(&ApiError::invalid_param(name, msg), &rid);
        }
    }
    let params: Vec<String> = matched.params.into_iter().map(|(_, _, v)| v).collect();
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let ctx = Ctx {
        shared: shared.clone(),
        request_id: rid.clone(),
        path: path.clone(),
        query,
        base_url,
        body: body.clone(),
        headers: parts.headers.clone(),
        now: Utc::now(),
    };
    let op = matched.op;
    let run = |ctx: &Ctx| -> Reply {
        let reply = match crate::handlers::dispatch(ctx, op, &params) {
            Ok(r) => r,
            Err(e) => Reply::error(&e, &ctx.request_id),
        };
        if is_write && (200..300).contains(&reply.status) {
            inc(&ctx.shared.counters.writes_applied);
        }
        reply
    };

    // Idempotency.
    let response = match (idem_method, idem_key) {
        (true, Some(key)) => {
            let ttl = shared.config.idempotency_ttl;
            let slot = {
                let mut idem = lock(&shared.idem);
                if idem.len() % PRUNE_EVERY == PRUNE_EVERY - 1 {
                    prune_expired(&mut idem, ttl);
                }
                idem.entry((api_key.clone(), key)).or_default().clone()
            };
            let mut guard = slot.lock().await;
            if guard.as_ref().is_some_and(|s| s.stored_at.elapsed() >= ttl) {
                *guard = None;
            }
            let fp = fingerprint(&parts.method, &path, &body);
            match guard.as_ref() {
                Some(stored) if stored.fingerprint == fp => {
                    inc(&shared.counters.idempotent_replays);
                    replay(stored)
                }
                Some(_) => {
                    inc(&shared.counters.idempotency_conflicts);
                    let e = ApiError::unprocessable(
                        "idempotency_key_reused",
                        Some("Idempotency-Key"),
                        "This Idempotency-Key was already used with a different request (method, path or body).",
                    );
                    err_response(&e, &rid)
                }
                None => {
                    let reply = run(&ctx);
                    let status = reply.status;
                    let (stored, resp) = render_storable(reply, &rid);
                    if let Some(mut s) = stored
                        && status < 500
                        && status != 429
                    {
                        s.fingerprint = fp;
                        *guard = Some(s);
                    }
                    resp
                }
            }
        }
        _ => finish(run(&ctx), &rid, false),
    };

    // Faults after the operation ran: the response is lost, the effect is not.
    let mut want_drop = directives.contains(&Directive::Drop) || shared.chance(cfg.drop_rate);
    let mut want_truncate = !want_drop
        && (directives.contains(&Directive::Truncate) || shared.chance(cfg.truncate_rate));
    if want_truncate && response.status() == StatusCode::NO_CONTENT {
        // Nothing to cut short: lose the whole response instead.
        want_truncate = false;
        want_drop = true;
    }
    if want_drop {
        inc(&shared.counters.dropped);
        ctl.kill.notify_one();
        futures::future::pending::<()>().await;
    }
    if want_truncate {
        inc(&shared.counters.truncated);
        return truncate(response).await;
    }
    response
}

/// Drops stored responses older than `ttl`. Slots being used or not yet
/// filled stay: a request may hold one between the map lookup and its lock.
fn prune_expired(idem: &mut HashMap<(String, String), IdemSlot>, ttl: Duration) {
    idem.retain(|_, slot| match slot.try_lock() {
        Ok(stored) => stored.as_ref().is_none_or(|s| s.stored_at.elapsed() < ttl),
        Err(_) => true,
    });
}

/// The decoded path segments after `/v1/`. A trailing slash is an empty last
/// segment, so `/contacts/{id}/` is not `/contacts/{id}`: a client whose path
/// value resolved away must not reach another resource.
fn segments(path: &str) -> Option<Vec<String>> {
    let rest = if path == "/v1" {
        ""
    } else {
        path.strip_prefix("/v1/")?
    };
    let segs: Vec<String> = rest
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    Some(segs)
}

fn route_not_found(method: &Method, path: &str) -> ApiError {
    ApiError::new(
        404,
        "route_not_found",
        format!("No route for {method} {path}; the API lives under /v1 (see the spec)."),
    )
}

fn replay(stored: &Stored) -> Response<RespBody> {
    let reply = Reply {
        status: stored.status,
        headers: stored.headers.clone(),
        payload: match &stored.body {
            Some(b) => Payload::File {
                content_type: String::new(),
                data: b.clone(),
            },
            None => Payload::Empty,
        },
    };
    let mut resp = finish(reply, &stored.request_id, true);
    resp.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    resp
}

/// Renders a reply and, when it has a complete body, what to store for replays.
fn render_storable(reply: Reply, rid: &str) -> (Option<Stored>, Response<RespBody>) {
    let mut headers = reply.headers.clone();
    let body = match &reply.payload {
        Payload::Json(b) => {
            headers.push((
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ));
            Some(Some(b.clone()))
        }
        Payload::File { content_type, data } => {
            if let Ok(v) = HeaderValue::from_str(content_type) {
                headers.push((header::CONTENT_TYPE, v));
            }
            Some(Some(data.clone()))
        }
        Payload::Empty => Some(None),
        Payload::Stream(_) => None,
    };
    let stored = body.map(|body| Stored {
        fingerprint: String::new(),
        status: reply.status,
        headers,
        body,
        request_id: rid.to_string(),
        stored_at: Instant::now(),
    });
    (stored, finish(reply, rid, false))
}

/// Turns a reply into an HTTP response with the common headers.
pub(crate) fn finish(reply: Reply, rid: &str, replayed: bool) -> Response<RespBody> {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = Response::builder().status(status);
    let headers = builder.headers_mut();
    if let Some(h) = headers {
        for (k, v) in reply.headers {
            h.append(k, v);
        }
        if let Ok(v) = HeaderValue::from_str(rid) {
            h.insert("x-request-id", v);
        }
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE),
        );
    }
    let body: RespBody = match reply.payload {
        Payload::Json(b) => {
            if let Some(h) = builder.headers_mut() {
                h.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
            full(b)
        }
        Payload::File { content_type, data } => {
            if !replayed
                && let (Some(h), Ok(v)) =
                    (builder.headers_mut(), HeaderValue::from_str(&content_type))
            {
                h.insert(header::CONTENT_TYPE, v);
            }
            full(data)
        }
        Payload::Empty => full(Bytes::new()),
        Payload::Stream(s) => {
            let frames = s.map(|b| Ok::<_, BoxError>(Frame::data(b)));
            StreamBody::new(frames).boxed_unsync()
        }
    };
    builder.body(body).unwrap_or_else(|_| {
        let mut r = Response::new(full(Bytes::from_static(b"{}")));
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

fn full(b: Bytes) -> RespBody {
    Full::new(b).map_err(|never| match never {}).boxed_unsync()
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

#[cfg(test)]
mod prune_tests {
    use super::*;

    fn stored(age: Duration) -> IdemSlot {
        Arc::new(tokio::sync::Mutex::new(Some(Stored {
            fingerprint: String::new(),
            status: 201,
            headers: Vec::new(),
            body: None,
            request_id: "req_1".into(),
            stored_at: Instant::now() - age,
        })))
    }

    #[test]
    fn expired_responses_are_dropped_and_pending_slots_kept() {
        let key = |k: &str| ("sk".to_string(), k.to_string());
        let mut idem = HashMap::new();
        idem.insert(key("old"), stored(Duration::from_secs(100)));
        idem.insert(key("new"), stored(Duration::from_secs(1)));
        idem.insert(key("pending"), IdemSlot::default());
        let busy = stored(Duration::from_secs(100));
        let _held = busy.try_lock().unwrap();
        idem.insert(key("busy"), busy.clone());
        prune_expired(&mut idem, Duration::from_secs(10));
        let mut left: Vec<_> = idem.keys().map(|(_, k)| k.clone()).collect();
        left.sort();
        assert_eq!(left, ["busy", "new", "pending"]);
    }
}
