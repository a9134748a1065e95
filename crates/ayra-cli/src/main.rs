//! `ayra`: the Ayra API from the command line, on top of the `ayra` SDK
//! (never beside its generated client): one command per operation of the
//! spec (`ayra <domain> <operation>`, built at run time from the table
//! `ayra-gen` emits into `generated.rs`), account profiles, and `plan` /
//! `apply` of a declarative file across accounts.

mod accounts;
mod config;
mod exit;
mod import;
// Written by `cargo xtask regen` and compared byte for byte: not formatted.
#[rustfmt::skip]
mod generated;
mod ops;
mod output;
mod plan;
mod table;

use clap::{Arg, ArgAction, ArgMatches};
use std::process::ExitCode;

fn cli() -> clap::Command {
    let mut cli = clap::Command::new("ayra")
        .about("The Ayra API from the command line: every operation, account profiles, plan/apply across accounts.")
        .version(env!("CARGO_PKG_VERSION"))
        .subcommand_required(true)
        .after_help(exit::HELP)
        .arg(
            Arg::new("account")
                .long("account")
                .global(true)
                .action(ArgAction::Append)
                .value_name("NAME")
                .help("Account of the config file to act on (repeatable)"),
        )
        .arg(
            Arg::new("all-accounts")
                .long("all-accounts")
                .global(true)
                .action(ArgAction::SetTrue)
                .conflicts_with("account")
                .help("Act on every account of the config file"),
        )
        .arg(
            Arg::new("output")
                .long("output")
                .short('o')
                .global(true)
                .value_parser(["json", "ndjson", "table"])
                .help("Output format [default: table on a terminal, json otherwise]"),
        )
        .arg(
            Arg::new("verbose")
                .long("verbose")
                .short('v')
                .global(true)
                .action(ArgAction::SetTrue)
                .help("Trace each request on stderr (operation, status, request id; never the key)"),
        );
    for domain in ops::domains() {
        cli = cli.subcommand(if domain.get_name() == import::DOMAIN {
            domain.subcommand(import::command())
        } else {
            domain
        });
    }
    cli.subcommand(accounts::command())
        .subcommand(plan::command(
            "plan",
            "Show what `apply` would change in each account (exit 0: none, 2: changes)",
        ))
        .subcommand(plan::command(
            "apply",
            "Make each account hold what the file says",
        ))
}

fn main() -> ExitCode {
    let matches = match cli().try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    if matches.get_flag("verbose") {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_env_filter(tracing_subscriber::EnvFilter::new("ayra=debug"))
            .init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(exit::API_SERVER);
        }
    };
    let code = runtime.block_on(run(&matches));
    ExitCode::from(code)
}

/// Runs the command; failures have been printed, the exit code is returned.
async fn run(matches: &ArgMatches) -> u8 {
    let Some((name, sub)) = matches.subcommand() else {
        return exit::USAGE;
    };
    let outcome = match name {
        "accounts" => accounts::run(sub).await,
        "plan" | "apply" => plan::run(name == "apply", sub).await,
        domain => match sub.subcommand() {
            Some(("import", m)) if domain == import::DOMAIN => import::run(m).await,
            _ => ops::run(domain, sub).await,
        },
    };
    match outcome {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("{}", failure.line);
            failure.code
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every operation of the SDK has a command, and the table names only
    /// operations the SDK has.
    #[test]
    fn every_operation_has_a_command() {
        for op in ayra::api::OPERATIONS {
            let found = crate::generated::COMMANDS
                .iter()
                .filter(|c| c.operation == op.id)
                .count();
            assert_eq!(found, 1, "operation {} has {found} commands", op.id);
        }
        assert_eq!(
            crate::generated::COMMANDS.len(),
            ayra::api::OPERATIONS.len()
        );
        let cli = super::cli();
        for c in crate::generated::COMMANDS {
            let domain = cli
                .find_subcommand(c.domain)
                .unwrap_or_else(|| panic!("no `ayra {}`", c.domain));
            assert!(
                domain.find_subcommand(c.name).is_some(),
                "no `ayra {} {}`",
                c.domain,
                c.name
            );
        }
        assert!(
            cli.find_subcommand(crate::import::DOMAIN)
                .and_then(|d| d.find_subcommand("import"))
                .is_some(),
            "no `ayra contacts import`"
        );
        cli.debug_assert();
    }
}
