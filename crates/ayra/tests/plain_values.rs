//! What a user writes in a body builder (plain numbers, `&str` lists, nested
//! builders, `json!` values, maps, structs) reaches the server as the API
//! expects, and a value that cannot is a typed error before anything is sent.
//! Also what a response gives back: the resource (`into_data`) and whether it
//! was an idempotent replay (`is_replay`).

mod support;
use std::collections::HashMap;

use ayra::prelude::*;
use serde_json::Value;
use support::{Reply, Server, error};

/// A server that refuses everything: only the bodies it records matter.
async fn recorder() -> (Server, Client) {
    let server = Server::start(|_, i| {
        Reply::Json(422, error("invalid_request", "validation_failed", None, i))
    })
    .await;
    let client = server
        .client()
        .retry(ayra::RetryPolicy::none())
        .build()
        .unwrap();
    (server, client)
}

fn body(server: &Server, index: usize) -> Value {
    serde_json::from_slice(&server.recorded()[index].body).expect("a JSON body")
}

#[tokio::test]
async fn plain_numbers_nested_builders_and_str_lists_are_sent_as_the_api_expects() {
    let (server, client) = recorder().await;
    let start: ayra::chrono::DateTime<ayra::chrono::Utc> = "2026-05-04T09:00:00Z".parse().unwrap();
    let _ = client
        .create_appointment()
        .body_map(|b| {
            b.calendar_id("cal_1")
                .title("Check-up")
                .start(start)
                .duration_minutes(30)
                .notes(None)
                .recurrence(
                    Recurrence::builder()
                        .frequency(RecurrenceFrequency::Weekly)
                        .count(4),
                )
        })
        .send()
        .await;
    let _ = client
        .add_contact_tags()
        .contact_id("cnt_1")
        .body_map(|b| b.tags(["vip", "tour"]))
        .send()
        .await;
    assert_eq!(
        body(&server, 0),
        json!({
            "calendar_id": "cal_1", "title": "Check-up", "start": "2026-05-04T09:00:00Z",
            "duration_minutes": 30,
            // `interval` is the spec's default, 1.
            "recurrence": {"frequency": "weekly", "count": 4, "interval": 1},
        })
    );
    assert_eq!(body(&server, 1), json!({"tags": ["vip", "tour"]}));
}

#[tokio::test]
async fn json_objects_come_from_json_values_maps_and_structs() {
    #[derive(serde::Serialize)]
    struct Visits {
        visits: u32,
    }
    let (server, client) = recorder().await;
    let create = || client.create_contact();
    let _ = create()
        .body_map(|b| b.first_name("Ada").custom_fields(json!({"visits": 3})))
        .send()
        .await;
    let _ = create()
        .body_map(|b| {
            b.first_name("Ada")
                .custom_fields(HashMap::from([("visits", 3)]))
        })
        .send()
        .await;
    let _ = create()
        .body_map(|b| b.first_name("Ada").custom_fields(Visits { visits: 3 }))
        .send()
        .await;
    for i in 0..3 {
        assert_eq!(
            body(&server, i),
            json!({"first_name": "Ada", "custom_fields": {"visits": 3}}),
            "call {i}"
        );
    }
}

#[tokio::test]
async fn a_value_that_cannot_be_the_field_is_a_typed_error_and_nothing_is_sent() {
    let (server, client) = recorder().await;
    let not_an_object = client
        .create_contact()
        .body_map(|b| b.first_name("Ada").custom_fields(json!([3])))
        .send()
        .await
        .expect_err("a list is not a JSON object");
    let incomplete = client
        .create_appointment()
        .body_map(|b| {
            b.calendar_id("cal_1")
                .title("t")
                .start(ayra::chrono::Utc::now())
                .recurrence(Recurrence::builder().count(4)) // no frequency
        })
        .send()
        .await
        .expect_err("a recurrence needs its frequency");
    for (e, field) in [(not_an_object, "custom_fields"), (incomplete, "recurrence")] {
        assert!(matches!(e, Error::InvalidRequest(_)), "{e:?}");
        assert!(e.to_string().contains(field), "{e}");
    }
    assert_eq!(server.count(), 0, "nothing is sent");
}

#[tokio::test]
async fn a_resend_under_the_same_key_is_a_replay_of_the_same_resource() {
    let sandbox = ayra_sandbox::Sandbox::start().await;
    let client = Client::builder()
        .api_key(sandbox.api_key())
        .base_url(sandbox.base_url())
        .build()
        .unwrap();
    let create = || {
        client
            .create_contact()
            .idempotency_key("import-42")
            .body_map(|b| b.first_name("Ada").email("ada@example.com").tags(["vip"]))
    };
    let first = create().send().await.unwrap();
    assert!(!first.is_replay());
    assert!(first.request_id().is_some());
    let again = create().send().await.unwrap();
    assert!(again.is_replay());
    let (first, again): (Contact, Contact) = (first.into_data(), again.into_data());
    assert_eq!(first.id, again.id);
    assert_eq!(first.tags, ["vip"]);
}
