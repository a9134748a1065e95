//! List operations stream lazily across pages, with bounded prefetch, and
//! stop cleanly at the end or at an error.

mod support;
use ayra::Paginate;
use futures::{StreamExt, TryStreamExt};
use support::{Reply, Server, error};

/// Serves `total` contacts; `fail_page` answers 500 forever.
async fn contacts(total: u64, fail_page: Option<u64>) -> Server {
    Server::start(move |r, i| {
        let query: std::collections::HashMap<String, String> = r
            .target
            .split_once('?')
            .map(|(_, q)| {
                q.split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let page: u64 = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
        let per_page: u64 = query.get("per_page").and_then(|p| p.parse().ok()).unwrap_or(25);
        if Some(page) == fail_page {
            return Reply::Json(500, error("api_error", "internal_error", None, i));
        }
        let pages = total.div_ceil(per_page);
        let items: Vec<_> = ((page - 1) * per_page..(page * per_page).min(total))
            .map(|n| {
                serde_json::json!({"id": format!("cnt_{n}"), "first_name": format!("C{n}"),
                "last_name": null, "email": null, "phone": null, "tags": [query.get("tag").cloned().unwrap_or_default()],
                "custom_fields": {}, "created_at": "2025-01-15T10:30:00Z", "updated_at": "2025-01-15T10:30:00Z"})
            })
            .collect();
        let link = |p: u64| format!("http://127.0.0.1/v1/contacts?page={p}&per_page={per_page}");
        let body = serde_json::json!({
            "data": items,
            "meta": {"total": total, "page": page, "per_page": per_page, "total_pages": pages,
                     "request_id": format!("req_test_{i}"), "timestamp": "2025-01-15T10:30:00Z"},
            "links": {"first": link(1), "last": link(pages.max(1)),
                      "prev": if page > 1 { Some(link(page - 1)) } else { None },
                      "next": if page < pages { Some(link(page + 1)) } else { None }}
        });
        Reply::Json(200, body.to_string())
    })
    .await
}

#[tokio::test]
async fn items_cover_every_page_in_order() {
    let server = contacts(3_000, None).await;
    let client = server.client().build().unwrap();
    let ids: Vec<String> = client
        .list_contacts()
        .per_page(100)
        .items()
        .map_ok(|c| c.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids.len(), 3_000);
    assert!(
        ids.iter()
            .enumerate()
            .all(|(n, id)| *id == format!("cnt_{n}"))
    );
    assert_eq!(
        server.count(),
        30,
        "one request per page, none past the end"
    );
}

#[tokio::test]
async fn filters_and_per_page_reach_every_page_request() {
    let server = contacts(250, None).await;
    let client = server.client().build().unwrap();
    let pages: Vec<_> = client
        .list_contacts()
        .tag("vip")
        .per_page(100)
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[2].items.len(), 50);
    assert!(pages[2].links.next.is_none());
    for r in server.recorded() {
        assert!(
            r.target.contains("tag=vip") && r.target.contains("per_page=100"),
            "{}",
            r.target
        );
    }
}

#[tokio::test]
async fn an_empty_list_is_one_empty_page() {
    let server = contacts(0, None).await;
    let client = server.client().build().unwrap();
    let items: Vec<_> = client.list_contacts().items().try_collect().await.unwrap();
    assert!(items.is_empty());
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn the_stream_is_lazy_and_prefetch_is_bounded() {
    let server = contacts(100_000, None).await;
    let client = server.client().build().unwrap();
    let mut items = client.list_contacts().per_page(10).items();
    for _ in 0..25 {
        items.next().await.unwrap().unwrap();
    }
    // Three pages consumed (25 items of 10), plus at most DEFAULT_PREFETCH ahead.
    let requested = server.count();
    assert!(
        requested <= 3 + ayra::DEFAULT_PREFETCH,
        "requested {requested} of 10,000 pages"
    );
    drop(items);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(
        server.count(),
        requested,
        "nothing is fetched after the stream is dropped"
    );
}

#[tokio::test]
async fn collect_up_to_stops_fetching_at_the_limit() {
    let server = contacts(10_000, None).await;
    let client = server.client().build().unwrap();
    let first = client
        .list_contacts()
        .per_page(50)
        .collect_up_to(120)
        .await
        .unwrap();
    assert_eq!(first.len(), 120);
    assert!(server.count() <= 3 + ayra::DEFAULT_PREFETCH);
}

#[tokio::test]
async fn an_error_mid_stream_is_yielded_once_and_ends_it() {
    let server = contacts(1_000, Some(4)).await;
    let client = server
        .client()
        .retry(
            ayra::RetryPolicy::default()
                .max_retries(1)
                .base_delay(std::time::Duration::from_millis(1)),
        )
        .build()
        .unwrap();
    let results: Vec<_> = client.list_contacts().per_page(100).items().collect().await;
    let oks = results.iter().take_while(|r| r.is_ok()).count();
    assert_eq!(oks, 300, "pages 1-3 arrive before the failing page");
    assert_eq!(results.len(), 301, "one error, then the end");
    let err = results.last().unwrap().as_ref().unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
}

#[tokio::test]
async fn prefetch_sets_how_many_pages_are_requested_ahead() {
    for prefetch in [0, 2, 4] {
        let server = contacts(10_000, None).await;
        let client = server.client().build().unwrap();
        let mut pages = client
            .list_contacts()
            .per_page(10)
            .pages_with_prefetch(prefetch);
        pages.try_next().await.unwrap().unwrap();
        pages.try_next().await.unwrap().unwrap();
        // Page 2 was requested together with the `prefetch` pages after it;
        // those may still be on their way to the server: give them a moment
        // (bounded), then count. Never more than `prefetch` ahead.
        for _ in 0..50 {
            if prefetch == 0 || server.count() >= 2 + prefetch {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let requested = server.count();
        if prefetch == 0 {
            assert_eq!(requested, 2, "one request at a time");
        } else {
            assert!(
                (3..=2 + prefetch).contains(&requested),
                "prefetch {prefetch}: {requested} requests"
            );
        }
    }
}

/// A sandbox holding `n` contacts tagged `batch`, and a client for it.
async fn sandbox_with_contacts(n: usize) -> (ayra_sandbox::Sandbox, ayra::Client, Vec<String>) {
    let sandbox = ayra_sandbox::Sandbox::start().await;
    let client = ayra::Client::builder()
        .api_key(sandbox.api_key())
        .base_url(sandbox.base_url())
        .build()
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(create(&client, &format!("Original {i}")).await);
    }
    (sandbox, client, ids)
}

async fn create(client: &ayra::Client, name: &str) -> String {
    client
        .create_contact()
        .body_map(|b| {
            b.first_name(name)
                .email(format!("{}@example.com", name.replace(' ', ".")))
                .tags(vec!["batch".to_string()])
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .data
        .id
}

/// The sandbox lists contacts newest first, so inserts push the items not
/// yet read onto later pages: streaming 100 contacts 10 per page while 3 are
/// created after each page yields every original exactly once and no id
/// twice (which takes reading past the 10 pages the list had at the start).
#[tokio::test]
async fn a_list_growing_at_the_head_while_streamed_yields_every_item_once() {
    for prefetch in [0, ayra::DEFAULT_PREFETCH] {
        let (_sandbox, client, originals) = sandbox_with_contacts(100).await;
        let mut pages = client
            .list_contacts()
            .tag("batch")
            .per_page(10)
            .pages_with_prefetch(prefetch);
        let mut yielded: Vec<String> = Vec::new();
        let (mut created, mut ended) = (0, false);
        // Bounded: the list grows by 3 per page read, 10 per page.
        for _ in 0..60 {
            let Some(page) = pages.try_next().await.unwrap() else {
                ended = true;
                break;
            };
            yielded.extend(page.items.into_iter().map(|c| c.id));
            for _ in 0..3 {
                create(&client, &format!("New {created}")).await;
                created += 1;
            }
        }
        assert!(ended, "the stream ended");
        // New contacts land ahead of the reader (newest first) and are not
        // reached; reaching all 100 originals takes more than the 10 pages the
        // list had at the start, as they were pushed back by 3 per page.
        assert_eq!(yielded.len(), 100, "prefetch {prefetch}");
        let unique: std::collections::HashSet<&String> = yielded.iter().collect();
        assert_eq!(
            unique.len(),
            yielded.len(),
            "prefetch {prefetch}: an id yielded twice"
        );
        let missing: Vec<_> = originals.iter().filter(|id| !unique.contains(id)).collect();
        assert!(
            missing.is_empty(),
            "prefetch {prefetch}: never yielded: {missing:?}"
        );
    }
}

/// Deleting items the stream has already yielded moves the rest of the list
/// up past the reader: the items that move from the next page onto pages
/// already read are skipped (as many as were deleted, at each page
/// boundary). Nothing is yielded twice and no deleted item appears after
/// its deletion. This documents the limit of offset pagination.
#[tokio::test]
async fn deletes_behind_the_reader_skip_as_many_items_as_were_deleted() {
    let (_sandbox, client, originals) = sandbox_with_contacts(100).await;
    let mut pages = client
        .list_contacts()
        .tag("batch")
        .per_page(10)
        .pages_with_prefetch(0);
    let mut yielded: Vec<String> = Vec::new();
    let mut deleted = std::collections::HashSet::new();
    let mut boundaries = 0;
    for _ in 0..20 {
        let Some(page) = pages.try_next().await.unwrap() else {
            break;
        };
        let ids: Vec<String> = page.items.into_iter().map(|c| c.id).collect();
        assert!(
            ids.iter().all(|id| !deleted.contains(id)),
            "a deleted item was yielded"
        );
        yielded.extend(ids.iter().cloned());
        if page.links.next.is_some() {
            boundaries += 1;
            for id in ids.iter().take(3) {
                client.delete_contact().contact_id(id).send().await.unwrap();
                deleted.insert(id.clone());
            }
        }
    }
    let unique: std::collections::HashSet<&String> = yielded.iter().collect();
    assert_eq!(unique.len(), yielded.len(), "an id yielded twice");
    let skipped = originals.iter().filter(|id| !unique.contains(id)).count();
    assert!(boundaries > 0);
    assert_eq!(
        skipped,
        3 * boundaries,
        "3 deleted behind the reader per page boundary"
    );
}

/// Pages requested ahead can be served out of order. Here page 3 is served
/// from the list as it was, and page 2 after 5 contacts were inserted at the
/// head (as a busy server may do with concurrent requests): page 3 reports a
/// different `total` than page 2, so it is requested again rather than kept,
/// and no original item falls between the two pages.
#[tokio::test]
async fn a_page_served_before_the_list_changed_is_requested_again() {
    let asked = std::sync::Arc::new(std::sync::Mutex::new(
        std::collections::HashMap::<u64, u32>::new(),
    ));
    let server = Server::start(move |r, i| {
        let page: u64 = r
            .target
            .split(['?', '&'])
            .find_map(|kv| kv.strip_prefix("page="))
            .and_then(|p| p.parse().ok())
            .unwrap_or(1);
        let times = {
            let mut asked = asked.lock().unwrap();
            let n = asked.entry(page).or_default();
            *n += 1;
            *n
        };
        // Original contacts are cnt_0..cnt_99; the 5 new ones come first.
        let list: Vec<String> = if page == 2 || (page > 2 && times > 1) {
            (0..5)
                .map(|n| format!("new_{n}"))
                .chain((0..100).map(|n| format!("cnt_{n}")))
                .collect()
        } else {
            (0..100).map(|n| format!("cnt_{n}")).collect()
        };
        let total = list.len() as u64;
        let pages = total.div_ceil(10);
        let items: Vec<_> = list
            .iter()
            .skip(((page - 1) * 10) as usize)
            .take(10)
            .map(|id| {
                serde_json::json!({"id": id, "first_name": "C", "last_name": null, "email": null,
                "phone": null, "tags": [], "custom_fields": {},
                "created_at": "2025-01-15T10:30:00Z", "updated_at": "2025-01-15T10:30:00Z"})
            })
            .collect();
        let link = |p: u64| format!("http://127.0.0.1/v1/contacts?page={p}&per_page=10");
        let body = serde_json::json!({
            "data": items,
            "meta": {"total": total, "page": page, "per_page": 10, "total_pages": pages,
                     "request_id": format!("req_test_{i}"), "timestamp": "2025-01-15T10:30:00Z"},
            "links": {"first": link(1), "last": link(pages),
                      "prev": if page > 1 { Some(link(page - 1)) } else { None },
                      "next": if page < pages { Some(link(page + 1)) } else { None }}
        });
        Reply::Json(200, body.to_string())
    })
    .await;
    let client = server.client().build().unwrap();
    let ids: Vec<String> = client
        .list_contacts()
        .per_page(10)
        .items()
        .map_ok(|c| c.id)
        .try_collect()
        .await
        .unwrap();
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "an id yielded twice");
    let missing: Vec<String> = (0..100)
        .map(|n| format!("cnt_{n}"))
        .filter(|id| !unique.contains(id))
        .collect();
    assert!(missing.is_empty(), "never yielded: {missing:?}");
}
