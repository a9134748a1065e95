//! Accounts, as in a multi-tenant API: each has its own API keys and its own
//! data (a [`State`]). The auth stage resolves a request's key to its
//! account; the handlers see only that account's state, so nothing of another
//! account can be read, named or changed. Ids stay unique across accounts
//! ([`Ids`]). The default account holds [`FIXTURES`](crate::FIXTURES).

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

use crate::state::{Ids, State};
use crate::{demo, fixtures, reference};

/// The name of the account of [`TEST_API_KEY`](crate::TEST_API_KEY),
/// [`READ_ONLY_API_KEY`](crate::READ_ONLY_API_KEY) and the keys of
/// [`SandboxBuilder::api_key`](crate::SandboxBuilder::api_key).
pub const DEFAULT_ACCOUNT: &str = "default";

/// One account: its data and its counters.
pub(crate) struct Account {
    pub name: String,
    pub state: Arc<Mutex<State>>,
    /// Authenticated requests with one of its keys.
    pub requests: AtomicU64,
    /// Writes that ran and succeeded (as [`crate::Stats::writes_applied`]).
    pub writes_applied: AtomicU64,
}

/// What a key gives access to.
pub(crate) struct Grant {
    pub account: Arc<Account>,
    pub read_only: bool,
}

/// Every account, and the account of every key.
pub(crate) struct Accounts {
    /// The default account first, then the others in the order they were given.
    all: Vec<Arc<Account>>,
    keys: HashMap<String, Grant>,
}

/// The keys and accounts a sandbox is configured with (from the builder).
#[derive(Clone, Default)]
pub(crate) struct Config {
    /// Extra full-access keys of the default account.
    pub default_keys: Vec<String>,
    /// Extra read-only keys of the default account.
    pub default_read_only_keys: Vec<String>,
    /// The keys of the other accounts; a name given twice has several keys.
    pub named: Vec<NamedKey>,
}

/// A key of an account other than the default one.
#[derive(Clone)]
pub(crate) struct NamedKey {
    pub account: String,
    pub key: String,
    pub read_only: bool,
}

impl std::fmt::Debug for Config {
    /// Names only: keys are never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.named.iter().map(|n| n.account.as_str()).collect();
        f.debug_struct("Accounts")
            .field("default_keys", &self.default_keys.len())
            .field("default_read_only_keys", &self.default_read_only_keys.len())
            .field("named", &names)
            .finish()
    }
}

/// How the accounts' data starts.
pub(crate) struct Seeding {
    /// `--seed-demo-data`: every account gets demo data from this seed
    /// (mixed with its name for the accounts other than the default one).
    pub demo: Option<u64>,
    /// Seeds the accounts' id streams.
    pub ids: u64,
    pub now: DateTime<Utc>,
    pub job_duration: Duration,
}

impl Accounts {
    /// Builds the accounts and seeds their data; `Err` says what is wrong
    /// with the configuration (without printing any key).
    pub fn open(config: Config, seeding: &Seeding) -> Result<Accounts, String> {
        let ids = Arc::new(Ids::default());
        let default = account(DEFAULT_ACCOUNT, default_state(seeding, ids.clone()));
        let mut keys = HashMap::new();
        let full = config
            .default_keys
            .into_iter()
            .chain([crate::TEST_API_KEY.to_string()]);
        for key in full {
            keys.insert(key, grant(&default, false));
        }
        let read_only = (config.default_read_only_keys.into_iter())
            .chain([crate::READ_ONLY_API_KEY.to_string()]);
        for key in read_only {
            keys.entry(key).or_insert_with(|| grant(&default, true));
        }
        let mut all = vec![default];
        for NamedKey {
            account: name,
            key,
            read_only,
        } in config.named
        {
            check_name(&name)?;
            check_key(&name, &key)?;
            let acct = match all.iter().find(|a| a.name == name) {
                Some(a) => a.clone(),
                None => {
                    let a = account(&name, named_state(&name, seeding, ids.clone()));
                    all.push(a.clone());
                    a
                }
            };
            if let Some(g) = keys.get(&key)
                && g.account.name != name
            {
                return Err(format!(
                    "a key of account '{name}' is already a key of account '{}'",
                    g.account.name
                ));
            }
            keys.insert(key, grant(&acct, read_only));
        }
        Ok(Accounts { all, keys })
    }

