//! `apply`'s writes, through the SDK's bulk runner (`ayra::bulk`): every
//! account its own limiter and the runner's retries, and every write an
//! idempotency key derived from the plan (the batch `apply:<project>`, the
//! account, the resource, and the operation, id, version and body of the
//! write), so that a write resent by a rerun is applied once.
//!
//! Order: one batch per phase, deletes, then updates, then creates, so
//! that a phone number a delete or an update frees can be taken. Within a
//! phase the writes of an account run concurrently: none of them refers to
//! another (workflows and custom fields name no agent).

use super::diff::Action;
use super::file::Kind;
use crate::exit::{self, Failure};
use ayra::bulk::{Account, Bulk, Done, Item, ItemError, Outcome, Status, Task};
use ayra::{RawRequest, ResponseExt};
use futures::StreamExt;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// One account's writes, in plan order.
pub struct Writes {
    pub name: String,
    pub client: ayra::Client,
    pub actions: Vec<Action>,
}

/// What became of one account's writes: a line per write done, in plan
/// order, and the first failure (its later phases were not started).
#[derive(Default)]
pub struct Applied {
    pub lines: Vec<String>,
    pub failure: Option<Failure>,
}

/// The phases, in the order they run.
const PHASES: [fn(&Action) -> bool; 3] = [
    |a| matches!(a, Action::Delete { .. }),
    |a| matches!(a, Action::Update { .. }),
    |a| matches!(a, Action::Create { .. }),
];

/// Applies every account's writes; the results in the accounts' order.
pub async fn apply(project: &str, accounts: Vec<Writes>) -> Vec<Applied> {
    let mut applied: Vec<Applied> = accounts.iter().map(|_| Applied::default()).collect();
    for phase in PHASES {
        let live: Vec<usize> = (0..accounts.len())
            .filter(|&i| applied[i].failure.is_none())
            .filter(|&i| accounts[i].actions.iter().any(phase))
            .collect();
        if live.is_empty() {
            continue;
        }
        let items: Vec<_> = crate::accounts::interleave(
            live.iter()
                .map(|&i| {
                    let a = &accounts[i];
                    a.actions
                        .iter()
                        .filter(|x| phase(x))
                        .map(|x| Item::new(&a.name, item_key(x), x.clone()))
                })
                .collect(),
        )
        .collect();
        let labelled = live
            .iter()
            .map(|&i| Account::new(&accounts[i].name, accounts[i].client.clone()));
        let mut outcomes: HashMap<(String, String), Outcome> = HashMap::new();
        match Bulk::new(format!("apply:{project}")).run(
            labelled,
            futures::stream::iter(items),
            write,
        ) {
            Ok(mut run) => {
                while let Some(o) = run.next().await {
                    outcomes.insert((o.account.clone(), o.key.clone()), o);
                }
            }
            Err(e) => {
                for &i in &live {
                    applied[i].failure = Some(Failure::sdk(&e).in_account(&accounts[i].name));
                }
                continue;
            }
        }
        for &i in &live {
            let a = &accounts[i];
            for action in a.actions.iter().filter(|x| phase(x)) {
                let Some(o) = outcomes.remove(&(a.name.clone(), item_key(action))) else {
                    continue;
                };
                match (&o.error, o.status) {
                    (None, s) if s != Status::Failed && s != Status::NotDone => {
                        applied[i].lines.push(o.detail.unwrap_or_default());
                    }
                    (e, _) => {
                        if applied[i].failure.is_none() {
                            applied[i].failure = Some(failure(e.as_ref()).in_account(&a.name));
                        }
                    }
                }
            }
        }
    }
    applied
}

fn failure(e: Option<&ItemError>) -> Failure {
    match e {
        Some(ItemError::Call(e)) => Failure::sdk(e),
        Some(e) => Failure::new(exit::API_SERVER, e),
        None => Failure::new(exit::API_SERVER, "a write did not finish"),
    }
}

/// The item of an action: its resource (and, for a delete, the copy).
fn item_key(action: &Action) -> String {
    match action {
        Action::Create { kind, key, .. } | Action::Update { kind, key, .. } => {
            format!("{} {key}", kind.name())
        }
        Action::Delete { kind, key, id } => format!("{} {key} {id}", kind.name()),
        Action::Same { kind, key, .. } | Action::LeftAlone { kind, key, .. } => {
            format!("{} {key}", kind.name())
        }
    }
}

fn op(id: &str) -> &'static ayra::Operation {
    ayra::api::operation(id).expect("the operation is in the spec")
}

