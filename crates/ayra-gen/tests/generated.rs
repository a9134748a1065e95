//! The client generated from `spec/ayra.yaml`, as a reviewed snapshot.
//!
//! `cargo xtask regen` updates the snapshot; `cargo xtask check` fails when
//! the spec (or the generator) no longer produces what was reviewed.

#[test]
fn generated_client() {
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/ayra.yaml");
    let generated = ayra_gen::generate(&spec, &ayra_gen::Settings::default())
        .unwrap_or_else(|failure| panic!("{failure}"));
    insta::assert_snapshot!("ayra_client", generated.code);
    // The event stream's data schema is read from `x-ayra-event-data`.
    let events = generated
        .operations
        .iter()
        .find(|o| o.id == "stream_conversation_events")
        .and_then(|o| o.events.as_deref());
    assert_eq!(events, Some("ConversationEvent"));
}
