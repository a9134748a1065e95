//! Bulk writes: many items, each written once through the API, across one
//! or many accounts, near each account's rate limit.
//!
//! [`Bulk`] takes the items (a [`Stream`]; `futures::stream::iter` makes one
//! of an iterator), an operation to run per item and its settings, and
//! returns a [`Run`]: a stream of one [`Outcome`] per item as each finishes,
//! and a [`Summary`].
//!
//! - **Exactly once across reruns.** Each item has a stable key of the
//!   caller's (an email, an external id). Its write carries an
//!   `Idempotency-Key` derived from (account label, operation name, item
//!   key), the same in every run: running the batch again after a crash, a
//!   kill or a Ctrl-C replays what was done ([`Status::Replayed`]) instead
//!   of doing it twice. The API remembers a key for **24 hours**; a rerun
//!   after that writes again. A rerun with a changed item body is the
//!   item's error `idempotency_key_reused` (a 422), not a silent skip: give
//!   the batch a new operation name to write the new bodies.
//! - **Rate limits shared, not fought.** Each account has one limiter: a
//!   429 (or a 503 with `Retry-After`) seen by one task pauses every task
//!   of that account until the time the server names, and the account's
//!   send rate drops to 90% of what the server admitted over the last
//!   second, grows back to 97% of it in about 1 s, holds there for a
//!   minute and then probes higher by about 0.2% a second. Requests go one
//!   by one on a schedule `1 / rate` apart, never in a burst. Without
//!   [`Bulk::rate_limit`] an account starts at [`Bulk::initial_rate`] and
//!   grows sevenfold a second; its first throttle is only waited out (the
//!   last second's count then spans two of the server's windows, or, for
//!   a batch rerun right after a crash, the window the crashed run
//!   filled) and the second, in a window of the run's own, sets the rate.
//!   Finding the limit costs about 1 s per account (BENCHMARKS.md).
//!   Other accounts go on at their own pace. The runner retries (the
//!   clients' own retries are turned off for its calls).
//! - **Memory bounded.** An item is pulled from the stream only when a slot
//!   is free: at most twice [`Bulk::concurrency`] items are held at a time
//!   (those in flight, and as many waiting for their account: an account
//!   paused by a throttle does not hold up the others), whatever the length
//!   of the stream.
//! - **A true record.** With [`Bulk::report`] each outcome is written and
//!   flushed as it finishes, so a run killed half-way leaves a line for
//!   every item that finished, and none for an item that did not.
//! - **Cancellation.** After [`Cancel::cancel`] no item starts; an item
//!   whose request is on the wire waits for its answer, and an item with
//!   more to do (a retry, a wait for its turn) ends [`Status::NotDone`]:
//!   rerun the batch to settle it.
//!
//! ```no_run
//! use ayra::bulk::{Account, Bulk, Done, Item, Status};
//! use futures::StreamExt;
//!
//! # async fn run(client: ayra::Client) -> ayra::Result<()> {
//! let rows = vec![("ada@example.com", "Ada"), ("alan@example.com", "Alan")];
//! let items = rows.into_iter().map(|(email, name)| Item::new("acme", email, name));
//! let mut run = Bulk::new("welcome-2026-03").run(
//!     [Account::new("acme", client)],
//!     futures::stream::iter(items),
//!     |task, name| async move {
//!         let response = task
//!             .call(|| {
//!                 task.client()
//!                     .create_contact()
//!                     .idempotency_key(task.idempotency_key())
//!                     .body_map(|b| b.first_name(name).email(task.item_key()))
//!                     .send()
//!             })
//!             .await?;
//!         let id = response.data.id.clone();
//!         Ok(Done::written(&response, Status::Created, id))
//!     },
//! )?;
//! while let Some(outcome) = run.next().await {
//!     println!("{} {} {:?}", outcome.key, outcome.status, outcome.id);
//! }
//! println!("{:?}", run.summary());
//! # Ok(()) }
//! ```
//!
//! Across accounts, give each item the label of its account: the same rows
//! to many accounts are `rows.flat_map(|row| labels.map(|a| Item::new(a, ..)))`,
//! each account with its own limiter.