/// The key of one write of an item: the same plan of the same account
/// state gives the same key; `version` (the resource's `updated_at`) makes
/// a change made in between a new write.
fn key(task: &Task, operation: &str, id: &str, version: &str, body: &Value) -> String {
    task.derived_key(&format!("{operation}\n{id}\n{version}\n{body}"))
}

async fn call(
    task: &Task,
    operation: &str,
    request: RawRequest,
) -> Result<ayra::Response<Value>, ItemError> {
    task.call(|| task.client().call(op(operation), request.clone()))
        .await
}

fn id_of(response: &ayra::Response<Value>) -> String {
    response["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// One action's writes; the runner's operation.
async fn write(task: Task, action: Action) -> Result<Done, ItemError> {
    match action {
        Action::Create {
            kind,
            key: name,
            fields,
            status,
        } => {
            let operation = match kind {
                Kind::Agent => "create_agent",
                Kind::Workflow => "create_workflow",
                Kind::CustomField => "create_custom_field",
            };
            let body = Value::Object(fields);
            let ikey = key(&task, operation, "", "", &body);
            let request = RawRequest::default().body(body.clone());
            let mut created = call(&task, operation, request.clone().idempotency_key(ikey)).await?;
            let mut id = id_of(&created);
            // A replay of an earlier run's create whose resource was deleted
            // since (within the key's lifetime): create it anew.
            if kind != Kind::CustomField && created.is_replay() && !exists(&task, kind, &id).await?
            {
                let ikey = key(&task, operation, &id, "", &body);
                created = call(&task, operation, request.idempotency_key(ikey)).await?;
                id = id_of(&created);
            }
            if let Some(s) = status {
                set_status(&task, &id, "", &s).await?;
            }
            Ok(Done::written(&created, Status::Created, &id)
                .detail(format!("created {} {name} {id}", kind.name())))
        }
        Action::Update {
            kind,
            key: name,
            id,
            version,
            changes,
            status,
        } => {
            let mut done = Done::without_write(Status::Unchanged, Some(id.clone()));
            if !changes.is_empty() {
                let (operation, path) = match kind {
                    Kind::Agent => ("update_agent", "agent_id"),
                    _ => ("update_workflow", "workflow_id"),
                };
                let body: Map<String, Value> = changes
                    .into_iter()
                    .map(|(field, _, new)| (field, new))
                    .collect();
                let body = Value::Object(body);
                let ikey = key(&task, operation, &id, &version, &body);
                let request = RawRequest::default()
                    .path(path, &id)
                    .body(body)
                    .idempotency_key(ikey);
                let updated = call(&task, operation, request).await?;
                done = Done::written(&updated, Status::Updated, &id);
            }
            if let Some((_, new)) = status {
                set_status(&task, &id, &version, &new).await?;
                done.status = Status::Updated;
            }
            Ok(done.detail(format!("updated {} {name} {id}", kind.name())))
        }
        Action::Delete { kind, key, id } => {
            let (operation, path) = match kind {
                Kind::Agent => ("delete_agent", "agent_id"),
                _ => ("delete_workflow", "workflow_id"),
            };
            let request = RawRequest::default().path(path, &id);
            let deleted = task
                .call(|| task.client().call_empty(op(operation), request.clone()))
                .await?;
            Ok(Done::written(&deleted, Status::Deleted, &id)
                .detail(format!("deleted {} {key} {id}", kind.name())))
        }
        Action::Same { id, .. } => Ok(Done::without_write(Status::Unchanged, Some(id))),
        Action::LeftAlone { .. } => Ok(Done::without_write(Status::Unchanged, None)),
    }
}

async fn set_status(task: &Task, id: &str, version: &str, status: &str) -> Result<(), ItemError> {
    let operation = if status == "disabled" {
        "disable_agent"
    } else {
        "enable_agent"
    };
    let ikey = key(task, operation, id, version, &Value::Null);
    let request = RawRequest::default()
        .path("agent_id", id)
        .idempotency_key(ikey);
    call(task, operation, request).await?;
    Ok(())
}

async fn exists(task: &Task, kind: Kind, id: &str) -> Result<bool, ItemError> {
    let (operation, path) = match kind {
        Kind::Agent => ("get_agent", "agent_id"),
        _ => ("get_workflow", "workflow_id"),
    };
    match call(task, operation, RawRequest::default().path(path, id)).await {
        Ok(_) => Ok(true),
        Err(ItemError::Call(e)) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}
