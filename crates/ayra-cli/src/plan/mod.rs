//! `ayra plan FILE` and `ayra apply FILE`: what each account should hold
//! ([`file`]), the field-level difference with what it holds ([`diff`]),
//! and the writes that close it ([`apply`], through the bulk runner), each
//! with an idempotency key derived from the plan, so that an apply stopped
//! halfway and run again converges and a second apply writes nothing.

mod apply;
mod diff;
mod file;

use crate::accounts::{self, Target};
use crate::exit::{self, Failure};
use clap::{Arg, ArgAction, ArgMatches};
use diff::Action;
use file::Wanted;

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
            let mut names: Vec<String> = Vec::new();
            for n in named {
                if !wanted.contains_key(n) {
                    return Err(Failure::usage(format!("the file names no account {n:?}")));
                }
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
            names
        }
        None => wanted.keys().cloned().collect(),
    };
    let targets = accounts::targets(matches, Some(&names))?;
    let prune = matches.get_flag("prune");
    let mut planned = accounts::for_each_account(targets, |target| {
        let wanted = wanted.get(&target.name).cloned().unwrap_or_default();
        let project = project.clone();
        async move { account(target, &project, &wanted, prune).await }
    })
    .await;
    if apply {
        let mut which = Vec::new();
        let mut writes = Vec::new();
        for (i, p) in planned.iter().enumerate() {
            if let Ok((client, actions)) = &p.plan {
                let actions: Vec<Action> = actions.iter().filter(|a| a.writes()).cloned().collect();
                if !actions.is_empty() {
                    which.push(i);
                    writes.push(apply::Writes {
                        name: p.name.clone(),
                        client: client.clone(),
                        actions,
                    });
                }
            }
        }
        for (i, done) in which.into_iter().zip(apply::apply(&project, writes).await) {
            let p = &mut planned[i];
            for line in done.lines {
                p.report.push_str(&format!("  applied: {line}\n"));
            }
            if let Some(f) = done.failure {
                p.report.push_str(
                    "  ! stopped: a write failed (see the error); apply again to resume\n",
                );
                p.plan = Err(f);
            }
        }
    }
    let mut code = exit::OK;
    for p in planned {
        crate::output::write(&p.report)?;
        code = code.max(match p.plan {
            Ok((_, actions)) if !apply && actions.iter().any(Action::writes) => exit::CHANGES,
            Ok(_) => exit::OK,
            Err(f) => {
                eprintln!("{}", f.line);
                f.code
            }
        });
    }
    Ok(code)
}

/// One account's plan: its report, and its client and actions, or why it has none.
struct Planned {
    name: String,
    report: String,
    plan: Result<(ayra::Client, Vec<Action>), Failure>,
}

/// Plans one account (reads only).
async fn account(target: Target, project: &str, wanted: &[Wanted], prune: bool) -> Planned {
    let name = target.name.clone();
    let mut report = format!("account {name}:\n");
    let client = match target.client {
        Ok(c) => c,
        Err(f) => {
            report.push_str("  ! not planned: no client (see the error)\n");
            return Planned {
                name,
                report,
                plan: Err(f),
            };
        }
    };
    let actions = match diff::plan(&client, project, wanted, prune).await {
        Ok(a) => a,
        Err(e) => {
            report.push_str("  ! not planned: the account could not be read (see the error)\n");
            let plan = Err(Failure::sdk(&e).in_account(&name));
            return Planned { name, report, plan };
        }
    };
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
    Planned {
        name,
        report,
        plan: Ok((client, actions)),
    }
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
