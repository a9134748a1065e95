//! The client users hold: configuration, environments, and construction.

use crate::account::Account;
use crate::error::{Error, Result};
use crate::retry::RetryPolicy;
use crate::runtime::Inner;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Where the API lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Environment {
    /// `https://api.ayra.ai/v1`: real agents, customers and data.
    Production,
    /// `https://sandbox-api.ayra.ai/v1`: Ayra's hosted test environment.
    Sandbox,
    /// Any base URL, e.g. a local `ayra-sandbox` at `http://127.0.0.1:8080/v1`.
    Custom(String),
}

impl Environment {
    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        match self {
            Environment::Production => "https://api.ayra.ai/v1",
            Environment::Sandbox => "https://sandbox-api.ayra.ai/v1",
            Environment::Custom(url) => url.trim_end_matches('/'),
        }
    }
}

/// The Ayra API client. Cheap to clone (clones share one connection pool);
/// every generated operation is a method on it through `Deref`:
///
/// ```no_run
/// # async fn run() -> ayra::Result<()> {
/// let client = ayra::Client::from_env()?;
/// let agent = client.get_agent().agent_id("agt_123").send().await?;
/// println!("{} speaks {}", agent.data.name, agent.data.language);
/// # Ok(()) }
/// ```
///
/// One client serves many accounts: [`Client::for_account`] gives the
/// client of another account's key, sharing this one's connections and
/// settings.
#[derive(Clone)]
pub struct Client {
    api: Arc<crate::api::Client>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use progenitor_client::ClientInfo;
        f.debug_struct("Client")
            .field("account", &self.account_label())
            .field("base_url", &self.api.baseurl())
            .field("api_key", &"<redacted>")
            .field("retry", &self.api.inner().retry)
            .field("timeout", &self.api.inner().timeout)
            .finish()
    }
}

impl std::ops::Deref for Client {
    type Target = crate::api::Client;
    fn deref(&self) -> &crate::api::Client {
        &self.api
    }
}

impl Client {
    /// A production client with this API key and default settings.
    pub fn new(api_key: impl Into<String>) -> Result<Client> {
        Client::builder().api_key(api_key).build()
    }

