//! Accounts apart, as a multi-tenant API promises: with one account's key,
//! every operation of the spec that names another account's resource (an
//! id in the path, a filter, a body field) answers exactly as it does for
//! an id that never existed (so existence is not revealed), no response
//! carries another account's id, and the other accounts' data is unchanged
//! afterwards. The table of calls below is checked against the generated
//! `OPERATIONS`: an operation added to the spec fails the walk until it is
//! called here.

use ayra::prelude::*;
use ayra_sandbox::Resource;
use ayra_scenarios::Harness;
use futures::TryStreamExt;
use futures::future::BoxFuture;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The kinds of resources an account holds that a call could change.
const KINDS: [Resource; 10] = [
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
];

/// The accounts of the test sandbox, besides the default one.
pub const ACCOUNTS: [(&str, &str); 3] = [
    ("acme", "sk_test_acme_key_0001"),
    ("globex", "sk_test_globex_key_0002"),
    ("initech", "sk_test_initech_key_0003"),
];

/// One id of each kind an operation can name.
#[derive(Clone, Debug)]
pub struct Ids {
    agent: String,
    contact: String,
    tag: String,
    conversation: String,
    calendar: String,
    appointment: String,
    workflow: String,
    execution: String,
    report: String,
    export: String,
    /// What the sandbox's clock read when these were made: calls date what
    /// they send from it.
    now: chrono::DateTime<chrono::Utc>,
}

impl Ids {
    /// Ids of the right shape that no account has.
    fn never_existed(now: chrono::DateTime<chrono::Utc>) -> Ids {
        Ids {
            agent: "agt_Never0000001".into(),
            contact: "cnt_Never0000001".into(),
            tag: "never-a-tag".into(),
            conversation: "conv_Never000001".into(),
            calendar: "cal_Never0000001".into(),
            appointment: "apt_Never0000001".into(),
            workflow: "wf_Never00000001".into(),
            execution: "wfx_Never0000001".into(),
            report: "rpt_Never0000001".into(),
            export: "exp_Never0000001".into(),
            now,
        }
    }

    fn pairs<'a>(&'a self, other: &'a Ids) -> Vec<(&'a str, &'a str)> {
        vec![
            (&self.agent, &other.agent),
            (&self.contact, &other.contact),
            (&self.conversation, &other.conversation),
            (&self.calendar, &other.calendar),
            (&self.appointment, &other.appointment),
            (&self.workflow, &other.workflow),
            (&self.execution, &other.execution),
            (&self.report, &other.report),
            (&self.export, &other.export),
        ]
    }
}

/// What a call got: the body's `data` on success, else status and code.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Ok(Value),
    Err(u16, String),
}

fn outcome<T: serde::Serialize>(r: ayra::Result<ayra::Response<T>>) -> Outcome {
    match r {
        Ok(response) => {
            let body = serde_json::to_value(&*response).unwrap_or(Value::Null);
            Outcome::Ok(body.get("data").cloned().unwrap_or(Value::Null))
        }
        Err(e) => failed(e),
    }
}

fn streamed<T>(r: ayra::Result<ayra::Response<T>>) -> Outcome {
    match r {
        Ok(response) => Outcome::Ok(Value::from(response.status().as_u16())),
        Err(e) => failed(e),
    }
}

fn empty(r: ayra::Result<ayra::Response<()>>) -> Outcome {
    match r {
        Ok(response) => Outcome::Ok(Value::from(response.status().as_u16())),
        Err(e) => failed(e),
    }
}

fn failed(e: ayra::Error) -> Outcome {
    let code = e
        .api()
        .map(|a| a.code.clone())
        .unwrap_or_else(|| e.to_string());
    Outcome::Err(e.status().map_or(0, |s| s.as_u16()), code)
}

type Call = for<'a> fn(&'a ayra::Client, &'a Ids) -> BoxFuture<'a, Outcome>;

