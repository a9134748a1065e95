//! PATCH bodies tell apart "leave unchanged" (absent), "clear" (`null`), a
//! value, and an empty list (`[]`): on the wire for every PATCH operation,
//! for every field the spec derives it for, and end to end against the
//! sandbox, where clearing clears.

mod support;
use ayra::Patch;
use ayra::types::{AgentUpdate, AppointmentUpdate, ContactUpdate, WorkflowUpdate};
use serde_json::{Value, json};
use support::{Reply, Server, error};

/// A server that answers every request 404 (not retried) and records it.
async fn recorder() -> (Server, ayra::Client) {
    let server =
        Server::start(|_, i| Reply::Json(404, error("not_found", "resource_not_found", None, i)))
            .await;
    let client = server.client().build().unwrap();
    (server, client)
}

fn body(server: &Server, n: usize) -> Value {
    let recorded = server.recorded();
    assert_eq!(recorded[n].method, "PATCH");
    serde_json::from_slice(&recorded[n].body).unwrap()
}

#[tokio::test]
async fn update_contact_sends_absent_null_values_and_empty_lists() {
    let (server, client) = recorder().await;
    let calls = [
        client
            .update_contact()
            .contact_id("cnt_1")
            .body_map(|b| b.first_name("Ada")),
        client.update_contact().contact_id("cnt_1").body_map(|b| {
            b.last_name(None)
                .email(None)
                .phone(None)
                .tags(Vec::<String>::new())
        }),
        client.update_contact().contact_id("cnt_1").body_map(|b| {
            b.last_name("Lovelace")
                .email("ada@example.com")
                .phone("+33612345678")
                .tags(vec!["vip".to_string()])
        }),
    ];
    for call in calls {
        call.send().await.unwrap_err();
    }
    assert_eq!(body(&server, 0), json!({"first_name": "Ada"}));
    assert_eq!(
        body(&server, 1),
        json!({"last_name": null, "email": null, "phone": null, "tags": []})
    );
    assert_eq!(
        body(&server, 2),
        json!({"last_name": "Lovelace", "email": "ada@example.com", "phone": "+33612345678", "tags": ["vip"]})
    );
}

#[tokio::test]
async fn update_agent_sends_absent_null_and_values() {
    let (server, client) = recorder().await;
    let calls = [
        client
            .update_agent()
            .agent_id("agt_1")
            .body_map(|b| b.name("A")),
        client
            .update_agent()
            .agent_id("agt_1")
            .body_map(|b| b.description(None).first_message(None).phone_number(None)),
        client.update_agent().agent_id("agt_1").body_map(|b| {
            b.description("d")
                .first_message("Hello")
                .phone_number("+14155550199")
        }),
    ];
    for call in calls {
        call.send().await.unwrap_err();
    }
    assert_eq!(body(&server, 0), json!({"name": "A"}));
    assert_eq!(
        body(&server, 1),
        json!({"description": null, "first_message": null, "phone_number": null})
    );
    assert_eq!(
        body(&server, 2),
        json!({"description": "d", "first_message": "Hello", "phone_number": "+14155550199"})
    );
}

#[tokio::test]
async fn update_appointment_sends_absent_null_and_values() {
    let (server, client) = recorder().await;
    let calls = [
        client
            .update_appointment()
            .appointment_id("apt_1")
            .body_map(|b| b.title("T")),
        client
            .update_appointment()
            .appointment_id("apt_1")
            .body_map(|b| b.notes(None)),
        client
            .update_appointment()
            .appointment_id("apt_1")
            .body_map(|b| b.notes("n")),
    ];
    for call in calls {
        call.send().await.unwrap_err();
    }
    assert_eq!(body(&server, 0), json!({"title": "T"}));
    assert_eq!(body(&server, 1), json!({"notes": null}));
    assert_eq!(body(&server, 2), json!({"notes": "n"}));
}

#[tokio::test]
async fn update_workflow_sends_absent_null_values_and_empty_lists() {
    let (server, client) = recorder().await;
    let calls = [
        client
            .update_workflow()
            .workflow_id("wf_1")
            .body_map(|b| b.name("W")),
        client.update_workflow().workflow_id("wf_1").body_map(|b| {
            b.description(None)
                .steps(Vec::<ayra::types::WorkflowStep>::new())
        }),
        client
            .update_workflow()
            .workflow_id("wf_1")
            .body_map(|b| b.description("d")),
    ];
    for call in calls {
        call.send().await.unwrap_err();
    }
    assert_eq!(body(&server, 0), json!({"name": "W"}));
    assert_eq!(body(&server, 1), json!({"description": null, "steps": []}));
    assert_eq!(body(&server, 2), json!({"description": "d"}));
}

