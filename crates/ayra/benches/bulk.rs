//! The bulk runner against a naive `buffer_unordered(64)` loop, near the
//! rate limit and through faults, then a run killed with SIGKILL and rerun.
//!
//! The sandbox runs as a child process (`target/release/ayra-sandbox`:
//! `cargo build --release -p ayra-sandbox` first) with 10 accounts, each at
//! `--rate-limit 50/1`, and `--fault-rate 0.1 --drop-rate 0.05`; 5,000
//! contact creates are spread over the accounts. Each batch runs in another
//! child process (this binary again, `--child`), so that it can be killed.
//! What was written is counted from the sandbox's data afterwards.
//!
//! Modes: `runner` (the bulk runner, limits unknown: it finds them),
//! `known` (the runner told `.rate_limit(50.0)`), `naive` (a
//! `buffer_unordered(64)` loop with the SDK's default retries), `kill` (the
//! runner killed at a random point, then rerun); `AYRA_BENCH_MODES` picks
//! some (default all).
//!
//! `cargo bench -p ayra --bench bulk [-- --runs N]`, `AYRA_BENCH_ITEMS` for
//! another batch size; see BENCHMARKS.md.

use ayra::bulk::{Account, Bulk, Done, Item, Report, Status};
use ayra::{Paginate, RetryPolicy};
use futures::{StreamExt, TryStreamExt};
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

const ACCOUNTS: usize = 10;
/// Items of a batch: 5,000 as the issue asks, or `AYRA_BENCH_ITEMS` (a
/// longer batch shows what finding an unknown limit costs once amortised).
fn items() -> usize {
    static ITEMS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *ITEMS.get_or_init(|| {
        std::env::var("AYRA_BENCH_ITEMS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(5_000)
    })
}
const LIMIT_PER_ACCOUNT: f64 = 50.0;

fn key(account: usize) -> String {
    format!("sk_bench_account_{account}")
}

/// A second key of each account, to count its data under its own rate window.
fn count_key(account: usize) -> String {
    format!("sk_bench_count_{account}")
}

fn label(account: usize) -> String {
    format!("acct{account}")
}

fn email(n: usize) -> String {
    format!("c{n}@{}.bench.example.com", label(n % ACCOUNTS))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--child") {
        let mode = args[at + 1].clone();
        let url = args[at + 2].clone();
        let extra = args.get(at + 3).cloned();
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(child(&mode, &url, extra));
        return;
    }
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(1);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let Some(bin) = sandbox_bin() else {
            println!(
                "skipped: build the sandbox binary first: cargo build --release -p ayra-sandbox"
            );
            return;
        };
        let accounts_flag = help_has(&bin, "--account NAME=KEY");
        println!(
            "bulk: {} contact creates over {ACCOUNTS} accounts at {LIMIT_PER_ACCOUNT}/1 s each \
             ({} keys), --fault-rate 0.1 --drop-rate 0.05; nproc {}, load {}",
            items(),
            if accounts_flag {
                "--account"
            } else {
                "--api-key, one account"
            },
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            load()
        );
        for run in 0..runs {
            println!("run {}:", run + 1);
            let modes =
                std::env::var("AYRA_BENCH_MODES").unwrap_or("runner known naive kill".into());
            for mode in modes.split_whitespace().filter(|m| *m != "kill") {
                let sandbox = Sandbox::start(&bin, accounts_flag, run as u64).await;
                let out = batch(mode, &sandbox.url, &[]);
                let counts = count(&sandbox).await;
                println!("  {mode:>6}: {out}  {counts}");
            }
            if !modes.contains("kill") {
                continue;
            }
            // SIGKILL the runner at a random point, then rerun the batch.
            let sandbox = Sandbox::start(&bin, accounts_flag, run as u64 + 100).await;
            let report =
                std::env::temp_dir().join(format!("ayra-bulk-bench-{}.ndjson", std::process::id()));
            let kill_after = Duration::from_millis(1_000 + rand::random::<u64>() % 7_000);
            let mut child = spawn("runner", &sandbox.url, &[report.to_str().unwrap()]);
            tokio::time::sleep(kill_after).await;
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
            let lines = report_lines(&report);
            let counts = count(&sandbox).await;
            let untrue = untrue_lines(&lines, &counts.emails);
            println!(
                "  killed after {:.1} s: report {} lines ({untrue} untrue)  {counts}",
                kill_after.as_secs_f64(),
                lines.len()
            );
            let out = batch("runner", &sandbox.url, &[report.to_str().unwrap()]);
            let counts = count(&sandbox).await;
            println!("  rerun: {out}  {counts}");
            let _ = std::fs::remove_file(&report);
        }
    });
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn sandbox_bin() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("ayra-sandbox");
    bin.exists().then_some(bin)
}

