//! What the docs promise about memory, measured with a counting allocator
//! (a test binary of its own: the allocator sees the whole process).
//!
//! - a download is written chunk by chunk, never held whole;
//! - a list stream holds at most `prefetch + 1` pages, however long the list.

mod support;

use ayra::Download;
use ayra::Paginate;
use futures::TryStreamExt;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The counters see the whole process: one measurement at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The most bytes live at once while `f` runs, above what was live before.
async fn peak_during<F: std::future::Future>(f: F) -> (F::Output, usize) {
    let _one_at_a_time = SERIAL.lock().await;
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let out = f.await;
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(before))
}

const MIB: usize = 1 << 20;

/// Serves `total` bytes in 64 KiB chunks, made as they are sent.
async fn big_download(total: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request).await;
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\nx-request-id: req_big\r\ncontent-length: {total}\r\n\r\n"
        );
        let _ = socket.write_all(head.as_bytes()).await;
        let chunk = vec![b'x'; 64 << 10];
        let mut sent = 0;
        while sent < total {
            let n = chunk.len().min(total - sent);
            if socket.write_all(&chunk[..n]).await.is_err() {
                return;
            }
            sent += n;
        }
    });
    url
}

#[tokio::test(flavor = "current_thread")]
async fn a_download_is_never_held_whole() {
    let total = 64 * MIB;
    let url = big_download(total).await;
    let client = ayra::Client::builder()
        .api_key(support::KEY)
        .base_url(url)
        .build()
        .unwrap();
    let (written, peak) = peak_during(async {
        let response = client
            .download_export()
            .export_id("exp_1")
            .send()
            .await
            .unwrap();
        response.write_to(&mut tokio::io::sink()).await.unwrap()
    })
    .await;
    assert_eq!(written as usize, total);
    assert!(
        peak < 4 * MIB,
        "{peak} bytes live at once for a {total}-byte download"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_list_stream_holds_at_most_prefetch_plus_one_pages() {
    // 60 pages of 100 contacts of about 2.5 KiB each: about 15 MiB in all.
    let filler = "y".repeat(2000);
    let server = support::Server::start(move |r, i| {
        let page: usize = r
            .target
            .split(['?', '&'])
            .find_map(|kv| kv.strip_prefix("page="))
            .and_then(|p| p.parse().ok())
            .unwrap_or(1);
        let data: Vec<_> = (0..100)
            .map(|n| {
                serde_json::json!({
                    "id": format!("cnt_{page}_{n}"), "first_name": "A", "last_name": filler,
                    "email": null, "phone": "+33600000000", "tags": [], "custom_fields": {},
                    "created_at": "2026-01-05T10:00:00Z", "updated_at": "2026-01-05T10:00:00Z"
                })
            })
            .collect();
        let next = (page < 60).then(|| format!("http://x/v1/contacts?page={}", page + 1));
        let body = serde_json::json!({
            "data": data,
            "meta": {"total": 6000, "page": page, "per_page": 100, "total_pages": 60,
                     "request_id": format!("req_test_{i}"), "timestamp": "2026-01-05T10:00:00Z"},
            "links": {"first": "http://x/v1/contacts?page=1", "last": "http://x/v1/contacts?page=60",
                      "prev": null, "next": next}
        });
        support::Reply::Json(200, body.to_string())
    })
    .await;
    let client = server.client().build().unwrap();
    let prefetch = 2;
    let (count, peak) = peak_during(async {
        let mut pages = client
            .list_contacts()
            .per_page(100)
            .pages_with_prefetch(prefetch);
        let mut count = 0;
        while let Some(page) = pages.try_next().await.unwrap() {
            count += page.items.len();
        }
        count
    })
    .await;
    assert_eq!(count, 6000);
    // One page is about 250 KiB as JSON and as decoded items; allow both
    // forms of `prefetch + 1` pages, twice over, plus the server's side.
    let page = 100 * 2_500;
    let bound = 2 * 2 * (prefetch + 1) * page + MIB;
    assert!(
        peak < bound,
        "{peak} bytes live at once (bound {bound}) for 15 MiB of list"
    );
}
