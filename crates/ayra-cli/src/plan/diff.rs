//! One account's plan: what it holds (read through `ayra`), against what the
//! file wants, field by field.

use super::file::{KEY, Kind, MANAGED_BY, Wanted};
use ayra::{Paginate, RawRequest};
use futures::TryStreamExt;
use serde_json::{Map, Value};

/// One change to make, or a reason to leave something alone.
#[derive(Debug, Clone)]
pub enum Action {
    Create {
        kind: Kind,
        key: String,
        fields: Map<String, Value>,
        /// An agent's status to set after creating it (`disabled`).
        status: Option<String>,
    },
    Update {
        kind: Kind,
        key: String,
        id: String,
        /// `updated_at` when read: a later change outside makes a new key.
        version: String,
        /// Field, old value, new value.
        changes: Vec<(String, Value, Value)>,
        /// An agent's status change (old, new), through enable / disable.
        status: Option<(String, String)>,
    },
    Delete {
        kind: Kind,
        key: String,
        id: String,
    },
    Same {
        kind: Kind,
        key: String,
        id: String,
    },
    /// Not changed: the reason is printed (an unmarked resource with the
    /// name, an archived agent, a custom field the API cannot update, a
    /// resource `--prune` would delete).
    LeftAlone {
        kind: Kind,
        key: String,
        reason: String,
    },
}

impl Action {
    /// Whether `apply` writes for it.
    pub fn writes(&self) -> bool {
        matches!(
            self,
            Action::Create { .. } | Action::Update { .. } | Action::Delete { .. }
        )
    }
}

/// What an account holds of one kind (every page).
async fn list(client: &ayra::Client, operation: &str) -> ayra::Result<Vec<Value>> {
    let op = ayra::api::operation(operation).expect("the operation is in the spec");
    client
        .call_list(op, RawRequest::default().query("per_page", "100"))
        .items()
        .try_collect()
        .await
}

fn marker<'v>(item: &'v Value, name: &str) -> Option<&'v str> {
    item["metadata"][name].as_str()
}

/// The plan of one account: deletes (with `prune`) first, so a phone number
/// they free can be taken; then updates, then creates.
pub async fn plan(
    client: &ayra::Client,
    project: &str,
    wanted: &[Wanted],
    prune: bool,
) -> ayra::Result<Vec<Action>> {
    let fields = list(client, "list_custom_fields").await?;
    let agents = list(client, "list_agents").await?;
    let workflows = list(client, "list_workflows").await?;
    let mut actions = Vec::new();
    for w in wanted {
        let action = match w.kind {
            Kind::CustomField => custom_field(w, &fields),
            Kind::Agent => resource(w, &agents, project),
            Kind::Workflow => resource(w, &workflows, project),
        };
        actions.push(action);
    }
    for (kind, held) in [(Kind::Agent, &agents), (Kind::Workflow, &workflows)] {
        // Ours that the file no longer names, and second copies of a key.
        let mut seen = std::collections::BTreeSet::new();
        for item in held.iter().rev() {
            if marker(item, MANAGED_BY) != Some(project) {
                continue;
            }
            let key = marker(item, KEY).unwrap_or_default().to_string();
            let named = wanted.iter().any(|w| w.kind == kind && w.key == key);
            if named && seen.insert(key.clone()) {
                continue;
            }
            let id = item["id"].as_str().unwrap_or_default().to_string();
            actions.push(if prune {
                Action::Delete { kind, key, id }
            } else {
                Action::LeftAlone {
                    kind,
                    key,
                    reason: format!("{id} is marked {MANAGED_BY}={project} but not in the file: `--prune` deletes it"),
                }
            });
        }
    }
    actions.sort_by_key(|a| match a {
        Action::Delete { .. } => 0,
        Action::Update { .. } => 1,
        Action::Create { .. } => 2,
        _ => 3,
    });
    Ok(actions)
}

fn custom_field(w: &Wanted, held: &[Value]) -> Action {
    let Some(item) = held
        .iter()
        .find(|f| f["key"].as_str() == Some(w.key.as_str()))
    else {
        return Action::Create {
            kind: w.kind,
            key: w.key.clone(),
            fields: w.fields.clone(),
            status: None,
        };
    };
    let id = item["id"].as_str().unwrap_or_default().to_string();
    let differs: Vec<String> = w
        .fields
        .iter()
        .filter(|(name, v)| &item[name.as_str()] != *v)
        .map(|(name, v)| format!("{name}: {} -> {v}", item[name.as_str()]))
        .collect();
    if differs.is_empty() {
        Action::Same {
            kind: w.kind,
            key: w.key.clone(),
            id,
        }
    } else {
        Action::LeftAlone {
            kind: w.kind,
            key: w.key.clone(),
            reason: format!(
                "{id} differs ({}) and the API cannot update a custom field",
                differs.join(", ")
            ),
        }
    }
}

fn resource(w: &Wanted, held: &[Value], project: &str) -> Action {
    // Oldest first (lists are newest first): a second copy is pruned.
    let ours = held.iter().rev().find(|item| {
        marker(item, MANAGED_BY) == Some(project) && marker(item, KEY) == Some(w.key.as_str())
    });
    let Some(item) = ours else {
        let name = w.fields.get("name");
        if let Some(other) = held.iter().find(|item| {
            name.is_some() && item.get("name") == name && marker(item, MANAGED_BY) != Some(project)
        }) {
            return Action::LeftAlone {
                kind: w.kind,
                key: w.key.clone(),
                reason: format!(
                    "{} {} has this name without the marker {MANAGED_BY}={project}: never changed; \
                     rename it, or add the marker ({KEY}={}) to adopt it",
                    other["id"].as_str().unwrap_or("-"),
                    other["name"],
                    w.key
                ),
            };
        }
        let status = w.status.clone().filter(|s| s != "active");
        return Action::Create {
            kind: w.kind,
            key: w.key.clone(),
            fields: w.fields.clone(),
            status,
        };
    };
    let id = item["id"].as_str().unwrap_or_default().to_string();
    if item["status"] == "archived" {
        return Action::LeftAlone {
            kind: w.kind,
            key: w.key.clone(),
            reason: format!("{id} is archived: archived agents cannot be changed"),
        };
    }
    let changes: Vec<(String, Value, Value)> = w
        .fields
        .iter()
        .filter(|(name, v)| &item[name.as_str()] != *v)
        .map(|(name, v)| (name.clone(), item[name.as_str()].clone(), v.clone()))
        .collect();
    let status = w
        .status
        .as_ref()
        .filter(|s| item["status"].as_str() != Some(s.as_str()))
        .map(|s| {
            (
                item["status"].as_str().unwrap_or("-").to_string(),
                s.clone(),
            )
        });
    if changes.is_empty() && status.is_none() {
        return Action::Same {
            kind: w.kind,
            key: w.key.clone(),
            id,
        };
    }
    Action::Update {
        kind: w.kind,
        key: w.key.clone(),
        id,
        version: item["updated_at"].as_str().unwrap_or_default().to_string(),
        changes,
        status,
    }
}
