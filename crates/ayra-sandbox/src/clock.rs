//! The sandbox's clock, in the spirit of Stripe's test clocks: it starts at a
//! chosen instant (the real time by default), runs at the speed of real time
//! and can be moved forward. Everything the sandbox dates or schedules (job
//! progress, live conversations, idempotency keys, rate-limit windows, demo
//! data, every timestamp it writes) reads this clock; it is the only place
//! that looks at the machine's time.

use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::watch;

pub(crate) struct Clock {
    start: DateTime<Utc>,
    origin: Instant,
    /// Total of the `advance` calls.
    skipped: Mutex<Duration>,
    /// Bumped on every `advance`, so that waiters wake up.
    moved: watch::Sender<u64>,
}

impl Clock {
    /// A clock that reads `start` now.
    pub fn starting_at(start: DateTime<Utc>) -> Clock {
        Clock {
            start,
            origin: Instant::now(),
            skipped: Mutex::new(Duration::zero()),
            moved: watch::Sender::new(0),
        }
    }

    /// The machine's time (the default start).
    pub fn real_time() -> DateTime<Utc> {
        Utc::now()
    }

    pub fn now(&self) -> DateTime<Utc> {
        let ran = Duration::from_std(self.origin.elapsed()).unwrap_or(Duration::MAX);
        let skipped = *self.skipped.lock().unwrap_or_else(|e| e.into_inner());
        self.start
            .checked_add_signed(ran)
            .and_then(|t| t.checked_add_signed(skipped))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Moves the clock forward by `by` (negative durations are ignored).
    pub fn advance(&self, by: Duration) {
        if by <= Duration::zero() {
            return;
        }
        {
            let mut skipped = self.skipped.lock().unwrap_or_else(|e| e.into_inner());
            *skipped = skipped.checked_add(&by).unwrap_or(Duration::MAX);
        }
        self.moved.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Resolves once the clock reads `t` or later: after the real time left,
    /// or earlier when the clock is advanced past `t`.
    pub async fn sleep_until(&self, t: DateTime<Utc>) {
        let mut moved = self.moved.subscribe();
        loop {
            let left = t - self.now();
            if left <= Duration::zero() {
                return;
            }
            let left = left.to_std().unwrap_or(std::time::Duration::MAX);
            tokio::select! {
                _ = tokio::time::sleep(left) => {}
                _ = moved.changed() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_the_chosen_instant_and_advances() {
        let start = DateTime::parse_from_rfc3339("2026-03-29T00:59:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = Clock::starting_at(start);
        let t0 = clock.now();
        assert!(t0 >= start && t0 - start < Duration::seconds(5));
        clock.advance(Duration::hours(25));
        let t1 = clock.now();
        assert!(t1 - t0 >= Duration::hours(25));
        clock.advance(-Duration::hours(1));
        assert!(clock.now() >= t1);
    }

    #[tokio::test]
    async fn advancing_wakes_a_sleeper() {
        let clock = std::sync::Arc::new(Clock::starting_at(Clock::real_time()));
        let due = clock.now() + Duration::days(1);
        let c = clock.clone();
        let sleeper = tokio::spawn(async move { c.sleep_until(due).await });
        tokio::task::yield_now().await;
        clock.advance(Duration::days(2));
        tokio::time::timeout(std::time::Duration::from_secs(10), sleeper)
            .await
            .expect("the sleeper woke up")
            .unwrap();
    }
}
