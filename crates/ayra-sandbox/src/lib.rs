//! A local, in-memory, stateful server that behaves as the Ayra API
//! (`spec/ayra.yaml`): the SDK's tests, its examples and users' integration
//! tests run against it, like stripe-mock for Stripe.
//!
//! ```no_run
//! # async fn run() {
//! let sandbox = ayra_sandbox::Sandbox::start().await;
//! let base_url = sandbox.base_url(); // http://127.0.0.1:PORT/v1
//! let key = sandbox.api_key(); // ayra_sandbox::TEST_API_KEY
//! // ... talk to it ...
//! sandbox.shutdown().await;
//! # }
//! ```
//!
//! # What it does
//!
//! - All 50 operations of the spec, with its envelopes, status codes, error
//!   codes, pagination links and `X-Request-Id` headers, backed by real state
//!   (agent state machine, contact search, tags and custom fields, calendar
//!   availability and recurring bookings, asynchronous jobs that finish after
//!   [`SandboxBuilder::job_duration`], CSV/NDJSON exports, MP3 recordings,
//!   server-sent conversation events, analytics computed from the
//!   conversations it holds).
//! - Idempotency (`Idempotency-Key` on POST and PATCH): replays, 422
//!   `idempotency_key_reused`, and exactly-once under concurrency.
//! - Keys: [`TEST_API_KEY`] (full access, plus any [`SandboxBuilder::api_key`]),
//!   [`READ_ONLY_API_KEY`] (403 `permission_error` on POST, PATCH and DELETE).
//! - Accounts: those keys act on the default account ([`DEFAULT_ACCOUNT`]);
//!   [`SandboxBuilder::account`] adds others, each with its own keys and data.
//! - A fixed data set that always exists ([`FIXTURES`]), and optional demo data
//!   ([`SandboxBuilder::seed_demo_data`]: ~3,000 contacts and conversations).
//!
//! # Accounts
//!
//! As in a multi-tenant API, each account has its own data: the auth stage
//! resolves the request's key to its account, and the handlers see that
//! account's data only. Another account's resource is answered as one that
//! never existed (404 `resource_not_found` for an id in the path, no match for
//! a filter, 422 `invalid_reference` for a reference in a body) and is left
//! as it was; lists, analytics, reports and exports hold the caller's data.
//! Idempotency records and the configured rate limit are per key, and a key
//! belongs to one account. Ids are unique across accounts. An account starts
//! with the reference data (voices, time zones) and three calendars of its
//! own; [`SandboxBuilder::seed_demo_data`] gives it demo data of its own.
//! [`Sandbox::account`] reads an account's data from the library.
//!
//! ```no_run
//! # async fn run() {
//! use ayra_sandbox::{Resource, Sandbox};
//! let sandbox = Sandbox::builder()
//!     .account("acme", "sk_test_acme")
//!     .account("globex", "sk_test_globex")
//!     .seed_demo_data(42)
//!     .start()
//!     .await;
//! let acme = sandbox.account("acme").expect("configured above");
//! assert!(acme.count(Resource::Contacts) >= 3000);
//! let globex = sandbox.account("globex").expect("configured above");
//! assert_ne!(acme.ids(Resource::Contacts), globex.ids(Resource::Contacts));
//! # }
//! ```
//!
//! # Faults
//!
//! Configured at start-up with [`Faults`], or per request with headers:
//!
//! | `X-Sandbox-Fault` | effect |
//! | --- | --- |
//! | `503` (any 4xx/5xx status) | that status with the error envelope, before the operation runs |
//! | `503;retry-after=2` | the same with `Retry-After: 2` |
//! | `429` / `429;retry-after=N` | 429 `rate_limit_exceeded` with `Retry-After` (default 1) |
//! | `drop` | the operation runs, then the connection is closed without a response |
//! | `truncate` | the operation runs, then the response is cut half-way (full `Content-Length`, connection closed) |
//! | `latency=200` | waits 200 ms before handling the request |
//!
//! Directives combine with commas (`latency=100, 503`). With
//! `X-Sandbox-Fault-Times: N` only the first N requests carrying the same
//! fault header and the same `Idempotency-Key` (or, without one, the same
//! method, path and query) get the fault; later ones pass. That is what
//! retry tests need: `X-Sandbox-Fault: 503` + `X-Sandbox-Fault-Times: 2`
//! fails twice, then succeeds.
//!
//! `X-Sandbox-Job: fail` on `POST /workflows/{id}/trigger`, `POST /reports`
//! or `POST /exports` makes that job end `failed` (so does a workflow input
//! `{"fail": true}`).
//!
//! # Clock
//!
//! The sandbox's clock starts at [`SandboxBuilder::now`] (default: the real
//! time), runs at real speed and moves forward with [`Sandbox::advance`] or
//! the sandbox-only `POST /v1/_sandbox/clock/advance` (`{"seconds": N}`;
//! `GET /v1/_sandbox/clock` reads it). Jobs, live conversations, idempotency
//! keys, demo data and every timestamp follow it.
#![deny(missing_docs)]

