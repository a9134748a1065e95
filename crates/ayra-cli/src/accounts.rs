//! Which accounts a command acts on, their clients, how work is spread over
//! them, and `ayra accounts list | add`.

use crate::config::{self, Account};
use crate::exit::{self, Failure};
use clap::{Arg, ArgAction, ArgMatches};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::future::Future;

/// Accounts read concurrently (plans, an import's custom field definitions).
pub const ACCOUNTS_AT_ONCE: usize = 4;

/// Runs `work` on every item, at most [`ACCOUNTS_AT_ONCE`] at a time; the
/// outcomes come back in the items' order.
pub async fn for_each_account<T, F, Fut>(items: Vec<T>, work: F) -> Vec<Fut::Output>
where
    F: FnMut(T) -> Fut,
    Fut: Future,
{
    futures::stream::iter(items)
        .map(work)
        .buffered(ACCOUNTS_AT_ONCE)
        .collect()
        .await
}

/// The first item of every account's list, then the second of every
/// account...: the bulk runner pulls items in order, so each account's
/// limiter has work from the start. Lazy: a list is read as items are taken.
pub fn interleave<I: Iterator>(mut lists: Vec<I>) -> impl Iterator<Item = I::Item> {
    let mut at = 0;
    std::iter::from_fn(move || {
        while !lists.is_empty() {
            at %= lists.len();
            match lists[at].next() {
                Some(item) => {
                    at += 1;
                    return Some(item);
                }
                None => {
                    lists.remove(at);
                }
            }
        }
        None
    })
}

/// An account a command acts on: its name and its client, or why it has none
/// (which fails that account only).
pub struct Target {
    pub name: String,
    pub client: Result<ayra::Client, Failure>,
}

/// The accounts selected by `--account` / `--all-accounts`; without them
/// `AYRA_API_KEY` (and `AYRA_BASE_URL`), else the file's `default`.
/// `wanted` is the file's list for `plan`/`apply` (`None` elsewhere).
pub fn targets(matches: &ArgMatches, wanted: Option<&[String]>) -> Result<Vec<Target>, Failure> {
    let named: Vec<String> = matches
        .get_many::<String>("account")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    let all = matches.get_flag("all-accounts");
    if named.is_empty()
        && !all
        && wanted.is_none()
        && std::env::var("AYRA_API_KEY").is_ok_and(|k| !k.trim().is_empty())
    {
        let client = ayra::Client::from_env().map_err(|e| Failure::sdk(&e))?;
        return Ok(vec![Target {
            name: client.account_label().to_string(),
            client: Ok(client),
        }]);
    }
    let config = config::load()?;
    let names: Vec<String> = if !named.is_empty() {
        for n in &named {
            if !config.accounts.contains_key(n) && wanted.is_none_or(|w| !w.contains(n)) {
                return Err(Failure::config(format!(
                    "no account {n:?} in {}",
                    config::path()?.display()
                )));
            }
        }
        named
    } else if let Some(wanted) = wanted {
        wanted.to_vec()
    } else if all {
        config.accounts.keys().cloned().collect()
    } else if let Some(default) = &config.default {
        vec![default.clone()]
    } else {
        return Err(Failure::config(
            "no account: set AYRA_API_KEY, or pass --account NAME (see `ayra accounts add`)",
        ));
    };
    let mut roots: BTreeMap<String, ayra::Client> = BTreeMap::new();
    Ok(names
        .into_iter()
        .map(|name| {
            let client = match config.accounts.get(&name) {
                Some(account) => client(&name, account, &mut roots),
                None => Err(Failure::config(format!(
                    "no account {name:?} in the config file"
                ))),
            };
            let client = client.map_err(|f| f.in_account(&name));
            Target { name, client }
        })
        .collect())
}

