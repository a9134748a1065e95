//! An Ayra release that adds response fields or enum values does not break a
//! deployed client (the seed's versioning note).

mod support;
use ayra::types::{Agent, AgentStatus};
use support::{Reply, Server, agent, error, ok};

#[tokio::test]
async fn unknown_fields_and_enum_values_decode() {
    let server = Server::start(|_, i| {
        let mut a = agent("agt_1", "hibernating");
        a["sentiment_model"] = serde_json::json!({"name": "v2"});
        let mut body: serde_json::Value = serde_json::from_str(&ok(a, i)).unwrap();
        body["meta"]["region"] = "eu-west".into();
        body["experimental"] = true.into();
        Reply::Json(200, body.to_string())
    })
    .await;
    let resp = server
        .client()
        .build()
        .unwrap()
        .get_agent()
        .agent_id("agt_1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.data.status, AgentStatus::Unknown("hibernating".into()));
    assert!(resp.data.status.is_unknown());
    assert_eq!(resp.data.name, "Front desk");
}

#[test]
fn unknown_enum_values_survive_a_round_trip() {
    let a: Agent = serde_json::from_value(agent("agt_1", "hibernating")).unwrap();
    assert_eq!(serde_json::to_value(&a).unwrap()["status"], "hibernating");
    let known: Agent = serde_json::from_value(agent("agt_1", "archived")).unwrap();
    assert_eq!(known.status, AgentStatus::Archived);
    assert_eq!(known.status.to_string(), "archived");
    assert_eq!("disabled".parse::<AgentStatus>(), Ok(AgentStatus::Disabled));
}

#[test]
fn a_wrong_type_is_still_an_error() {
    let mut a = agent("agt_1", "active");
    a["status"] = serde_json::json!(7);
    assert!(serde_json::from_value::<Agent>(a).is_err());
}

#[tokio::test]
async fn error_codes_are_typed_and_a_new_code_is_kept() {
    let server = Server::start(|_, i| {
        let code = if i == 0 {
            "slot_unavailable"
        } else {
            "calendar_on_fire"
        };
        Reply::Json(422, error("unprocessable_entity", code, None, i))
    })
    .await;
    let client = server.client().build().unwrap();
    let call = || client.get_agent().agent_id("agt_1").send();
    let known = call().await.unwrap_err();
    assert_eq!(known.error_code(), Some(ayra::ErrorCode::SlotUnavailable));
    let new = call().await.unwrap_err();
    assert_eq!(
        new.error_code(),
        Some(ayra::ErrorCode::Unknown("calendar_on_fire".into()))
    );
    assert_eq!(new.code(), Some("calendar_on_fire"));
}
