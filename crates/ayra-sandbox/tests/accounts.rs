//! Accounts: each key acts on its own account's data only. Another account's
//! resource is answered exactly as one that never existed and is left as it
//! was; lists, analytics and exports hold the caller's data; idempotency
//! keys and rate limits are the account's; demo data is per account; ids
//! are unique across accounts; the sandbox counts TCP connections.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use ayra_sandbox::{DEFAULT_ACCOUNT, Faults, Resource, Sandbox, SandboxBuilder, TEST_API_KEY};
use chrono::{DateTime, Utc};
use common::{Env, Resp, assert_list};
use reqwest::Method;
use serde_json::{Value, json};

const ACME: (&str, &str) = ("acme", "sk_test_acme");
const GLOBEX: (&str, &str) = ("globex", "sk_test_globex");
const INITECH: (&str, &str) = ("initech", "sk_test_initech");

/// A Monday, 08:00 UTC: bookings below fall on working days.
fn start_time() -> DateTime<Utc> {
    "2026-03-02T08:00:00Z".parse().unwrap()
}

fn three_accounts() -> SandboxBuilder {
    Sandbox::builder()
        .now(start_time())
        .account(ACME.0, ACME.1)
        .account(GLOBEX.0, GLOBEX.1)
        .account(INITECH.0, INITECH.1)
}

async fn call(env: &Env, key: &str, method: Method, path: &str, body: Option<Value>) -> Resp {
    env.send(method, path, body.as_ref(), &[], Some(key)).await
}

/// The ids of the resources [`populate`] made in one account.
#[derive(Debug)]
struct Made {
    agent: String,
    contact: String,
    calendar: String,
    appointment: String,
    workflow: String,
    execution: String,
    report: String,
    export: String,
}

fn id_of(r: &Resp) -> String {
    assert!((200..300).contains(&r.status), "{}", r.json);
    r.data()["id"].as_str().expect("an id").to_string()
}

/// One resource of each kind in the account of `key`, every job finished.
async fn populate(env: &Env, key: &str) -> Made {
    let post = |path: &'static str, body: Value| call(env, key, Method::POST, path, Some(body));
    let agent = id_of(
        &post(
            "/agents",
            json!({"name": "Desk", "voice_id": "voice_ava", "prompt": "Be brief."}),
        )
        .await,
    );
    let contact = id_of(
        &post(
            "/contacts",
            json!({"first_name": "Ada", "email": "ada@example.com", "tags": ["vip"]}),
        )
        .await,
    );
    let cals = assert_list(&call(env, key, Method::GET, "/calendars", None).await);
    let calendar = cals
        .iter()
        .find(|c| c["timezone"] == "UTC")
        .and_then(|c| c["id"].as_str())
        .expect("an always-open calendar")
        .to_string();
    let appointment = id_of(
        &post(
            "/appointments",
            json!({"calendar_id": calendar, "contact_id": contact, "title": "Visit",
                   "start": "2026-03-04T10:00:00Z", "duration_minutes": 30}),
        )
        .await,
    );
    let workflow = id_of(
        &post(
            "/workflows",
            json!({"name": "Follow-up", "trigger_type": "api",
                   "steps": [{"type": "send_email", "config": {"to": "{{contact.email}}"}}]}),
        )
        .await,
    );
    let execution = id_of(
        &call(
            env,
            key,
            Method::POST,
            &format!("/workflows/{workflow}/trigger"),
            Some(json!({"input": {"contact_id": contact}})),
        )
        .await,
    );
    let report = id_of(
        &post(
            "/reports",
            json!({"type": "agent_performance", "parameters": {"start": "2026-01-01T00:00:00Z",
                   "end": "2026-04-01T00:00:00Z", "agent_id": agent}}),
        )
        .await,
    );
    let export = id_of(&post("/exports", json!({"resource": "contacts", "format": "csv"})).await);
    env.sb.advance(Duration::from_secs(3600));
    Made {
        agent,
        contact,
        calendar,
        appointment,
        workflow,
        execution,
        report,
        export,
    }
}

