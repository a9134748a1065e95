//! `ayra plan FILE` and `ayra apply FILE`: what each account should hold
//! ([`file`]), the field-level difference with what it holds ([`diff`]),
//! and the writes that close it, each with an idempotency key derived from
//! the plan, so that an apply stopped halfway and run again converges and a
//! second apply writes nothing.

mod diff;
mod file;

use crate::accounts::{self, Target};
use crate::exit::{self, Failure};
use crate::writes;
use ayra::{RawRequest, ResponseExt};
use clap::{Arg, ArgAction, ArgMatches};
use diff::Action;
use file::{Kind, Wanted};
use serde_json::{Map, Value};

pub fn command(name: &'static str, about: &'static str) -> clap::Command {
    clap::Command::new(name)
        .about(about)
        .after_help("The file's format: crates/ayra-cli/examples/clinics.yaml. Only the accounts the file names are touched (--account narrows them).")
        .arg(Arg::new("file").required(true).value_name("FILE"))
        .arg(
            Arg::new("prune")
                .long("prune")
                .action(ArgAction::SetTrue)
                .help("Delete the resources marked as this project's that the file no longer names"),
        )
}

/// The namespace of the idempotency keys `apply` derives (UUIDv5).
const KEYS: uuid::Uuid = uuid::Uuid::from_u128(0x5b0c_1a7e_9d4f_4c1e_8a2b_6f3d_7e90_a1c4);

pub async fn run(apply: bool, matches: &ArgMatches) -> Result<u8, Failure> {
    let path = matches
        .get_one::<String>("file")
        .cloned()
        .unwrap_or_default();
    let text =
        std::fs::read_to_string(&path).map_err(|e| Failure::bad_input(format!("{path}: {e}")))?;
    let parsed = file::parse(&path, &text)?;
    let project = parsed.project.clone().unwrap_or_else(|| {
        std::path::Path::new(&path)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "ayra".to_string())
    });
    // Every account's wants are resolved before anything is sent.
    let wanted = file::wanted(&parsed, &project)?;
    let names: Vec<String> = match matches.get_many::<String>("account") {
        Some(named) => {
            let named: Vec<String> = named.cloned().collect();
            if let Some(n) = named.iter().find(|n| !wanted.contains_key(*n)) {
                return Err(Failure::usage(format!("the file names no account {n:?}")));
            }
            named
        }
        None => wanted.keys().cloned().collect(),
    };
    let targets = accounts::targets(matches, Some(&names))?;
    let prune = matches.get_flag("prune");
    let outcomes = writes::for_each_account(targets, |target| {
        let wanted = wanted.get(&target.name).cloned().unwrap_or_default();
        let project = project.clone();
        async move { account(target, &project, &wanted, prune, apply).await }
    })
    .await;
    let mut code = exit::OK;
    for (report, outcome) in outcomes {
        crate::output::write(&report)?;
        code = code.max(match outcome {
            Ok(pending) if pending && !apply => exit::CHANGES,
            Ok(_) => exit::OK,
            Err(f) => {
                eprintln!("{}", f.line);
                f.code
            }
        });
    }
    Ok(code)
}

/// Plans (and applies) one account: its report, and whether it had changes.
async fn account(
    target: Target,
    project: &str,
    wanted: &[Wanted],
    prune: bool,
    apply: bool,
) -> (String, Result<bool, Failure>) {
    let name = target.name.clone();
    let mut report = format!("account {name}:\n");
    let client = match target.client {
        Ok(c) => c,
        Err(f) => {
            report.push_str("  ! not planned: no client (see the error)\n");
            return (report, Err(f));
        }
    };
    let actions = match diff::plan(&client, project, wanted, prune).await {
        Ok(a) => a,
        Err(e) => {
            report.push_str("  ! not planned: the account could not be read (see the error)\n");
            return (report, Err(Failure::sdk(&e).in_account(&name)));
        }
    };
    let pending = actions.iter().any(Action::writes);
    for action in &actions {
        describe(&mut report, action);
    }
    let counts = |f: fn(&Action) -> bool| actions.iter().filter(|a| f(a)).count();
    report.push_str(&format!(
        "  {} to create, {} to update, {} to delete, {} unchanged, {} left alone\n",
        counts(|a| matches!(a, Action::Create { .. })),
        counts(|a| matches!(a, Action::Update { .. })),
        counts(|a| matches!(a, Action::Delete { .. })),
        counts(|a| matches!(a, Action::Same { .. })),
        counts(|a| matches!(a, Action::LeftAlone { .. })),
    ));
    if !apply || !pending {
        return (report, Ok(pending));
    }
    for action in actions.iter().filter(|a| a.writes()) {
        match write(&client, &name, action).await {
            Ok(line) => report.push_str(&format!("  applied: {line}\n")),
            Err(e) => {
                report.push_str(
                    "  ! stopped: a write failed (see the error); apply again to resume\n",
                );
                return (report, Err(Failure::sdk(&e).in_account(&name)));
            }
        }
    }
    (report, Ok(pending))
}

