//! The bulk runner over real HTTP: a throttle pauses one account and not
//! another, reruns replay instead of writing twice, a changed body on rerun
//! is that item's error, memory stays bounded, the report is true after a
//! cancel, contacts are upserted by email, bad rows are per-row errors, and a
//! gateway page, a cut-short body or a garbled 2xx is one item's outcome.

mod support;
use ayra::bulk::contacts::{self, MatchBy, Schema, Upsert};
use ayra::bulk::{Account, Bulk, Done, Item, ItemError, Outcome, Report, Status};
use ayra::types::CustomFieldType;
use ayra_sandbox::{Faults, Resource, Sandbox};
use futures::StreamExt;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Reply, Server, error, ok};

fn contact(id: &str, email: &str, first_name: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id, "first_name": first_name, "last_name": null, "email": email, "phone": null,
        "tags": [], "custom_fields": {}, "created_at": "2025-01-15T10:30:00Z",
        "updated_at": "2025-01-15T10:30:00Z"
    })
}

/// Creates the contact `email` named `name`, under the item's derived key.
async fn create(task: ayra::bulk::Task, name: String) -> Result<Done, ItemError> {
    let response = task
        .call(|| {
            task.client()
                .create_contact()
                .idempotency_key(task.idempotency_key())
                .body_map(|b| b.first_name(name.as_str()).email(task.item_key()))
                .send()
        })
        .await?;
    let id = response.data.id.clone();
    Ok(Done::written(&response, Status::Created, id))
}

fn emails(account: &str, n: usize) -> Vec<Item<String>> {
    (0..n)
        .map(|i| {
            Item::new(
                account,
                format!("p{i}@{account}.example.com"),
                format!("P{i}"),
            )
        })
        .collect()
}

async fn outcomes(run: ayra::Result<ayra::bulk::Run>) -> Vec<Outcome> {
    run.expect("the accounts' labels differ").collect().await
}

fn by_status(outcomes: &[Outcome]) -> HashMap<Status, usize> {
    let mut m = HashMap::new();
    for o in outcomes {
        *m.entry(o.status).or_insert(0) += 1;
    }
    m
}

fn sandbox_client(sandbox: &Sandbox) -> ayra::Client {
    ayra::Client::builder()
        .api_key(sandbox.api_key())
        .base_url(sandbox.base_url())
        .build()
        .unwrap()
}

/// The emails of every contact the sandbox holds, with how many hold each.
async fn sandbox_emails(sandbox: &Sandbox) -> HashMap<String, usize> {
    use ayra::Paginate;
    use futures::TryStreamExt;
    let all: Vec<_> = sandbox_client(sandbox)
        .list_contacts()
        .per_page(100)
        .items()
        .try_collect()
        .await
        .unwrap();
    let mut m = HashMap::new();
    for c in all {
        if let Some(e) = c.email {
            *m.entry(e).or_insert(0) += 1;
        }
    }
    m
}

/// A writer tests can read back.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn lines(&self) -> Vec<serde_json::Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

