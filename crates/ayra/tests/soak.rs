//! Fault soak: many concurrent creates and updates through the SDK against
//! the sandbox while it injects 500/503, 429 with `Retry-After`, dropped
//! connections, truncated bodies and slow replies. Afterwards every write the
//! SDK reported as done is there exactly once, a write that failed is there
//! at most once, every contact holds the last update made to it (or, when
//! that update failed, its name before or after it), and every failure is one
//! these faults can cause once retries run out: an injected status (429, 500,
//! 503, with the API's envelope) or a broken connection.
//!
//! `AYRA_SOAK_SCALE=10 cargo test -p ayra --test soak -- --nocapture` (or
//! `cargo xtask soak`) runs ten times as many operations.

use ayra::Paginate;
use ayra_sandbox::{Faults, Resource, Sandbox};
use futures::TryStreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// What became of one contact's update.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Update {
    NotTried,
    Applied,
    Failed,
}

/// One task's create and update of one contact.
struct Outcome {
    t: usize,
    i: usize,
    email: String,
    created: bool,
    updated: Update,
}

/// Whether `e` is a failure the injected faults can cause once the retries
/// run out: one of the injected statuses with the API's envelope, or a
/// connection dropped or cut short. Anything else (a 4xx, a decode error, a
/// timeout) is a bug the faults exposed.
fn caused_by_the_faults(e: &ayra::Error) -> bool {
    match e {
        ayra::Error::Api(api) => {
            matches!(api.status.as_u16(), 429 | 500 | 503)
                && api.is_envelope()
                && api.request_id.is_some()
        }
        ayra::Error::Transport { .. } => true,
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_lands_exactly_once_under_faults() {
    let scale: usize = std::env::var("AYRA_SOAK_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let (tasks, per_task) = (16, 25 * scale);
    let faults = Faults {
        error_rate: 0.10,
        error_statuses: vec![500, 503],
        rate_limit: Some((400, Duration::from_secs(1))),
        latency: Duration::from_millis(2),
        drop_rate: 0.05,
        truncate_rate: 0.05,
        seed: 42,
    };
    let sandbox = Sandbox::builder().faults(faults).start().await;
    let client_with = |retries| {
        ayra::Client::builder()
            .api_key(sandbox.api_key())
            .base_url(sandbox.base_url())
            .retry(
                ayra::RetryPolicy::default()
                    .max_retries(retries)
                    .base_delay(Duration::from_millis(5))
                    .max_delay(Duration::from_millis(200)),
            )
            .build()
            .unwrap()
    };
    let client = client_with(8);
    // Half the tasks retry once only, so that some calls run out of retries
    // and their failures are checked.
    let impatient = client_with(1);
    let before = sandbox.count(Resource::Contacts);
    let typed_errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..tasks)
        .map(|t| {
            let client = if t % 2 == 0 { &client } else { &impatient }.clone();
            let typed_errors = typed_errors.clone();
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for i in 0..per_task {
                    let email = format!("soak-{t}-{i}@example.com");
                    let created = client
                        .create_contact()
                        .body_map(|b| b.first_name("Soak").email(Some(email.clone())))
                        .send()
                        .await;
                    let mut updated = Update::NotTried;
                    match created {
                        Ok(c) => {
                            let result = client
                                .update_contact()
                                .contact_id(&c.data.id)
                                .body_map(|b| b.first_name(format!("Updated {t}-{i}")))
                                .send()
                                .await;
                            match result {
                                Ok(u) => {
                                    assert_eq!(u.data.first_name, format!("Updated {t}-{i}"));
                                    updated = Update::Applied;
                                }
                                Err(e) => {
                                    assert!(caused_by_the_faults(&e), "update failed with {e:?}");
                                    typed_errors.fetch_add(1, Relaxed);
                                    updated = Update::Failed;
                                }
                            }
                            outcomes.push(Outcome {
                                t,
                                i,
                                email,
                                created: true,
                                updated,
                            });
                        }
                        Err(e) => {
                            assert!(caused_by_the_faults(&e), "create failed with {e:?}");
                            typed_errors.fetch_add(1, Relaxed);
                            outcomes.push(Outcome {
                                t,
                                i,
                                email,
                                created: false,
                                updated,
                            });
                        }
                    }
                }
                outcomes
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for w in workers {
        outcomes.extend(w.await.expect("no task panicked"));
    }
    let elapsed = started.elapsed();
    let stats = sandbox.stats();
    sandbox.set_faults(Faults::none());

    let stored: Vec<ayra::types::Contact> = client
        .list_contacts()
        .q("soak-")
        .per_page(100)
        .items()
        .try_collect()
        .await
        .unwrap();
    let mut by_email: HashMap<String, Vec<&ayra::types::Contact>> = HashMap::new();
    for c in &stored {
        by_email
            .entry(c.email.clone().unwrap_or_default())
            .or_default()
            .push(c);
    }
    let (mut lost, mut duplicated, mut stale) = (0, 0, 0);
    for o in &outcomes {
        let copies = by_email.get(&o.email).map_or(&[][..], Vec::as_slice);
        if o.created && copies.is_empty() {
            lost += 1;
        }
        if copies.len() > 1 {
            duplicated += 1;
        }
        // The stored name is the last one this task wrote: its update when
        // that succeeded, the original or the update when it failed (it may
        // have been applied before its response was lost), the original when
        // no update was sent.
        let update = format!("Updated {}-{}", o.t, o.i);
        let expected: &[&str] = match o.updated {
            Update::Applied => &[&update],
            Update::Failed => &["Soak", &update],
            Update::NotTried => &["Soak"],
        };
        if copies
            .iter()
            .any(|c| !expected.contains(&c.first_name.as_str()))
        {
            stale += 1;
        }
    }
    let applied = sandbox.count(Resource::Contacts) - before;
    println!(
        "soak: {} creates + updates by {tasks} tasks in {elapsed:.1?}; requests {}, faults injected {} \
         (errors {:?}, 429 {}, dropped {}, truncated {}, delayed {}), idempotent replays {}, \
         writes applied {}, contacts stored {applied}, typed errors seen {}, lost {lost}, duplicated {duplicated}, stale updates {stale}, sandbox panics {}",
        outcomes.len(),
        stats.requests,
        stats.faults.total(),
        stats.faults.errors,
        stats.faults.rate_limited,
        stats.faults.dropped,
        stats.faults.truncated,
        stats.faults.delayed,
        stats.idempotent_replays,
        stats.writes_applied,
        typed_errors.load(Relaxed),
        stats.panics,
    );
    assert_eq!((lost, duplicated, stale), (0, 0, 0));
    assert!(
        typed_errors.load(Relaxed) > 0,
        "some calls ran out of retries, so their failures were checked"
    );
    assert_eq!(applied, stored.len(), "nothing else was created");
    assert!(applied <= outcomes.len());
    assert!(
        stats.faults.total() > outcomes.len() as u64 / 10,
        "faults were injected"
    );
    assert!(
        stats.idempotent_replays > 0,
        "lost responses were replayed, not re-applied"
    );
    assert_eq!(stats.panics, 0);
}
