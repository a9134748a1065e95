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
/// Before the first throttle each admitted request adds this to the rate:
/// `rate × 2` more each second, ×7 a second (from 10/s to 50/s in 0.8 s).
const SLOW_START: f64 = 2.0;
/// After a throttle the rate is this fraction of what the server admitted.
const DECREASE: f64 = 0.9;
/// Below [`KNOWN_MARGIN`] of the rate a throttle came at, each admitted
/// request adds this to the rate (about 6% more per second): back near it
/// in ~1 s.
const RECOVER: f64 = 0.06;
/// There, the rate holds for this long after the throttle (the limit was
/// found: probing above it would only buy the next throttle and its pause)...
const HOLD: Duration = Duration::from_secs(60);
/// ...and then grows by about 0.2% a second: a slow probe of a higher limit.
const PROBE: f64 = 0.002;
/// A known limit is paced at this fraction of it at most, a margin for
/// the timing jitter of a loaded machine (a fixed window counts arrivals).
const KNOWN_MARGIN: f64 = 0.97;
/// The span over which admitted requests are counted to estimate the limit.
const HORIZON: Duration = Duration::from_secs(1);
/// A first throttle after less than this much watching (a known limit's
/// run, no slow start) is waited out, the rate kept: a batch rerun right
/// after a crash meets the crashed run's window, and a few requests and a
/// 429 would otherwise read as a limit of a few per second.
const MIN_WATCHED: Duration = Duration::from_millis(250);

pub(crate) struct Limiter {
    max_rate: f64,
    state: Mutex<State>,
}

struct State {
    /// Requests per second.
    rate: f64,
    /// Growing sevenfold a second until the first throttle (slow start).
    slow_start: bool,
    /// The rate the last throttle came at (or the known limit's pace).
    ceiling: Option<f64>,
    /// The scheduled time of the next request.
    next_turn: Instant,
    /// No request goes before this (the server's `Retry-After`).
    paused_until: Instant,
    /// When the last throttle was taken into account: throttles of requests
    /// sent before it are the same event and do not lower the rate again.
    last_throttle: Option<Instant>,
    /// When admitted requests were answered, within `HORIZON`.
    admitted: VecDeque<Instant>,
    /// Since when `admitted` has been counting (the start, or the end of
    /// the last pause).
    watching_since: Instant,
}

impl Limiter {
    /// Without a known limit: from `initial_rate`, growing sevenfold a second
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
                next_turn: Instant::now(),
                paused_until: Instant::now(),
                watching_since: Instant::now(),
                last_throttle: None,
                admitted: VecDeque::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for this request's turn; returns when it was sent.
    ///
    /// Turns follow a schedule, `1 / rate` apart (a generic cell rate
    /// algorithm): a task that wakes late does not push every later turn
    /// back (a timer that wakes a millisecond late on each 20 ms turn would
    /// lose 5% of the rate), and a turn missed by more than half a gap is
    /// forgiven rather than made up in a burst, so any span of time holds at
    /// most `rate × span + 1.5` requests.
    pub(crate) async fn acquire(&self) -> Instant {
        loop {
            let turn = {
                let mut s = self.lock();
                let now = Instant::now();
                let gap = Duration::from_secs_f64(1.0 / s.rate);
                let earliest = now.checked_sub(gap / 2).unwrap_or(now);
                let turn = s.next_turn.max(s.paused_until).max(earliest);
                if turn <= now {
                    s.next_turn = turn + gap;
                    return now;
                }
                turn
            };
            tokio::time::sleep_until(turn).await;
        }
    }

