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
//! - A fixed data set that always exists ([`FIXTURES`]), and optional demo data
//!   ([`SandboxBuilder::seed_demo_data`]: ~3,000 contacts and conversations).
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

mod api;
mod clock;
mod demo;
mod error;
mod faults;
mod filters;
mod fixtures;
mod handlers;
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
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use faults::Faults;
pub use fixtures::{FIXTURES, Fixtures};
pub use pipeline::body::MAX_BODY_BYTES;
pub use pipeline::observe::{Exchange, Observer};
pub use stats::{FaultStats, Stats};

use clock::Clock;
use pipeline::Pipeline;
use state::{State, lock};

/// The default test key: full access.
pub const TEST_API_KEY: &str = "sk_test_ayra_sandbox";
/// A read-only key: GET works, POST/PATCH/DELETE are 403 `permission_error`.
pub const READ_ONLY_API_KEY: &str = "sk_test_ayra_readonly";
/// How long asynchronous jobs take by default (queued for the first third, then running).
pub const DEFAULT_JOB_DURATION: Duration = Duration::from_millis(300);

/// The kinds of resources the sandbox stores, for [`Sandbox::count`] and [`Sandbox::ids`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    /// Agents.
    Agents,
    /// Voices (reference data).
    Voices,
    /// Time zones (reference data).
    Timezones,
    /// Conversations.
    Conversations,
    /// Contacts.
    Contacts,
    /// Custom field definitions.
    CustomFields,
    /// Calendars.
    Calendars,
    /// Appointments (every occurrence of a series counts).
    Appointments,
    /// Workflows.
    Workflows,
    /// Workflow executions.
    WorkflowExecutions,
    /// Reports.
    Reports,
    /// Exports.
    Exports,
}

/// Options of a sandbox; [`Sandbox::builder`].
#[derive(Clone, Debug)]
pub struct SandboxBuilder {
    demo_seed: Option<u64>,
    api_keys: Vec<String>,
    read_only_keys: Vec<String>,
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
            api_keys: Vec::new(),
            read_only_keys: Vec::new(),
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
    /// appointments and workflows (on top of [`FIXTURES`]).
    pub fn seed_demo_data(mut self, seed: u64) -> Self {
        self.demo_seed = Some(seed);
        self
    }

    /// Accepts another full-access API key (besides [`TEST_API_KEY`]).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_keys.push(key.into());
        self
    }

    /// Accepts another read-only API key (besides [`READ_ONLY_API_KEY`]).
    pub fn read_only_api_key(mut self, key: impl Into<String>) -> Self {
        self.read_only_keys.push(key.into());
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

    /// Starts the sandbox; panics if 127.0.0.1:`port` cannot be bound (see [`Self::try_start`]).
    pub async fn start(self) -> Sandbox {
        let port = self.port;
        match self.try_start().await {
            Ok(s) => s,
            Err(e) => panic!("ayra-sandbox: cannot listen on 127.0.0.1:{port}: {e}"),
        }
    }

    /// Starts the sandbox.
    pub async fn try_start(self) -> std::io::Result<Sandbox> {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await?;
        let addr = listener.local_addr()?;
        let clock = Arc::new(Clock::starting_at(
            self.now.unwrap_or_else(Clock::real_time).trunc_subsecs(0),
        ));
        let now = clock.now().trunc_subsecs(0);
        let job =
            chrono::Duration::from_std(self.job_duration).unwrap_or(chrono::Duration::seconds(1));
        let mut st = State::empty(self.demo_seed.unwrap_or_else(rand::random) ^ 0x5eed, job);
        st.voices = reference::voices();
        st.timezones = reference::timezones();
        st.calendars = reference::calendars();
        fixtures::seed(&mut st, now);
        if let Some(seed) = self.demo_seed {
            demo::seed(&mut st, seed, now);
        }
        fixtures::seed_jobs(&mut st, now);
        let mut full: std::collections::HashSet<String> = self.api_keys.into_iter().collect();
        full.insert(TEST_API_KEY.to_string());
        let mut read_only: std::collections::HashSet<String> =
            self.read_only_keys.into_iter().collect();
        read_only.insert(READ_ONLY_API_KEY.to_string());
        let shared = Arc::new(Pipeline {
            state: Arc::new(Mutex::new(st)),
            idempotency: pipeline::idempotency::Store::new(clock.clone(), self.idempotency_ttl),
            clock,
            keys: pipeline::auth::Keys { full, read_only },
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

    /// Counters: requests, writes applied, replays, faults injected.
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

    /// How many resources of a kind the sandbox holds now.
    pub fn count(&self, r: Resource) -> usize {
        let st = lock(&self.shared.state);
        match r {
            Resource::Agents => st.agents.len(),
            Resource::Voices => st.voices.len(),
            Resource::Timezones => st.timezones.len(),
            Resource::Conversations => st.conversations.len(),
            Resource::Contacts => st.contacts.len(),
            Resource::CustomFields => st.custom_fields.len(),
            Resource::Calendars => st.calendars.len(),
            Resource::Appointments => st.appointments.len(),
            Resource::Workflows => st.workflows.len(),
            Resource::WorkflowExecutions => st.executions.len(),
            Resource::Reports => st.reports.len(),
            Resource::Exports => st.exports.len(),
        }
    }

    /// The ids of the resources of a kind, sorted.
    pub fn ids(&self, r: Resource) -> Vec<String> {
        let st = lock(&self.shared.state);
        let mut v: Vec<String> = match r {
            Resource::Agents => st.agents.keys().cloned().collect(),
            Resource::Voices => st.voices.iter().map(|v| v.id.clone()).collect(),
            Resource::Timezones => st.timezones.iter().map(|v| v.id.clone()).collect(),
            Resource::Conversations => st.conversations.keys().cloned().collect(),
            Resource::Contacts => st.contacts.keys().cloned().collect(),
            Resource::CustomFields => st.custom_fields.iter().map(|v| v.id.clone()).collect(),
            Resource::Calendars => st.calendars.iter().map(|v| v.id.clone()).collect(),
            Resource::Appointments => st.appointments.keys().cloned().collect(),
            Resource::Workflows => st.workflows.keys().cloned().collect(),
            Resource::WorkflowExecutions => st.executions.keys().cloned().collect(),
            Resource::Reports => st.reports.keys().cloned().collect(),
            Resource::Exports => st.exports.keys().cloned().collect(),
        };
        v.sort();
        v
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
