//! The tour (`cargo run --example tour`) is the first thing a newcomer runs:
//! its walk through the six domains must succeed whatever the time is. This
//! runs the example's own code against sandboxes whose clocks start at
//! instants spread over a year, over the hours of the day and the days of
//! the week, at the ends of months and at the daylight-saving changes of
//! Europe/Paris and America/New_York.

#[path = "../examples/support/domains.rs"]
mod domains;

use std::time::{Duration, Instant};

use ayra::chrono::{DateTime, Duration as Span, Utc};
use futures::StreamExt;

/// Instants someone could run the tour at.
fn instants() -> Vec<DateTime<Utc>> {
    let at = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .expect("a valid instant")
            .to_utc()
    };
    // Every 7 days and 7 hours through 2026: each hour of the day and each
    // day of the week comes round.
    let mut v: Vec<DateTime<Utc>> = (0..52)
        .map(|k| at("2026-01-01T00:00:00Z") + (Span::days(7) + Span::hours(7)) * k)
        .collect();
    v.extend(
        [
            // Where the tour used to fail (issue 10).
            "2026-11-16T18:18:00Z",
            "2026-11-19T15:57:00Z",
            "2026-11-25T15:40:00Z",
            "2026-12-16T12:48:00Z",
            // Daylight-saving changes: Europe/Paris (01:00 UTC) ...
            "2026-03-29T00:59:00Z",
            "2026-03-29T01:00:00Z",
            "2026-10-25T00:59:00Z",
            "2026-10-25T01:30:00Z",
            "2027-03-28T01:00:00Z",
            "2027-10-31T01:00:00Z",
            // ... and America/New_York (2:00 local).
            "2026-03-08T07:00:00Z",
            "2026-11-01T06:00:00Z",
            "2027-03-14T07:00:00Z",
            "2027-11-07T06:00:00Z",
            // Three weeks before them, when the tour books across them.
            "2026-03-08T09:00:00Z",
            "2026-10-04T13:00:00Z",
            "2026-10-11T15:00:00Z",
            // Last days of months, 23:59 UTC, weekends.
            "2026-01-31T23:59:00Z",
            "2026-02-28T23:59:00Z",
            "2026-04-30T12:00:00Z",
            "2026-06-30T23:59:00Z",
            "2026-12-31T23:59:00Z",
            "2027-02-28T08:00:00Z",
            "2026-05-16T10:00:00Z",
            "2026-05-17T22:00:00Z",
        ]
        .map(at),
    );
    v
}

/// Runs the tour's walk against a sandbox started at `now`.
async fn tour_at(now: DateTime<Utc>) -> Result<(), String> {
    let sandbox = ayra_sandbox::Sandbox::builder()
        .now(now)
        .seed_demo_data(7)
        .job_duration(Duration::from_millis(60))
        .start()
        .await;
    let client = ayra::Client::builder()
        .api_key(sandbox.api_key())
        .base_url(sandbox.base_url())
        .build()
        .map_err(|e| e.to_string())?;
    let result = domains::walk(&client, domains::ALL).await;
    sandbox.shutdown().await;
    result.map_err(|e| format!("at {now}: the tour failed in {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tour_succeeds_at_any_instant() {
    let instants = instants();
    assert!(instants.len() >= 50);
    let started = Instant::now();
    let failures: Vec<String> = futures::stream::iter(instants.iter().copied().map(tour_at))
        .buffer_unordered(4)
        .filter_map(|r| async move { r.err() })
        .collect()
        .await;
    println!(
        "the tour ran at {} instants in {:.1} s",
        instants.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