    /// A response that was not a throttle.
    pub(crate) fn admitted(&self) {
        let mut s = self.lock();
        let now = Instant::now();
        if now < s.watching_since {
            return; // sent before the pause: not part of the next estimate
        }
        s.admitted.push_back(now);
        while s.admitted.front().is_some_and(|t| now - *t > HORIZON) {
            s.admitted.pop_front();
        }
        let step = match s.ceiling {
            _ if s.slow_start => SLOW_START,
            Some(c) if s.rate < KNOWN_MARGIN * c => RECOVER,
            Some(_) if s.last_throttle.is_some_and(|t| now - t < HOLD) => 0.0,
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
        let first = s.last_throttle.is_none();
        s.last_throttle = Some(now);
        while s.admitted.front().is_some_and(|t| now - *t > HORIZON) {
            s.admitted.pop_front();
        }
        let watched = now.saturating_duration_since(s.watching_since).min(HORIZON);
        let admitted = s.admitted.len() as f64;
        s.admitted.clear();
        s.watching_since = s.paused_until;
        // The first throttle says little: at the end of slow start the last
        // second's count spans two of the server's windows, and a batch
        // rerun right after a crash meets the window the crashed run
        // filled. It is waited out and slow start goes on; after that pause
        // the server's window is this run's own, and the next throttle
        // counts it. (Costs a pause of `L / rate`, short at slow start's
        // rates, where a rate too high from the first estimate cost a
        // longer one.)
        if first && (s.slow_start || watched < MIN_WATCHED) {
            return;
        }
        // Over the horizon, not the span watched: a fixed window admits its
        // count in any part of it (50 in 0.75 s is still 50 a second).
        let measured = admitted / HORIZON.as_secs_f64();
        let base = s.rate.min(measured.max(MIN_RATE));
        s.ceiling = Some(base);
        s.rate = (base * DECREASE).clamp(MIN_RATE, self.max_rate);
        s.slow_start = false;
    }

    /// The current rate, for the summary.
    pub(crate) fn rate(&self) -> f64 {
        self.lock().rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_throttle_pauses_and_lowers_the_rate_once() {
        let l = Limiter::new(100.0, None);
        // Slow start's first throttle: a pause, and slow start goes on.
        let sent = l.acquire().await;
        for _ in 0..40 {
            tokio::time::advance(Duration::from_millis(25)).await;
            l.admitted();
        }
        l.throttled(sent, Duration::from_millis(300));
        let rate = l.rate();
        assert!((rate - 180.0).abs() < 1e-9, "{rate}");
        // After the pause: 40 admitted within a second, then a throttle.
        let sent = l.acquire().await;
        let also_sent = l.acquire().await;
        for _ in 0..40 {
            tokio::time::advance(Duration::from_millis(20)).await;
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
        assert!(resumed - before >= Duration::from_millis(300));
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_at_once_is_waited_out_but_not_taken_for_the_limit() {
        // A rerun meeting the window its crashed run filled: 3 answers, a 429.
        let l = Limiter::new(10.0, None);
        let sent = l.acquire().await;
        for _ in 0..3 {
            tokio::time::advance(Duration::from_millis(10)).await;
            l.admitted();
        }
        let before = Instant::now();
        l.throttled(sent, Duration::from_secs(1));
        assert!(
            (l.rate() - 16.0).abs() < 1e-9,
            "still slow start: {}",
            l.rate()
        );
        assert!(
            l.acquire().await - before >= Duration::from_secs(1),
            "paused"
        );
        l.admitted();
        assert!(
            (l.rate() - 18.0).abs() < 1e-9,
            "still slow start: {}",
            l.rate()
        );
    }

    /// Sends of `tasks` tasks taking `each` turns apiece, in order.
    async fn sends(l: &std::sync::Arc<Limiter>, tasks: usize, each: usize) -> Vec<Instant> {
        let all = std::sync::Arc::new(Mutex::new(Vec::new()));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let (l, all) = (l.clone(), all.clone());
                tokio::spawn(async move {
                    for _ in 0..each {
                        let t = l.acquire().await;
                        all.lock().unwrap().push(t);
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        let mut all = all.lock().unwrap().clone();
        all.sort();
        all
    }

    // The clock is tokio's paused one: time moves only as the test says.
    #[tokio::test(start_paused = true)]
    async fn late_wakes_do_not_push_the_schedule_back() {
        let l = std::sync::Arc::new(Limiter::new(50.0, None)); // a turn each 20 ms
        // Time moves in 7 ms steps, so every task wakes up to 7 ms late.
        let clock = tokio::spawn(async {
            loop {
                tokio::time::advance(Duration::from_millis(7)).await;
                tokio::task::yield_now().await;
            }
        });
        let sent = sends(&l, 4, 25).await;
        clock.abort();
        // 100 turns 20 ms apart span 99 gaps, plus one late wake; taking
        // turns from the late send times would span 99 × 21 ms or more.
        let span = *sent.last().unwrap() - sent[0];
        assert!(span <= Duration::from_millis(99 * 20 + 7), "{span:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_missed_turn_is_not_made_up_in_a_burst() {
        let l = std::sync::Arc::new(Limiter::new(50.0, None));
        l.acquire().await;
        // Nobody asked for five turns.
        tokio::time::advance(Duration::from_millis(100)).await;
        let sent = sends(&l, 4, 5).await;
        let gap = 0.020;
        for (i, a) in sent.iter().enumerate() {
            for (j, b) in sent.iter().enumerate().skip(i + 1) {
                // Any span holds at most `rate × span + 1.5` requests.
                let span = (*b - *a).as_secs_f64();
                assert!(
                    (j - i) as f64 <= span / gap + 0.5 + 1e-9,
                    "{i}..{j} in {span} s"
                );
            }
        }
    }
}
