//! When and how long to wait before trying a call again.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use std::time::Duration;

/// Retry behaviour for transient failures: connection errors, timeouts, 429,
/// 500, 502, 503 and 504. Other 4xx are never retried.
///
/// ```
/// use std::time::Duration;
/// let policy = ayra::RetryPolicy::default()
///     .max_retries(4)
///     .base_delay(Duration::from_millis(100));
/// assert_eq!(policy.retries(), 4);
/// assert_eq!(ayra::RetryPolicy::none().retries(), 0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    max_retries: u32,
    base_delay: Duration,
    max_delay: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// Two retries, 250 ms base delay doubling to at most 8 s, and a
    /// server's `Retry-After` honoured up to 30 s.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy::default().max_retries(0)
    }

    /// How many times a call is retried after its first attempt.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// The first backoff delay; each retry doubles it (before jitter).
    pub fn base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }

    /// The longest backoff delay.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// The longest `Retry-After` honoured; a longer one is cut to this.
    pub fn max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = d;
        self
    }

    /// The configured number of retries.
    pub fn retries(&self) -> u32 {
        self.max_retries
    }

    /// The delay before retry number `retry` (0-based): the server's
    /// `Retry-After` when given (capped), else exponential backoff with
    /// jitter, uniformly in [d/2, d] for d = base * 2^retry (capped).
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_retry_after);
        }
        let (low, high) = self.delay_bounds(retry);
        low + (high - low).mul_f64(rand::random::<f64>())
    }

    /// The range the backoff before retry number `retry` is drawn from
    /// (without `Retry-After`).
    pub fn delay_bounds(&self, retry: u32) -> (Duration, Duration) {
        let full = self
            .base_delay
            .saturating_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX))
            .min(self.max_delay);
        (full / 2, full)
    }
}

/// Statuses worth retrying.
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// `Retry-After` in either form of RFC 9110: delay-seconds, or an HTTP-date
/// (the wait until then; none when it has passed). Anything else is ignored,
/// and a huge value is capped here and by the policy.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    const DAY: u64 = 24 * 3600;
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs.min(DAY)));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    let wait = date
        .duration_since(std::time::SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Some(wait.min(Duration::from_secs(DAY)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_within_its_bounds() {
        let p = RetryPolicy::default()
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(300));
        for _ in 0..100 {
            let d0 = p.delay(0, None);
            assert!(d0 >= Duration::from_millis(50) && d0 <= Duration::from_millis(100));
            let d5 = p.delay(5, None);
            assert!(d5 >= Duration::from_millis(150) && d5 <= Duration::from_millis(300));
            assert!(p.delay(40, None) <= Duration::from_millis(300));
        }
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let p = RetryPolicy::default().max_retry_after(Duration::from_secs(5));
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(500))),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_an_http_date() {
        let mut h = HeaderMap::new();
        for (value, want) in [
            ("3", Some(3)),
            (" 7 ", Some(7)),
            ("-1", None),
            ("Wed, 21 Oct 2015 07:28:00 GMT", Some(0)),
            ("99999999999999999999999", None),
            ("1e3", None),
            ("Wed, 21 Oct 2015 07:28:00", None),
        ] {
            h.insert(reqwest::header::RETRY_AFTER, value.parse().unwrap());
            assert_eq!(retry_after(&h), want.map(Duration::from_secs), "{value}");
        }
        let soon = std::time::SystemTime::now() + Duration::from_secs(90);
        h.insert(
            reqwest::header::RETRY_AFTER,
            httpdate::fmt_http_date(soon).parse().unwrap(),
        );
        let wait = retry_after(&h).unwrap();
        assert!(
            wait > Duration::from_secs(85) && wait <= Duration::from_secs(90),
            "{wait:?}"
        );
    }
}
