//! The accounts file, `$XDG_CONFIG_HOME/ayra/config.toml` (else
//! `~/.config/ayra/config.toml`), and the clients made from it.
//!
//! ```toml
//! default = "acme"                      # used when no --account is given
//!
//! [accounts.acme]
//! environment = "production"            # production | sandbox
//! api_key_env = "ACME_AYRA_KEY"         # the key read from this variable
//!
//! [accounts.globex]
//! base_url = "http://127.0.0.1:8080/v1" # instead of environment
//! api_key = "sk_test_..."               # or the key itself (the file is 0600)
//! ```
//!
//! Without `--account` or `--all-accounts`, `AYRA_API_KEY` (and
//! `AYRA_BASE_URL`) win over the file's `default`.

use crate::exit::Failure;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default)]
    pub accounts: BTreeMap<String, Account>,
}

/// One account: where its API is and where its key comes from.
#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
}

/// Never the key.
impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("environment", &self.environment)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|k| mask(k)))
            .field("api_key_env", &self.api_key_env)
            .finish()
    }
}

impl Account {
    pub fn base_url(&self) -> Result<String, Failure> {
        if let Some(url) = &self.base_url {
            return Ok(url.clone());
        }
        let env = match self.environment.as_deref() {
            None | Some("production") => ayra::Environment::Production,
            Some("sandbox") => ayra::Environment::Sandbox,
            Some(other) => {
                return Err(Failure::config(format!(
                    "environment {other:?}: expected production or sandbox (or set base_url)"
                )));
            }
        };
        Ok(env.base_url().to_string())
    }

    /// The key: from the file, or from the variable it names.
    pub fn key(&self, name: &str) -> Result<String, Failure> {
        match (&self.api_key, &self.api_key_env) {
            (Some(key), _) => Ok(key.clone()),
            (None, Some(var)) => std::env::var(var)
                .ok()
                .filter(|k| !k.trim().is_empty())
                .ok_or_else(|| {
                    Failure::config(format!("account {name}: the variable {var} is not set"))
                }),
            (None, None) => Err(Failure::config(format!(
                "account {name}: neither api_key nor api_key_env is set"
            ))),
        }
    }

    /// Where the key comes from, masked, for `ayra accounts list`.
    pub fn key_source(&self) -> String {
        match (&self.api_key, &self.api_key_env) {
            (Some(key), _) => mask(key),
            (None, Some(var)) => format!("${var}"),
            (None, None) => "-".to_string(),
        }
    }
}

/// `…` and the key's last 4 characters (all of it hidden when short).
pub fn mask(key: &str) -> String {
    let n = key.chars().count();
    if n < 12 {
        return "…".to_string();
    }
    let tail: String = key.chars().skip(n - 4).collect();
    format!("…{tail}")
}

pub fn path() -> Result<PathBuf, Failure> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .ok_or_else(|| Failure::config("neither XDG_CONFIG_HOME nor HOME is set"))?;
    Ok(base.join("ayra").join("config.toml"))
}

/// The file, or an empty configuration when there is none.
pub fn load() -> Result<Config, Failure> {
    let path = path()?;
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
        Err(e) => return Err(Failure::config(format!("{}: {e}", path.display()))),
    };
    toml::from_str(&text).map_err(|e| {
        // toml's message quotes the line; a key on it must not be printed.
        let at = e
            .span()
            .map(|s| {
                let line = text[..s.start].matches('\n').count() + 1;
                format!(":{line}")
            })
            .unwrap_or_default();
        Failure::config(format!("{}{at}: {}", path.display(), e.message()))
    })
}

/// Writes the file readable by its owner only (0600), its folder 0700.
pub fn save(config: &Config) -> Result<PathBuf, Failure> {
    let path = path()?;
    let text = toml::to_string(config).map_err(|e| Failure::config(e.to_string()))?;
    write_private(&path, &text).map_err(|e| Failure::config(format!("{}: {e}", path.display())))?;
    Ok(path)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let tmp = path.with_extension("toml.tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}
