//! End-to-end scenarios: each domain through the public `ayra` API against
//! the sandbox, as a user would. Every response the suite receives is checked
//! against the spec, and one test proves the suite calls every operation.

mod agents;
mod analytics;
mod calendars;
mod contacts;
mod conversations;
mod isolation;
mod workflows;

use ayra_scenarios::Harness;
use std::collections::BTreeSet;

#[tokio::test]
async fn agents_scenario() {
    let h = Harness::start().await;
    agents::run(&h).await;
    h.assert_conformant();
}

#[tokio::test]
async fn conversations_scenario() {
    let h = Harness::start().await;
    conversations::run(&h).await;
    h.assert_conformant();
}

#[tokio::test]
async fn contacts_scenario() {
    let h = Harness::start().await;
    contacts::run(&h).await;
    h.assert_conformant();
}

#[tokio::test]
async fn calendars_scenario() {
    let h = Harness::start().await;
    calendars::run(&h).await;
    h.assert_conformant();
}

#[tokio::test]
async fn workflows_scenario() {
    let h = Harness::start().await;
    workflows::run(&h).await;
    h.assert_conformant();
}

#[tokio::test]
async fn analytics_scenario() {
    let h = Harness::start().await;
    analytics::run(&h).await;
    h.assert_conformant();
}

/// The scenarios together call every operation of the spec at least once.
#[tokio::test]
async fn the_scenarios_cover_every_operation_of_the_spec() {
    let h = Harness::start().await;
    agents::run(&h).await;
    conversations::run(&h).await;
    contacts::run(&h).await;
    calendars::run(&h).await;
    workflows::run(&h).await;
    analytics::run(&h).await;
    h.assert_conformant();
    let called = h.operations_called();
    let missing: BTreeSet<&str> = ayra::api::OPERATIONS
        .iter()
        .map(|op| op.id)
        .filter(|id| !called.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "operations no scenario calls: {missing:?}"
    );
}