fn help_has(bin: &std::path::Path, flag: &str) -> bool {
    Command::new(bin)
        .arg("--help")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains(flag))
        .unwrap_or(false)
}

struct Sandbox {
    child: std::process::Child,
    url: String,
    accounts: bool,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sandbox {
    async fn start(bin: &std::path::Path, accounts: bool, seed: u64) -> Sandbox {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Command::new(bin);
        cmd.args(["--port", &port.to_string(), "--rate-limit", "50/1"])
            .args(["--fault-rate", "0.1", "--drop-rate", "0.05"])
            .args(["--fault-seed", &seed.to_string()]);
        for a in 0..ACCOUNTS {
            if accounts {
                cmd.args(["--account", &format!("{}={}", label(a), key(a))]);
                cmd.args(["--account", &format!("{}={}", label(a), count_key(a))]);
            } else {
                cmd.args(["--api-key", &key(a), "--api-key", &count_key(a)]);
            }
        }
        let child = cmd
            .stdout(Stdio::null())
            .spawn()
            .expect("start the sandbox");
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Sandbox {
            child,
            url: format!("http://127.0.0.1:{port}/v1"),
            accounts,
        }
    }
}

fn spawn(mode: &str, url: &str, extra: &[&str]) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--child", mode, url])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the batch")
}

/// Runs a batch in a child process to its end; its one line of figures.
fn batch(mode: &str, url: &str, extra: &[&str]) -> String {
    let out = spawn(mode, url, extra).wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// What the sandbox holds: how many contacts have each bench email.
struct Counts {
    emails: HashMap<String, usize>,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let present = (0..items())
            .filter(|n| self.emails.contains_key(&email(*n)))
            .count();
        let duplicates: usize = self.emails.values().map(|n| n - 1).sum();
        write!(
            f,
            "sandbox: {present} of {} present, {duplicates} duplicates, {} lost",
            items(),
            items() - present
        )
    }
}

async fn count(sandbox: &Sandbox) -> Counts {
    let mut emails = HashMap::new();
    // With one account (--api-key) every key sees all the data: read it once.
    let readers = if sandbox.accounts { ACCOUNTS } else { 1 };
    for a in 0..readers {
        let client = ayra::Client::builder()
            .api_key(count_key(a))
            .base_url(&sandbox.url)
            .retry(RetryPolicy::default().max_retries(30))
            .build()
            .unwrap();
        let all: Vec<_> = client
            .list_contacts()
            .per_page(100)
            .items()
            .try_collect()
            .await
            .expect("read the sandbox's contacts");
        for c in all {
            if let Some(e) = c.email.filter(|e| e.contains(".bench.")) {
                *emails.entry(e).or_insert(0) += 1;
            }
        }
    }
    Counts { emails }
}

fn report_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        // The last line may be cut by the kill: it is not a record.
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Report lines that say `created` or `replayed` for a contact the sandbox
/// does not hold.
fn untrue_lines(lines: &[serde_json::Value], emails: &HashMap<String, usize>) -> usize {
    lines
        .iter()
        .filter(|l| matches!(l["status"].as_str(), Some("created" | "replayed")))
        .filter(|l| !emails.contains_key(l["key"].as_str().unwrap_or_default()))
        .count()
}

/// Counts what the SDK's tracing says: responses by status, transport
/// errors, retries.
struct Seen {
    responses: AtomicU64,
    throttled: AtomicU64,
    transport: AtomicU64,
    retries: AtomicU64,
}

