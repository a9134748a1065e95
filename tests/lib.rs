//! Support for the end-to-end scenarios: a sandbox whose every response is
//! checked against the spec, and a record of the operations the suite called.

pub mod conformance;

use conformance::SpecValidator;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock};

/// A sandbox with demo data, a client for it, and what the sandbox saw.
pub struct Harness {
    /// A client with the sandbox's full-access key.
    pub client: ayra::Client,
    /// The sandbox itself.
    pub sandbox: ayra_sandbox::Sandbox,
    seen: Arc<Mutex<Seen>>,
}

#[derive(Default)]
struct Seen {
    operations: BTreeSet<String>,
    violations: Vec<String>,
    responses: usize,
}

/// How long the sandbox's asynchronous jobs take: long enough that none
/// finishes by itself while a scenario runs, so a scenario sees a job
/// unfinished for certain and finishes it with [`Harness::finish_jobs`].
pub const JOB_DURATION: std::time::Duration = std::time::Duration::from_secs(600);

/// The instant every scenario's sandbox starts at, so that the suite gives
/// the same answer whatever the day and hour it runs. This one is kept
/// because it once broke a scenario: at 15:10 UTC, "two hours later" is past
/// the demo calendar's working hours in Paris. `AYRA_TEST_NOW` (RFC 3339)
/// starts the sandboxes elsewhere; `cargo xtask fuzz` draws one at random.
pub const START: &str = "2026-12-03T15:10:00Z";

/// [`START`], or the instant `AYRA_TEST_NOW` names.
pub fn start_time() -> ayra::chrono::DateTime<ayra::chrono::Utc> {
    let at = std::env::var("AYRA_TEST_NOW").unwrap_or_else(|_| START.to_string());
    ayra::chrono::DateTime::parse_from_rfc3339(&at)
        .unwrap_or_else(|e| panic!("AYRA_TEST_NOW={at:?} is not RFC 3339: {e}"))
        .to_utc()
}

fn validator() -> &'static SpecValidator {
    static VALIDATOR: OnceLock<SpecValidator> = OnceLock::new();
    VALIDATOR.get_or_init(SpecValidator::load)
}

impl Harness {
    /// Starts a sandbox with demo data; every response it sends is checked
    /// against the spec.
    pub async fn start() -> Harness {
        Harness::start_with_accounts(&[]).await
    }

    /// [`Harness::start`] with these accounts (name, key) besides the
    /// default one, each with demo data of its own.
    pub async fn start_with_accounts(accounts: &[(&str, &str)]) -> Harness {
        let seen: Arc<Mutex<Seen>> = Arc::default();
        let log = seen.clone();
        let mut builder = ayra_sandbox::Sandbox::builder();
        for (name, key) in accounts {
            builder = builder.account(*name, *key);
        }
        let sandbox = builder
            .seed_demo_data(11)
            .now(start_time())
            .job_duration(JOB_DURATION)
            .observe(move |x| {
                let v = validator();
                let mut seen = log.lock().unwrap();
                seen.responses += 1;
                if let Some(op) = v.operation(&x.method, &x.path) {
                    seen.operations.insert(op.to_string());
                }
                let body = x.body.as_deref().unwrap_or_default();
                let headers: Vec<(String, String)> = x
                    .headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
                    .collect();
                if let Err(e) = v.check(&x.method, &x.path, x.status, &headers, body) {
                    seen.violations.push(e);
                }
            })
            .start()
            .await;
        let client = ayra::Client::builder()
            .api_key(sandbox.api_key())
            .base_url(sandbox.base_url())
            .build()
            .expect("a loopback http URL is accepted");
        Harness {
            client,
            sandbox,
            seen,
        }
    }

    /// What the sandbox's clock reads: scenarios date what they send from
    /// it, never from the machine's clock.
    pub fn now(&self) -> ayra::chrono::DateTime<ayra::chrono::Utc> {
        self.sandbox.now()
    }

    /// Moves the sandbox's clock past [`JOB_DURATION`]: every job started so
    /// far has finished (succeeded, or failed when asked to).
    pub fn finish_jobs(&self) {
        self.sandbox.advance(JOB_DURATION);
    }

    /// A client for the same sandbox with another API key.
    pub fn client_with_key(&self, key: &str) -> ayra::Client {
        ayra::Client::builder()
            .api_key(key)
            .base_url(self.sandbox.base_url())
            .retry(ayra::RetryPolicy::none())
            .build()
            .expect("valid settings")
    }

    /// The operations (by `operationId`) the sandbox has served.
    pub fn operations_called(&self) -> BTreeSet<String> {
        self.seen.lock().unwrap().operations.clone()
    }

    /// Fails if any response so far did not conform to the spec.
    pub fn assert_conformant(&self) {
        let seen = self.seen.lock().unwrap();
        assert!(seen.responses > 0, "the sandbox served nothing");
        assert!(
            seen.violations.is_empty(),
            "{} of {} responses do not conform to the spec:\n{}",
            seen.violations.len(),
            seen.responses,
            seen.violations.join("\n")
        );
    }
}