/// Everything an account's key can read of its data (envelopes' `meta` aside).
async fn snapshot(env: &Env, key: &str, made: &Made) -> Vec<Value> {
    let mut paths: Vec<String> = [
        "/agents?per_page=100",
        "/contacts?per_page=100",
        "/custom-fields",
        "/calendars",
        "/appointments?per_page=100",
        "/workflows?per_page=100",
        "/reports?per_page=100",
        "/conversations?per_page=100",
    ]
    .map(String::from)
    .to_vec();
    paths.extend([
        format!("/contacts/{}/interactions", made.contact),
        format!("/workflows/{}/executions", made.workflow),
        format!("/workflow-executions/{}", made.execution),
        format!("/exports/{}", made.export),
        format!("/exports/{}/download", made.export),
    ]);
    let mut out = Vec::new();
    for p in paths {
        let r = call(env, key, Method::GET, &p, None).await;
        assert_eq!(r.status, 200, "{p}: {}", r.json);
        out.push(json!({"path": p, "data": r.json["data"], "total": r.json["meta"]["total"], "text": r.text().len()}));
    }
    out
}

/// The error of a response, its message with `id` replaced (to compare an
/// answer about another account's id with one about an id that never existed).
fn answer(r: &Resp, id: &str) -> Value {
    let e = &r.json["error"];
    json!({
        "status": r.status,
        "code": e["code"],
        "field": e["field"],
        "message": e["message"].as_str().unwrap_or("").replace(id, "<id>"),
    })
}

/// An id with the prefix of `id` that no account has.
fn unknown_like(id: &str) -> String {
    let prefix = id.split('_').next().unwrap();
    format!("{prefix}_Unknown0000")
}

/// `(method, path with {id}, body)`: every operation naming a resource in its path.
fn path_operations(m: &Made) -> Vec<(Method, String, Option<Value>)> {
    let avail = "/availability?start=2026-03-04T00:00:00Z&end=2026-03-05T00:00:00Z";
    let g = |p: String| (Method::GET, p, None);
    vec![
        g(format!("/agents/{}", m.agent)),
        (
            Method::PATCH,
            format!("/agents/{}", m.agent),
            Some(json!({"name": "Taken over"})),
        ),
        (
            Method::POST,
            format!("/agents/{}/disable", m.agent),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/agents/{}/enable", m.agent),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/agents/{}/archive", m.agent),
            Some(json!({})),
        ),
        (Method::DELETE, format!("/agents/{}", m.agent), None),
        g(format!("/contacts/{}", m.contact)),
        (
            Method::PATCH,
            format!("/contacts/{}", m.contact),
            Some(json!({"first_name": "Eve"})),
        ),
        (
            Method::POST,
            format!("/contacts/{}/tags", m.contact),
            Some(json!({"tags": ["stolen"]})),
        ),
        (
            Method::DELETE,
            format!("/contacts/{}/tags/vip", m.contact),
            None,
        ),
        g(format!("/contacts/{}/interactions", m.contact)),
        (Method::DELETE, format!("/contacts/{}", m.contact), None),
        g(format!("/calendars/{}", m.calendar)),
        g(format!("/calendars/{}{avail}", m.calendar)),
        g(format!("/appointments/{}", m.appointment)),
        (
            Method::PATCH,
            format!("/appointments/{}", m.appointment),
            Some(json!({"title": "Moved"})),
        ),
        (
            Method::POST,
            format!("/appointments/{}/cancel", m.appointment),
            Some(json!({"scope": "this"})),
        ),
        g(format!("/workflows/{}", m.workflow)),
        (
            Method::PATCH,
            format!("/workflows/{}", m.workflow),
            Some(json!({"status": "paused"})),
        ),
        (
            Method::POST,
            format!("/workflows/{}/trigger", m.workflow),
            Some(json!({"input": {}})),
        ),
        g(format!("/workflows/{}/executions", m.workflow)),
        (Method::DELETE, format!("/workflows/{}", m.workflow), None),
        g(format!("/workflow-executions/{}", m.execution)),
        g(format!("/reports/{}", m.report)),
        g(format!("/exports/{}", m.export)),
        g(format!("/exports/{}/download", m.export)),
    ]
}