fn describe(out: &mut String, action: &Action) {
    match action {
        Action::Create {
            kind,
            key,
            fields,
            status,
        } => {
            out.push_str(&format!("  + {} {key}: create\n", kind.name()));
            for (field, v) in fields {
                out.push_str(&format!("      {field}: {v}\n"));
            }
            if let Some(s) = status {
                out.push_str(&format!("      status: \"{s}\"\n"));
            }
        }
        Action::Update {
            kind,
            key,
            id,
            changes,
            status,
            ..
        } => {
            out.push_str(&format!("  ~ {} {key} ({id}): update\n", kind.name()));
            for (field, old, new) in changes {
                out.push_str(&format!("      {field}: {old} -> {new}\n"));
            }
            if let Some((old, new)) = status {
                out.push_str(&format!("      status: \"{old}\" -> \"{new}\"\n"));
            }
        }
        Action::Delete { kind, key, id } => {
            out.push_str(&format!(
                "  - {} {key} ({id}): delete (--prune)\n",
                kind.name()
            ));
        }
        Action::Same { kind, key, id } => {
            out.push_str(&format!("  = {} {key} ({id}): no change\n", kind.name()));
        }
        Action::LeftAlone { kind, key, reason } => {
            out.push_str(&format!(
                "  ! {} {key}: left alone: {reason}\n",
                kind.name()
            ));
        }
    }
}

/// The key of one write: the same plan of the same account state gives the
/// same key, so a write resent by a rerun is applied once. `version` (the
/// resource's `updated_at`) makes a change made in between a new write.
fn idempotency_key(account: &str, what: &str, key: &str, version: &str, body: &Value) -> String {
    let name = format!("{account}\n{what}\n{key}\n{version}\n{body}");
    uuid::Uuid::new_v5(&KEYS, name.as_bytes()).to_string()
}

fn op(id: &str) -> &'static ayra::Operation {
    ayra::api::operation(id).expect("the operation is in the spec")
}

/// One action's writes; its line for the report.
async fn write(client: &ayra::Client, account: &str, action: &Action) -> ayra::Result<String> {
    match action {
        Action::Create {
            kind,
            key,
            fields,
            status,
        } => {
            let operation = match kind {
                Kind::Agent => "create_agent",
                Kind::Workflow => "create_workflow",
                Kind::CustomField => "create_custom_field",
            };
            let body = Value::Object(fields.clone());
            let ikey = idempotency_key(account, operation, key, "", &body);
            let mut created = client
                .call(
                    op(operation),
                    RawRequest::default()
                        .body(body.clone())
                        .idempotency_key(&ikey),
                )
                .await?;
            let mut id = created["data"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            // A replay of an earlier run's create whose resource was deleted
            // since (within the key's lifetime): create it anew.
            if *kind != Kind::CustomField
                && created.is_replay()
                && !exists(client, *kind, &id).await?
            {
                let ikey = idempotency_key(account, operation, key, &id, &body);
                created = client
                    .call(
                        op(operation),
                        RawRequest::default().body(body).idempotency_key(&ikey),
                    )
                    .await?;
                id = created["data"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
            }
            if let Some(s) = status {
                set_status(client, account, key, &id, "", s).await?;
            }
            Ok(format!("created {} {key} {id}", kind.name()))
        }
        Action::Update {
            kind,
            key,
            id,
            version,
            changes,
            status,
        } => {
            if !changes.is_empty() {
                let operation = match kind {
                    Kind::Agent => "update_agent",
                    _ => "update_workflow",
                };
                let body: Map<String, Value> = changes
                    .iter()
                    .map(|(field, _, new)| (field.clone(), new.clone()))
                    .collect();
                let body = Value::Object(body);
                let ikey = idempotency_key(account, operation, key, version, &body);
                let path = if *kind == Kind::Agent {
                    "agent_id"
                } else {
                    "workflow_id"
                };
                client
                    .call(
                        op(operation),
                        RawRequest::default()
                            .path(path, id)
                            .body(body)
                            .idempotency_key(ikey),
                    )
                    .await?;
            }
            if let Some((_, new)) = status {
                set_status(client, account, key, id, version, new).await?;
            }
            Ok(format!("updated {} {key} {id}", kind.name()))
        }
        Action::Delete { kind, key, id } => {
            let (operation, path) = match kind {
                Kind::Agent => ("delete_agent", "agent_id"),
                _ => ("delete_workflow", "workflow_id"),
            };
            client
                .call_empty(op(operation), RawRequest::default().path(path, id))
                .await?;
            Ok(format!("deleted {} {key} {id}", kind.name()))
        }
        Action::Same { .. } | Action::LeftAlone { .. } => Ok(String::new()),
    }
}

async fn set_status(
    client: &ayra::Client,
    account: &str,
    key: &str,
    id: &str,
    version: &str,
    status: &str,
) -> ayra::Result<()> {
    let operation = if status == "disabled" {
        "disable_agent"
    } else {
        "enable_agent"
    };
    let ikey = idempotency_key(
        account,
        operation,
        key,
        &format!("{id}{version}"),
        &Value::Null,
    );
    client
        .call(
            op(operation),
            RawRequest::default()
                .path("agent_id", id)
                .idempotency_key(ikey),
        )
        .await?;
    Ok(())
}

async fn exists(client: &ayra::Client, kind: Kind, id: &str) -> ayra::Result<bool> {
    let (operation, path) = match kind {
        Kind::Agent => ("get_agent", "agent_id"),
        _ => ("get_workflow", "workflow_id"),
    };
    match client
        .call(op(operation), RawRequest::default().path(path, id))
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}
