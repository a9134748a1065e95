//! Shared by the examples: a client for `AYRA_BASE_URL`/`AYRA_API_KEY` when
//! set, otherwise for a sandbox started in this process (no key needed).
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
    let sandbox = ayra_sandbox::Sandbox::builder()
        .seed_demo_data(7)
        .start()
        .await;
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