/// Every operation of the spec, called with `ids` wherever it can name a
/// resource; `true` when the call names one.
fn calls() -> Vec<(&'static str, bool, Call)> {
    vec![
        ("list_agents", false, |c, _| {
            Box::pin(async move { outcome(c.list_agents().per_page(100).send().await) })
        }),
        ("create_agent", false, |c, _| {
            Box::pin(async move {
                outcome(
                    c.create_agent()
                        .body_map(|b| b.name("Mine").voice_id("voice_aria01").prompt("Hi"))
                        .send()
                        .await,
                )
            })
        }),
        ("get_agent", true, |c, i| {
            Box::pin(async move { outcome(c.get_agent().agent_id(&i.agent).send().await) })
        }),
        ("delete_agent", true, |c, i| {
            Box::pin(async move { empty(c.delete_agent().agent_id(&i.agent).send().await) })
        }),
        ("update_agent", true, |c, i| {
            Box::pin(async move {
                outcome(
                    c.update_agent()
                        .agent_id(&i.agent)
                        .body_map(|b| b.name("Taken over"))
                        .send()
                        .await,
                )
            })
        }),
        ("archive_agent", true, |c, i| {
            Box::pin(async move { outcome(c.archive_agent().agent_id(&i.agent).send().await) })
        }),
        ("disable_agent", true, |c, i| {
            Box::pin(async move { outcome(c.disable_agent().agent_id(&i.agent).send().await) })
        }),
        ("enable_agent", true, |c, i| {
            Box::pin(async move { outcome(c.enable_agent().agent_id(&i.agent).send().await) })
        }),
        ("get_realtime_metrics", false, |c, _| {
            Box::pin(async move { streamed(c.get_realtime_metrics().send().await) })
        }),
        ("get_analytics_summary", true, |c, i| {
            Box::pin(async move {
                let end = i.now;
                let start = end - chrono::Duration::days(30);
                let r = c
                    .get_analytics_summary()
                    .start(start)
                    .end(end)
                    .granularity(Granularity::Week)
                    .agent_id(&i.agent)
                    .send()
                    .await;
                // The series' times follow the clock; the totals are what could leak.
                match outcome(r) {
                    Outcome::Ok(data) => {
                        Outcome::Ok(data.get("totals").cloned().unwrap_or(Value::Null))
                    }
                    other => other,
                }
            })
        }),
        ("list_appointments", true, |c, i| {
            Box::pin(async move {
                outcome(
                    c.list_appointments()
                        .calendar_id(&i.calendar)
                        .contact_id(&i.contact)
                        .send()
                        .await,
                )
            })
        }),
        ("create_appointment", true, |c, i| {
            Box::pin(async move {
                let start = i.now + chrono::Duration::days(2);
                outcome(
                    c.create_appointment()
                        .body_map(|b| {
                            b.calendar_id(i.calendar.clone())
                                .contact_id(i.contact.clone())
                                .title("Mine")
                                .start(start)
                        })
                        .send()
                        .await,
                )
            })
        }),
        ("get_appointment", true, |c, i| {
            Box::pin(async move {
                outcome(
                    c.get_appointment()
                        .appointment_id(&i.appointment)
                        .send()
                        .await,
                )
            })
        }),
        ("update_appointment", true, |c, i| {
            Box::pin(async move {
                outcome(
                    c.update_appointment()
                        .appointment_id(&i.appointment)
                        .body_map(|b| b.notes("moved by another account"))
                        .send()
                        .await,
                )
            })
        }),
        ("cancel_appointment", true, |c, i| {
            Box::pin(async move {
                outcome(
                    c.cancel_appointment()
                        .appointment_id(&i.appointment)
                        .body_map(|b| b.scope(CancelScope::Series))
                        .send()
                        .await,
                )
            })
        }),
        ("list_calendars", false, |c, _| {
            Box::pin(async move { outcome(c.list_calendars().send().await) })
        }),
        ("get_calendar", true, |c, i| {
            Box::pin(async move { outcome(c.get_calendar().calendar_id(&i.calendar).send().await) })
        }),
        ("get_calendar_availability", true, |c, i| {
            Box::pin(async move {
                let start = i.now + chrono::Duration::days(1);
                let r = c
                    .get_calendar_availability()
                    .calendar_id(&i.calendar)
                    .start(start)
                    .end(start + chrono::Duration::days(1))
                    .send()
                    .await;
                outcome(r)
            })
        }),
        ("list_contacts", false, |c, _| {
            Box::pin(async move { outcome(c.list_contacts().per_page(100).send().await) })
        }),
        ("create_contact", false, |c, _| {
            Box::pin(async move {
                outcome(
                    c.create_contact()
                        .body_map(|b| b.first_name("Mine"))
                        .send()
                        .await,
                )
            })
        }),
        ("get_contact", true, |c, i| {
            Box::pin(async move { outcome(c.get_contact().contact_id(&i.contact).send().await) })
        }),
        ("delete_contact", true, |c, i| {
            Box::pin(async move { empty(c.delete_contact().contact_id(&i.contact).send().await) })
        }),
        ("update_contact", true, |c, i| {
            Box::pin(async move {
                outcome(
                    c.update_contact()
                        .contact_id(&i.contact)
                        .body_map(|b| b.first_name("Taken over"))
                        .send()
                        .await,
                )
            })
        }),
        ("list_contact_interactions", true, |c, i| {
            Box::pin(async move {
                outcome(
                    c.list_contact_interactions()
                        .contact_id(&i.contact)
                        .send()
                        .await,
                )
            })
        }),
        ("add_contact_tags", true, |c, i| {
            Box::pin(async move {
                outcome(
                    c.add_contact_tags()
                        .contact_id(&i.contact)
                        .body_map(|b| b.tags(["planted"]))
                        .send()
                        .await,
                )
            })
        }),
        ("remove_contact_tag", true, |c, i| {
            Box::pin(async move {
                empty(
                    c.remove_contact_tag()
                        .contact_id(&i.contact)
                        .tag(&i.tag)
                        .send()
                        .await,
                )
            })
        }),
        ("list_conversations", true, |c, i| {
            Box::pin(async move { outcome(c.list_conversations().agent_id(&i.agent).send().await) })
        }),
        ("get_conversation", true, |c, i| {
            Box::pin(async move {
                outcome(
                    c.get_conversation()
                        .conversation_id(&i.conversation)
                        .send()
                        .await,
                )
            })
        }),
        ("get_conversation_analytics", true, |c, i| {
            Box::pin(async move {
                outcome(
                    c.get_conversation_analytics()
                        .conversation_id(&i.conversation)
                        .send()
                        .await,
                )
            })
        }),
        ("stream_conversation_events", true, |c, i| {
            Box::pin(async move {
                streamed(
                    c.stream_conversation_events()
                        .conversation_id(&i.conversation)
                        .send()
                        .await,
                )
            })
        }),
        ("get_conversation_recording", true, |c, i| {
            Box::pin(async move {
                streamed(
                    c.get_conversation_recording()
                        .conversation_id(&i.conversation)
                        .send()
                        .await,
                )
            })
        }),
        ("get_conversation_transcript", true, |c, i| {
            Box::pin(async move {
                outcome(
                    c.get_conversation_transcript()
                        .conversation_id(&i.conversation)
                        .send()
                        .await,
                )
            })
        }),
        ("list_custom_fields", false, |c, _| {
            Box::pin(async move { outcome(c.list_custom_fields().send().await) })
        }),
        ("create_custom_field", false, |c, _| {
            Box::pin(async move {
                outcome(
                    c.create_custom_field()
                        .body_map(|b| b.key("mine").label("Mine").type_(CustomFieldType::Text))
                        .send()
                        .await,
                )
            })
        }),
        ("create_export", true, |c, i| {
            Box::pin(async move {
                let filters = serde_json::json!({"agent_id": i.agent, "contact_id": i.contact});
                let r = c
                    .create_export()
                    .body_map(|b| {
                        b.resource(ExportResource::Conversations)
                            .format(ExportFormat::Ndjson)
                            .filters(filters)
                    })
                    .send()
                    .await;
                status_only(outcome(r))
            })
        }),
        ("get_export", true, |c, i| {
            Box::pin(async move { outcome(c.get_export().export_id(&i.export).send().await) })
        }),
        ("download_export", true, |c, i| {
            Box::pin(async move { streamed(c.download_export().export_id(&i.export).send().await) })
        }),
        ("list_reports", false, |c, _| {
            Box::pin(async move { outcome(c.list_reports().send().await) })
        }),
        ("create_report", true, |c, i| {
            Box::pin(async move {
                let end = i.now;
                let params = ReportParameters::builder()
                    .start(end - chrono::Duration::days(7))
                    .end(end)
                    .agent_id(Some(i.agent.clone()));
                let r = c
                    .create_report()
                    .body_map(|b| b.type_(ReportType::ConversationSummary).parameters(params))
                    .send()
                    .await;
                status_only(outcome(r))
            })
        }),
        ("get_report", true, |c, i| {
            Box::pin(async move { outcome(c.get_report().report_id(&i.report).send().await) })
        }),
        ("list_timezones", false, |c, _| {
            Box::pin(async move { outcome(c.list_timezones().send().await) })
        }),
        ("list_voices", false, |c, _| {
            Box::pin(async move { outcome(c.list_voices().send().await) })
        }),
        ("get_workflow_execution", true, |c, i| {
            Box::pin(async move {
                outcome(
                    c.get_workflow_execution()
                        .execution_id(&i.execution)
                        .send()
                        .await,
                )
            })
        }),
        ("list_workflows", false, |c, _| {
            Box::pin(async move { outcome(c.list_workflows().send().await) })
        }),
        ("create_workflow", false, |c, _| {
            Box::pin(async move {
                let step = serde_json::json!({"type": "wait", "config": {"seconds": 1}});
                let step: WorkflowStep = serde_json::from_value(step).unwrap();
                outcome(
                    c.create_workflow()
                        .body_map(|b| {
                            b.name("Mine")
                                .trigger_type(WorkflowTriggerType::Api)
                                .steps(vec![step])
                        })
                        .send()
                        .await,
                )
            })
        }),
        ("get_workflow", true, |c, i| {
            Box::pin(async move { outcome(c.get_workflow().workflow_id(&i.workflow).send().await) })
        }),
        ("delete_workflow", true, |c, i| {
            Box::pin(
                async move { empty(c.delete_workflow().workflow_id(&i.workflow).send().await) },
            )
        }),
        ("update_workflow", true, |c, i| {
            Box::pin(async move {
                outcome(
                    c.update_workflow()
                        .workflow_id(&i.workflow)
                        .body_map(|b| b.name("Taken over"))
                        .send()
                        .await,
                )
            })
        }),
        ("list_workflow_executions", true, |c, i| {
            Box::pin(async move {
                outcome(
                    c.list_workflow_executions()
                        .workflow_id(&i.workflow)
                        .send()
                        .await,
                )
            })
        }),
        ("trigger_workflow", true, |c, i| {
            Box::pin(async move {
                status_only(outcome(
                    c.trigger_workflow()
                        .workflow_id(&i.workflow)
                        .body_map(|b| b.input(serde_json::json!({})))
                        .send()
                        .await,
                ))
            })
        }),
    ]
}

