//! Turns `spec/ayra.yaml` into the Rust client of the `ayra` crate.
//!
//! The pipeline is: [`load`] the YAML (line and column on a syntax error),
//! [`check`] it against the API's conventions (every problem, each with the
//! operation and JSON pointer it concerns), then [`emit`] the client with
//! progenitor and rewrite its output so that enums accept values a newer API
//! sends and every call goes through the `ayra` runtime (retry, idempotency,
//! typed errors). It is used by `cargo xtask regen`, which writes the result to
//! `crates/ayra/src/generated.rs`.

mod check;
mod cli;
mod emit;
mod enums;
mod feature_gates;
mod headers;
mod load;
mod patch;
mod paths;
mod problem;
mod setters;
mod spec;

pub use check::check;
pub use cli::{command_name, emit_cli};
pub use emit::{Generated, Operation, emit};
pub use load::{Spec, load, parse};
pub use problem::{Failure, Problem};

use std::path::Path;

/// Where the generated code is mounted in the crate that includes it, and the
/// module of that crate that provides the runtime it calls into.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Path of the hand-written runtime module, e.g. `crate::runtime`.
    pub runtime: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            runtime: "crate::runtime".to_string(),
        }
    }
}

/// Loads, checks and generates in one step: what `cargo xtask regen` calls.
pub fn generate(path: &Path, settings: &Settings) -> Result<Generated, Failure> {
    let spec = load(path)?;
    check(&spec)?;
    emit(&spec, settings)
}