    /// The access a key gives, if it is a key of an account.
    pub fn resolve(&self, key: &str) -> Option<&Grant> {
        self.keys.get(key)
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Account>> {
        self.all.iter().find(|a| a.name == name)
    }

    pub fn default_account(&self) -> &Arc<Account> {
        &self.all[0]
    }

    /// The names, the default account first.
    pub fn names(&self) -> Vec<String> {
        self.all.iter().map(|a| a.name.clone()).collect()
    }
}

fn account(name: &str, st: State) -> Arc<Account> {
    Arc::new(Account {
        name: name.to_string(),
        state: Arc::new(Mutex::new(st)),
        requests: AtomicU64::new(0),
        writes_applied: AtomicU64::new(0),
    })
}

fn grant(account: &Arc<Account>, read_only: bool) -> Grant {
    Grant {
        account: account.clone(),
        read_only,
    }
}

/// Reference data every account reads: voices and time zones.
fn with_reference(mut st: State) -> State {
    st.voices = reference::voices();
    st.timezones = reference::timezones();
    st
}

/// The default account: the fixtures (and the demo data of `seeding.demo`).
fn default_state(seeding: &Seeding, ids: Arc<Ids>) -> State {
    let mut st = with_reference(State::empty(
        seeding.ids ^ 0x5eed,
        seeding.job_duration,
        ids,
    ));
    st.calendars = reference::calendars();
    fixtures::seed(&mut st, seeding.now);
    st.claim_ids();
    if let Some(seed) = seeding.demo {
        demo::seed(&mut st, seed, seeding.now);
    }
    fixtures::seed_jobs(&mut st, seeding.now);
    st.claim_ids();
    st
}

/// Another account: reference data and its own copies of the three
/// calendars (the API cannot create calendars), with ids of its own; with
/// demo data, also the four custom field definitions the demo contacts use.
fn named_state(name: &str, seeding: &Seeding, ids: Arc<Ids>) -> State {
    let mut st = with_reference(State::empty(
        account_seed(seeding.ids, name) ^ 0x5eed,
        seeding.job_duration,
        ids,
    ));
    let calendars: Vec<_> = reference::calendars()
        .into_iter()
        .map(|mut c| {
            c.id = st.new_id("cal");
            c
        })
        .collect();
    st.calendars = calendars;
    if let Some(seed) = seeding.demo {
        fixtures::custom_fields(&mut st, seeding.now, false);
        demo::seed(&mut st, account_seed(seed, name), seeding.now);
    }
    st
}

/// The seed of an account other than the default one: the same seed and
/// name give the same data, two names give different data.
pub(crate) fn account_seed(seed: u64, name: &str) -> u64 {
    // FNV-1a of the name (stable across Rust releases), then splitmix64.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = (seed ^ h).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// 1 to 64 letters, digits, `.`, `_` or `-`; not the default account's.
fn check_name(name: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !ok {
        return Err(format!(
            "invalid account name '{}': 1 to 64 letters, digits, '.', '_' or '-'",
            name.escape_default()
        ));
    }
    if name == DEFAULT_ACCOUNT {
        return Err(format!(
            "'{DEFAULT_ACCOUNT}' is the default account; give it more keys with api_key (--api-key)"
        ));
    }
    Ok(())
}

/// A key a `Authorization: Bearer` header can carry: 1 to 255 visible ASCII characters.
fn check_key(name: &str, key: &str) -> Result<(), String> {
    if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(format!(
            "the key of account '{name}' must be 1 to 255 visible ASCII characters"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_seeds_depend_on_seed_and_name() {
        assert_eq!(account_seed(42, "acme"), account_seed(42, "acme"));
        assert_ne!(account_seed(42, "acme"), account_seed(42, "beta"));
        assert_ne!(account_seed(42, "acme"), account_seed(43, "acme"));
    }
}