/// A new job's body holds its new id and times; its status is what compares.
fn status_only(o: Outcome) -> Outcome {
    match o {
        Outcome::Ok(data) => Outcome::Ok(data.get("status").cloned().unwrap_or(Value::Null)),
        other => other,
    }
}

/// The fixture: three accounts, each with demo data and a job of each kind.
struct World {
    h: Harness,
    clients: BTreeMap<&'static str, ayra::Client>,
    ids: BTreeMap<&'static str, Ids>,
}

impl World {
    async fn start() -> World {
        let h = Harness::start_with_accounts(&ACCOUNTS).await;
        let mut clients = BTreeMap::new();
        let mut ids = BTreeMap::new();
        for (name, key) in ACCOUNTS {
            let client = h.client.for_account(name, key).unwrap();
            ids.insert(name, own_ids(&h, &client).await);
            clients.insert(name, client);
        }
        h.finish_jobs();
        World { h, clients, ids }
    }

    /// Everything an account holds, as its own key and the sandbox see it.
    async fn state(&self, account: &str) -> Value {
        let c = &self.clients[account];
        let view = self
            .h
            .sandbox
            .account(account)
            .expect("a configured account");
        let mut kinds = serde_json::Map::new();
        for kind in KINDS {
            kinds.insert(
                format!("{kind:?}"),
                serde_json::to_value(view.ids(kind)).unwrap(),
            );
        }
        let agents: Vec<Agent> = c
            .list_agents()
            .per_page(100)
            .items()
            .try_collect()
            .await
            .unwrap();
        let contacts: Vec<Contact> = c
            .list_contacts()
            .per_page(100)
            .items()
            .try_collect()
            .await
            .unwrap();
        let workflows: Vec<Workflow> = c
            .list_workflows()
            .per_page(100)
            .items()
            .try_collect()
            .await
            .unwrap();
        let appointments: Vec<Appointment> = c
            .list_appointments()
            .per_page(100)
            .items()
            .try_collect()
            .await
            .unwrap();
        let fields = c
            .list_custom_fields()
            .per_page(100)
            .send()
            .await
            .unwrap()
            .into_inner()
            .data;
        serde_json::json!({
            "ids": kinds, "agents": agents, "contacts": contacts, "workflows": workflows,
            "appointments": appointments, "custom_fields": fields,
        })
    }

