//! An opt-in, time-limited, bounded cache of the responses of reference-data
//! reads (operations the spec marks `x-ayra-cache: true`, such as voices and
//! time zones), dropped as soon as this client writes to what they describe.
//!
//! Entries are kept per account (the identity of the key that fetched
//! them): a response read with one account's key is never served to
//! another account's client, even when both share this cache.
//!
//! A hit is a response no server sent: it carries no `X-Request-Id` and has
//! `x-ayra-cache: hit` ([`crate::ResponseExt::is_cached`]).

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most responses one client keeps; the oldest goes first.
pub(crate) const MAX_ENTRIES: usize = 256;

/// The header that marks a response served from the cache.
pub(crate) const CACHE_HEADER: HeaderName = HeaderName::from_static("x-ayra-cache");

/// The cached responses of one client (and its clones).
#[derive(Debug)]
pub(crate) struct Cache {
    ttl: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<(u64, String), Entry>,
    /// Bumped by every invalidation: a read that started before a write
    /// must not store what it saw.
    generation: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    stored: Instant,
}

impl Cache {
    pub(crate) fn new(ttl: Duration) -> Self {
        Cache {
            ttl,
            state: Mutex::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live entry of this account for this URL, if any.
    pub(crate) fn get(&self, account: u64, url: &str) -> Option<Entry> {
        let mut state = self.state();
        // One lookup key per call; the map is small and a hit saves a request.
        let key = (account, url.to_string());
        match state.entries.get(&key) {
            Some(e) if e.stored.elapsed() < self.ttl => Some(e.clone()),
            Some(_) => {
                state.entries.remove(&key);
                None
            }
            None => None,
        }
    }

    /// The generation a read starts in; pass it to [`Cache::put`].
    pub(crate) fn generation(&self) -> u64 {
        self.state().generation
    }

    /// Stores a 200 read that started in `generation`, unless a write
    /// invalidated the cache since.
    pub(crate) fn put(
        &self,
        account: u64,
        url: String,
        generation: u64,
        headers: &HeaderMap,
        body: Bytes,
    ) {
        let key = (account, url);
        let mut headers = headers.clone();
        headers.remove("x-request-id");
        headers.insert(CACHE_HEADER, HeaderValue::from_static("hit"));
        let entry = Entry {
            status: StatusCode::OK,
            headers,
            body,
            stored: Instant::now(),
        };
        let mut state = self.state();
        if state.generation != generation {
            return;
        }
        if state.entries.len() >= MAX_ENTRIES && !state.entries.contains_key(&key) {
            let ttl = self.ttl;
            state.entries.retain(|_, e| e.stored.elapsed() < ttl);
            if state.entries.len() >= MAX_ENTRIES {
                let oldest = state
                    .entries
                    .iter()
                    .min_by_key(|(_, e)| e.stored)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    state.entries.remove(&oldest);
                }
            }
        }
        state.entries.insert(key, entry);
    }

    /// A write drops every cached read of its account of its path, of a
    /// path under it, or of a path above it (the resource or collection it
    /// changes). Other accounts' entries stay: the write did not touch their
    /// data.
    pub(crate) fn invalidate(&self, account: u64, url: &reqwest::Url) {
        let written = url.path().trim_end_matches('/');
        let mut state = self.state();
        state.generation += 1;
        state.entries.retain(|(owner, key), _| {
            if *owner != account {
                return true;
            }
            let path = reqwest::Url::parse(key)
                .map(|u| u.path().trim_end_matches('/').to_string())
                .unwrap_or_default();
            // Under it (`/agents/x` after writing `/agents`) or above it
            // (`/agents` and `/agents/x` after writing `/agents/x/enable`).
            !(path.starts_with(written) || written.starts_with(&path))
        });
    }
}