    /// A client from `AYRA_API_KEY` and, when set and not empty,
    /// `AYRA_BASE_URL` (default: production).
    pub fn from_env() -> Result<Client> {
        let key = std::env::var("AYRA_API_KEY")
            .ok()
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| Error::Config("AYRA_API_KEY is not set".to_string()))?;
        let mut builder = Client::builder().api_key(key);
        if let Ok(url) = std::env::var("AYRA_BASE_URL")
            && !url.trim().is_empty()
        {
            builder = builder.environment(Environment::Custom(url));
        }
        builder.build()
    }

    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The base URL calls go to.
    pub fn base_url(&self) -> &str {
        use progenitor_client::ClientInfo;
        self.api.baseurl()
    }

    /// The client of another account: the same connection pool, base URL,
    /// timeouts, retry policy and per-call options as this one, with
    /// `api_key` instead of this client's key. Cheap (no new pool, no TLS
    /// set-up): make one per account and keep it, or one per request.
    ///
    /// `label` names the account wherever it may be printed: errors
    /// ([`Error::account`]), tracing spans (`account` field) and `Debug`.
    /// The key never is. Nothing crosses between accounts inside the
    /// client: cached reference data is kept per key, and idempotency keys
    /// are made per call.
    ///
    /// A key that is empty, holds whitespace or characters a header cannot
    /// carry, or a label that is empty, unprintable or holds the key, is an
    /// [`Error::Config`] here, before anything is sent.
    ///
    /// ```
    /// # fn run() -> ayra::Result<()> {
    /// let agency = ayra::Client::builder()
    ///     .api_key("sk_live_agency_0000")
    ///     .timeout(std::time::Duration::from_secs(10))
    ///     .build()?;
    /// let acme = agency.for_account("acme", "sk_live_acme_1234")?;
    /// let globex = agency.for_account("globex", "sk_live_globex_5678")?;
    /// assert_eq!(acme.account_label(), "acme");
    /// assert!(format!("{globex:?}").contains("globex"));
    /// assert!(!format!("{globex:?}").contains("sk_live_globex_5678"));
    /// assert!(agency.for_account("bad", " ").is_err());
    /// # Ok(()) }
    /// # run().unwrap();
    /// ```
    pub fn for_account(
        &self,
        label: impl Into<String>,
        api_key: impl AsRef<str>,
    ) -> Result<Client> {
        use progenitor_client::ClientInfo;
        let account = Account::new(Some(label.into()), api_key.as_ref())?;
        let inner = Inner {
            account,
            ..self.api.inner().clone()
        };
        Ok(Client {
            api: Arc::new(crate::api::Client::new_with_client(
                self.api.baseurl(),
                self.api.client().clone(),
                inner,
            )),
        })
    }

    /// The label of this client's account: the one given to
    /// [`Client::for_account`] or [`ClientBuilder::account_label`], else
    /// `…` and the key's last 4 characters. Safe to print; never the key.
    pub fn account_label(&self) -> &str {
        use progenitor_client::ClientInfo;
        self.api.inner().account.label()
    }

    /// A client that shares this one's connections and credentials but
    /// applies other per-call options; use it for one call or a few:
    ///
    /// ```no_run
    /// # async fn run(client: ayra::Client) -> ayra::Result<()> {
    /// use std::time::Duration;
    /// let quick = client.with_options(|o| o.retry(ayra::RetryPolicy::none()).timeout(Duration::from_secs(2)));
    /// quick.get_realtime_metrics().send().await?;
    /// # Ok(()) }
    /// ```
    pub fn with_options(&self, f: impl FnOnce(CallOptions) -> CallOptions) -> Client {
        use progenitor_client::ClientInfo;
        let inner = self.api.inner();
        let options = f(CallOptions {
            retry: inner.retry.clone(),
            timeout: inner.timeout,
        });
        let inner = Inner {
            retry: options.retry,
            timeout: options.timeout,
            ..inner.clone()
        };
        Client {
            api: Arc::new(crate::api::Client::new_with_client(
                self.api.baseurl(),
                self.api.client().clone(),
                inner,
            )),
        }
    }
}

/// Options that can differ per call; see [`Client::with_options`].
#[derive(Debug, Clone)]
pub struct CallOptions {
    retry: RetryPolicy,
    timeout: Option<Duration>,
}

impl CallOptions {
    /// The retry policy for these calls.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The time limit of each attempt of these calls.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// Configures a [`Client`].
///
/// ```
/// use std::time::Duration;
/// let client = ayra::Client::builder()
///     .api_key("sk_test_123")
///     .environment(ayra::Environment::Sandbox)
///     .timeout(Duration::from_secs(10))
///     .retry(ayra::RetryPolicy::default().max_retries(3))
///     .build()
///     .unwrap();
/// assert_eq!(client.base_url(), "https://sandbox-api.ayra.ai/v1");
/// assert!(!format!("{client:?}").contains("sk_test_123"));
/// ```
#[derive(Default)]
pub struct ClientBuilder {
    api_key: Option<String>,
    account_label: Option<String>,
    environment: Option<Environment>,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
    stream_idle_timeout: Option<Option<Duration>>,
    retry: Option<RetryPolicy>,
    http: Option<reqwest::Client>,
    cache_ttl: Option<Duration>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("account_label", &self.account_label)
            .field("environment", &self.environment)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Default time to establish a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time limit of one attempt of a call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

impl ClientBuilder {
    /// The API key (`Authorization: Bearer <key>`). Required.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The printable name of this client's account (see
    /// [`Client::account_label`]); default: `…` and the key's last 4
    /// characters.
    pub fn account_label(mut self, label: impl Into<String>) -> Self {
        self.account_label = Some(label.into());
        self
    }

    /// Production (the default), sandbox, or a custom base URL.
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = Some(environment);
        self
    }

    /// Shorthand for `environment(Environment::Custom(url))`.
    pub fn base_url(self, url: impl Into<String>) -> Self {
        self.environment(Environment::Custom(url.into()))
    }