pub mod contacts;
mod key;
mod limiter;
mod report;

pub use report::Report;

use crate::response::ResponseExt;
use crate::{Client, Error, Response, RetryPolicy};
use futures::{Stream, StreamExt};
use limiter::Limiter;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, watch};

/// How many throttles (429) one item waits out before it fails.
const MAX_THROTTLES: u32 = 32;

/// One account a batch writes to: a label, stable across runs (it is part of
/// every derived idempotency key), and the account's client.
#[derive(Clone, Debug)]
pub struct Account {
    label: String,
    client: Client,
}

impl Account {
    /// The account `label` and a client holding its API key.
    pub fn new(label: impl Into<String>, client: Client) -> Account {
        Account {
            label: label.into(),
            client,
        }
    }

    /// The label.
    pub fn label(&self) -> &str {
        &self.label
    }
}

/// The client's own account label ([`Client::account_label`]): set one
/// with [`Client::for_account`] or `ClientBuilder::account_label`, since
/// the default, made of the key's last characters, changes with the key.
impl From<Client> for Account {
    fn from(client: Client) -> Account {
        Account::new(client.account_label().to_string(), client)
    }
}

/// One item of a batch: the label of its account, its stable key and what
/// the operation needs to write it.
#[derive(Clone, Debug, PartialEq)]
pub struct Item<T> {
    /// The label of the [`Account`] it is written to.
    pub account: String,
    /// Identifies the item across runs (an email, an external id).
    pub key: String,
    /// The operation's input.
    pub value: T,
}

impl<T> Item<T> {
    /// An item for the account labelled `account`.
    pub fn new(account: impl Into<String>, key: impl Into<String>, value: T) -> Item<T> {
        Item {
            account: account.into(),
            key: key.into(),
            value,
        }
    }
}

/// What became of an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Status {
    /// Written: a new resource.
    Created,
    /// Written: an existing resource changed.
    Updated,
    /// Written: an existing resource deleted.
    Deleted,
    /// The API answered with the stored outcome of an earlier request with
    /// the same key (an earlier attempt or an earlier run): nothing new.
    Replayed,
    /// Already as wanted: nothing written.
    Unchanged,
    /// Dry run: would be created.
    WouldCreate,
    /// Dry run: would be updated.
    WouldUpdate,
    /// Failed; [`Outcome::error`] says why.
    Failed,
    /// Cancelled before it finished: it may or may not have been applied;
    /// a rerun of the batch settles it.
    NotDone,
}

impl Status {
    /// The name in reports: `created`, `updated`, `deleted`, `replayed`, `unchanged`,
    /// `would_create`, `would_update`, `failed`, `not_done`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Updated => "updated",
            Status::Deleted => "deleted",
            Status::Replayed => "replayed",
            Status::Unchanged => "unchanged",
            Status::WouldCreate => "would_create",
            Status::WouldUpdate => "would_update",
            Status::Failed => "failed",
            Status::NotDone => "not_done",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an operation reports for an item it finished.
#[derive(Clone, Debug, PartialEq)]
pub struct Done {
    /// What happened.
    pub status: Status,
    /// The resource's id.
    pub id: Option<String>,
    /// The request id of the write (or of the last call).
    pub request_id: Option<String>,
    /// A note for the report, e.g. the fields an update changes.
    pub detail: Option<String>,
}

impl Done {
    /// A write's outcome: `status`, or [`Status::Replayed`] when the API
    /// replayed an earlier request with the same key.
    pub fn written<T>(response: &Response<T>, status: Status, id: impl Into<String>) -> Done {
        Done {
            status: if response.is_replay() {
                Status::Replayed
            } else {
                status
            },
            id: Some(id.into()),
            request_id: response.request_id().map(str::to_string),
            detail: None,
        }
    }