mod accounts;
mod api;
mod clock;
mod demo;
mod error;
mod faults;
mod filters;
mod fixtures;
mod handlers;
mod inspect;
mod media;
mod model;
mod pipeline;
mod reference;
mod router;
mod server;
mod state;
mod stats;
mod validate;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use accounts::DEFAULT_ACCOUNT;
pub use faults::Faults;
pub use fixtures::{FIXTURES, Fixtures};
pub use inspect::{AccountView, Resource};
pub use pipeline::body::MAX_BODY_BYTES;
pub use pipeline::observe::{Exchange, Observer};
pub use stats::{AccountStats, FaultStats, Stats};

use accounts::Accounts;
use clock::Clock;
use pipeline::Pipeline;

/// The default test key: full access.
pub const TEST_API_KEY: &str = "sk_test_ayra_sandbox";
/// A read-only key: GET works, POST/PATCH/DELETE are 403 `permission_error`.
pub const READ_ONLY_API_KEY: &str = "sk_test_ayra_readonly";
/// How long asynchronous jobs take by default (queued for the first third, then running).
pub const DEFAULT_JOB_DURATION: Duration = Duration::from_millis(300);

/// Options of a sandbox; [`Sandbox::builder`].
#[derive(Clone, Debug)]
pub struct SandboxBuilder {
    demo_seed: Option<u64>,
    accounts: accounts::Config,
    faults: Faults,
    port: u16,
    job_duration: Duration,
    idempotency_ttl: Duration,
    observer: ObserverSlot,
    now: Option<DateTime<Utc>>,
}

/// Holds the observer so that the builder stays `Clone` and `Debug`.
#[derive(Clone, Default)]
struct ObserverSlot(Option<Observer>);

impl std::fmt::Debug for ObserverSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Some(observer)"
        } else {
            "None"
        })
    }
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        SandboxBuilder {
            demo_seed: None,
            accounts: accounts::Config::default(),
            faults: Faults::default(),
            port: 0,
            job_duration: DEFAULT_JOB_DURATION,
            idempotency_ttl: pipeline::idempotency::IDEMPOTENCY_TTL,
            observer: ObserverSlot::default(),
            now: None,
        }
    }
}

impl SandboxBuilder {
    /// Adds demo data generated deterministically from `seed`: 10 agents, ~3,000
    /// contacts, ~3,000 conversations with transcripts over the last 90 days,
    /// appointments and workflows (on top of [`FIXTURES`]). Every other
    /// [`account`](Self::account) gets demo data of its own, from `seed` and
    /// its name: the same seed gives each account the same data on every run,
    /// two accounts different data.
    pub fn seed_demo_data(mut self, seed: u64) -> Self {
        self.demo_seed = Some(seed);
        self
    }