#[tokio::test]
async fn a_throttle_pauses_every_task_of_its_account_and_no_other() {
    const PAUSE: Duration = Duration::from_secs(3);
    // Arrivals: (account, time); account a's first request is throttled.
    let arrivals: Arc<Mutex<Vec<(char, Instant)>>> = Arc::default();
    let log = arrivals.clone();
    let server = Server::start(move |r, i| {
        let account = if r.header("authorization") == Some("Bearer sk_a") {
            'a'
        } else {
            'b'
        };
        let mut log = log.lock().unwrap();
        log.push((account, Instant::now()));
        let first_of_a = account == 'a' && log.iter().filter(|(a, _)| *a == 'a').count() == 1;
        if first_of_a {
            return Reply::With(
                429,
                vec![("retry-after", PAUSE.as_secs().to_string())],
                error("rate_limit_exceeded", "rate_limit_exceeded", None, i),
            );
        }
        let email = serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["email"]
            .as_str()
            .unwrap()
            .to_string();
        Reply::Json(201, ok(contact(&format!("cnt_{i}"), &email, "P"), i))
    })
    .await;
    let client = |key: &str| server.client().api_key(key).build().unwrap();
    let accounts = [
        Account::new("a", client("sk_a")),
        Account::new("b", client("sk_b")),
    ];
    // a's items first: they can take at most 10 of the 16 slots the run
    // holds, so b always has slots left while a waits.
    let items = emails("a", 10).into_iter().chain(emails("b", 30));
    let run = Bulk::new("pause")
        .concurrency(8)
        .per_account_concurrency(4)
        .initial_rate(1000.0)
        .run(accounts, futures::stream::iter(items), create);
    let done = outcomes(run).await;
    assert_eq!(by_status(&done)[&Status::Created], 40, "{done:?}");

    let arrivals = arrivals.lock().unwrap().clone();
    let throttled_at = arrivals.iter().find(|(a, _)| *a == 'a').unwrap().1;
    let resumes = throttled_at + PAUSE;
    // Requests of a already on the wire when the 429 came back (at most the
    // 3 other tasks of a) may arrive in the pause; no later one does. Load
    // only delays requests, so the bound cannot fail on a slow machine.
    let a_in_pause = arrivals
        .iter()
        .filter(|(a, t)| *a == 'a' && *t > throttled_at && *t < resumes)
        .count();
    assert!(
        a_in_pause <= 3,
        "{a_in_pause} requests of a arrived during its pause"
    );
    let a_after = arrivals
        .iter()
        .filter(|(a, t)| *a == 'a' && *t >= resumes)
        .count();
    assert!(
        a_after >= 1,
        "the throttled item is retried after the pause"
    );
    // b went on: all of its 30 requests arrived before a's pause ended.
    let b: Vec<Instant> = arrivals
        .iter()
        .filter(|(a, _)| *a == 'b')
        .map(|(_, t)| *t)
        .collect();
    assert_eq!(b.len(), 30);
    assert!(b.iter().all(|t| *t < resumes), "b waited for a's pause");
}

#[tokio::test]
async fn a_rerun_replays_every_item_and_creates_nothing_even_with_lost_responses() {
    // A third of the responses are lost after their write was applied: the
    // runner retries them with the same key, and the sandbox replays.
    let sandbox = Sandbox::builder()
        .faults(Faults {
            drop_rate: 0.3,
            seed: 7,
            ..Faults::default()
        })
        .start()
        .await;
    let before = sandbox.count(Resource::Contacts);
    let account = || [Account::new("acme", sandbox_client(&sandbox))];
    let first = outcomes(Bulk::new("import-1").initial_rate(1000.0).run(
        account(),
        futures::stream::iter(emails("acme", 40)),
        create,
    ))
    .await;
    assert!(
        first
            .iter()
            .all(|o| matches!(o.status, Status::Created | Status::Replayed)),
        "{first:?}"
    );
    assert!(
        first.iter().any(|o| o.attempts > 1),
        "the faults made retries"
    );
    assert_eq!(sandbox.count(Resource::Contacts), before + 40);

    sandbox.set_faults(Faults::none());
    let second = outcomes(Bulk::new("import-1").run(
        account(),
        futures::stream::iter(emails("acme", 40)),
        create,
    ))
    .await;
    assert_eq!(
        by_status(&second).get(&Status::Replayed),
        Some(&40),
        "{second:?}"
    );
    assert_eq!(
        sandbox.count(Resource::Contacts),
        before + 40,
        "0 new resources"
    );
    let ids =
        |o: &[Outcome]| -> HashSet<String> { o.iter().filter_map(|o| o.id.clone()).collect() };
    assert_eq!(
        ids(&first),
        ids(&second),
        "the replays name the contacts of the first run"
    );
    assert!(sandbox_emails(&sandbox).await.values().all(|n| *n == 1));
}

