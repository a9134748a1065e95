//! The SDK against the raw HTTP stack, in one process, against the sandbox on
//! 127.0.0.1. Every section prints times and the ratio measured in this run.
//!
//! Run with `cargo xtask bench` (builds the sandbox binary first, which the
//! pagination section runs as a child process so that memory figures are the
//! client's alone), or `cargo bench -p ayra --bench sdk`.

use ayra::Paginate;
use ayra::types::{AgentResponse, ContactResponse};
use futures::TryStreamExt;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Counts live heap bytes and their peak, for the pagination section only:
/// elsewhere the shared counters would be contended atomics on every
/// allocation, a cost that falls on whichever side allocates more.
struct Counting;
static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if COUNTING.load(Relaxed) {
            let size = layout.size() as isize;
            PEAK.fetch_max(LIVE.fetch_add(size, Relaxed) + size, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        if COUNTING.load(Relaxed) {
            LIVE.fetch_sub(layout.size() as isize, Relaxed);
        }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const KEY: &str = ayra_sandbox::TEST_API_KEY;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(if quick { 10 } else { 1 }));
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Five rounds of `n` sequential calls each side, alternating so both see
/// the same load: median µs per call of each, and the median ratio.
async fn alternate(
    n: usize,
    mut sdk: impl AsyncFnMut(),
    mut raw: impl AsyncFnMut(),
) -> (f64, f64, f64) {
    let (mut ratios, mut sdk_t, mut raw_t) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..n {
            sdk().await;
        }
        let s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        for _ in 0..n {
            raw().await;
        }
        let r = t.elapsed().as_secs_f64();
        ratios.push(s / r);
        sdk_t.push(s);
        raw_t.push(r);
    }
    let per_call = |t: Vec<f64>| median(t) / n as f64 * 1e6;
    (per_call(sdk_t), per_call(raw_t), median(ratios))
}

fn raw_client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

fn sdk(url: &str, http: Option<reqwest::Client>) -> ayra::Client {
    let mut b = ayra::Client::builder().api_key(KEY).base_url(url);
    if let Some(http) = http {
        b = b.http_client(http);
    }
    b.build().unwrap()
}