    /// Every id the account holds.
    fn all_ids(&self, account: &str) -> BTreeSet<String> {
        let view = self.h.sandbox.account(account).unwrap();
        KINDS.into_iter().flat_map(|kind| view.ids(kind)).collect()
    }

    /// Calls `op` with `caller`'s key on `victim`'s ids and on ids that
    /// never existed, and checks that the two answers are the same and that
    /// no answer shows one of `victim`'s ids it was not given.
    async fn probe(
        &self,
        caller: &str,
        victim: &str,
        (op, names, call): &(&str, bool, Call),
    ) -> Result<(), String> {
        let c = &self.clients[caller];
        let theirs = &self.ids[victim];
        let never = Ids::never_existed(theirs.now);
        let got = call(c, theirs).await;
        let secret = self.all_ids(victim);
        let given: BTreeSet<&str> = theirs.pairs(&never).into_iter().map(|(t, _)| t).collect();
        if let Outcome::Ok(body) = &got {
            let mut leaked = Vec::new();
            strings(body, &mut |s| {
                if secret.contains(s) && !given.contains(s) {
                    leaked.push(s.to_string());
                }
            });
            if !leaked.is_empty() {
                let n = leaked.len();
                leaked.truncate(3);
                return Err(format!(
                    "{op} by {caller} showed {n} of {victim}'s ids, e.g. {leaked:?}"
                ));
            }
        }
        if !names {
            return Ok(());
        }
        let baseline = call(c, &never).await;
        let got = match got {
            // Echoed ids (a filter, a reference) read as the never-existed ones.
            Outcome::Ok(mut body) => {
                replace(&mut body, &theirs.pairs(&never));
                Outcome::Ok(body)
            }
            err => err,
        };
        if got != baseline {
            return Err(format!(
                "{op} by {caller} on {victim}'s ids answered {got:?}, on ids that never existed {baseline:?}"
            ));
        }
        Ok(())
    }
}