#[tokio::test]
async fn a_changed_body_on_rerun_is_that_items_error() {
    let sandbox = Sandbox::start().await;
    let account = || [Account::new("acme", sandbox_client(&sandbox))];
    let run = |items: Vec<Item<String>>| {
        outcomes(Bulk::new("import-2").run(account(), futures::stream::iter(items), create))
    };
    run(emails("acme", 5)).await;
    let mut changed = emails("acme", 5);
    changed[2].value = "Renamed".to_string();
    let second = run(changed).await;
    let failed: Vec<&Outcome> = second
        .iter()
        .filter(|o| o.status == Status::Failed)
        .collect();
    assert_eq!(failed.len(), 1, "{second:?}");
    assert_eq!(failed[0].key, "p2@acme.example.com");
    assert_eq!(
        failed[0].error.as_ref().and_then(|e| e.code()),
        Some("idempotency_key_reused")
    );
    assert_eq!(by_status(&second)[&Status::Replayed], 4);
}

#[tokio::test]
async fn memory_stays_bounded_however_long_the_stream() {
    let server = Server::start(|_, i| {
        Reply::Json(
            201,
            ok(contact(&format!("cnt_{i}"), "x@example.com", "P"), i),
        )
    })
    .await;
    let pulled = Arc::new(AtomicU64::new(0));
    let counter = pulled.clone();
    // 2^64 items, made as they are pulled.
    let items = futures::stream::iter(0..u64::MAX).map(move |i| {
        counter.fetch_add(1, Ordering::SeqCst);
        Item::new("a", format!("p{i}@example.com"), format!("P{i}"))
    });
    let mut run = Bulk::new("huge")
        .concurrency(16)
        .initial_rate(1000.0)
        .run(
            [Account::new("a", server.client().build().unwrap())],
            items,
            create,
        )
        .unwrap();
    let mut finished = 0u64;
    let mut most_held = 0;
    while let Some(o) = run.next().await {
        let cancelled = finished >= 300;
        assert!(
            o.status == Status::Created || cancelled && o.status == Status::NotDone,
            "{o:?}"
        );
        finished += 1;
        most_held = most_held.max(pulled.load(Ordering::SeqCst) - finished);
        if finished == 300 {
            run.cancel_handle().cancel();
        }
    }
    // Pulled and not finished: at most twice the concurrency, at any time.
    assert!(most_held <= 32, "{most_held} items held at once");
    let pulled = pulled.load(Ordering::SeqCst);
    assert!(pulled <= 300 + 32, "{pulled} pulled for 300 finished");
    assert_eq!(finished, pulled, "every item pulled has an outcome");
}

#[tokio::test]
async fn the_report_is_true_after_a_cancel_and_a_rerun_completes_the_batch() {
    let sandbox = Sandbox::start().await;
    let before = sandbox_emails(&sandbox).await;
    let report = Shared::default();
    let items = || futures::stream::iter(emails("acme", 200));
    let mut run = Bulk::new("import-3")
        .concurrency(8)
        .initial_rate(1000.0)
        .report(Report::ndjson(report.clone()))
        .run(
            [Account::new("acme", sandbox_client(&sandbox))],
            items(),
            create,
        )
        .unwrap();
    let mut seen = Vec::new();
    while let Some(o) = run.next().await {
        seen.push(o);
        if seen.len() == 50 {
            run.cancel_handle().cancel();
        }
    }
    assert!(seen.len() < 200, "the cancel stopped the batch");
    let lines = report.lines();
    assert_eq!(lines.len(), seen.len(), "one line per outcome");
    // Every contact the run made has a line saying so, or saying not done.
    let now = sandbox_emails(&sandbox).await;
    let made: HashSet<&String> = now.keys().filter(|e| !before.contains_key(*e)).collect();
    let by_key: HashMap<&str, &str> = lines
        .iter()
        .map(|l| (l["key"].as_str().unwrap(), l["status"].as_str().unwrap()))
        .collect();
    for email in &made {
        let status = by_key.get(email.as_str()).copied();
        assert!(
            matches!(status, Some("created" | "not_done")),
            "{email}: {status:?}"
        );
    }
    for (key, status) in &by_key {
        if *status == "created" {
            assert!(
                made.contains(&key.to_string()),
                "{key} reported created but absent"
            );
        }
    }

    // The rerun: every item exactly once.
    let summary = Bulk::new("import-3")
        .run(
            [Account::new("acme", sandbox_client(&sandbox))],
            items(),
            create,
        )
        .unwrap()
        .finish()
        .await;
    assert_eq!(summary.done(), 200);
    assert_eq!(summary.count(Status::Failed), 0);
    let after = sandbox_emails(&sandbox).await;
    assert_eq!(after.len(), before.len() + 200);
    assert!(after.values().all(|n| *n == 1), "a duplicate");
}

