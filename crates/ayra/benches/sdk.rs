//! The SDK against the raw HTTP stack (hand-written `reqwest` + `serde_json`
//! decoding into the same types), against the sandbox on 127.0.0.1. Every
//! section prints both sides, measured in the same run.
//!
//! Run with `cargo xtask bench` (builds the sandbox binary first: sections
//! 1-3 run it as a child process, so that counts and memory figures are the
//! client's alone), or `cargo bench -p ayra --bench sdk`.
//!
//! Section 1 counts instructions per call by running this binary again under
//! `valgrind --tool=callgrind` in its calls mode (`AYRA_BENCH_CALLS`): one
//! side, one operation, N calls on a current-thread runtime; the difference
//! between runs of 1,100 and 100 calls, divided by 1,000, is the marginal
//! cost of a call, free of start-up. These counts, and the allocation counts,
//! do not move with the machine's load; the wall times beside them do.

use ayra::Paginate;
use ayra::types::{AgentResponse, ContactResponse};
use futures::TryStreamExt;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Counts allocations and live heap bytes, while `COUNTING` is on only:
/// elsewhere the shared counters would be contended atomics on every
/// allocation, a cost that falls on whichever side allocates more.
struct Counting;
static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static ALLOC_BYTES: AtomicUsize = AtomicUsize::new(0);

impl Counting {
    fn count(&self, grown: isize) {
        if COUNTING.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
            ALLOC_BYTES.fetch_add(grown.max(0) as usize, Relaxed);
            PEAK.fetch_max(LIVE.fetch_add(grown, Relaxed) + grown, Relaxed);
        }
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.count(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        if COUNTING.load(Relaxed) {
            LIVE.fetch_sub(layout.size() as isize, Relaxed);
        }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.count(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const KEY: &str = ayra_sandbox::TEST_API_KEY;

fn main() {
    if let Ok(spec) = std::env::var("AYRA_BENCH_CALLS") {
        return calls_mode(&spec);
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(if quick { 10 } else { 1 }));
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Sdk,
    Raw,
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    /// `GET /agents/{id}`
    Get,
    /// `POST /contacts`
    Post,
}

/// What the raw side sends to create a contact.
#[derive(serde::Serialize)]
struct NewContact<'a> {
    first_name: &'a str,
    email: &'a str,
}

/// Both sides of section 1, against one server.
struct Calls {
    client: ayra::Client,
    raw: reqwest::Client,
    auth: String,
    agent: String,
    get_url: String,
    contacts_url: String,
}

impl Calls {
    fn new(url: &str, agent: &str) -> Self {
        Calls {
            client: sdk(url, None),
            raw: reqwest::Client::new(),
            auth: format!("Bearer {KEY}"),
            agent: agent.to_string(),
            get_url: format!("{url}/agents/{agent}"),
            contacts_url: format!("{url}/contacts"),
        }
    }

    async fn call(&self, side: Side, op: Op) {
        match (side, op) {
            (Side::Sdk, Op::Get) => {
                let a = self.client.get_agent().agent_id(&self.agent).send().await;
                std::hint::black_box(a.unwrap());
            }
            (Side::Sdk, Op::Post) => {
                let c = self
                    .client
                    .create_contact()
                    .body_map(|b| b.first_name("Bench").email("bench@example.com"))
                    .send()
                    .await;
                std::hint::black_box(c.unwrap());
            }
            (Side::Raw, Op::Get) => {
                let body = self
                    .raw
                    .get(&self.get_url)
                    .header("authorization", &self.auth)
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                std::hint::black_box(serde_json::from_slice::<AgentResponse>(&body).unwrap());
            }
            (Side::Raw, Op::Post) => {
                let body = self
                    .raw
                    .post(&self.contacts_url)
                    .header("authorization", &self.auth)
                    .header("idempotency-key", uuid::Uuid::new_v4().to_string())
                    .json(&NewContact {
                        first_name: "Bench",
                        email: "bench@example.com",
                    })
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                std::hint::black_box(serde_json::from_slice::<ContactResponse>(&body).unwrap());
            }
        }
    }
}

/// `AYRA_BENCH_CALLS="sdk|raw get|post N"`, with `AYRA_BENCH_URL` and
/// `AYRA_BENCH_AGENT`: N calls of one side, nothing else, for callgrind.
fn calls_mode(spec: &str) {
    let words: Vec<&str> = spec.split_whitespace().collect();
    let [side, op, n] = words[..] else {
        panic!("AYRA_BENCH_CALLS: expected \"sdk|raw get|post N\", got {spec:?}");
    };
    let side = if side == "sdk" { Side::Sdk } else { Side::Raw };
    let op = if op == "get" { Op::Get } else { Op::Post };
    let n: usize = n.parse().expect("AYRA_BENCH_CALLS: a number of calls");
    let url = std::env::var("AYRA_BENCH_URL").expect("AYRA_BENCH_URL");
    let agent = std::env::var("AYRA_BENCH_AGENT").expect("AYRA_BENCH_AGENT");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let calls = Calls::new(&url, &agent);
        if std::env::var_os("AYRA_BENCH_ALLOCS").is_some() {
            let (count, bytes) = allocations(&calls, side, op, n).await;
            println!("{count:.1} allocations ({bytes:.0} B) per call");
            return;
        }
        for _ in 0..n {
            calls.call(side, op).await;
        }
    });
}