/// The id in a path of [`path_operations`].
fn path_id(path: &str) -> &str {
    path.split(['/', '?']).nth(2).unwrap()
}

#[tokio::test]
async fn another_accounts_ids_in_paths_are_not_found_and_left_as_they_were() {
    let env = Env::with(three_accounts()).await;
    let acme = populate(&env, ACME.1).await;
    let before = snapshot(&env, ACME.1, &acme).await;
    let acme_view = env.sb.account(ACME.0).unwrap();
    let counts = |v: &ayra_sandbox::AccountView<'_>| {
        [
            Resource::Agents,
            Resource::Contacts,
            Resource::Appointments,
            Resource::Workflows,
            Resource::WorkflowExecutions,
            Resource::Reports,
            Resource::Exports,
        ]
        .map(|r| v.count(r))
    };
    let acme_counts = counts(&acme_view);
    let default_counts = counts(&env.sb.default_account());
    // The default account's fixtures are another account's resources too.
    let f = env.sb.fixtures();
    let mut ops = path_operations(&acme);
    for c in [f.conversation_completed, f.conversation_in_progress] {
        for tail in ["", "/transcript", "/recording", "/analytics", "/events"] {
            ops.push((Method::GET, format!("/conversations/{c}{tail}"), None));
        }
    }
    ops.push((Method::GET, format!("/agents/{}", f.agent_active), None));
    ops.push((Method::DELETE, format!("/contacts/{}", f.contact), None));
    for key in [GLOBEX.1, INITECH.1] {
        for (method, path, body) in &ops {
            let id = path_id(path);
            let theirs = call(&env, key, method.clone(), path, body.clone()).await;
            assert_eq!(theirs.status, 404, "{method} {path}: {}", theirs.json);
            assert_eq!(
                theirs.json["error"]["code"], "resource_not_found",
                "{method} {path}"
            );
            let unknown = unknown_like(id);
            let never = call(
                &env,
                key,
                method.clone(),
                &path.replace(id, &unknown),
                body.clone(),
            )
            .await;
            assert_eq!(
                answer(&theirs, id),
                answer(&never, &unknown),
                "{method} {path}: another account's id is answered as an id that never existed"
            );
        }
    }
    assert_eq!(snapshot(&env, ACME.1, &acme).await, before);
    assert_eq!(counts(&acme_view), acme_counts);
    assert_eq!(counts(&env.sb.default_account()), default_counts);
    assert_eq!(env.sb.account(GLOBEX.0).unwrap().stats().writes_applied, 0);
    assert_eq!(env.sb.stats().panics, 0);
}