const SCHEMA_FIELDS: [(&str, CustomFieldType); 2] = [
    ("insurance_provider", CustomFieldType::Text),
    ("loyalty_points", CustomFieldType::Number),
];

fn schema() -> Schema {
    Schema::new(SCHEMA_FIELDS.map(|(k, t)| (k.to_string(), t)))
}

async fn upsert(sandbox: &Sandbox, csv: &str, dry_run: bool) -> Vec<Outcome> {
    let schema = schema();
    let rows: Vec<_> = contacts::read_csv(csv.as_bytes(), &schema).collect();
    let items: Vec<_> = contacts::items("acme", MatchBy::Email, rows).collect();
    let op = Upsert::new(MatchBy::Email).dry_run(dry_run);
    let mut done = outcomes(Bulk::new("sync").run(
        [Account::new("acme", sandbox_client(sandbox))],
        futures::stream::iter(items),
        move |task, row| op.apply(task, row),
    ))
    .await;
    done.sort_by(|a, b| a.key.cmp(&b.key));
    done
}

#[tokio::test]
async fn upsert_by_email_creates_updates_only_what_differs_and_leaves_equal_ones() {
    let sandbox = Sandbox::start().await;
    let client = sandbox_client(&sandbox);
    for (email, name) in [("ada@example.com", "Ada"), ("alan@example.com", "Alan")] {
        client
            .create_contact()
            .body_map(|b| {
                b.first_name(name)
                    .last_name("Old")
                    .email(email)
                    .custom_fields(ayra::json!({"loyalty_points": 3}))
            })
            .send()
            .await
            .unwrap();
    }
    // Columns in any order, a custom field column, emails in any case.
    let csv = "loyalty_points,email,first_name,last_name
3,ADA@example.com,Ada,Old
7,alan@example.com,Alan,Old
1,new@example.com,Nea,
";
    let writes = sandbox.stats().writes_applied;
    let dry = upsert(&sandbox, csv, true).await;
    let statuses: Vec<(&str, Status)> = dry.iter().map(|o| (o.key.as_str(), o.status)).collect();
    assert_eq!(
        statuses,
        [
            ("ada@example.com", Status::Unchanged),
            ("alan@example.com", Status::WouldUpdate),
            ("new@example.com", Status::WouldCreate)
        ]
    );
    assert_eq!(
        dry[1].detail.as_deref(),
        Some("custom_fields.loyalty_points")
    );
    assert_eq!(
        sandbox.stats().writes_applied,
        writes,
        "a dry run writes nothing"
    );

    let done = upsert(&sandbox, csv, false).await;
    let statuses: Vec<Status> = done.iter().map(|o| o.status).collect();
    assert_eq!(
        statuses,
        [Status::Unchanged, Status::Updated, Status::Created],
        "{done:?}"
    );
    assert_eq!(
        done[1].detail.as_deref(),
        Some("custom_fields.loyalty_points")
    );
    assert_eq!(
        sandbox.stats().writes_applied,
        writes + 2,
        "the unchanged row wrote nothing"
    );
    let alan = client
        .get_contact()
        .contact_id(done[1].id.clone().unwrap())
        .send()
        .await
        .unwrap()
        .into_data();
    assert_eq!(alan.custom_fields["loyalty_points"], 7);
    assert_eq!(alan.last_name.as_deref(), Some("Old"));

    // Once more: everything is as the file says.
    let again = upsert(&sandbox, csv, false).await;
    assert!(
        again.iter().all(|o| o.status == Status::Unchanged),
        "{again:?}"
    );
    assert_eq!(sandbox.stats().writes_applied, writes + 2);

    // A contact the batch made, deleted since: the rerun's create is
    // replayed, the contact found gone and made anew, once.
    let new_id = done[2].id.clone().unwrap();
    client
        .delete_contact()
        .contact_id(new_id.as_str())
        .send()
        .await
        .unwrap();
    let back = upsert(&sandbox, csv, false).await;
    assert_eq!(back[2].status, Status::Created, "{back:?}");
    assert_eq!(
        back[2].detail.as_deref(),
        Some(format!("created anew: {new_id} deleted").as_str())
    );
    assert_ne!(back[2].id.as_deref(), Some(new_id.as_str()));
    let after = upsert(&sandbox, csv, false).await;
    assert!(
        after.iter().all(|o| o.status == Status::Unchanged),
        "made anew once: {after:?}"
    );
    assert_eq!(sandbox_emails(&sandbox).await["new@example.com"], 1);
}

