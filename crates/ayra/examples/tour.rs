//! A walk through all six domains of the Ayra API with the SDK.
//!
//! `cargo run --example tour` starts a sandbox in this process; with
//! `AYRA_BASE_URL` and `AYRA_API_KEY` set it runs against that server.

#[path = "support/common.rs"]
mod common;
#[path = "support/domains.rs"]
mod domains;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let started = std::time::Instant::now();
    let connection = match common::connect().await {
        Ok(c) => c,
        Err(e) => return common::fail(format_args!("cannot connect: {e}")),
    };
    println!("Ayra tour against {}\n", connection.where_);
    if let Err(e) = domains::walk(&connection.client, domains::ALL).await {
        return common::fail(format_args!("the tour failed in {e}"));
    }
    println!("\nDone in {:.1} s.", started.elapsed().as_secs_f64());
    ExitCode::SUCCESS
}
