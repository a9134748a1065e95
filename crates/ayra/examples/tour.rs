//! A walk through all six domains of the Ayra API with the SDK.
//!
//! `cargo run --example tour` starts a sandbox in this process; with
//! `AYRA_BASE_URL` and `AYRA_API_KEY` set it runs against that server.

#[path = "support/common.rs"]
mod common;
#[path = "support/domains.rs"]
mod domains;

#[tokio::main]
async fn main() -> ayra::Result<()> {
    let started = std::time::Instant::now();
    let common::Connection { client, where_, .. } = &common::connect().await?;
    println!("Ayra tour against {where_}\n");
    domains::agents(client).await?;
    domains::conversations(client).await?;
    domains::contacts(client).await?;
    domains::calendars(client).await?;
    domains::workflows(client).await?;
    domains::analytics(client).await?;
    println!("\nDone in {:.1?}.", started.elapsed());
    Ok(())
}