/// A spreadsheet set to French saves `;`-separated CSV, with a byte order
/// mark and CRLF line ends: it imports as the same rows a `,` file would.
#[tokio::test]
async fn a_spreadsheets_semicolon_csv_with_a_bom_imports_like_any_other() {
    let sandbox = Sandbox::start().await;
    let csv = "\u{feff}email;first_name;last_name;loyalty_points\r\n\
               zoe@example.com;Zo\u{e9};\"Martin; fils\";4\r\n\
               yves@example.com;Yves;;\r\n";
    let done = upsert(&sandbox, csv, false).await;
    assert_eq!(
        done.iter().map(|o| o.status).collect::<Vec<_>>(),
        [Status::Created, Status::Created],
        "{done:?}"
    );
    let client = sandbox_client(&sandbox);
    let zoe = client
        .get_contact()
        .contact_id(done[1].id.clone().unwrap())
        .send()
        .await
        .unwrap()
        .into_data();
    assert_eq!(zoe.email.as_deref(), Some("zoe@example.com"));
    assert_eq!(zoe.first_name, "Zo\u{e9}");
    assert_eq!(zoe.last_name.as_deref(), Some("Martin; fils"));
    assert_eq!(zoe.custom_fields["loyalty_points"], 4);
}

/// Someone deletes the batch's contact after every rerun: each rerun makes
/// it anew (a chain of replays, each a key derived from the deleted id),
/// three times; the fourth time the row fails saying so, and never reports
/// `replayed` for a contact the account does not hold.
#[tokio::test]
async fn a_contact_deleted_after_every_rerun_comes_back_three_times_then_the_row_fails() {
    let sandbox = Sandbox::start().await;
    let client = sandbox_client(&sandbox);
    let csv = "email,first_name\nkeep@example.com,Kim\n";
    let delete = |id: String| {
        let client = client.clone();
        async move {
            client.delete_contact().contact_id(id).send().await.unwrap();
        }
    };
    let first = upsert(&sandbox, csv, false).await;
    assert_eq!(first[0].status, Status::Created);
    let mut deleted = vec![first[0].id.clone().unwrap()];
    for time in 1..=3 {
        delete(deleted.last().unwrap().clone()).await;
        let back = upsert(&sandbox, csv, false).await;
        assert_eq!(back[0].status, Status::Created, "rerun {time}: {back:?}");
        let chain: Vec<String> = deleted.iter().map(|id| format!("{id} deleted")).collect();
        assert_eq!(
            back[0].detail.as_deref(),
            Some(format!("created anew: {}", chain.join(", ")).as_str()),
            "rerun {time} walks the chain of deleted contacts"
        );
        assert_eq!(
            sandbox_emails(&sandbox).await.get("keep@example.com"),
            Some(&1)
        );
        deleted.push(back[0].id.clone().unwrap());
    }
    delete(deleted.last().unwrap().clone()).await;
    let gave_up = upsert(&sandbox, csv, false).await;
    assert_eq!(gave_up[0].status, Status::Failed, "{gave_up:?}");
    match &gave_up[0].error {
        Some(ItemError::GaveUp(why)) => {
            for id in &deleted {
                assert!(why.contains(id.as_str()), "{why}");
            }
            assert!(why.contains("not in the account"), "{why}");
        }
        other => panic!("expected GaveUp, got {other:?}"),
    }
    assert_eq!(sandbox_emails(&sandbox).await.get("keep@example.com"), None);
}

