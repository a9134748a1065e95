//! Shared by the examples: a client for `AYRA_BASE_URL`/`AYRA_API_KEY` when
//! set, otherwise for a sandbox started in this process (no key needed; its
//! clock starts at `AYRA_SANDBOX_NOW`, an RFC 3339 time, when set).
#![allow(dead_code)]

/// Keeps the embedded sandbox alive as long as the client is used.
pub struct Connection {
    pub client: ayra::Client,
    pub where_: String,
    _sandbox: Option<ayra_sandbox::Sandbox>,
}

pub async fn connect() -> ayra::Result<Connection> {
    if std::env::var_os("AYRA_BASE_URL").is_some() {
        let client = ayra::Client::from_env()?;
        let where_ = client.base_url().to_string();
        return Ok(Connection {
            client,
            where_,
            _sandbox: None,
        });
    }
    let mut builder = ayra_sandbox::Sandbox::builder().seed_demo_data(7);
    if let Some(now) = std::env::var_os("AYRA_SANDBOX_NOW") {
        let now = now.to_string_lossy();
        let now = ayra::chrono::DateTime::parse_from_rfc3339(&now).map_err(|_| {
            ayra::Error::Config(format!(
                "AYRA_SANDBOX_NOW must be an RFC 3339 time, got '{now}'"
            ))
        })?;
        builder = builder.now(now.to_utc());
    }
    let sandbox = builder.start().await;
    let client = ayra::Client::builder()
        .api_key(sandbox.api_key())
        .base_url(sandbox.base_url())
        .build()?;
    Ok(Connection {
        client,
        where_: format!("embedded sandbox at {}", sandbox.base_url()),
        _sandbox: Some(sandbox),
    })
}

/// Says what failed on stderr, in one line, and exits with 1.
pub fn fail(what: std::fmt::Arguments<'_>) -> std::process::ExitCode {
    eprintln!("error: {what}");
    std::process::ExitCode::FAILURE
}