/// The ids of an account's own resources, made where demo data has none.
async fn own_ids(h: &Harness, c: &ayra::Client) -> Ids {
    let agent = c.list_agents().send().await.unwrap().into_inner().data[0]
        .id
        .clone();
    let contact = c
        .create_contact()
        .body_map(|b| {
            b.first_name("Owned")
                .email(format!("owned@{}.example", c.account_label()))
                .tags(["own"])
        })
        .send()
        .await
        .unwrap()
        .into_data();
    let conversation = c
        .list_conversations()
        .send()
        .await
        .unwrap()
        .into_inner()
        .data[0]
        .id
        .clone();
    let calendar = c.list_calendars().send().await.unwrap().into_inner().data[0]
        .id
        .clone();
    let now = h.now();
    let start = now + chrono::Duration::days(3);
    let slot = c
        .get_calendar_availability()
        .calendar_id(&calendar)
        .start(start)
        .end(start + chrono::Duration::days(4))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data
        .slots[0]
        .start;
    let appointment = c
        .create_appointment()
        .body_map(|b| {
            b.calendar_id(calendar.clone())
                .contact_id(contact.id.clone())
                .title("Own")
                .start(slot)
        })
        .send()
        .await
        .unwrap()
        .into_data()
        .id;
    let workflow = c.list_workflows().send().await.unwrap().into_inner().data[0]
        .id
        .clone();
    let execution = c
        .trigger_workflow()
        .workflow_id(&workflow)
        .body_map(|b| b.input(serde_json::json!({})))
        .send()
        .await
        .unwrap()
        .into_data()
        .id;
    let end = now;
    let params = ReportParameters::builder()
        .start(end - chrono::Duration::days(7))
        .end(end);
    let report = c
        .create_report()
        .body_map(|b| b.type_(ReportType::ConversationSummary).parameters(params))
        .send()
        .await
        .unwrap()
        .into_data()
        .id;
    let export = c
        .create_export()
        .body_map(|b| {
            b.resource(ExportResource::Contacts)
                .format(ExportFormat::Csv)
        })
        .send()
        .await
        .unwrap()
        .into_data()
        .id;
    Ids {
        agent,
        contact: contact.id,
        tag: "own".into(),
        conversation,
        calendar,
        appointment,
        workflow,
        execution,
        report,
        export,
        now,
    }
}