/// The batch made a contact, then someone changed its email in the web app:
/// the row's email is in no contact, so the rerun makes one (the old one is
/// left as it was changed), instead of reporting the replay of a create
/// whose contact no longer has the row's email.
#[tokio::test]
async fn a_contact_whose_email_was_changed_outside_is_made_anew_and_left_alone() {
    let sandbox = Sandbox::start().await;
    let client = sandbox_client(&sandbox);
    let csv = "email,first_name\nmove@example.com,Mo\n";
    let first = upsert(&sandbox, csv, false).await;
    let old = first[0].id.clone().unwrap();
    client
        .update_contact()
        .contact_id(old.as_str())
        .body_map(|b| b.email("moved@example.com"))
        .send()
        .await
        .unwrap();
    let again = upsert(&sandbox, csv, false).await;
    assert_eq!(again[0].status, Status::Created, "{again:?}");
    assert_eq!(
        again[0].detail.as_deref(),
        Some(format!("created anew: {old} has another email").as_str())
    );
    let emails = sandbox_emails(&sandbox).await;
    assert_eq!(emails.get("move@example.com"), Some(&1));
    assert_eq!(
        emails.get("moved@example.com"),
        Some(&1),
        "the edit is kept"
    );
    let third = upsert(&sandbox, csv, false).await;
    assert_eq!(third[0].status, Status::Unchanged, "{third:?}");
}

#[tokio::test]
async fn an_update_sends_only_the_fields_that_differ() {
    let server = Server::start(|r, i| {
        let mut existing = contact("cnt_1", "ada@example.com", "Ada");
        existing["custom_fields"] = serde_json::json!({"insurance_provider": "MGEN", "loyalty_points": 3});
        if r.method == "GET" {
            let list = serde_json::json!({
                "data": [existing],
                "meta": {"total": 1, "page": 1, "per_page": 100, "total_pages": 1,
                         "request_id": format!("req_test_{i}"), "timestamp": "2025-01-15T10:30:00Z"},
                "links": {"first": "x", "prev": null, "next": null, "last": "x"}
            });
            Reply::Json(200, list.to_string())
        } else {
            Reply::Json(200, ok(existing, i))
        }
    })
    .await;
    let csv = "email,first_name,last_name,insurance_provider,loyalty_points
ada@example.com,Ada,Lovelace,MGEN,4
";
    let schema = schema();
    let rows: Vec<_> = contacts::read_csv(csv.as_bytes(), &schema).collect();
    let op = Upsert::new(MatchBy::Email);
    let done = outcomes(Bulk::new("sync").run(
        [Account::new("a", server.client().build().unwrap())],
        futures::stream::iter(contacts::items("a", MatchBy::Email, rows)),
        move |task, row| op.apply(task, row),
    ))
    .await;
    assert_eq!(done[0].status, Status::Updated, "{done:?}");
    let patch = server
        .recorded()
        .into_iter()
        .find(|r| r.method == "PATCH")
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&patch.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"last_name": "Lovelace", "custom_fields": {"loyalty_points": 4}})
    );
}

