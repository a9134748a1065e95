//! The agents domain of the Ayra API: `cargo run --example agents`
//! (embedded sandbox, or `AYRA_BASE_URL` + `AYRA_API_KEY`).

#[path = "support/common.rs"]
mod common;
#[path = "support/domains.rs"]
mod domains;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let connection = match common::connect().await {
        Ok(c) => c,
        Err(e) => return common::fail(format_args!("cannot connect: {e}")),
    };
    println!("against {}", connection.where_);
    match domains::Domain::Agents.run(&connection.client).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => common::fail(format_args!("the example failed in {e}")),
    }
}