    /// An outcome without a write (`Unchanged`, a dry run).
    pub fn without_write(status: Status, id: Option<String>) -> Done {
        Done {
            status,
            id,
            request_id: None,
            detail: None,
        }
    }

    /// With a note for the report.
    pub fn detail(mut self, detail: impl Into<String>) -> Done {
        self.detail = Some(detail.into());
        self
    }
}

/// Why an item failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ItemError {
    /// A call failed (after the runner's retries when it was transient).
    Call(Error),
    /// The item itself is invalid (e.g. a row that does not parse); no call was made.
    Invalid(InvalidItem),
    /// The item names an account the run was not given.
    UnknownAccount(String),
    /// The run was cancelled before the item finished.
    Cancelled,
    /// The operation stopped short of what the item asks, for the reason
    /// given (e.g. a contact deleted again each time it was made anew).
    GaveUp(String),
}

/// An item rejected before any call: where it is and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidItem {
    /// The 1-based row (data rows, the CSV header not counted; lines of NDJSON).
    pub row: u64,
    /// The column (CSV) or field (NDJSON) at fault, when there is one.
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for InvalidItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}", self.row)?;
        if let Some(c) = &self.column {
            write!(f, ", column {c}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for InvalidItem {}

impl ItemError {
    /// The API error code, when a call failed with one (e.g.
    /// `idempotency_key_reused`).
    pub fn code(&self) -> Option<&str> {
        match self {
            ItemError::Call(e) => e.code(),
            _ => None,
        }
    }
}

impl fmt::Display for ItemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemError::Call(e) => e.fmt(f),
            ItemError::Invalid(e) => e.fmt(f),
            ItemError::UnknownAccount(a) => write!(f, "no account labelled {a:?} in this run"),
            ItemError::Cancelled => f.write_str("cancelled before it finished"),
            ItemError::GaveUp(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ItemError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ItemError::Call(e) => Some(e),
            ItemError::Invalid(e) => Some(e),
            _ => None,
        }
    }
}

impl From<Error> for ItemError {
    fn from(e: Error) -> Self {
        ItemError::Call(e)
    }
}

impl From<InvalidItem> for ItemError {
    fn from(e: InvalidItem) -> Self {
        ItemError::Invalid(e)
    }
}

/// One item's outcome.
#[derive(Debug)]
#[non_exhaustive]
pub struct Outcome {
    /// The account label.
    pub account: String,
    /// The item key.
    pub key: String,
    /// What happened.
    pub status: Status,
    /// The resource's id, when known.
    pub id: Option<String>,
    /// The request id of the write, or of the failed call.
    pub request_id: Option<String>,
    /// Requests made for the item (all its calls, retries included).
    pub attempts: u32,
    /// The derived idempotency key of the item's write.
    pub idempotency_key: String,
    /// The operation's note (e.g. the fields an update changes).
    pub detail: Option<String>,
    /// Why it failed (`Failed`) or did not finish (`NotDone`).
    pub error: Option<ItemError>,
}

/// Progress, after each finished item.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// Items finished (any status).
    pub done: u64,
    /// Items in the batch, when known ([`Bulk::total`], or an exact size hint).
    pub total: Option<u64>,
    /// Items failed so far.
    pub failed: u64,
    /// Items finished per second since the start.
    pub rate: f64,
    /// Time since the start.
    pub elapsed: Duration,
}

/// Counts of a run, final once its stream has ended.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Summary {
    /// Items finished, by status.
    pub by_status: HashMap<Status, u64>,
    /// Requests sent (first attempts and retries).
    pub requests: u64,
    /// Retries after transient failures and throttles.
    pub retries: u64,
    /// Throttle answers received (429, or 503 with `Retry-After`).
    pub throttled: u64,
    /// Time from the start to the last outcome.
    pub elapsed: Duration,
    /// Why the report could not be written, if it could not (the run stops).
    pub report_error: Option<String>,
}

