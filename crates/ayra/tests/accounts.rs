//! Many accounts from one client: `for_account` sends the account's own key
//! over the shared pool with the shared settings, errors and traces name
//! the account (never the key), cached reads stay with the account that
//! fetched them, and one account's bad key fails that account only.

mod support;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{KEY, Recorded, Reply, Server, agent, error, ok};

const ACME: &str = "sk_test_ACME_SECRET_00000001";
const GLOBEX: &str = "sk_test_GLOBEX_SECRET_000002";
const REVOKED: &str = "sk_test_REVOKED_SECRET_00003";

fn bearer(r: &Recorded) -> &str {
    r.header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
}

/// Answers as the account whose key came: each account has its own agent
/// name and its own custom fields; an unknown key is a 401.
fn per_account(r: &Recorded, i: usize) -> Reply {
    let owner = match bearer(r) {
        KEY => "root",
        ACME => "acme",
        GLOBEX => "globex",
        _ => {
            return Reply::Json(
                401,
                error("authentication_error", "invalid_api_key", None, i),
            );
        }
    };
    let path = r.target.split('?').next().unwrap_or("");
    match path {
        "/v1/custom-fields" => {
            let body = serde_json::json!({
                "data": [{"id": format!("cf_{owner}"), "key": owner, "label": owner, "type": "text",
                          "created_at": "2025-01-15T10:30:00Z"}],
                "meta": {"total": 1, "page": 1, "per_page": 25, "total_pages": 1,
                         "request_id": format!("req_test_{i}"), "timestamp": "2025-01-15T10:30:00Z"},
                "links": {"first": "https://x/v1/custom-fields?page=1", "last": "https://x/v1/custom-fields?page=1",
                          "prev": null, "next": null}
            });
            Reply::Json(200, body.to_string())
        }
        "/v1/agents/agt_missing" => Reply::Json(
            404,
            error("not_found", "agent_not_found", Some("agent_id"), i),
        ),
        "/v1/agents/agt_flaky" => Reply::With(
            503,
            vec![("retry-after", "0".into())],
            error("service_unavailable", "service_unavailable", None, i),
        ),
        "/v1/agents/agt_slow" => Reply::Late(
            Duration::from_millis(400),
            Box::new(Reply::Json(200, ok(agent("agt_slow", "active"), i))),
        ),
        _ => {
            let mut a = agent("agt_1", "active");
            a["name"] = owner.into();
            Reply::Json(200, ok(a, i))
        }
    }
}

#[tokio::test]
async fn an_account_client_sends_its_own_key_with_the_shared_settings() {
    let server = Server::start(per_account).await;
    let root = server
        .client()
        .timeout(Duration::from_millis(150))
        .retry(support::retries(1))
        .build()
        .unwrap();
    let acme = root.for_account("acme", ACME).unwrap();

    let got = acme.get_agent().agent_id("agt_1").send().await.unwrap();
    assert_eq!(got.data.name, "acme", "the server saw acme's key");
    let got = root.get_agent().agent_id("agt_1").send().await.unwrap();
    assert_eq!(got.data.name, "root", "the root client keeps its own key");
    let keys: Vec<String> = server
        .recorded()
        .iter()
        .map(|r| bearer(r).to_string())
        .collect();
    assert_eq!(keys, [ACME, KEY]);

    // The root's retry policy (1 retry) and timeout (150 ms) apply to acme.
    let e = acme
        .get_agent()
        .agent_id("agt_flaky")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (e.status().map(|s| s.as_u16()), e.attempts()),
        (Some(503), 2)
    );
    let e = acme
        .get_agent()
        .agent_id("agt_slow")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, ayra::Error::Timeout { .. }), "{e}");

    // Per-call options on an account client keep its account.
    let patient = acme.with_options(|o| o.timeout(Duration::from_secs(5)));
    assert_eq!(patient.account_label(), "acme");
    let got = patient
        .get_agent()
        .agent_id("agt_slow")
        .send()
        .await
        .unwrap();
    assert_eq!(got.data.id, "agt_slow");
    assert_eq!(bearer(server.recorded().last().unwrap()), ACME);
}

#[tokio::test]
async fn account_clients_share_one_connection_pool() {
    let server = Server::start(per_account).await;
    let root = server.client().build().unwrap();
    const CONCURRENCY: usize = 8;
    let keys = [ACME, GLOBEX, KEY];
    let clients: Vec<ayra::Client> = (0..200)
        .map(|i| {
            root.for_account(format!("client-{i}"), keys[i % keys.len()])
                .unwrap()
        })
        .collect();
    let permits = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let calls = clients.into_iter().map(|client| {
        let permits = permits.clone();
        async move {
            for _ in 0..2 {
                let _slot = permits.acquire().await.unwrap();
                client.get_agent().agent_id("agt_1").send().await.unwrap();
            }
        }
    });
    futures::future::join_all(calls).await;
    assert_eq!(server.count(), 400);
    let opened = server.connections.load(Ordering::SeqCst);
    // One pool: never more connections than calls in flight. 200 clients
    // with a pool each would open at least 200.
    assert!(
        (1..=CONCURRENCY).contains(&opened),
        "{opened} connections for 200 account clients at concurrency {CONCURRENCY}"
    );
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every test's traces, in one process-wide subscriber: a per-thread one
/// (`set_default`) races the other tests' threads over the callsites'
/// cached interest and may miss a span.
fn traces() -> &'static Captured {
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
}