/// Instructions of one call of `side`/`op`: callgrind over this binary in its
/// calls mode, 1,100 calls minus 100, divided by 1,000.
fn instructions(url: &str, agent: &str, side: &str, op: &str) -> Option<f64> {
    let exe = std::env::current_exe().ok()?;
    let mut totals = Vec::new();
    for n in [100u64, 1_100] {
        let out = std::env::temp_dir().join(format!("ayra-bench-{}.callgrind", std::process::id()));
        let status = std::process::Command::new("valgrind")
            .args(["--tool=callgrind", "-q"])
            .arg(format!("--callgrind-out-file={}", out.display()))
            .arg(&exe)
            .env("AYRA_BENCH_CALLS", format!("{side} {op} {n}"))
            .env("AYRA_BENCH_URL", url)
            .env("AYRA_BENCH_AGENT", agent)
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        let text = std::fs::read_to_string(&out).ok();
        let _ = std::fs::remove_file(&out);
        if !status.success() {
            return None;
        }
        let total: u64 = text?
            .lines()
            .find_map(|l| {
                l.strip_prefix("totals:")
                    .or_else(|| l.strip_prefix("summary:"))
            })?
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        totals.push(total);
    }
    Some((totals[1] as f64 - totals[0] as f64) / 1_000.0)
}

/// Allocations and bytes allocated per call, over `n` calls after a warm-up.
async fn allocations(calls: &Calls, side: Side, op: Op, n: usize) -> (f64, f64) {
    for _ in 0..n / 10 {
        calls.call(side, op).await;
    }
    ALLOCS.store(0, Relaxed);
    ALLOC_BYTES.store(0, Relaxed);
    COUNTING.store(true, Relaxed);
    for _ in 0..n {
        calls.call(side, op).await;
    }
    COUNTING.store(false, Relaxed);
    let per_call = |c: &AtomicUsize| c.load(Relaxed) as f64 / n as f64;
    (per_call(&ALLOCS), per_call(&ALLOC_BYTES))
}

/// Minimum, median and maximum.
fn spread(mut v: Vec<f64>) -> [f64; 3] {
    v.sort_by(|a, b| a.total_cmp(b));
    [v[0], v[v.len() / 2], v[v.len() - 1]]
}

fn show([min, med, max]: [f64; 3], digits: usize) -> String {
    format!("{min:.digits$} / {med:.digits$} / {max:.digits$}")
}

