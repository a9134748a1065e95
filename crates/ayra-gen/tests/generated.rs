//! The client generated from `spec/ayra.yaml`: a reviewed insta snapshot, and
//! the same text committed as `crates/ayra/src/generated.rs`, which the `ayra`
//! crate compiles (so users compile no generator).
//!
//! `cargo xtask regen` updates both; `cargo xtask check` fails when the spec
//! (or the generator) no longer produces what was reviewed and committed.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn generated() -> &'static ayra_gen::Generated {
    static CODE: OnceLock<ayra_gen::Generated> = OnceLock::new();
    CODE.get_or_init(|| {
        let spec = workspace().join("spec/ayra.yaml");
        ayra_gen::generate(&spec, &ayra_gen::Settings::default())
            .unwrap_or_else(|failure| panic!("{failure}"))
    })
}

#[test]
fn generated_client() {
    insta::assert_snapshot!("ayra_client", &generated().code);
    // The event stream's data schema is read from `x-ayra-event-data`.
    let events = generated()
        .operations
        .iter()
        .find(|o| o.id == "stream_conversation_events")
        .and_then(|o| o.events.as_deref());
    assert_eq!(events, Some("ConversationEvent"));
}

#[test]
fn committed_client_is_what_the_spec_generates() {
    let path = workspace().join("crates/ayra/src/generated.rs");
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert!(
        committed == generated().code,
        "crates/ayra/src/generated.rs is not what spec/ayra.yaml generates today: run `cargo xtask regen`"
    );
}

/// The command table of the `ayra` CLI (`crates/ayra-cli/src/generated.rs`).
fn generated_cli() -> &'static str {
    static CODE: OnceLock<String> = OnceLock::new();
    CODE.get_or_init(|| {
        let spec = ayra_gen::load(&workspace().join("spec/ayra.yaml"))
            .unwrap_or_else(|failure| panic!("{failure}"));
        ayra_gen::emit_cli(&spec).unwrap_or_else(|failure| panic!("{failure}"))
    })
}

#[test]
fn generated_cli_table() {
    insta::assert_snapshot!("ayra_cli_commands", generated_cli());
}

#[test]
fn committed_cli_table_is_what_the_spec_generates() {
    let path = workspace().join("crates/ayra-cli/src/generated.rs");
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert!(
        committed == generated_cli(),
        "crates/ayra-cli/src/generated.rs is not what spec/ayra.yaml generates today: run `cargo xtask regen`"
    );
}