#[tokio::test]
async fn errors_traces_and_debug_name_the_account_never_its_key() {
    let logs = traces();

    let server = Server::start(per_account).await;
    let root = server.client().build().unwrap();
    let acme = root.for_account("acme", ACME).unwrap();
    let e = acme
        .get_agent()
        .agent_id("agt_missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.account(), Some("acme"));
    let shown = format!("{e}");
    assert!(shown.contains("account acme"), "{shown}");
    let revoked = root.for_account("initech", REVOKED).unwrap();
    let denied = revoked
        .get_agent()
        .agent_id("agt_1")
        .send()
        .await
        .unwrap_err();
    assert!(denied.is_auth());
    assert_eq!(denied.account(), Some("initech"));

    // The root's default label is the key's last 4 characters.
    assert_eq!(root.account_label(), format!("…{}", &KEY[KEY.len() - 4..]));
    let printed = [
        shown,
        format!("{e:?}"),
        format!("{denied} {denied:?}"),
        format!("{acme:?}"),
        format!("{revoked:?}"),
    ];
    assert!(printed[3].contains("acme"), "Debug names the account");
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("account=\"acme\"") || logged.contains("account=acme"),
        "the request span names the account:\n{logged}"
    );
    assert!(logged.contains("initech"), "{logged}");
    for text in printed.iter().chain(std::iter::once(&logged)) {
        for key in [KEY, ACME, REVOKED, "SECRET"] {
            assert!(!text.contains(key), "a key leaked in:\n{text}");
        }
    }
}

#[tokio::test]
async fn cached_reads_are_kept_per_account() {
    let server = Server::start(per_account).await;
    let root = server
        .client()
        .cache_reference_data(Duration::from_secs(60))
        .build()
        .unwrap();
    let acme = root.for_account("acme", ACME).unwrap();
    let globex = root.for_account("globex", GLOBEX).unwrap();
    let key_of = |r: ayra::Response<ayra::types::CustomFieldList>| r.data[0].key.clone();
    for _ in 0..3 {
        assert_eq!(
            key_of(acme.list_custom_fields().send().await.unwrap()),
            "acme"
        );
        assert_eq!(
            key_of(globex.list_custom_fields().send().await.unwrap()),
            "globex"
        );
        assert_eq!(
            key_of(root.list_custom_fields().send().await.unwrap()),
            "root"
        );
    }
    assert_eq!(server.count(), 3, "one read per account, then hits");
    // The same account through a client made again shares its entries.
    let acme_again = root.for_account("acme-2", ACME).unwrap();
    let hit = acme_again.list_custom_fields().send().await.unwrap();
    assert_eq!((key_of(hit), server.count()), ("acme".to_string(), 3));

    // A write by acme drops acme's entry only.
    acme.create_custom_field()
        .body_map(|b| {
            b.key("x")
                .label("X")
                .type_(ayra::types::CustomFieldType::Text)
        })
        .send()
        .await
        .ok();
    let writes = server.count();
    acme.list_custom_fields().send().await.unwrap();
    globex.list_custom_fields().send().await.unwrap();
    assert_eq!(
        server.count(),
        writes + 1,
        "acme read again, globex from cache"
    );
}

#[tokio::test]
async fn a_revoked_key_fails_its_account_only() {
    let server = Server::start(per_account).await;
    let root = server.client().build().unwrap();
    let good = root.for_account("acme", ACME).unwrap();
    let bad = root.for_account("initech", REVOKED).unwrap();
    let calls = (0..30).map(|i| {
        let client = if i % 3 == 0 {
            bad.clone()
        } else {
            good.clone()
        };
        async move {
            (
                i % 3 == 0,
                client.get_agent().agent_id("agt_1").send().await,
            )
        }
    });
    for (revoked, outcome) in futures::future::join_all(calls).await {
        match outcome {
            Ok(agent) => {
                assert!(!revoked);
                assert_eq!(agent.data.name, "acme");
            }
            Err(e) => {
                assert!(revoked, "acme failed: {e}");
                assert!(e.is_auth() && e.attempts() == 1, "{e}");
            }
        }
    }
}

#[tokio::test]
async fn a_key_a_header_cannot_carry_is_refused_before_anything_is_sent() {
    let server = Server::start(per_account).await;
    let root = server.client().build().unwrap();
    for key in [
        "",
        "  ",
        "sk_test two words",
        "sk_test_tab\t",
        "sk_test_ü",
        "sk\r\nX-Evil: 1",
    ] {
        let e = root.for_account("acme", key).unwrap_err();
        assert!(matches!(e, ayra::Error::Config(_)), "{key:?}: {e}");
        let e = server.client().api_key(key).build().unwrap_err();
        assert!(matches!(e, ayra::Error::Config(_)), "{key:?}: {e}");
    }
    let e = root.for_account(format!("acme {ACME}"), ACME).unwrap_err();
    assert!(!format!("{e} {e:?}").contains(ACME), "{e}");
    assert_eq!(server.count(), 0, "nothing was sent");
}