#[tokio::test]
async fn another_accounts_ids_in_filters_and_bodies_match_nothing() {
    let env = Env::with(three_accounts()).await;
    let acme = populate(&env, ACME.1).await;
    let before = snapshot(&env, ACME.1, &acme).await;
    let globex_calendar = assert_list(&call(&env, GLOBEX.1, Method::GET, "/calendars", None).await)
        [0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let unknown_agent = unknown_like(&acme.agent);
    // List and analytics filters: what an unknown id gives (nothing).
    let filters = [
        format!("/conversations?agent_id={}", acme.agent),
        format!("/conversations?contact_id={}", acme.contact),
        format!("/appointments?calendar_id={}", acme.calendar),
        format!("/appointments?contact_id={}", acme.contact),
    ];
    for p in &filters {
        let r = call(&env, GLOBEX.1, Method::GET, p, None).await;
        assert_eq!(assert_list(&r), Vec::<Value>::new(), "{p}");
    }
    let summary = |agent: &str| {
        format!(
            "/analytics/summary?start=2026-01-01T00:00:00Z&end=2026-04-01T00:00:00Z&agent_id={agent}"
        )
    };
    let theirs = call(&env, GLOBEX.1, Method::GET, &summary(&acme.agent), None).await;
    let never = call(&env, GLOBEX.1, Method::GET, &summary(&unknown_agent), None).await;
    assert_eq!(theirs.status, 200, "{}", theirs.json);
    assert_eq!(
        theirs.data()["totals"],
        never.data()["totals"],
        "{}",
        theirs.json
    );
    // Body references: an appointment on another account's calendar, or for
    // its contact, is refused as for ids that never existed.
    let book = |cal: &str, contact: Option<&str>| {
        json!({"calendar_id": cal, "contact_id": contact, "title": "Intruder",
               "start": "2026-03-05T10:00:00Z", "duration_minutes": 30})
    };
    for (body, unknown, id) in [
        (
            book(&acme.calendar, None),
            book(&unknown_like(&acme.calendar), None),
            &acme.calendar,
        ),
        (
            book(&globex_calendar, Some(&acme.contact)),
            book(&globex_calendar, Some(&unknown_like(&acme.contact))),
            &acme.contact,
        ),
    ] {
        let theirs = call(&env, GLOBEX.1, Method::POST, "/appointments", Some(body)).await;
        let never = call(&env, GLOBEX.1, Method::POST, "/appointments", Some(unknown)).await;
        theirs.assert_error(
            422,
            "invalid_reference",
            theirs.json["error"]["field"].as_str(),
        );
        assert_eq!(answer(&theirs, id), answer(&never, &unknown_like(id)));
    }
    // Reports and exports filtered by another account's agent hold nothing.
    let report = |agent: &str| {
        json!({"type": "agent_performance", "parameters": {"start": "2026-01-01T00:00:00Z",
               "end": "2026-04-01T00:00:00Z", "agent_id": agent}})
    };
    let export = |agent: &str| json!({"resource": "conversations", "format": "ndjson", "filters": {"agent_id": agent}});
    let mut results = Vec::new();
    for agent in [&acme.agent, &unknown_agent] {
        let r = call(
            &env,
            GLOBEX.1,
            Method::POST,
            "/reports",
            Some(report(agent)),
        )
        .await;
        let e = call(
            &env,
            GLOBEX.1,
            Method::POST,
            "/exports",
            Some(export(agent)),
        )
        .await;
        env.sb.advance(Duration::from_secs(3600));
        let r = call(
            &env,
            GLOBEX.1,
            Method::GET,
            &format!("/reports/{}", id_of(&r)),
            None,
        )
        .await;
        let e = call(
            &env,
            GLOBEX.1,
            Method::GET,
            &format!("/exports/{}", id_of(&e)),
            None,
        )
        .await;
        assert_eq!(e.data()["row_count"], 0, "{}", e.json);
        results.push(r.data()["result"].clone());
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(snapshot(&env, ACME.1, &acme).await, before);
}

#[tokio::test]
async fn lists_analytics_and_exports_hold_the_callers_data_only() {
    let env = Env::with(three_accounts().seed_demo_data(11)).await;
    let mut seen: HashSet<String> = HashSet::new();
    for (name, key) in [
        (DEFAULT_ACCOUNT, TEST_API_KEY),
        (ACME.0, ACME.1),
        (GLOBEX.0, GLOBEX.1),
    ] {
        let view = env.sb.account(name).unwrap();
        for (path, r) in [
            ("/contacts", Resource::Contacts),
            ("/conversations", Resource::Conversations),
            ("/agents", Resource::Agents),
            ("/appointments", Resource::Appointments),
            ("/workflows", Resource::Workflows),
        ] {
            let resp = call(
                &env,
                key,
                Method::GET,
                &format!("{path}?per_page=100"),
                None,
            )
            .await;
            assert_list(&resp);
            assert_eq!(
                resp.json["meta"]["total"],
                view.count(r) as u64,
                "{name} {path}"
            );
            for item in resp.data().as_array().unwrap() {
                let id = item["id"].as_str().unwrap();
                assert!(view.ids(r).binary_search(&id.to_string()).is_ok());
                assert!(seen.insert(id.to_string()), "{id} listed by two accounts");
            }
        }
        let summary = call(
            &env,
            key,
            Method::GET,
            "/analytics/summary?start=2025-01-01T00:00:00Z&end=2027-01-01T00:00:00Z&granularity=week",
            None,
        )
        .await;
        assert_eq!(
            summary.data()["totals"]["conversations"],
            view.count(Resource::Conversations) as u64,
            "{name}: {}",
            summary.json
        );
        let e = call(
            &env,
            key,
            Method::POST,
            "/exports",
            Some(json!({"resource": "contacts", "format": "ndjson"})),
        )
        .await;
        env.sb.advance(Duration::from_secs(3600));
        let path = format!("/exports/{}/download", id_of(&e));
        let file = call(&env, key, Method::GET, &path, None).await;
        let ids: Vec<String> = file
            .text()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(ids.len(), view.count(Resource::Contacts), "{name}");
        let own: HashSet<String> = view.ids(Resource::Contacts).into_iter().collect();
        assert!(ids.iter().all(|id| own.contains(id)), "{name}");
    }
}

#[tokio::test]
async fn an_account_without_demo_data_starts_with_reference_data_and_its_calendars() {
    let env = Env::with(three_accounts()).await;
    let view = env.sb.account(ACME.0).unwrap();
    for r in [
        Resource::Agents,
        Resource::Contacts,
        Resource::Conversations,
        Resource::CustomFields,
        Resource::Appointments,
        Resource::Workflows,
        Resource::Reports,
        Resource::Exports,
    ] {
        assert_eq!(view.count(r), 0, "{r:?}");
    }
    let voices = call(&env, ACME.1, Method::GET, "/voices?per_page=100", None).await;
    assert_eq!(assert_list(&voices).len(), 10);
    let zones = call(&env, ACME.1, Method::GET, "/timezones?per_page=100", None).await;
    assert_eq!(assert_list(&zones).len(), env.sb.count(Resource::Timezones));
    let cals = assert_list(&call(&env, ACME.1, Method::GET, "/calendars", None).await);
    let default_cals = env.sb.ids(Resource::Calendars);
    assert_eq!(cals.len(), 3);
    assert!(
        cals.iter()
            .all(|c| !default_cals.contains(&c["id"].as_str().unwrap().to_string()))
    );
    let realtime = call(&env, ACME.1, Method::GET, "/analytics/realtime", None).await;
    assert_eq!(realtime.status, 200, "{}", realtime.json);
    // The default account keeps its fixtures.
    assert_eq!(
        env.get(&format!("/agents/{}", env.sb.fixtures().agent_active))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn an_idempotency_key_belongs_to_the_account_that_sent_it() {
    let env = Env::with(three_accounts()).await;
    let body = json!({"first_name": "Kim", "email": "kim@example.com"});
    let h = [("idempotency-key", "import-row-1")];
    let post = |key: &'static str, body: Value| {
        let env = &env;
        async move {
            env.send(Method::POST, "/contacts", Some(&body), &h, Some(key))
                .await
        }
    };
    let a = post(ACME.1, body.clone()).await;
    let b = post(GLOBEX.1, body.clone()).await;
    // The same key with another body in a third account is not a conflict.
    let c = post(
        INITECH.1,
        json!({"first_name": "Other", "phone": "+14155550123"}),
    )
    .await;
    assert_eq!(
        (a.status, b.status, c.status),
        (201, 201, 201),
        "{}",
        c.json
    );
    assert_eq!(b.header("idempotent-replayed"), None);
    assert_ne!(a.data()["id"], b.data()["id"]);
    let again = post(ACME.1, body.clone()).await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.data()["id"], a.data()["id"]);
    for (name, n) in [(ACME.0, 1), (GLOBEX.0, 1), (INITECH.0, 1)] {
        let v = env.sb.account(name).unwrap();
        assert_eq!(v.count(Resource::Contacts), n, "{name}");
        assert_eq!(v.stats().writes_applied, 1, "{name}");
    }
    assert_eq!(
        env.sb
            .account(GLOBEX.0)
            .unwrap()
            .contacts_with_email("KIM@example.com"),
        vec![b.data()["id"].as_str().unwrap().to_string()]
    );
    assert_eq!(env.sb.stats().idempotent_replays, 1);
}

#[tokio::test]
async fn the_rate_limit_is_per_account() {
    let faults = Faults {
        rate_limit: Some((3, Duration::from_secs(600))),
        ..Faults::default()
    };
    let env = Env::with(three_accounts().faults(faults)).await;
    for _ in 0..3 {
        assert_eq!(
            call(&env, ACME.1, Method::GET, "/agents", None)
                .await
                .status,
            200
        );
    }
    call(&env, ACME.1, Method::GET, "/agents", None)
        .await
        .assert_error(429, "rate_limit_exceeded", None);
    for key in [GLOBEX.1, INITECH.1, TEST_API_KEY] {
        for _ in 0..3 {
            assert_eq!(
                call(&env, key, Method::GET, "/agents", None).await.status,
                200
            );
        }
    }
    call(&env, GLOBEX.1, Method::GET, "/agents", None)
        .await
        .assert_error(429, "rate_limit_exceeded", None);
}

#[tokio::test]
async fn each_account_has_its_own_reproducible_demo_data() {
    let ids = |sb: &Sandbox, name: &str, r: Resource| sb.account(name).unwrap().ids(r);
    let a = three_accounts().seed_demo_data(7).start().await;
    let b = three_accounts().seed_demo_data(7).start().await;
    // Fewer accounts, another order: acme's data depends on the seed and its name only.
    let only_acme = Sandbox::builder()
        .now(start_time())
        .account(INITECH.0, INITECH.1)
        .account(ACME.0, ACME.1)
        .seed_demo_data(7)
        .start()
        .await;
    let other_seed = three_accounts().seed_demo_data(8).start().await;
    for r in [
        Resource::Contacts,
        Resource::Conversations,
        Resource::Agents,
        Resource::Appointments,
        Resource::Workflows,
    ] {
        for (name, _) in [ACME, GLOBEX, INITECH] {
            assert!(a.account(name).unwrap().count(r) > 0, "{name} {r:?}");
            let same = ids(&a, name, r) == ids(&b, name, r);
            assert!(same, "{name} {r:?}: the same seed gives the same data");
            let same = ids(&a, name, r) == ids(&other_seed, name, r);
            assert!(!same, "{name} {r:?}: another seed gives other data");
        }
        let same = ids(&a, ACME.0, r) == ids(&only_acme, ACME.0, r);
        assert!(same, "{r:?}: the other accounts change nothing of acme's");
        let same = ids(&a, ACME.0, r) == ids(&a, GLOBEX.0, r);
        assert!(!same, "{r:?}: two accounts have different data");
        assert!(ids(&a, DEFAULT_ACCOUNT, r) == a.ids(r));
    }
    assert!(a.account(ACME.0).unwrap().count(Resource::Contacts) >= 3000);
    assert_eq!(a.account(ACME.0).unwrap().count(Resource::CustomFields), 4);
    // Over HTTP: the same contacts, field by field, in both runs; not globex's.
    let http = common::client();
    let page = |sb: &Sandbox, key: &str| {
        let req = http
            .get(format!("{}/contacts?per_page=100", sb.base_url()))
            .bearer_auth(key);
        async move {
            let v: Value = req.send().await.unwrap().json().await.unwrap();
            let people =
                |c: &Value| json!([c["first_name"], c["last_name"], c["email"], c["tags"]]);
            let data = v["data"].as_array().unwrap().clone();
            (data.clone(), data.iter().map(people).collect::<Vec<_>>())
        }
    };
    let (acme_a, people_a) = page(&a, ACME.1).await;
    let (acme_b, _) = page(&b, ACME.1).await;
    let (_, people_globex) = page(&a, GLOBEX.1).await;
    assert_eq!(acme_a.len(), 100);
    assert!(acme_a == acme_b, "acme's contacts differ between two runs");
    assert!(
        people_a != people_globex,
        "acme and globex have the same people"
    );
}

#[tokio::test]
async fn ids_are_unique_across_accounts() {
    let env = Env::with(three_accounts().seed_demo_data(3)).await;
    for (_, key) in [ACME, GLOBEX, INITECH] {
        for i in 0..20 {
            let r = call(
                &env,
                key,
                Method::POST,
                "/contacts",
                Some(json!({"first_name": "N", "email": format!("n{i}@example.com")})),
            )
            .await;
            id_of(&r);
        }
        populate(&env, key).await;
    }
    let mut all: HashSet<String> = HashSet::new();
    let mut n = 0;
    for name in env.sb.accounts() {
        let v = env.sb.account(&name).unwrap();
        for r in [
            Resource::Agents,
            Resource::Conversations,
            Resource::Contacts,
            Resource::CustomFields,
            Resource::Calendars,
            Resource::Appointments,
            Resource::Workflows,
            Resource::WorkflowExecutions,
            Resource::Reports,
            Resource::Exports,
        ] {
            for id in v.ids(r) {
                n += 1;
                assert!(all.insert(id.clone()), "{id} is an id of two resources");
            }
        }
    }
    assert!(n > 4 * 6000, "{n}");
}

/// Sends `GET {path}` with `key` on an open connection (keep-alive) and
/// returns the status and body.
async fn raw_get(conn: &mut tokio::net::TcpStream, path: &str, key: &str) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let req =
        format!("GET /v1{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\r\n");
    conn.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = conn.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the connection closed");
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map(|v| v.trim().parse().unwrap())
            .expect("a Content-Length");
        if buf.len() >= end + 4 + len {
            let status = head[9..12].parse().unwrap();
            let body = serde_json::from_slice(&buf[end + 4..end + 4 + len]).unwrap();
            return (status, body);
        }
    }
}

