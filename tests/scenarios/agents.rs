//! Create and configure an agent, move it through its states, and meet the
//! errors of the domain: 404, 422 with its field, 401 and 403.

use ayra::prelude::*;
use ayra_scenarios::Harness;
use futures::TryStreamExt;

pub async fn run(h: &Harness) {
    let c = &h.client;
    let voices = c.list_voices().send().await.unwrap();
    assert!(!voices.data.is_empty());
    let zones = c.list_timezones().per_page(100).send().await.unwrap();
    assert!(zones.data.iter().any(|z| z.id == "Europe/Paris"));

    let created = c
        .create_agent()
        .body_map(|b| {
            b.name("Scenario desk")
                .voice_id(voices.data[0].id.clone())
                .prompt("Answer briefly.")
                .timezone("Europe/Paris")
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    assert_eq!(created.request_id(), Some(created.meta.request_id.as_str()));
    let agent = created.into_inner().data;
    assert_eq!(agent.status, AgentStatus::Active);

    let updated = c
        .update_agent()
        .agent_id(&agent.id)
        .body_map(|b| b.prompt("Answer very briefly."))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(updated.prompt, "Answer very briefly.");
    assert_eq!(
        updated.name, "Scenario desk",
        "a PATCH leaves other fields alone"
    );
    let fetched = c
        .get_agent()
        .agent_id(&agent.id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(fetched, updated);

    let found: Vec<_> = c
        .list_agents()
        .q("Scenario")
        .items()
        .try_collect()
        .await
        .unwrap();
    assert!(found.iter().any(|a| a.id == agent.id));

    let disabled = c.disable_agent().agent_id(&agent.id).send().await.unwrap();
    assert_eq!(disabled.data.status, AgentStatus::Disabled);
    let listed = c
        .list_agents()
        .status(AgentStatus::Disabled)
        .per_page(100)
        .send()
        .await
        .unwrap();
    assert!(
        listed
            .data
            .iter()
            .all(|a| a.status == AgentStatus::Disabled)
    );
    assert!(listed.data.iter().any(|a| a.id == agent.id));
    let enabled = c.enable_agent().agent_id(&agent.id).send().await.unwrap();
    assert_eq!(enabled.data.status, AgentStatus::Active);
    let archived = c.archive_agent().agent_id(&agent.id).send().await.unwrap();
    assert_eq!(archived.data.status, AgentStatus::Archived);

    // 422: archived is final, and the error says so.
    let err = c
        .enable_agent()
        .agent_id(&agent.id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(422));
    assert_eq!(err.code(), Some("agent_archived"));
    assert!(err.request_id().is_some_and(|id| !id.is_empty()));

    // 422 with a field: an unknown voice.
    let err = c
        .create_agent()
        .body_map(|b| b.name("Bad").voice_id("voice_nope").prompt("x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(422));
    assert_eq!(err.api().and_then(|a| a.field.as_deref()), Some("voice_id"));

    // 404, then delete and 404 again.
    let err = c
        .get_agent()
        .agent_id("agt_doesnotexist")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    let other = c
        .create_agent()
        .body_map(|b| {
            b.name("Short-lived")
                .voice_id(voices.data[0].id.clone())
                .prompt("x")
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    let deleted = c.delete_agent().agent_id(&other.id).send().await.unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
    assert!(
        c.get_agent()
            .agent_id(&other.id)
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );

    // 401 with a wrong key, 403 with a read-only key on a write.
    let err = h
        .client_with_key("sk_test_wrong")
        .list_agents()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    let read_only = h.client_with_key(ayra_sandbox::READ_ONLY_API_KEY);
    read_only.list_agents().send().await.unwrap();
    let err = read_only
        .disable_agent()
        .agent_id(&updated.id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
    assert!(err.is_auth());
}