#[tokio::test]
async fn bad_rows_are_errors_naming_row_and_column_and_the_others_go_on() {
    let sandbox = Sandbox::start().await;
    let before = sandbox.count(Resource::Contacts);
    // A blank line is skipped but counted: rows are named by their line.
    let ndjson = r#"{"email": "ok1@example.com", "first_name": "Ok"}

{"first_name": "Bad", "email": "not an email"}
{"email": "ok2@example.com", "first_name": "Ok", "custom_fields": {"loyalty_points": 5}}
{"email": "bad2@example.com", "first_name": "Bad", "favourite_colour": "blue"}
{"email": "bad3@example.com", "first_name": "Bad", "loyalty_points": "many"}
{"email": "bad4@example.com"}
not json
{"phone": "+14155550100", "first_name": "No email to match by"}
"#;
    let schema = schema();
    let rows: Vec<_> = contacts::read_ndjson(ndjson.as_bytes(), &schema).collect();
    let op = Upsert::new(MatchBy::Email);
    let requests = sandbox.stats().requests;
    let done = outcomes(Bulk::new("import-bad").run(
        [Account::new("acme", sandbox_client(&sandbox))],
        futures::stream::iter(contacts::items("acme", MatchBy::Email, rows)),
        move |task, row| op.apply(task, row),
    ))
    .await;
    let mut bad: Vec<(u64, Option<String>)> = done
        .iter()
        .filter_map(|o| match &o.error {
            Some(ItemError::Invalid(e)) => {
                assert_eq!(o.attempts, 0, "no request for an invalid row");
                assert_eq!(o.key, format!("row {}", e.row));
                Some((e.row, e.column.clone()))
            }
            _ => None,
        })
        .collect();
    bad.sort();
    let col = |c: &str| Some(c.to_string());
    assert_eq!(
        bad,
        [
            (3, col("email")),
            (5, col("favourite_colour")),
            (6, col("loyalty_points")),
            (7, col("first_name")),
            (8, None),
            (9, col("email")),
        ]
    );
    assert_eq!(by_status(&done)[&Status::Created], 2, "{done:?}");
    assert_eq!(sandbox.count(Resource::Contacts), before + 2);
    // Two lookups and two creates: nothing for the bad rows.
    assert_eq!(sandbox.stats().requests - requests, 4);
}

/// Two accounts with one label would derive the same idempotency keys for
/// different accounts' writes: the run refuses to start and sends nothing.
#[tokio::test]
async fn two_accounts_with_one_label_are_refused_before_anything_is_sent() {
    let sandbox = Sandbox::start().await;
    let before = sandbox.stats().requests;
    let run = Bulk::new("dup").run(
        [
            Account::new("acme", sandbox_client(&sandbox)),
            Account::new("acme", sandbox_client(&sandbox)),
        ],
        futures::stream::iter(emails("acme", 3)),
        create,
    );
    let err = run.expect_err("duplicate labels are refused");
    assert!(matches!(err, ayra::Error::Config(_)), "{err:?}");
    assert!(err.to_string().contains("\"acme\""), "{err}");
    assert_eq!(sandbox.stats().requests, before, "nothing was sent");
}