    /// Time to establish a connection (default 10 s). Ignored with
    /// [`ClientBuilder::http_client`], whose own setting applies.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Time limit of each attempt of a call (default 60 s). For a stream
    /// (events, downloads) it bounds the wait for the first byte only; see
    /// [`ClientBuilder::stream_idle_timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The longest silence between two chunks of a response (default 60 s;
    /// the API sends a keep-alive about every 15 s on event streams);
    /// `None` waits forever. A stream or download may last longer than any
    /// timeout as long as bytes keep coming. Ignored with
    /// [`ClientBuilder::http_client`] (set `read_timeout` on it instead).
    pub fn stream_idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.stream_idle_timeout = Some(timeout.into());
        self
    }

    /// Retry policy (default: 2 retries with backoff); `RetryPolicy::none()` turns retries off.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Uses your own `reqwest::Client` (pool, proxies, TLS roots). Keep its
    /// redirect policy: reqwest drops `Authorization` on cross-host redirects.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Caches reference data (voices, time zones) for `ttl`; writes through
    /// this client drop the entries they affect.
    pub fn cache_reference_data(mut self, ttl: Duration) -> Self {
        self.cache_ttl = Some(ttl);
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<Client> {
        let key = self
            .api_key
            .ok_or_else(|| Error::Config("an API key is required".to_string()))?;
        let account = Account::new(self.account_label, &key)?;
        let environment = self.environment.unwrap_or(Environment::Production);
        let base_url = check_base_url(environment.base_url())?;
        let http = match self.http {
            Some(http) => http,
            None => {
                let mut http = reqwest::Client::builder()
                    .user_agent(concat!("ayra-rust/", env!("CARGO_PKG_VERSION")))
                    .connect_timeout(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT));
                if let Some(idle) = self.stream_idle_timeout.unwrap_or(Some(DEFAULT_TIMEOUT)) {
                    http = http.read_timeout(idle);
                }
                http.build()
                    .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?
            }
        };
        let base = reqwest::Url::parse(&base_url)
            .map_err(|e| Error::Config(format!("base URL {base_url:?} is not a URL: {e}")))?;
        let inner = Inner {
            base,
            account,
            retry: self.retry.unwrap_or_default(),
            timeout: Some(self.timeout.unwrap_or(DEFAULT_TIMEOUT)),
            cache: self
                .cache_ttl
                .map(|ttl| Arc::new(crate::cache::Cache::new(ttl))),
        };
        Ok(Client {
            api: Arc::new(crate::api::Client::new_with_client(&base_url, http, inner)),
        })
    }
}

/// Accepts `https://` anywhere and `http://` only on loopback, where a local
/// sandbox runs: an API key must never cross a network in clear text.
fn check_base_url(url: &str) -> Result<String> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| Error::Config(format!("base URL {url:?} is not a URL: {e}")))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::Config(format!(
                "refusing plain http to {}: use https (http is allowed only for loopback hosts)",
                parsed.host_str().unwrap_or("")
            )));
        }
        other => return Err(Error::Config(format!("unsupported URL scheme {other:?}"))),
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::Config(format!(
            "base URL {url:?} has a query or fragment: give the API's root, e.g. https://api.ayra.ai/v1"
        )));
    }
    Ok(url.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::check_base_url;

    #[test]
    fn http_is_refused_except_on_loopback() {
        for ok in [
            "https://api.ayra.ai/v1",
            "http://127.0.0.1:8080/v1",
            "http://127.8.9.10/v1",
            "http://[::1]:9/v1",
            "http://LOCALHOST:1/v1",
        ] {
            assert!(check_base_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.ayra.ai/v1",
            "http://10.0.0.1/v1",
            "http://localhost.evil.com/v1",
            "http://[::2]/v1",
            "ftp://127.0.0.1/",
            "https://api.ayra.ai/v1?x=1",
            "https://api.ayra.ai/v1#top",
            "not a url",
        ] {
            assert!(check_base_url(bad).is_err(), "{bad}");
        }
    }
}