#[tokio::test]
async fn the_sandbox_counts_the_connections_it_accepts() {
    let env = Env::with(three_accounts()).await;
    let contact = json!({"first_name": "Only", "phone": "+14155550177"});
    call(&env, GLOBEX.1, Method::POST, "/contacts", Some(contact)).await;
    let before = env.sb.stats().connections_accepted;
    // One connection, calls of three accounts: one accepted, each call sees its account.
    let mut conn = tokio::net::TcpStream::connect(env.sb.addr()).await.unwrap();
    for (key, contacts) in [(ACME.1, 0), (GLOBEX.1, 1), (INITECH.1, 0), (GLOBEX.1, 1)] {
        let (status, body) = raw_get(&mut conn, "/contacts", key).await;
        assert_eq!(
            (status, body["meta"]["total"].as_u64()),
            (200, Some(contacts))
        );
    }
    assert_eq!(env.sb.stats().connections_accepted, before + 1);
    // Four more connections: four more accepted, five open.
    let mut more = Vec::new();
    for _ in 0..4 {
        let mut c = tokio::net::TcpStream::connect(env.sb.addr()).await.unwrap();
        assert_eq!(raw_get(&mut c, "/voices", ACME.1).await.0, 200);
        more.push(c);
    }
    let s = env.sb.stats();
    assert_eq!(s.connections_accepted, before + 5);
    assert!(s.connections_open >= 5, "{s:?}");
    drop((conn, more, env.http));
    // Closed connections are no longer open (the server notices on its own time).
    let mut open = u64::MAX;
    for _ in 0..200 {
        open = env.sb.stats().connections_open;
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(open, 0);
    let acme = env.sb.account(ACME.0).unwrap().stats();
    assert_eq!((acme.requests, acme.writes_applied), (5, 0));
    let globex = env.sb.account(GLOBEX.0).unwrap().stats();
    assert_eq!((globex.requests, globex.writes_applied), (3, 1));
}

#[tokio::test]
async fn misconfigured_accounts_are_refused_without_printing_keys() {
    let cases = [
        Sandbox::builder().account("default", "sk_test_x"),
        Sandbox::builder().account("bad name", "sk_test_x"),
        Sandbox::builder().account("", "sk_test_x"),
        Sandbox::builder().account("acme", "sk test x"),
        Sandbox::builder().account("acme", ""),
        Sandbox::builder().account("acme", TEST_API_KEY),
        Sandbox::builder()
            .account("acme", "sk_test_shared")
            .account("globex", "sk_test_shared"),
    ];
    for b in cases {
        let shown = format!("{b:?}");
        let e = b.try_start().await.expect_err("refused");
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{e}");
        for key in ["sk_test_x", "sk test x", TEST_API_KEY, "sk_test_shared"] {
            assert!(!e.to_string().contains(key), "{e}");
            assert!(!shown.contains(key), "{shown}");
        }
    }
    // The same name again is one account with two keys.
    let env = Env::with(
        Sandbox::builder()
            .account("acme", "sk_test_one")
            .account("acme", "sk_test_two"),
    )
    .await;
    let made = call(
        &env,
        "sk_test_one",
        Method::POST,
        "/contacts",
        Some(json!({"first_name": "A", "phone": "+14155550100"})),
    )
    .await;
    let path = format!("/contacts/{}", id_of(&made));
    assert_eq!(
        call(&env, "sk_test_two", Method::GET, &path, None)
            .await
            .status,
        200
    );
    assert_eq!(
        env.sb.accounts(),
        vec![DEFAULT_ACCOUNT.to_string(), "acme".into()]
    );
}

#[tokio::test]
async fn an_accounts_read_only_key_reads_its_own_data_only() {
    let ro = "sk_test_acme_readonly";
    let env = Env::with(three_accounts().account_read_only_key(ACME.0, ro)).await;
    let body = json!({"first_name": "Ro", "phone": "+14155550188"});
    let mine = id_of(&call(&env, ACME.1, Method::POST, "/contacts", Some(body.clone())).await);
    let theirs = id_of(
        &call(
            &env,
            GLOBEX.1,
            Method::POST,
            "/contacts",
            Some(body.clone()),
        )
        .await,
    );
    let list = call(&env, ro, Method::GET, "/contacts", None).await;
    assert_eq!(assert_list(&list).len(), 1);
    assert_eq!(list.data()[0]["id"], mine.as_str());
    call(&env, ro, Method::GET, &format!("/contacts/{theirs}"), None)
        .await
        .assert_error(404, "resource_not_found", Some("contact_id"));
    call(&env, ro, Method::POST, "/contacts", Some(body))
        .await
        .assert_error(403, "insufficient_permissions", None);
    call(&env, ro, Method::DELETE, &format!("/contacts/{mine}"), None)
        .await
        .assert_error(403, "insufficient_permissions", None);
    assert_eq!(env.sb.account(ACME.0).unwrap().count(Resource::Contacts), 1);
    assert_eq!(env.sb.accounts().len(), 4);
}