impl Summary {
    /// Items finished with `status`.
    pub fn count(&self, status: Status) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }

    /// Items finished.
    pub fn done(&self) -> u64 {
        self.by_status.values().sum()
    }
}

type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// The settings of a batch, and the way to run it ([`Bulk::run`]).
#[derive(Clone)]
pub struct Bulk {
    operation: String,
    concurrency: usize,
    per_account: usize,
    retry: RetryPolicy,
    stop_on_failure: bool,
    total: Option<u64>,
    initial_rate: f64,
    rate_limit: Option<f64>,
    report: Option<Report>,
    progress: Option<ProgressFn>,
}

impl fmt::Debug for Bulk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bulk")
            .field("operation", &self.operation)
            .field("concurrency", &self.concurrency)
            .field("per_account", &self.per_account)
            .field("retry", &self.retry)
            .field("stop_on_failure", &self.stop_on_failure)
            .finish_non_exhaustive()
    }
}

impl Bulk {
    /// A batch named `operation`: the name is part of every derived
    /// idempotency key, so a rerun must use the same one, and a batch that
    /// means to write again (new bodies, the same items) a new one.
    pub fn new(operation: impl Into<String>) -> Bulk {
        Bulk {
            operation: operation.into(),
            concurrency: 64,
            per_account: 8,
            retry: RetryPolicy::default()
                .max_retries(8)
                .base_delay(Duration::from_millis(25)),
            stop_on_failure: false,
            total: None,
            initial_rate: 10.0,
            rate_limit: None,
            report: None,
            progress: None,
        }
    }

    /// Items in flight at most, over all accounts (default 64). Twice as many
    /// at most are pulled from the stream and not yet finished.
    pub fn concurrency(mut self, n: usize) -> Bulk {
        self.concurrency = n.max(1);
        self
    }

    /// Items in flight at most per account (default 8).
    pub fn per_account_concurrency(mut self, n: usize) -> Bulk {
        self.per_account = n.max(1);
        self
    }

    /// Retries of transient failures (connection errors, timeouts, 5xx) per
    /// call, with the same idempotency key (default: 8, from 25 ms, so about
    /// 6 s of patience in all). The first retries come soon because the
    /// account's limiter already spaces every request, retries included:
    /// a short backoff does not add load, it only shortens the batch's tail.
    /// Throttles are waited out apart from these (up to 32 per item).
    pub fn retry(mut self, policy: RetryPolicy) -> Bulk {
        self.retry = policy;
        self
    }

    /// Stops starting items after the first failure (default: go on).
    pub fn stop_on_failure(mut self, stop: bool) -> Bulk {
        self.stop_on_failure = stop;
        self
    }

    /// The number of items, for [`Progress::total`].
    pub fn total(mut self, n: u64) -> Bulk {
        self.total = Some(n);
        self
    }

    /// Each account's send rate at the start, in requests per second
    /// (default 10; it grows sevenfold a second until the first throttle).
    pub fn initial_rate(mut self, per_second: f64) -> Bulk {
        self.initial_rate = per_second;
        self
    }

    /// Each account's rate limit, when you know it (requests per second,
    /// e.g. 50): the accounts start at 95% of it, without slow start, and
    /// never go above 97% (a margin for timing jitter); a throttle still
    /// lowers the rate.
    pub fn rate_limit(mut self, per_second: f64) -> Bulk {
        self.rate_limit = Some(per_second);
        self
    }

    /// Writes each outcome to `report` as it finishes.
    pub fn report(mut self, report: Report) -> Bulk {
        self.report = Some(report);
        self
    }