    /// Accepts another full-access API key of the default account (besides [`TEST_API_KEY`]).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.accounts.default_keys.push(key.into());
        self
    }

    /// Accepts another read-only API key of the default account (besides [`READ_ONLY_API_KEY`]).
    pub fn read_only_api_key(mut self, key: impl Into<String>) -> Self {
        self.accounts.default_read_only_keys.push(key.into());
        self
    }

    /// Adds an account `name` with the full-access key `key` (the same name
    /// again gives the account another key). An account has its own data,
    /// apart from every other account's: its key sees, names and changes
    /// only its own resources; another account's resource is answered as
    /// one that never existed (a 404 `resource_not_found` for an id in the
    /// path) and left as it was. It starts with
    /// the reference data (voices, time zones) and three calendars of its
    /// own (the fixtures' calendars with other ids), with no agents,
    /// contacts or anything else, unless [`Self::seed_demo_data`] gives it
    /// demo data. [`Sandbox::account`] reads its data from the library.
    ///
    /// A name is 1 to 64 letters, digits, `.`, `_` or `-` (not
    /// [`DEFAULT_ACCOUNT`]); a key is 1 to 255 visible ASCII characters and
    /// belongs to one account only; [`Self::try_start`] refuses others.
    ///
    /// ```no_run
    /// # async fn run() {
    /// let sandbox = ayra_sandbox::Sandbox::builder()
    ///     .account("acme", "sk_test_acme")
    ///     .account("globex", "sk_test_globex")
    ///     .start()
    ///     .await;
    /// let acme = sandbox.account("acme").expect("configured above");
    /// assert_eq!(acme.count(ayra_sandbox::Resource::Contacts), 0);
    /// # }
    /// ```
    pub fn account(mut self, name: impl Into<String>, key: impl Into<String>) -> Self {
        self.accounts.named.push(accounts::NamedKey {
            account: name.into(),
            key: key.into(),
            read_only: false,
        });
        self
    }

    /// Gives the account `name` a read-only key (GET only; POST, PATCH and
    /// DELETE are 403, as with [`READ_ONLY_API_KEY`] in the default
    /// account); the account is added if it was not yet. Names and keys
    /// follow the rules of [`Self::account`].
    pub fn account_read_only_key(
        mut self,
        name: impl Into<String>,
        key: impl Into<String>,
    ) -> Self {
        self.accounts.named.push(accounts::NamedKey {
            account: name.into(),
            key: key.into(),
            read_only: true,
        });
        self
    }

    /// Faults to inject (none by default).
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// The port to listen on (on 127.0.0.1); 0, the default, picks a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// How long asynchronous jobs (workflow executions, reports, exports) take
    /// to finish; also paces live conversation event streams (a third of it per event).
    pub fn job_duration(mut self, d: Duration) -> Self {
        self.job_duration = d;
        self
    }

    /// How long an idempotency key is remembered (24 hours, as the API
    /// documents); after it, the same key applies the request again.
    pub fn idempotency_ttl(mut self, ttl: Duration) -> Self {
        self.idempotency_ttl = ttl;
        self
    }

    /// Starts the sandbox's clock at `now` instead of the real time. The
    /// clock then runs at the speed of real time and [`Sandbox::advance`]
    /// moves it forward; demo data, jobs, live conversations, idempotency
    /// keys and every timestamp the sandbox writes follow it.
    pub fn now(mut self, now: DateTime<Utc>) -> Self {
        self.now = Some(now);
        self
    }

    /// Calls `observer` with every exchange served: tests use it to check
    /// responses against the spec or to record the operations called.
    pub fn observe(mut self, observer: impl Fn(&Exchange) + Send + Sync + 'static) -> Self {
        self.observer = ObserverSlot(Some(Arc::new(observer)));
        self
    }

    /// Starts the sandbox; panics if 127.0.0.1:`port` cannot be bound or an
    /// account is misconfigured (see [`Self::try_start`]).
    pub async fn start(self) -> Sandbox {
        let port = self.port;
        match self.try_start().await {
            Ok(s) => s,
            Err(e) => panic!("ayra-sandbox: cannot start on 127.0.0.1:{port}: {e}"),
        }
    }

    /// Starts the sandbox. An invalid account name or key, or a key given
    /// to two accounts, is an [`std::io::ErrorKind::InvalidInput`] error
    /// (whose message names the accounts, never a key).
    pub async fn try_start(self) -> std::io::Result<Sandbox> {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await?;
        let addr = listener.local_addr()?;
        let clock = Arc::new(Clock::starting_at(
            self.now.unwrap_or_else(Clock::real_time).trunc_subsecs(0),
        ));
        let now = clock.now().trunc_subsecs(0);
        let job =
            chrono::Duration::from_std(self.job_duration).unwrap_or(chrono::Duration::seconds(1));
        let seeding = accounts::Seeding {
            demo: self.demo_seed,
            ids: self.demo_seed.unwrap_or_else(rand::random),
            now,
            job_duration: job,
        };
        let accounts = Accounts::open(self.accounts, &seeding)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let shared = Arc::new(Pipeline {
            accounts,
            idempotency: pipeline::idempotency::Store::new(clock.clone(), self.idempotency_ttl),
            clock,
            faults: pipeline::faults::Injector::new(self.faults),
            counters: Default::default(),
            addr,
            observer: self.observer.0,
        });
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(server::run(listener, shared.clone(), rx));
        Ok(Sandbox {
            shared,
            addr,
            shutdown: tx,
            task: Some(task),
        })
    }
}