/// What a user's batch meets on a bad day, one item each: a gateway's HTML
/// 502 page every time, a body cut short once, a 2xx whose body is not a
/// contact. Each is that item's own typed outcome, every other item is
/// created, and the report has one true line per item.
#[tokio::test]
async fn bad_answers_mid_batch_are_those_items_outcomes_and_the_others_go_on() {
    const GATEWAY: &str = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    let cuts = Arc::new(AtomicU64::new(0));
    let seen = cuts.clone();
    let server = Server::start(move |r, i| {
        let email = serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["email"]
            .as_str()
            .unwrap()
            .to_string();
        let created = Reply::Json(201, ok(contact(&format!("cnt_{i}"), &email, "P"), i));
        match email.split('@').next().unwrap() {
            "p1" => Reply::Raw(
                format!(
                    "HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\r\n{GATEWAY}",
                    GATEWAY.len()
                )
                .into_bytes(),
            ),
            // Cut short on its first attempt only.
            "p2" if seen.fetch_add(1, Ordering::SeqCst) == 0 => {
                Reply::Truncate(201, ok(contact("cnt_cut", &email, "P"), i))
            }
            "p3" => Reply::Json(201, ok(serde_json::json!({"id": 7, "email": email}), i)),
            _ => created,
        }
    })
    .await;
    let report = Shared::default();
    let accounts = [Account::new(
        "acme",
        server.client().api_key("sk_a").build().unwrap(),
    )];
    let done = outcomes(
        Bulk::new("bad-day")
            .concurrency(1)
            .initial_rate(1000.0)
            .retry(support::retries(2))
            .report(Report::ndjson(report.clone()))
            .run(accounts, futures::stream::iter(emails("acme", 10)), create),
    )
    .await;
    let by_key: HashMap<&str, &Outcome> = done.iter().map(|o| (o.key.as_str(), o)).collect();
    assert_eq!(by_key.len(), 10, "one outcome per item: {done:?}");

    // The gateway page: retried (a 502 is transient), then that item's API
    // error, its body kept for the user to read.
    let gateway = by_key["p1@acme.example.com"];
    assert_eq!(gateway.status, Status::Failed);
    assert_eq!(gateway.attempts, 3, "the first attempt and 2 retries");
    match &gateway.error {
        Some(ItemError::Call(e)) => {
            assert_eq!(e.status().map(|s| s.as_u16()), Some(502));
            assert_eq!(e.attempts(), 3, "the error counts the runner's attempts");
            assert!(format!("{e}").contains("3 attempts"), "{e}");
        }
        other => panic!("expected the call's error, got {other:?}"),
    }

    // The cut-short body: a transport error, retried under the same key.
    let cut = by_key["p2@acme.example.com"];
    assert_eq!(cut.status, Status::Created, "{cut:?}");
    assert_eq!(cut.attempts, 2);
    assert_eq!(cuts.load(Ordering::SeqCst), 2);
    let keys: HashSet<String> = server
        .recorded()
        .iter()
        .filter(|r| String::from_utf8_lossy(&r.body).contains("p2@"))
        .map(|r| r.header("idempotency-key").unwrap().to_string())
        .collect();
    assert_eq!(keys.len(), 1, "both attempts carry the item's key");
    assert!(keys.contains(&cut.idempotency_key));

    // A 2xx that is not a contact: the write may have happened, so it is not
    // resent; it is a decode error, and a rerun would replay it.
    let garbled = by_key["p3@acme.example.com"];
    assert_eq!(garbled.status, Status::Failed);
    assert_eq!(garbled.attempts, 1, "a 2xx is never resent");
    match &garbled.error {
        Some(ItemError::Call(e @ ayra::Error::Decode(_))) => {
            assert_eq!(e.status().map(|s| s.as_u16()), Some(201));
        }
        other => panic!("expected a decode error, got {other:?}"),
    }

    let created = done.iter().filter(|o| o.status == Status::Created).count();
    assert_eq!(created, 8, "every other item was created: {done:?}");

    // The report: one line per item, saying what its outcome says.
    let lines = report.lines();
    assert_eq!(lines.len(), 10);
    for line in &lines {
        let o = by_key[line["key"].as_str().unwrap()];
        assert_eq!(line["status"], o.status.as_str());
        assert_eq!(line["attempts"], o.attempts);
        assert_eq!(line["error"].is_null(), o.error.is_none(), "{line}");
    }
}
