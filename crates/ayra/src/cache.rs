//! An opt-in, time-limited cache of the responses of reference-data reads
//! (operations the spec marks `x-ayra-cache: true`, such as voices and time
//! zones), dropped as soon as this client writes to what they describe.

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The cached responses of one client (and its clones).
#[derive(Debug)]
pub(crate) struct Cache {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
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
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The live entry for this URL, if any.
    pub(crate) fn get(&self, url: &str) -> Option<Entry> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(url) {
            Some(e) if e.stored.elapsed() < self.ttl => Some(e.clone()),
            Some(_) => {
                entries.remove(url);
                None
            }
            None => None,
        }
    }

    pub(crate) fn put(&self, url: String, status: StatusCode, headers: HeaderMap, body: Bytes) {
        let entry = Entry {
            status,
            headers,
            body,
            stored: Instant::now(),
        };
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(url, entry);
    }

    /// A write drops every cached read of its path, of a path under it, or
    /// of a path above it (the resource or collection it changes).
    pub(crate) fn invalidate(&self, method: &Method, url: &reqwest::Url) {
        if method == Method::GET || method == Method::HEAD {
            return;
        }
        let written = url.path().trim_end_matches('/');
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|key, _| {
                let path = reqwest::Url::parse(key)
                    .map(|u| u.path().trim_end_matches('/').to_string())
                    .unwrap_or_default();
                // Under it (`/agents/x` after writing `/agents`) or above it
                // (`/agents` and `/agents/x` after writing `/agents/x/enable`).
                !(path.starts_with(written) || written.starts_with(&path))
            });
    }
}
