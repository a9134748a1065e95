//! The calendars domain of the Ayra API: `cargo run --example calendars`
//! (embedded sandbox, or `AYRA_BASE_URL` + `AYRA_API_KEY`).

#[path = "support/common.rs"]
mod common;
#[path = "support/domains.rs"]
mod domains;

#[tokio::main]
async fn main() -> ayra::Result<()> {
    let connection = common::connect().await?;
    println!("against {}", connection.where_);
    domains::calendars(&connection.client).await
}
