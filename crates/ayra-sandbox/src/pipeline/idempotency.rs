//! Stage 8: `Idempotency-Key` on POST and PATCH. The first request with a key
//! runs and its response is stored; the same request again is replayed; a
//! different request with the same key is refused. Keys expire after the TTL
//! of the sandbox's clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use http::header::{self, HeaderName, HeaderValue};
use http::request::Parts;
use http::{Method, Response};

use super::auth::Caller;
use super::render::{self, RespBody};
use crate::api::{Ctx, Payload, Reply};
use crate::clock::Clock;
use crate::error::ApiError;
use crate::state::lock;
use crate::stats::{Counters, inc};

/// The API keeps idempotency keys for 24 hours.
pub const IDEMPOTENCY_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Every this many keys, expired ones are dropped (memory stays bounded by
/// the keys of the last TTL).
const PRUNE_EVERY: usize = 4096;

/// A stored response.
#[derive(Clone)]
struct Stored {
    fingerprint: String,
    status: u16,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Option<Bytes>,
    request_id: String,
    stored_at: DateTime<Utc>,
}

type Slot = Arc<tokio::sync::Mutex<Option<Stored>>>;

/// The stored responses, by API key and idempotency key: a key belongs to
/// one account, so the same `Idempotency-Key` from two accounts is two
/// operations (and, as before accounts, from two keys of one account).
pub(crate) struct Store {
    clock: Arc<Clock>,
    ttl: Duration,
    slots: Mutex<HashMap<(String, String), Slot>>,
}

/// The request's idempotency key (POST and PATCH only; ignored on other methods).
pub(crate) fn key(parts: &Parts) -> Result<Option<String>, ApiError> {
    if parts.method != Method::POST && parts.method != Method::PATCH {
        return Ok(None);
    }
    match parts.headers.get("idempotency-key").map(|v| v.to_str()) {
        None => Ok(None),
        Some(Ok(s)) if !s.is_empty() && s.chars().count() <= 255 => Ok(Some(s.to_string())),
        Some(_) => Err(ApiError::invalid_param(
            "Idempotency-Key",
            "The Idempotency-Key header must be 1 to 255 visible ASCII characters.",
        )),
    }
}

impl Store {
    pub fn new(clock: Arc<Clock>, ttl: std::time::Duration) -> Store {
        Store {
            clock,
            ttl: Duration::from_std(ttl).unwrap_or(Duration::MAX),
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Replays the stored response of `key`, or runs the request (once, even
    /// under concurrency) and stores its response.
    pub async fn run(
        &self,
        counters: &Counters,
        caller: &Caller,
        key: String,
        method: &Method,
        ctx: &Ctx,
        run: impl FnOnce() -> Reply,
    ) -> Response<RespBody> {
        let rid = ctx.request_id.as_str();
        let slot = self.slot(self.clock.now(), &caller.key, key);
        let mut guard = slot.lock().await;
        if guard
            .as_ref()
            .is_some_and(|s| self.expired(s, self.clock.now()))
        {
            *guard = None;
        }
        let fp = fingerprint(method, &ctx.path, &ctx.body);
        match guard.as_ref() {
            Some(stored) if stored.fingerprint == fp => {
                inc(&counters.idempotent_replays);
                replay(stored)
            }
            Some(_) => {
                inc(&counters.idempotency_conflicts);
                let e = ApiError::unprocessable(
                    "idempotency_key_reused",
                    Some("Idempotency-Key"),
                    "This Idempotency-Key was already used with a different request (method, path or body).",
                );
                render::error(&e, rid)
            }
            None => {
                let reply = run();
                let stored = storable(&reply, rid, fp, self.clock.now());
                if let Some(s) = stored
                    && s.status < 500
                    && s.status != 429
                {
                    *guard = Some(s);
                }
                render::reply(reply, rid, false)
            }
        }
    }

    fn slot(&self, now: DateTime<Utc>, api_key: &str, key: String) -> Slot {
        let mut slots = lock(&self.slots);
        if slots.len() % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.prune_expired(&mut slots, now);
        }
        slots.entry((api_key.to_string(), key)).or_default().clone()
    }

    fn expired(&self, s: &Stored, now: DateTime<Utc>) -> bool {
        now - s.stored_at >= self.ttl
    }

    /// Drops stored responses older than the TTL. Slots being used or not yet
    /// filled stay: a request may hold one between the map lookup and its lock.
    fn prune_expired(&self, slots: &mut HashMap<(String, String), Slot>, now: DateTime<Utc>) {
        slots.retain(|_, slot| match slot.try_lock() {
            Ok(stored) => stored.as_ref().is_none_or(|s| !self.expired(s, now)),
            Err(_) => true,
        });
    }
}

/// Method, path and canonical body: what must match for a replay.
fn fingerprint(method: &Method, path: &str, body: &Bytes) -> String {
    let canon = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => serde_json::to_string(&v).unwrap_or_default(),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    format!("{method} {path}\n{canon}")
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
    let mut resp = render::reply(reply, &stored.request_id, true);
    resp.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    resp
}

/// What to store of a reply: none for streams, which cannot be replayed.
fn storable(reply: &Reply, rid: &str, fingerprint: String, now: DateTime<Utc>) -> Option<Stored> {
    let mut headers = reply.headers.clone();
    let body = match &reply.payload {
        Payload::Json(b) => {
            headers.push((
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ));
            Some(b.clone())
        }
        Payload::File { content_type, data } => {
            if let Ok(v) = HeaderValue::from_str(content_type) {
                headers.push((header::CONTENT_TYPE, v));
            }
            Some(data.clone())
        }
        Payload::Empty => None,
        Payload::Stream(_) => return None,
    };
    Some(Stored {
        fingerprint,
        status: reply.status,
        headers,
        body,
        request_id: rid.to_string(),
        stored_at: now,
    })
}

#[cfg(test)]
mod prune_tests {
    use super::*;

    fn stored(now: DateTime<Utc>, age: i64) -> Slot {
        Arc::new(tokio::sync::Mutex::new(Some(Stored {
            fingerprint: String::new(),
            status: 201,
            headers: Vec::new(),
            body: None,
            request_id: "req_1".into(),
            stored_at: now - Duration::seconds(age),
        })))
    }

    #[test]
    fn expired_responses_are_dropped_and_pending_slots_kept() {
        let now = Utc::now();
        let key = |k: &str| ("sk".to_string(), k.to_string());
        let clock = Arc::new(Clock::starting_at(now));
        let store = Store::new(clock, std::time::Duration::from_secs(10));
        let mut slots = HashMap::new();
        slots.insert(key("old"), stored(now, 100));
        slots.insert(key("new"), stored(now, 1));
        slots.insert(key("pending"), Slot::default());
        let busy = stored(now, 100);
        let _held = busy.try_lock().unwrap();
        slots.insert(key("busy"), busy.clone());
        store.prune_expired(&mut slots, now);
        let mut left: Vec<_> = slots.keys().map(|(_, k)| k.clone()).collect();
        left.sort();
        assert_eq!(left, ["busy", "new", "pending"]);
    }
}