/// Whether the resources of `was` are all in `now`, each unchanged; with
/// `exact`, also that `now` holds nothing more.
fn kept(was: &Value, now: &Value, exact: bool) -> Result<(), String> {
    for (kind, ids) in was["ids"].as_object().unwrap() {
        let before: BTreeSet<&str> = ids
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let after: BTreeSet<&str> = now["ids"][kind]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        if !before.is_subset(&after) || (exact && before != after) {
            let gone: Vec<_> = before.difference(&after).collect();
            let new: Vec<_> = after.difference(&before).collect();
            return Err(format!("{kind}: gone {gone:?}, new {new:?}"));
        }
    }
    for part in [
        "agents",
        "contacts",
        "workflows",
        "appointments",
        "custom_fields",
    ] {
        let by_id = |v: &Value| -> BTreeMap<String, Value> {
            v[part]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| (x["id"].as_str().unwrap_or("").to_string(), x.clone()))
                .collect()
        };
        let (before, after) = (by_id(was), by_id(now));
        for (id, item) in &before {
            if after.get(id) != Some(item) {
                return Err(format!(
                    "{part} {id} changed: {item} -> {:?}",
                    after.get(id)
                ));
            }
        }
        if exact && before.len() != after.len() {
            return Err(format!(
                "{part}: {} before, {} after",
                before.len(),
                after.len()
            ));
        }
    }
    Ok(())
}

fn strings<'a>(v: &'a Value, f: &mut impl FnMut(&'a str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|x| strings(x, f)),
        Value::Object(map) => map.values().for_each(|x| strings(x, f)),
        _ => {}
    }
}

fn replace(v: &mut Value, pairs: &[(&str, &str)]) {
    match v {
        Value::String(s) => {
            if let Some((_, to)) = pairs.iter().find(|(from, _)| from == s) {
                *s = to.to_string();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|x| replace(x, pairs)),
        Value::Object(map) => map.values_mut().for_each(|x| replace(x, pairs)),
        _ => {}
    }
}

/// Every operation of the spec, by every account against every other:
/// same answer as for ids that never existed, nothing of theirs shown,
/// their data unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_keeps_accounts_apart() {
    let world = World::start().await;
    let calls = calls();
    let table: BTreeSet<&str> = calls.iter().map(|(op, ..)| *op).collect();
    let spec: BTreeSet<&str> = ayra::api::OPERATIONS.iter().map(|op| op.id).collect();
    assert_eq!(
        table, spec,
        "the walk calls every operation of the spec, and only those"
    );

    let before: Vec<Value> =
        futures::future::join_all(ACCOUNTS.iter().map(|(a, _)| world.state(a))).await;
    let mut problems = Vec::new();
    for (caller, _) in ACCOUNTS {
        for (victim, _) in ACCOUNTS.iter().filter(|(v, _)| *v != caller) {
            for call in &calls {
                if let Err(p) = world.probe(caller, victim, call).await {
                    problems.push(p);
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} leaks:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // Every account called too, so each may hold new resources of its own;
    // what it held before reads the same.
    for ((name, _), was) in ACCOUNTS.iter().zip(&before) {
        let now = world.state(name).await;
        if let Err(change) = kept(was, &now, false) {
            panic!("{name}: {change}");
        }
    }
    world.h.assert_conformant();
}

/// Random sequences of calls, by random callers on random victims (fixed
/// seed: the same cases on every run): every victim's state is unchanged.
#[test]
fn random_cross_account_calls_change_nothing_of_the_victims() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let world = rt.block_on(World::start());
    let calls = calls();
    let naming: Vec<usize> = (0..calls.len()).filter(|&i| calls[i].1).collect();
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 8,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[20; 32]),
    );
    let step = (0..naming.len(), 0..ACCOUNTS.len(), 1..ACCOUNTS.len());
    runner
        .run(&proptest::collection::vec(step, 1..10), |steps| {
            rt.block_on(async {
                let victims: Vec<&str> = steps
                    .iter()
                    .map(|(_, v, _)| ACCOUNTS[*v].0)
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let mut before = Vec::new();
                for v in &victims {
                    before.push(world.state(v).await);
                }
                for (i, v, offset) in &steps {
                    let (victim, caller) =
                        (ACCOUNTS[*v].0, ACCOUNTS[(v + offset) % ACCOUNTS.len()].0);
                    world
                        .probe(caller, victim, &calls[naming[*i]])
                        .await
                        .map_err(TestCaseError::fail)?;
                }
                let callers: BTreeSet<&str> = steps
                    .iter()
                    .map(|(_, v, offset)| ACCOUNTS[(v + offset) % ACCOUNTS.len()].0)
                    .collect();
                for (v, was) in victims.iter().zip(&before) {
                    let now = world.state(v).await;
                    // A victim that never called holds exactly what it held.
                    kept(was, &now, !callers.contains(v))
                        .map_err(|change| TestCaseError::fail(format!("{v}: {change}")))?;
                }
                Ok(())
            })
        })
        .unwrap();
}