/// A running sandbox. Dropping it stops the server (in the background);
/// [`Sandbox::shutdown`] stops it and waits.
pub struct Sandbox {
    shared: Arc<Pipeline>,
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("addr", &self.addr).finish()
    }
}

impl Sandbox {
    /// Starts a sandbox with the default options on a free port.
    pub async fn start() -> Sandbox {
        Self::builder().start().await
    }

    /// A builder for the options.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// `http://127.0.0.1:PORT/v1`
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The address the sandbox listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the sandbox listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The default full-access key ([`TEST_API_KEY`]).
    pub fn api_key(&self) -> &'static str {
        TEST_API_KEY
    }

    /// The read-only key ([`READ_ONLY_API_KEY`]).
    pub fn read_only_api_key(&self) -> &'static str {
        READ_ONLY_API_KEY
    }

    /// The ids of the fixed data set.
    pub fn fixtures(&self) -> &'static Fixtures {
        &FIXTURES
    }

    /// Counters: requests, writes applied, replays, faults injected, TCP
    /// connections ([`AccountView::stats`] for one account's).
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// Replaces the faults injected from now on.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.faults.set(faults);
    }

    /// What the sandbox's clock reads now.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    /// Moves the sandbox's clock forward: jobs progress, live conversations
    /// play on and idempotency keys expire as if `by` had passed. Also over
    /// HTTP: `POST /v1/_sandbox/clock/advance` with `{"seconds": N}` (a
    /// sandbox-only route, not part of the API).
    pub fn advance(&self, by: Duration) {
        self.shared
            .clock
            .advance(chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX));
    }

    /// How many resources of a kind the default account holds now
    /// ([`AccountView::count`] for another account).
    pub fn count(&self, r: Resource) -> usize {
        self.default_account().count(r)
    }

    /// The ids of the default account's resources of a kind, sorted
    /// ([`AccountView::ids`] for another account).
    pub fn ids(&self, r: Resource) -> Vec<String> {
        self.default_account().ids(r)
    }

    /// An account's data and counters, by name (`None` if there is no such
    /// account); [`DEFAULT_ACCOUNT`] is the account of [`TEST_API_KEY`].
    pub fn account(&self, name: &str) -> Option<AccountView<'_>> {
        self.shared.accounts.get(name).map(|a| AccountView::new(a))
    }

    /// The account of [`TEST_API_KEY`] ([`DEFAULT_ACCOUNT`]).
    pub fn default_account(&self) -> AccountView<'_> {
        AccountView::new(self.shared.accounts.default_account())
    }

    /// The names of the accounts, [`DEFAULT_ACCOUNT`] first.
    pub fn accounts(&self) -> Vec<String> {
        self.shared.accounts.names()
    }

    /// Stops accepting connections, lets the open ones finish (at most about
    /// 2 seconds) and waits until the server has stopped.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