static SEEN: Seen = Seen {
    responses: AtomicU64::new(0),
    throttled: AtomicU64::new(0),
    transport: AtomicU64::new(0),
    retries: AtomicU64::new(0),
};

struct Counter;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Counter {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Visit(Option<u64>, Option<String>);
        impl tracing::field::Visit for Visit {
            fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
                if field.name() == "status" {
                    self.0 = Some(value);
                }
            }
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.1 = Some(format!("{value:?}"));
                }
            }
        }
        let mut v = Visit(None, None);
        event.record(&mut v);
        match (v.0, v.1.as_deref()) {
            (Some(status), _) => {
                SEEN.responses.fetch_add(1, Relaxed);
                if status == 429 {
                    SEEN.throttled.fetch_add(1, Relaxed);
                }
            }
            (None, Some("transport error")) => {
                SEEN.transport.fetch_add(1, Relaxed);
            }
            (None, Some("retrying")) => {
                SEEN.retries.fetch_add(1, Relaxed);
            }
            _ => {}
        }
    }
}

async fn child(mode: &str, url: &str, report: Option<String>) {
    use tracing_subscriber::layer::SubscriberExt;
    let subscriber = tracing_subscriber::registry().with(Counter);
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let root = ayra::Client::builder()
        .api_key(key(0))
        .account_label(label(0))
        .base_url(url)
        .build()
        .unwrap();
    let clients: Vec<ayra::Client> = (0..ACCOUNTS)
        .map(|a| root.for_account(label(a), key(a)).unwrap())
        .collect();
    let started = Instant::now();
    let (ok, failed, runner_retries) = match mode {
        "runner" | "known" => {
            let items =
                (0..items()).map(|n| Item::new(label(n % ACCOUNTS), email(n), format!("C{n}")));
            let mut bulk = Bulk::new("bench-import").concurrency(64);
            if mode == "known" {
                bulk = bulk.rate_limit(LIMIT_PER_ACCOUNT);
            }
            if let Some(path) = report {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .unwrap();
                bulk = bulk.report(Report::ndjson(file));
            }
            let summary = bulk
                .run(
                    clients.into_iter().map(Account::from),
                    futures::stream::iter(items),
                    |task, name: String| async move {
                        let response = task
                            .call(|| {
                                task.client()
                                    .create_contact()
                                    .idempotency_key(task.idempotency_key())
                                    .body_map(|b| {
                                        b.first_name(name.as_str()).email(task.item_key())
                                    })
                                    .send()
                            })
                            .await?;
                        let id = response.data.id.clone();
                        Ok(Done::written(&response, Status::Created, id))
                    },
                )
                .expect("the labels differ")
                .finish()
                .await;
            let failed = summary.count(Status::Failed) + summary.count(Status::NotDone);
            (summary.done() - failed, failed, Some(summary.retries))
        }
        _ => {
            let results: Vec<bool> = futures::stream::iter(0..items())
                .map(|n| {
                    let client = clients[n % ACCOUNTS].clone();
                    async move {
                        client
                            .create_contact()
                            .body_map(|b| b.first_name(format!("C{n}")).email(email(n)))
                            .send()
                            .await
                            .is_ok()
                    }
                })
                .buffer_unordered(64)
                .collect()
                .await;
            let ok = results.iter().filter(|r| **r).count() as u64;
            (ok, items() as u64 - ok, None)
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    let responses = SEEN.responses.load(Relaxed);
    let throttled = SEEN.throttled.load(Relaxed);
    let transport = SEEN.transport.load(Relaxed);
    let limit = LIMIT_PER_ACCOUNT * ACCOUNTS as f64;
    // Requests the server admitted (everything but the 429s), per second.
    let admitted = (responses - throttled + transport) as f64 / elapsed;
    println!(
        "{elapsed:5.1} s, admitted {:.2} of the limit, items {:.2} of it; {throttled} 429s, {} retries; {ok} ok, {failed} failed",
        admitted / limit,
        ok as f64 / elapsed / limit,
        runner_retries.unwrap_or(SEEN.retries.load(Relaxed)),
    );
}