    /// Calls `f` after each finished item.
    pub fn on_progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Bulk {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Runs `op` for each item of `items`, on the item's account, and
    /// returns the outcomes as a stream. `op` gets a [`Task`] (the account's
    /// client, the derived key, [`Task::call`] for each request) and the
    /// item's value; it reports what it did with a [`Done`].
    ///
    /// Two accounts with the same label are an [`Error::Config`] and the run
    /// does not start: the label is part of every derived idempotency key,
    /// so two accounts sharing one would send the same keys.
    pub fn run<T, S, F, Fut>(
        self,
        accounts: impl IntoIterator<Item = impl Into<Account>>,
        items: S,
        op: F,
    ) -> crate::Result<Run>
    where
        T: Send + 'static,
        S: Stream<Item = Item<T>> + Send + 'static,
        F: Fn(Task, T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Done, ItemError>> + Send + 'static,
    {
        let mut limiters: HashMap<String, Arc<AccountState>> = HashMap::new();
        for a in accounts {
            let a: Account = a.into();
            if limiters.contains_key(&a.label) {
                return Err(Error::Config(format!(
                    "two accounts of the batch are labelled {:?}: labels must differ",
                    a.label
                )));
            }
            let state = AccountState {
                client: a.client.with_options(|o| o.retry(RetryPolicy::none())),
                limiter: Limiter::new(self.initial_rate, self.rate_limit),
                slots: Arc::new(Semaphore::new(self.per_account)),
            };
            limiters.insert(a.label, Arc::new(state));
        }
        let total = self.total.or_else(|| match items.size_hint() {
            (low, Some(high)) if low == high => Some(low as u64),
            _ => None,
        });
        let (cancel, cancelled) = watch::channel(false);
        let shared = Arc::new(Shared {
            operation: self.operation,
            retry: self.retry,
            accounts: limiters,
            cancel: Arc::new(cancel),
            slots: Arc::new(Semaphore::new(self.concurrency)),
            counters: Counters::default(),
            summary: Mutex::new(Summary::default()),
            started: Instant::now(),
            total,
            report: self.report,
            progress: self.progress,
            stop_on_failure: self.stop_on_failure,
        });
        if let Some(report) = &shared.report
            && let Err(e) = report.start()
        {
            shared.report_failed(e);
        }
        let op = Arc::new(op);
        let until = wait_cancelled(cancelled.clone());
        let run_shared = shared.clone();
        let record_shared = shared.clone();
        let stream = items
            .take_until(until)
            .map(move |item| {
                let (shared, op, cancelled) = (run_shared.clone(), op.clone(), cancelled.clone());
                async move { run_item(shared, op, cancelled, item).await }
            })
            .buffer_unordered(2 * self.concurrency)
            .map(move |outcome| {
                record_shared.record(&outcome);
                outcome
            });
        Ok(Run {
            stream: Box::pin(stream),
            shared,
        })
    }
}

/// One account's client and pace.
struct AccountState {
    /// The account's client without retries: the runner retries.
    client: Client,
    limiter: Limiter,
    slots: Arc<Semaphore>,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
}

struct Shared {
    operation: String,
    retry: RetryPolicy,
    accounts: HashMap<String, Arc<AccountState>>,
    cancel: Arc<watch::Sender<bool>>,
    /// Items in flight over all accounts.
    slots: Arc<Semaphore>,
    counters: Counters,
    summary: Mutex<Summary>,
    started: Instant,
    total: Option<u64>,
    report: Option<Report>,
    progress: Option<ProgressFn>,
    stop_on_failure: bool,
}

impl Shared {
    fn summary(&self) -> std::sync::MutexGuard<'_, Summary> {
        self.summary.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn report_failed(&self, e: std::io::Error) {
        self.summary().report_error = Some(e.to_string());
        let _ = self.cancel.send(true);
    }

    /// Counts an outcome, writes it to the report, tells progress.
    fn record(&self, outcome: &Outcome) {
        if let Some(report) = &self.report
            && let Err(e) = report.write(outcome)
        {
            self.report_failed(e);
        }
        let progress = {
            let mut s = self.summary();
            *s.by_status.entry(outcome.status).or_insert(0) += 1;
            s.elapsed = self.started.elapsed();
            let done = s.done();
            Progress {
                done,
                total: self.total,
                failed: s.count(Status::Failed),
                rate: done as f64 / s.elapsed.as_secs_f64().max(1e-9),
                elapsed: s.elapsed,
            }
        };
        if outcome.status == Status::Failed && self.stop_on_failure {
            let _ = self.cancel.send(true);
        }
        if let Some(f) = &self.progress {
            f(&progress);
        }
    }
}

async fn wait_cancelled(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|c| *c).await;
}

async fn run_item<T, F, Fut>(
    shared: Arc<Shared>,
    op: Arc<F>,
    cancelled: watch::Receiver<bool>,
    item: Item<T>,
) -> Outcome
where
    F: Fn(Task, T) -> Fut,
    Fut: Future<Output = Result<Done, ItemError>>,
{
    let key = key::derive(&[&item.account, &shared.operation, &item.key]);
    let mut outcome = Outcome {
        account: item.account,
        key: item.key,
        status: Status::Failed,
        id: None,
        request_id: None,
        attempts: 0,
        idempotency_key: key,
        detail: None,
        error: None,
    };
    let Some(account) = shared.accounts.get(&outcome.account).cloned() else {
        outcome.error = Some(ItemError::UnknownAccount(outcome.account.clone()));
        return outcome;
    };
    // The account's slot first, then one of the run's: an item waiting for
    // a busy or paused account holds none of the run's slots.
    let permits = tokio::select! {
        biased;
        _ = wait_cancelled(cancelled.clone()) => None,
        permits = async {
            let account = account.slots.clone().acquire_owned().await.ok()?;
            let run = shared.slots.clone().acquire_owned().await.ok()?;
            Some((account, run))
        } => permits,
    };
    let Some(_permits) = permits else {
        outcome.status = Status::NotDone;
        outcome.error = Some(ItemError::Cancelled);
        return outcome;
    };
    let attempts = Arc::new(AtomicU32::new(0));
    let task = Task {
        account,
        shared: shared.clone(),
        key: outcome.idempotency_key.clone(),
        item_key: outcome.key.clone(),
        attempts: attempts.clone(),
        cancelled,
    };
    let result = op(task, item.value).await;
    outcome.attempts = attempts.load(Ordering::Relaxed);
    match result {
        Ok(done) => {
            outcome.status = done.status;
            outcome.id = done.id;
            outcome.request_id = done.request_id;
            outcome.detail = done.detail;
        }
        Err(ItemError::Cancelled) => {
            outcome.status = Status::NotDone;
            outcome.error = Some(ItemError::Cancelled);
        }
        Err(e) => {
            if let ItemError::Call(call) = &e {
                outcome.request_id = call.request_id().map(str::to_string);
            }
            outcome.error = Some(e);
        }
    }
    outcome
}

/// What an operation gets for one item: the account's client, the item's
/// derived idempotency key, and [`Task::call`] to send each request under
/// the account's limiter.
pub struct Task {
    account: Arc<AccountState>,
    shared: Arc<Shared>,
    key: String,
    item_key: String,
    attempts: Arc<AtomicU32>,
    cancelled: watch::Receiver<bool>,
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("item_key", &self.item_key)
            .field("idempotency_key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Task {
    /// The account's client (its own retries off: [`Task::call`] retries).
    pub fn client(&self) -> &Client {
        &self.account.client
    }

    /// The idempotency key of the item's write, the same in every run.
    pub fn idempotency_key(&self) -> &str {
        &self.key
    }

    /// Another key derived from the item's, for an operation that makes
    /// more than one write per item (each `part` its own key).
    pub fn derived_key(&self, part: &str) -> String {
        key::derive(&[&self.key, part])
    }

    /// The item's key.
    pub fn item_key(&self) -> &str {
        &self.item_key
    }

    /// Sends one request, made by `send` (called again for each attempt:
    /// give it the same idempotency key each time), under the account's
    /// limiter: it waits for its turn, waits out a throttle with every task
    /// of the account, and retries transient failures. After a cancel it
    /// makes no new attempt ([`ItemError::Cancelled`]).
    pub async fn call<R, F, Fut>(&self, mut send: F) -> Result<R, ItemError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = crate::Result<R>>,
    {
        let counters = &self.shared.counters;
        let policy = &self.shared.retry;
        let (mut retries, mut throttles) = (0u32, 0u32);
        // The error names every attempt of this call (its client's retries
        // are off, so each send is one attempt).
        let failed = |mut e: Error, sends: u32| -> ItemError {
            if let Some(call) = e.call_mut() {
                call.attempts = sends;
            }
            e.into()
        };
        loop {
            let sent = tokio::select! {
                biased;
                _ = wait_cancelled(self.cancelled.clone()) => return Err(ItemError::Cancelled),
                sent = self.account.limiter.acquire() => sent,
            };
            self.attempts.fetch_add(1, Ordering::Relaxed);
            counters.requests.fetch_add(1, Ordering::Relaxed);
            let e = match send().await {
                Ok(r) => {
                    self.account.limiter.admitted();
                    return Ok(r);
                }
                Err(e) => e,
            };
            let throttle = e.is_rate_limited()
                || (e.status() == Some(crate::StatusCode::SERVICE_UNAVAILABLE)
                    && e.retry_after().is_some());
            let wait = if throttle {
                counters.throttled.fetch_add(1, Ordering::Relaxed);
                throttles += 1;
                if throttles > MAX_THROTTLES {
                    return Err(failed(e, retries + throttles));
                }
                let wait = policy.delay(throttles - 1, e.retry_after());
                self.account.limiter.throttled(sent, wait);
                Duration::ZERO
            } else {
                self.account.limiter.admitted();
                if !e.is_retryable() || retries >= policy.retries() {
                    return Err(failed(e, retries + throttles + 1));
                }
                retries += 1;
                policy.delay(retries - 1, e.retry_after())
            };
            counters.retries.fetch_add(1, Ordering::Relaxed);
            tokio::select! {
                biased;
                _ = wait_cancelled(self.cancelled.clone()) => return Err(ItemError::Cancelled),
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// A running batch: a stream of one [`Outcome`] per item, in the order they
/// finish. Drive it to the end (or call [`Run::finish`]); dropping it stops
/// the batch, leaving in-flight requests unanswered.
pub struct Run {
    stream: Pin<Box<dyn Stream<Item = Outcome> + Send>>,
    shared: Arc<Shared>,
}

impl fmt::Debug for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run")
            .field("summary", &self.summary())
            .finish_non_exhaustive()
    }
}

impl Run {
    /// A handle that cancels the run (cloneable, usable from another task).
    pub fn cancel_handle(&self) -> Cancel {
        Cancel(self.shared.cancel.clone())
    }

    /// The counts so far; final once the stream has ended.
    pub fn summary(&self) -> Summary {
        let mut s = self.shared.summary().clone();
        let c = &self.shared.counters;
        s.requests = c.requests.load(Ordering::Relaxed);
        s.retries = c.retries.load(Ordering::Relaxed);
        s.throttled = c.throttled.load(Ordering::Relaxed);
        s
    }

    /// Each account's current send rate (requests per second), by label.
    pub fn rates(&self) -> HashMap<String, f64> {
        self.shared
            .accounts
            .iter()
            .map(|(label, a)| (label.clone(), a.limiter.rate()))
            .collect()
    }

    /// Runs the batch to its end, dropping the outcomes (the report and the
    /// progress callback still see them), and returns the summary.
    pub async fn finish(mut self) -> Summary {
        while self.next().await.is_some() {}
        self.summary()
    }
}

impl Stream for Run {
    type Item = Outcome;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Outcome>> {
        self.stream.as_mut().poll_next(cx)
    }
}

/// Cancels a [`Run`]: no item starts after it; see the module docs.
#[derive(Clone, Debug)]
pub struct Cancel(Arc<watch::Sender<bool>>);

impl Cancel {
    /// Stops the run.
    pub fn cancel(&self) {
        let _ = self.0.send(true);
    }
}
