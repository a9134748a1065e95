//! Faults injected on purpose: configured at start-up ([`Faults`]) or per
//! request with the `X-Sandbox-Fault` header.

use std::time::Duration;

/// Faults the sandbox injects at random (or on every request for
/// `latency` and `rate_limit`), to exercise a client's retry logic.
///
/// Error statuses (`error_rate`) and rate limiting happen *before* the
/// operation runs; dropped and truncated responses (`drop_rate`,
/// `truncate_rate`) happen *after* it ran (a write is applied, only its
/// response is lost), so that an idempotent retry is replayed, not applied twice.
#[derive(Clone, Debug, PartialEq)]
pub struct Faults {
    /// Probability (0..=1) that a request fails with one of `error_statuses`.
    pub error_rate: f64,
    /// The statuses `error_rate` picks from (default 500, 502, 503, 504).
    pub error_statuses: Vec<u16>,
    /// At most this many requests per API key per window; the others get a
    /// 429 with `Retry-After` (whole seconds until the window resets).
    pub rate_limit: Option<(u32, Duration)>,
    /// Added to every request before it is handled.
    pub latency: Duration,
    /// Probability that the connection is closed instead of sending the response.
    pub drop_rate: f64,
    /// Probability that the response body is cut short (the `Content-Length`
    /// announces the full body, the connection closes half-way).
    pub truncate_rate: f64,
    /// Seed of the random draws (deterministic sequences for a given request order).
    pub seed: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            error_rate: 0.0,
            error_statuses: vec![500, 502, 503, 504],
            rate_limit: None,
            latency: Duration::ZERO,
            drop_rate: 0.0,
            truncate_rate: 0.0,
            seed: 0,
        }
    }
}

impl Faults {
    /// No faults (the default).
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether any random or systematic fault is configured.
    pub fn is_active(&self) -> bool {
        self.error_rate > 0.0
            || self.drop_rate > 0.0
            || self.truncate_rate > 0.0
            || self.rate_limit.is_some()
            || !self.latency.is_zero()
    }
}

/// One directive of an `X-Sandbox-Fault` header.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Directive {
    /// Answer with this status (4xx/5xx) and the error envelope, before the operation runs.
    Status {
        status: u16,
        retry_after: Option<u64>,
    },
    /// Close the connection without a response, after the operation ran.
    Drop,
    /// Send the headers and part of the body, after the operation ran.
    Truncate,
    /// Wait this long before handling the request.
    Latency(Duration),
}

/// Parses `X-Sandbox-Fault`: comma-separated directives, e.g.
/// `503`, `429;retry-after=2`, `drop`, `truncate`, `latency=200`.
pub(crate) fn parse_header(v: &str) -> Result<Vec<Directive>, String> {
    let mut out = Vec::new();
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut pieces = part.split(';').map(str::trim);
        let head = pieces.next().unwrap_or("").to_ascii_lowercase();
        let params: Vec<(String, String)> = pieces
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.trim().to_ascii_lowercase(), v.trim().to_string()),
                None => (p.to_ascii_lowercase(), String::new()),
            })
            .collect();
        let d = if head == "drop" {
            Directive::Drop
        } else if head == "truncate" {
            Directive::Truncate
        } else if let Some(ms) = head.strip_prefix("latency=") {
            let ms: u64 = ms
                .trim()
                .parse()
                .map_err(|_| format!("invalid latency '{ms}' (milliseconds expected)"))?;
            Directive::Latency(Duration::from_millis(ms.min(60_000)))
        } else if let Ok(status) = head.parse::<u16>() {
            if !(400..=599).contains(&status) {
                return Err(format!("status {status} is not a 4xx or 5xx status"));
            }
            let mut retry_after = None;
            for (k, v) in &params {
                if k == "retry-after" {
                    retry_after =
                        Some(v.parse::<u64>().map_err(|_| {
                            format!("invalid retry-after '{v}' (seconds expected)")
                        })?);
                } else {
                    return Err(format!("unknown parameter '{k}'"));
                }
            }
            if status == 429 && retry_after.is_none() {
                retry_after = Some(1);
            }
            Directive::Status {
                status,
                retry_after,
            }
        } else {
            return Err(format!(
                "unknown fault '{part}' (expected a status such as 503 or '429;retry-after=1', 'drop', 'truncate' or 'latency=<ms>')"
            ));
        };
        out.push(d);
    }
    if out.is_empty() {
        return Err("empty fault header".to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(
            parse_header("503").unwrap(),
            vec![Directive::Status {
                status: 503,
                retry_after: None
            }]
        );
        assert_eq!(
            parse_header("429;retry-after=3").unwrap(),
            vec![Directive::Status {
                status: 429,
                retry_after: Some(3)
            }]
        );
        assert_eq!(
            parse_header("429").unwrap(),
            vec![Directive::Status {
                status: 429,
                retry_after: Some(1)
            }]
        );
        assert_eq!(
            parse_header("latency=200, drop").unwrap(),
            vec![
                Directive::Latency(Duration::from_millis(200)),
                Directive::Drop
            ]
        );
        assert_eq!(parse_header("TRUNCATE").unwrap(), vec![Directive::Truncate]);
        assert!(parse_header("200").is_err());
        assert!(parse_header("boom").is_err());
        assert!(parse_header("").is_err());
        assert!(parse_header("503;x=1").is_err());
    }
}