/// Every nullable and list property of every PATCH body in the spec keeps
/// `null` and `[]` through the generated type, and leaves absent fields out:
/// a PATCH body or field added to the spec is covered without editing this
/// test, and one this test cannot map fails it.
#[test]
fn every_patch_body_field_of_the_spec_round_trips_null_and_empty_lists() {
    fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(v: &Value) -> Value {
        serde_json::to_value(serde_json::from_value::<T>(v.clone()).unwrap()).unwrap()
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/ayra.yaml");
    let spec = ayra_gen::load(&path).unwrap().raw;
    let mut checked = 0;
    for item in spec["paths"].as_object().unwrap().values() {
        let Some(schema) =
            item["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
        else {
            continue;
        };
        let name = schema.rsplit('/').next().unwrap();
        let rt: fn(&Value) -> Value = match name {
            "AgentUpdate" => round_trip::<AgentUpdate>,
            "ContactUpdate" => round_trip::<ContactUpdate>,
            "AppointmentUpdate" => round_trip::<AppointmentUpdate>,
            "WorkflowUpdate" => round_trip::<WorkflowUpdate>,
            other => panic!("PATCH body {other} is not mapped to its type in this test"),
        };
        assert_eq!(
            rt(&json!({})),
            json!({}),
            "{name}: nothing set, nothing sent"
        );
        for (field, p) in spec["components"]["schemas"][name]["properties"]
            .as_object()
            .unwrap()
        {
            let empty = if p["nullable"] == true {
                Value::Null
            } else if p["type"] == "array" {
                json!([])
            } else {
                continue;
            };
            let v = json!({ field: empty });
            assert_eq!(rt(&v), v, "{name}.{field}");
            checked += 1;
        }
    }
    assert!(checked >= 9, "only {checked} fields checked");
}

/// Against the sandbox: what `None` clears is cleared, what was not set is
/// kept, and an empty tag list removes every tag.
#[tokio::test]
async fn clearing_clears_in_the_sandbox() {
    let sandbox = ayra_sandbox::Sandbox::start().await;
    let fx = sandbox.fixtures();
    let client = ayra::Client::builder()
        .api_key(sandbox.api_key())
        .base_url(sandbox.base_url())
        .build()
        .unwrap();

    let before = client
        .get_contact()
        .contact_id(fx.contact)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert!(before.last_name.is_some() && before.phone.is_some() && !before.tags.is_empty());
    let contact = client
        .update_contact()
        .contact_id(fx.contact)
        .body_map(|b| b.last_name(None).phone(None).tags(Vec::<String>::new()))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(
        (contact.last_name, contact.phone, contact.tags),
        (None, None, vec![])
    );
    assert_eq!(contact.email, before.email, "not set, not changed");
    assert_eq!(contact.first_name, before.first_name);

    let agent = client
        .update_agent()
        .agent_id(fx.agent_active)
        .body_map(|b| b.description(None).first_message(None).phone_number(None))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(
        (agent.description, agent.first_message, agent.phone_number),
        (None, None, None)
    );

    let appointment = client
        .update_appointment()
        .appointment_id(fx.appointment)
        .body_map(|b| b.notes("to be cleared"))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(appointment.notes.as_deref(), Some("to be cleared"));
    let appointment = client
        .update_appointment()
        .appointment_id(fx.appointment)
        .body_map(|b| b.notes(None))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(appointment.notes, None);

    let workflow = client
        .update_workflow()
        .workflow_id(fx.workflow_active)
        .body_map(|b| b.description(None))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(workflow.description, None);
    assert!(!workflow.steps.is_empty(), "steps not set, not changed");

    // The typed value says the same as the wire.
    let update = ContactUpdate::try_from(ContactUpdate::builder().email(None)).unwrap();
    assert_eq!(update.email, Patch::Clear);
    assert_eq!(update.phone, Patch::Unchanged);
}