/// Seven rounds of `n` sequential calls each side, alternating so both see
/// the same load: µs per call of each side and the ratio, per round.
async fn alternate(calls: &Calls, op: Op, n: usize) -> [Vec<f64>; 3] {
    let (mut sdk_t, mut raw_t, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..7 {
        let mut per_call = [0.0; 2];
        for (i, side) in [Side::Sdk, Side::Raw].into_iter().enumerate() {
            let t = Instant::now();
            for _ in 0..n {
                calls.call(side, op).await;
            }
            per_call[i] = t.elapsed().as_secs_f64() / n as f64 * 1e6;
        }
        sdk_t.push(per_call[0]);
        raw_t.push(per_call[1]);
        ratios.push(per_call[0] / per_call[1]);
    }
    [sdk_t, raw_t, ratios]
}

fn sdk(url: &str, http: Option<reqwest::Client>) -> ayra::Client {
    let mut b = ayra::Client::builder().api_key(KEY).base_url(url);
    if let Some(http) = http {
        b = b.http_client(http);
    }
    b.build().unwrap()
}

fn loadavg() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

async fn run(scale: usize) {
    println!(
        "machine: {} cores, {}; load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model(),
        loadavg()
    );
    account_clients(scale).await;
    if std::env::var("AYRA_BENCH_ONLY").is_ok_and(|v| v == "5") {
        return;
    }
    let Some(server) = child_sandbox().await else {
        return;
    };
    let url = server.1.clone();
    let client = sdk(&url, None);
    let voice = client.list_voices().send().await.unwrap().data[0]
        .id
        .clone();
    let agent = client
        .create_agent()
        .body_map(|b| b.name("Bench").voice_id(voice.clone()).prompt("Hi"))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data
        .id;
    let calls = Calls::new(&url, &agent);

    // 1. Per call: instructions, allocations, wall time.
    println!("1.  per call, sdk vs raw (ratio sdk/raw); the server is another process");
    for (op, name, label) in [
        (Op::Get, "get", "GET /agents/{id}"),
        (Op::Post, "post", "POST /contacts"),
    ] {
        let count = |side| instructions(&url, &agent, side, name);
        match (count("sdk"), count("raw")) {
            (Some(s), Some(r)) => println!(
                "1.  {label:<17} instructions: sdk {s:.0}, raw {r:.0}, ratio {:.3} (callgrind, 1,100 - 100 calls)",
                s / r
            ),
            _ => println!("1.  {label:<17} instructions: (skipped: valgrind did not run)"),
        }
        let (sa, sb) = allocations(&calls, Side::Sdk, op, 1_000 / scale).await;
        let (ra, rb) = allocations(&calls, Side::Raw, op, 1_000 / scale).await;
        println!(
            "1.  {label:<17} allocations: sdk {sa:.1} ({sb:.0} B), raw {ra:.1} ({rb:.0} B), difference {:+.1}",
            sa - ra
        );
        let n = 1_000 / scale;
        let [s, r, ratio] = alternate(&calls, op, n).await;
        println!(
            "1.  {label:<17} wall time, min / median / max of 7 rounds of {n} calls: sdk {} us, raw {} us, ratio {} (load average {})",
            show(spread(s), 1),
            show(spread(r), 1),
            show(spread(ratio), 3),
            loadavg()
        );
    }

    if std::env::var("AYRA_BENCH_ONLY").is_ok_and(|v| v == "1") {
        return;
    }

    // 2. Concurrency: 64 tasks sharing one client.
    let per_task = 200 / scale;
    let calls = std::sync::Arc::new(calls);
    let mut ratios = Vec::new();
    let mut rps = [Vec::new(), Vec::new()];
    for _ in 0..5 {
        let mut took = [0.0; 2];
        for (i, side) in [Side::Sdk, Side::Raw].into_iter().enumerate() {
            let t = Instant::now();
            let tasks: Vec<_> = (0..64)
                .map(|_| {
                    let calls = calls.clone();
                    tokio::spawn(async move {
                        for _ in 0..per_task {
                            calls.call(side, Op::Get).await;
                        }
                    })
                })
                .collect();
            futures::future::join_all(tasks).await;
            took[i] = t.elapsed().as_secs_f64();
            rps[i].push((64 * per_task) as f64 / took[i]);
        }
        ratios.push(took[0] / took[1]);
    }
    let [sdk_rps, raw_rps] = rps;
    println!(
        "2.  64 tasks x {per_task} GET, one shared client, min / median / max of 5 rounds: sdk {} req/s, raw {} req/s, time ratio sdk/raw {} (load average {})",
        show(spread(sdk_rps), 0),
        show(spread(raw_rps), 0),
        show(spread(ratios), 3),
        loadavg()
    );
    drop(server);

    if std::env::var("AYRA_BENCH_ONLY").is_ok_and(|v| v == "2") {
        return;
    }

    // 4. Retry cost (in-process sandboxes: it reads their counters).
    retry_cost(scale).await;

    // 3. Pagination, against a sandbox in a child process.
    pagination(scale).await;
}

/// Section 5: the client of another account (`for_account`) against a new
/// client from the builder (its own pool and TLS set-up), wall time and
/// allocations per client made, in the same run. No network.
async fn account_clients(scale: usize) {
    let root = sdk("http://127.0.0.1:9/v1", None);
    let keys: Vec<String> = (0..64).map(|i| format!("sk_test_account_{i:08}")).collect();
    let n = 2_000 / scale;
    let make = |fresh: bool, i: usize| {
        let key = &keys[i % keys.len()];
        if fresh {
            ayra::Client::builder()
                .api_key(key)
                .account_label("acct")
                .base_url("http://127.0.0.1:9/v1")
                .build()
                .unwrap()
        } else {
            root.for_account("acct", key).unwrap()
        }
    };
    let mut per = [Vec::new(), Vec::new()];
    for _ in 0..5 {
        for (side, fresh) in [(0, false), (1, true)] {
            let t = Instant::now();
            for i in 0..n {
                std::hint::black_box(make(fresh, i));
            }
            per[side].push(t.elapsed().as_secs_f64() * 1e6 / n as f64);
        }
    }
    let mut allocs = [0.0; 2];
    for (side, fresh) in [(0, false), (1, true)] {
        let before = ALLOCS.load(Relaxed);
        COUNTING.store(true, Relaxed);
        for i in 0..100 {
            std::hint::black_box(make(fresh, i));
        }
        COUNTING.store(false, Relaxed);
        allocs[side] = (ALLOCS.load(Relaxed) - before) as f64 / 100.0;
    }
    let ratio: Vec<f64> = per[1].iter().zip(&per[0]).map(|(b, a)| b / a).collect();
    let [account, fresh] = per;
    println!(
        "5.  a client per account, min / median / max of 5 rounds of {n}: for_account {} us ({:.1} allocations), Client::builder().build() {} us ({:.1} allocations), build/for_account {} (load average {})",
        show(spread(account), 2),
        allocs[0],
        show(spread(fresh), 1),
        allocs[1],
        show(spread(ratio), 0),
        loadavg()
    );
}

async fn retry_cost(scale: usize) {
    let n = 1_000 / scale;
    let policy = ayra::RetryPolicy::default()
        .max_retries(6)
        .base_delay(Duration::from_millis(10));
    let mut results = Vec::new();
    for rate in [0.0, 0.2] {
        let faults = ayra_sandbox::Faults {
            error_rate: rate,
            error_statuses: vec![503],
            seed: 7,
            ..Default::default()
        };
        let sandbox = ayra_sandbox::Sandbox::builder()
            .faults(faults)
            .start()
            .await;
        let client = ayra::Client::builder()
            .api_key(KEY)
            .base_url(sandbox.base_url())
            .retry(policy.clone())
            .build()
            .unwrap();
        let before = sandbox.count(ayra_sandbox::Resource::Contacts);
        let mut expected = Duration::ZERO;
        let t = Instant::now();
        for _ in 0..n {
            let requests = sandbox.stats().requests;
            client
                .create_contact()
                .body_map(|b| b.first_name("Retry").phone("+14155550100"))
                .send()
                .await
                .expect("every create succeeds");
            let retries = (sandbox.stats().requests - requests).saturating_sub(1) as u32;
            // The policy's mean delay for each retry this call made.
            expected += (0..retries)
                .map(|r| policy.delay_bounds(r).1.mul_f64(0.75))
                .sum::<Duration>();
        }
        let elapsed = t.elapsed();
        let applied = sandbox.count(ayra_sandbox::Resource::Contacts) - before;
        let faults = sandbox.stats().faults.total();
        results.push((rate, elapsed, expected, applied, faults));
    }
    let base = results[0].1;
    for (rate, elapsed, expected, applied, faults) in results {
        println!(
            "4.  {n} creates, {:.0}% injected 503: {:.2?} total ({:.2}x the no-fault run), {faults} faults retried, backoff expected {:.2?}, writes applied {applied} (duplicates {})",
            rate * 100.0,
            elapsed,
            elapsed.as_secs_f64() / base.as_secs_f64(),
            expected,
            applied as i64 - n as i64
        );
    }
}

/// A sandbox in a child process (so the heap figures are the client's).
struct Child(std::process::Child, String);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn child_sandbox() -> Option<Child> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("ayra-sandbox");
    if !bin.exists() {
        println!(
            "3.  (skipped: build the sandbox binary first: cargo build --release -p ayra-sandbox)"
        );
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = std::process::Command::new(bin)
        .args(["--port", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let url = format!("http://127.0.0.1:{port}/v1");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(Child(child, url));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

async fn seed(url: &str, tags: &[&str], count: usize) {
    let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
    let client = sdk(url, None);
    let tasks: Vec<_> = (0..32)
        .map(|t| {
            let client = client.clone();
            let tags = tags.clone();
            tokio::spawn(async move {
                for i in (t..count).step_by(32) {
                    client
                        .create_contact()
                        .body_map(|b| {
                            b.first_name(format!("P{i}"))
                                .email(format!("p{i}@example.com"))
                                .tags(tags.clone())
                        })
                        .send()
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    futures::future::join_all(tasks).await;
}

fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Starts counting from zero live bytes: the peak is then what the stream
/// allocated beyond what was live before it (frees of older memory make
/// `LIVE` go below zero, which the peak ignores).
fn reset_peaks() {
    LIVE.store(0, Relaxed);
    PEAK.store(0, Relaxed);
    COUNTING.store(true, Relaxed);
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The item stream against a naive page-after-page loop, over a range of
/// server costs: added latency per page, and lists of 10 and 100 pages out
/// of twice as many contacts as the larger list (the server filters them all
/// for every page).
async fn pagination(scale: usize) {
    let Some(child) = child_sandbox().await else {
        return;
    };
    let url = child.1.clone();
    let (small, large) = (1_000 / scale, 10_000 / scale);
    let t = Instant::now();
    seed(&url, &["small", "large"], small).await;
    seed(&url, &["large"], large - small).await;
    seed(&url, &["other"], large).await;
    println!(
        "3.  seeded {} contacts in {:.1?} (32 concurrent SDK creates)",
        2 * large,
        t.elapsed()
    );
    for latency in [0u64, 2, 5, 10] {
        let mut headers = reqwest::header::HeaderMap::new();
        if latency > 0 {
            headers.insert(
                "x-sandbox-fault",
                format!("latency={latency}").parse().unwrap(),
            );
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap();
        let client = sdk(&url, Some(http));
        for (tag, total) in [("small", small), ("large", large)] {
            let list = || client.list_contacts().per_page(100).tag(tag);
            let (mut naive, mut streamed, mut speed_up) = (Vec::new(), Vec::new(), Vec::new());
            let mut peak_heap = 0;
            for _ in 0..3 {
                // Naive: one page after the other.
                let t = Instant::now();
                let mut seen = 0;
                let mut page = 1u64;
                loop {
                    let r = list().page(page).send().await.unwrap();
                    seen += r.data.len();
                    if r.links.next.is_none() {
                        break;
                    }
                    page += 1;
                }
                let n = t.elapsed().as_secs_f64() * 1e3;
                assert_eq!(seen, total);
                // The SDK's item stream with its default prefetch.
                reset_peaks();
                let t = Instant::now();
                let count = list()
                    .items()
                    .try_fold(0usize, |n, c| async move {
                        std::hint::black_box(c);
                        Ok(n + 1)
                    })
                    .await
                    .unwrap();
                let s = t.elapsed().as_secs_f64() * 1e3;
                assert_eq!(count, total);
                COUNTING.store(false, Relaxed);
                peak_heap = peak_heap.max(PEAK.load(Relaxed).max(0) as usize);
                naive.push(n);
                streamed.push(s);
                speed_up.push(n / s);
            }
            println!(
                "3.  {total:>6} items ({:>3} pages), {latency:>2} ms latency, min / median / max of 3: naive loop {} ms, sdk stream {} ms, speed-up {}; peak heap during stream +{} KiB, peak RSS {} MiB",
                total.div_ceil(100),
                show(spread(naive), 1),
                show(spread(streamed), 1),
                show(spread(speed_up), 2),
                peak_heap / 1024,
                vm_hwm_kib() / 1024
            );
        }
    }
    println!("3.  load average {}", loadavg());
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown cpu".into())
}