/// One client per base URL; every other account there shares its
/// connections (`Client::for_account`).
fn client(
    name: &str,
    account: &Account,
    roots: &mut BTreeMap<String, ayra::Client>,
) -> Result<ayra::Client, Failure> {
    let base = account.base_url()?;
    let key = account.key(name)?;
    if let Some(root) = roots.get(&base) {
        return root.for_account(name, key).map_err(|e| Failure::sdk(&e));
    }
    let client = ayra::Client::builder()
        .api_key(key)
        .account_label(name)
        .environment(ayra::Environment::Custom(base.clone()))
        .build()
        .map_err(|e| Failure::sdk(&e))?;
    roots.insert(base, client.clone());
    Ok(client)
}

pub fn command() -> clap::Command {
    clap::Command::new("accounts")
        .about("The accounts of the config file ($XDG_CONFIG_HOME/ayra/config.toml)")
        .subcommand_required(true)
        .subcommand(clap::Command::new("list").about("List the accounts (keys masked)"))
        .subcommand(
            clap::Command::new("add")
                .about("Add or replace an account; the file is written 0600")
                .arg(Arg::new("name").required(true))
                .arg(
                    Arg::new("environment")
                        .long("environment")
                        .value_parser(["production", "sandbox"])
                        .conflicts_with("base-url"),
                )
                .arg(Arg::new("base-url").long("base-url").value_name("URL"))
                .arg(
                    Arg::new("api-key-env")
                        .long("api-key-env")
                        .value_name("VAR")
                        .help("Read the key from this variable at each run (nothing secret in the file)"),
                )
                .arg(
                    Arg::new("api-key-stdin")
                        .long("api-key-stdin")
                        .action(ArgAction::SetTrue)
                        .conflicts_with("api-key-env")
                        .help("Read the key from stdin and store it in the file"),
                )
                .arg(
                    Arg::new("default")
                        .long("default")
                        .action(ArgAction::SetTrue)
                        .help("Use it when no --account is given"),
                ),
        )
}

pub async fn run(matches: &ArgMatches) -> Result<u8, Failure> {
    match matches.subcommand() {
        Some(("list", sub)) => {
            let config = config::load()?;
            let rows: Vec<serde_json::Value> = config
                .accounts
                .iter()
                .map(|(name, a)| {
                    serde_json::json!({
                        "name": name,
                        "default": config.default.as_deref() == Some(name.as_str()),
                        "base_url": a.base_url().unwrap_or_else(|f| f.line),
                        "api_key": a.key_source(),
                    })
                })
                .collect();
            crate::output::print_list(crate::output::format(sub), &rows)?;
            Ok(exit::OK)
        }
        Some(("add", sub)) => {
            let name = sub.get_one::<String>("name").cloned().unwrap_or_default();
            let mut account = Account {
                environment: sub.get_one::<String>("environment").cloned(),
                base_url: sub.get_one::<String>("base-url").cloned(),
                api_key_env: sub.get_one::<String>("api-key-env").cloned(),
                api_key: None,
            };
            if sub.get_flag("api-key-stdin") {
                let mut key = String::new();
                std::io::stdin()
                    .read_line(&mut key)
                    .map_err(|e| Failure::bad_input(format!("cannot read the key: {e}")))?;
                account.api_key = Some(key.trim().to_string());
            }
            if account.api_key.is_none() && account.api_key_env.is_none() {
                return Err(Failure::usage("give --api-key-env VAR or --api-key-stdin"));
            }
            account.base_url()?;
            let mut config = config::load()?;
            config.accounts.insert(name.clone(), account);
            if sub.get_flag("default") || config.default.is_none() {
                config.default = Some(name.clone());
            }
            let path = config::save(&config)?;
            eprintln!("account {name} saved in {}", path.display());
            Ok(exit::OK)
        }
        _ => Err(Failure::usage("ayra accounts list | add")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn interleave_takes_one_of_each_in_turn_until_every_list_is_done() {
        let lists = vec![
            vec!["a1", "a2", "a3"].into_iter(),
            vec!["b1"].into_iter(),
            vec![].into_iter(),
            vec!["c1", "c2"].into_iter(),
        ];
        let out: Vec<_> = super::interleave(lists).collect();
        assert_eq!(out, ["a1", "b1", "c1", "a2", "c2", "a3"]);
    }
}
