//! Counters of what the sandbox did.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of the sandbox's counters ([`crate::Sandbox::stats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Every HTTP request received (including CORS preflights and faulted ones).
    pub requests: u64,
    /// Write operations (POST, PATCH, DELETE) that ran and succeeded (2xx);
    /// idempotent replays are not counted.
    pub writes_applied: u64,
    /// Requests answered by replaying a stored idempotent response.
    pub idempotent_replays: u64,
    /// Requests rejected with 422 `idempotency_key_reused`.
    pub idempotency_conflicts: u64,
    /// Faults injected, by kind.
    pub faults: FaultStats,
    /// Handler panics caught and turned into a 500 (should stay 0: a bug if not).
    pub panics: u64,
    /// TCP connections accepted since the start: how many connections the
    /// clients opened (a client that pools connections opens few).
    pub connections_accepted: u64,
    /// TCP connections open now.
    pub connections_open: u64,
}

/// A snapshot of one account's counters ([`crate::AccountView::stats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountStats {
    /// Requests authenticated with one of the account's keys.
    pub requests: u64,
    /// Its write operations that ran and succeeded (2xx); replays are not counted.
    pub writes_applied: u64,
}

/// Faults injected, by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultStats {
    /// Error responses injected (4xx/5xx other than rate limiting), by status.
    pub errors: BTreeMap<u16, u64>,
    /// 429 responses (configured rate limit or `X-Sandbox-Fault: 429`).
    pub rate_limited: u64,
    /// Connections closed instead of answering.
    pub dropped: u64,
    /// Responses whose body was cut short.
    pub truncated: u64,
    /// Requests delayed by an injected latency.
    pub delayed: u64,
}

impl FaultStats {
    /// Total number of faults injected (latency excluded).
    pub fn total(&self) -> u64 {
        self.errors.values().sum::<u64>() + self.rate_limited + self.dropped + self.truncated
    }
}

#[derive(Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub writes_applied: AtomicU64,
    pub idempotent_replays: AtomicU64,
    pub idempotency_conflicts: AtomicU64,
    pub rate_limited: AtomicU64,
    pub dropped: AtomicU64,
    pub truncated: AtomicU64,
    pub delayed: AtomicU64,
    pub panics: AtomicU64,
    pub connections_accepted: AtomicU64,
    pub connections_open: AtomicU64,
    pub errors: Mutex<BTreeMap<u16, u64>>,
}

pub(crate) fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// Counts a connection open while it lives (also when its task is aborted).
pub(crate) struct OpenConnection<'a>(&'a Counters);

impl<'a> OpenConnection<'a> {
    pub fn new(counters: &'a Counters) -> Self {
        inc(&counters.connections_open);
        OpenConnection(counters)
    }
}

impl Drop for OpenConnection<'_> {
    fn drop(&mut self) {
        self.0.connections_open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Counters {
    pub fn error(&self, status: u16) {
        let mut m = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry(status).or_default() += 1;
    }

    pub fn snapshot(&self) -> Stats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            requests: g(&self.requests),
            writes_applied: g(&self.writes_applied),
            idempotent_replays: g(&self.idempotent_replays),
            idempotency_conflicts: g(&self.idempotency_conflicts),
            panics: g(&self.panics),
            connections_accepted: g(&self.connections_accepted),
            connections_open: g(&self.connections_open),
            faults: FaultStats {
                errors: self
                    .errors
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone(),
                rate_limited: g(&self.rate_limited),
                dropped: g(&self.dropped),
                truncated: g(&self.truncated),
                delayed: g(&self.delayed),
            },
        }
    }
}