async fn run(scale: usize) {
    println!(
        "machine: {} cores, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model()
    );
    let sandbox = ayra_sandbox::Sandbox::start().await;
    let url = sandbox.base_url();
    let client = sdk(&url, None);
    let raw = raw_client();
    let auth = format!("Bearer {KEY}");
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

    // 1. Per-call overhead.
    let n = 2_000 / scale;
    let get_url = format!("{url}/agents/{agent}");
    // For instruction counts under callgrind: only one side, N calls.
    if let Ok(side) = std::env::var("AYRA_BENCH_SIDE") {
        for _ in 0..n {
            if side == "sdk" {
                std::hint::black_box(client.get_agent().agent_id(&agent).send().await.unwrap());
            } else {
                let body = raw
                    .get(&get_url)
                    .header("authorization", &auth)
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                std::hint::black_box(serde_json::from_slice::<AgentResponse>(&body).unwrap());
            }
        }
        return;
    }
    let (sdk_us, raw_us, ratio) = alternate(
        n,
        async || {
            let a = client.get_agent().agent_id(&agent).send().await.unwrap();
            std::hint::black_box(a);
        },
        async || {
            let body = raw
                .get(&get_url)
                .header("authorization", &auth)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            std::hint::black_box(serde_json::from_slice::<AgentResponse>(&body).unwrap());
        },
    )
    .await;
    println!(
        "1a. {n} sequential GET /agents/{{id}}: sdk {sdk_us:.1} us/call, raw {raw_us:.1} us/call, ratio sdk/raw {ratio:.3} (median of 5)"
    );

    let n = 1_000 / scale;
    let body = serde_json::json!({"first_name": "Bench", "email": "bench@example.com"});
    let contacts_url = format!("{url}/contacts");
    let (sdk_us, raw_us, ratio) = alternate(
        n,
        async || {
            let c = client
                .create_contact()
                .body_map(|b| b.first_name("Bench").email("bench@example.com"))
                .send()
                .await
                .unwrap();
            std::hint::black_box(c);
        },
        async || {
            let resp = raw
                .post(&contacts_url)
                .header("authorization", &auth)
                .header("idempotency-key", uuid::Uuid::new_v4().to_string())
                .json(&body)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            std::hint::black_box(serde_json::from_slice::<ContactResponse>(&resp).unwrap());
        },
    )
    .await;
    println!(
        "1b. {n} sequential POST /contacts: sdk {sdk_us:.1} us/call, raw {raw_us:.1} us/call, ratio sdk/raw {ratio:.3} (median of 5)"
    );

    if std::env::var("AYRA_BENCH_ONLY").is_ok_and(|v| v == "1") {
        return;
    }

    // 2. Concurrency: 64 tasks sharing one client.
    let per_task = 200 / scale;
    let (mut sdk_rps, mut raw_rps) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let t = Instant::now();
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (client, agent) = (client.clone(), agent.clone());
                tokio::spawn(async move {
                    for _ in 0..per_task {
                        client.get_agent().agent_id(&agent).send().await.unwrap();
                    }
                })
            })
            .collect();
        futures::future::join_all(tasks).await;
        sdk_rps.push((64 * per_task) as f64 / t.elapsed().as_secs_f64());
        let t = Instant::now();
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (raw, get_url, auth) = (raw.clone(), get_url.clone(), auth.clone());
                tokio::spawn(async move {
                    for _ in 0..per_task {
                        let b = raw
                            .get(&get_url)
                            .header("authorization", &auth)
                            .send()
                            .await
                            .unwrap()
                            .bytes()
                            .await
                            .unwrap();
                        serde_json::from_slice::<AgentResponse>(&b).unwrap();
                    }
                })
            })
            .collect();
        futures::future::join_all(tasks).await;
        raw_rps.push((64 * per_task) as f64 / t.elapsed().as_secs_f64());
    }
    let (s, r) = (median(sdk_rps), median(raw_rps));
    println!(
        "2.  64 tasks x {per_task} GET, one shared client: sdk {s:.0} req/s, raw {r:.0} req/s, ratio raw/sdk time {:.3}",
        r / s
    );

    if std::env::var("AYRA_BENCH_ONLY").is_ok_and(|v| v == "2") {
        return;
    }

    // 4. Retry cost (before pagination: it uses its own in-process sandbox).
    retry_cost(scale).await;

    // 3. Pagination, against a sandbox in a child process.
    drop(sandbox);
    pagination(scale).await;
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

async fn pagination(scale: usize) {
    let Some(child) = child_sandbox().await else {
        return;
    };
    let url = child.1.clone();
    let small = 10_000 / scale;
    let large = 100_000 / scale;
    let t = Instant::now();
    seed(&url, &["bench", "small"], small).await;
    seed(&url, &["bench"], large - small).await;
    println!(
        "3.  seeded {large} contacts in {:.1?} (32 concurrent SDK creates)",
        t.elapsed()
    );
    for latency in [0u64, 5] {
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
        for (label, tag, total) in [("10k", "small", small), ("100k", "bench", large)] {
            let list = || client.list_contacts().per_page(100).tag(tag);
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
            let naive = t.elapsed();
            assert_eq!(seen, total);
            // The SDK's item stream with its default prefetch.
            reset_peaks();
            let t = Instant::now();
            let n = list()
                .items()
                .try_fold(0usize, |n, c| async move {
                    std::hint::black_box(c);
                    Ok(n + 1)
                })
                .await
                .unwrap();
            let streamed = t.elapsed();
            assert_eq!(n, total);
            COUNTING.store(false, Relaxed);
            let peak_heap = PEAK.load(Relaxed).max(0) as usize;
            println!(
                "3.  {label:>4} items, {latency} ms latency: naive loop {naive:.2?}, sdk stream {streamed:.2?}, speed-up {:.2}x; peak heap during stream +{} KiB, peak RSS {} MiB",
                naive.as_secs_f64() / streamed.as_secs_f64(),
                peak_heap / 1024,
                vm_hwm_kib() / 1024
            );
        }
    }
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
