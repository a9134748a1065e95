//! One account's pace: a send rate that adapts to the server's rate limit
//! (additive increase, multiplicative decrease) and a pause shared by every
//! task of the account when the server says to wait.
//!
//! The limiter paces requests rather than counting them in flight: against
//! a nearby server one request in flight already makes hundreds a second,
//! far beyond a limit of 50/s, so a concurrency window alone cannot keep
//! under a rate limit (AWS's adaptive retry mode paces sends for the same
//! reason). Concurrency is bounded separately, by the runner.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Below this rate (requests per second) the limiter never goes.
const MIN_RATE: f64 = 0.5;
/// After a throttle the rate is this fraction of what the server admitted.
const DECREASE: f64 = 0.9;
/// Below 95% of the rate a throttle came at, each admitted request adds
/// this to the rate (about 3% more per second): back near it in ~2 s.
const RECOVER: f64 = 0.03;
/// Above it, about 0.2% more per second: a slow probe of a higher limit.
const PROBE: f64 = 0.002;
/// A known limit is paced at this fraction of it at most, a margin for
/// the timing jitter of a loaded machine (a fixed window counts arrivals).
const KNOWN_MARGIN: f64 = 0.97;
/// The span over which admitted requests are counted to estimate the limit.
const HORIZON: Duration = Duration::from_secs(1);

pub(crate) struct Limiter {
    max_rate: f64,
    state: Mutex<State>,
}

struct State {
    /// Requests per second.
    rate: f64,
    /// Doubling every second until the first throttle (slow start).
    slow_start: bool,
    /// The rate the last throttle came at (or the known limit's pace).
    ceiling: Option<f64>,
    /// When the last request went: the next one waits `1 / rate` after it.
    last_sent: Option<Instant>,
    /// No request goes before this (the server's `Retry-After`).
    paused_until: Instant,
    /// When the last throttle was taken into account: throttles of requests
    /// sent before it are the same event and do not lower the rate again.
    last_throttle: Option<Instant>,
    /// When admitted requests were answered, within `HORIZON`.
    admitted: VecDeque<Instant>,
}

impl Limiter {
    /// Without a known limit: from `initial_rate`, doubling every second
    /// until the first throttle. With one: at 95% of it, never above 97%.
    pub(crate) fn new(initial_rate: f64, known_limit: Option<f64>) -> Limiter {
        let (rate, max_rate, slow_start, ceiling) = match known_limit {
            Some(limit) => {
                let max = (limit * KNOWN_MARGIN).max(MIN_RATE);
                ((limit * 0.95).max(MIN_RATE), max, false, Some(max))
            }
            None => (initial_rate.max(MIN_RATE), f64::MAX, true, None),
        };
        Limiter {
            max_rate,
            state: Mutex::new(State {
                rate,
                slow_start,
                ceiling,
                last_sent: None,
                paused_until: Instant::now(),
                last_throttle: None,
                admitted: VecDeque::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for this request's turn; returns when it was sent. A turn is
    /// taken when it comes, not booked ahead: tasks that wake late (a busy
    /// machine) still go one by one, `1 / rate` apart, never in a burst.
    pub(crate) async fn acquire(&self) -> Instant {
        loop {
            let ready = {
                let mut s = self.lock();
                let now = Instant::now();
                let gap = Duration::from_secs_f64(1.0 / s.rate);
                let ready = s.last_sent.map_or(now, |t| t + gap).max(s.paused_until);
                if ready <= now {
                    s.last_sent = Some(now);
                    return now;
                }
                ready
            };
            tokio::time::sleep_until(ready).await;
        }
    }

    /// A response that was not a throttle.
    pub(crate) fn admitted(&self) {
        let mut s = self.lock();
        let now = Instant::now();
        s.admitted.push_back(now);
        while s.admitted.front().is_some_and(|t| now - *t > HORIZON) {
            s.admitted.pop_front();
        }
        let step = match s.ceiling {
            _ if s.slow_start => 1.0,
            Some(c) if s.rate < 0.95 * c => RECOVER,
            _ => PROBE,
        };
        s.rate = (s.rate + step).min(self.max_rate);
    }

    /// The server throttled a request sent at `sent`: every task of the
    /// account waits `wait`, and the rate drops once per throttle event.
    pub(crate) fn throttled(&self, sent: Instant, wait: Duration) {
        let mut s = self.lock();
        let now = Instant::now();
        s.paused_until = s.paused_until.max(now + wait);
        if s.last_throttle.is_some_and(|t| sent < t) {
            return;
        }
        s.last_throttle = Some(now);
        while s.admitted.front().is_some_and(|t| now - *t > HORIZON) {
            s.admitted.pop_front();
        }
        let measured = s.admitted.len() as f64 / HORIZON.as_secs_f64();
        let base = if measured >= MIN_RATE {
            s.rate.min(measured)
        } else {
            s.rate
        };
        s.ceiling = Some(base);
        s.rate = (base * DECREASE).clamp(MIN_RATE, self.max_rate);
        s.slow_start = false;
        s.admitted.clear();
    }

    /// The current rate, for the summary.
    pub(crate) fn rate(&self) -> f64 {
        self.lock().rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_throttle_pauses_and_lowers_the_rate_once() {
        let l = Limiter::new(100.0, None);
        let sent = l.acquire().await;
        let also_sent = l.acquire().await;
        for _ in 0..40 {
            l.admitted();
        }
        let before = Instant::now();
        l.throttled(sent, Duration::from_millis(300));
        // 40 admitted within the last second: the limit is about 40/s.
        assert!((l.rate() - 36.0).abs() < 1e-9, "{}", l.rate());
        // A second throttle of a request sent before the first one counted.
        l.throttled(also_sent, Duration::from_millis(300));
        assert!((l.rate() - 36.0).abs() < 1e-9);
        let resumed = l.acquire().await;
        // A lower bound only: a loaded machine makes the wait longer, never shorter.
        assert!(resumed - before >= Duration::from_millis(300));
    }
}
