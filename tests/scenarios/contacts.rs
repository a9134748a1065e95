//! Create, search, tag and update contacts, with custom fields and their
//! validation, and read a contact's interactions.

use ayra::prelude::*;
use ayra_scenarios::Harness;
use futures::TryStreamExt;

pub async fn run(h: &Harness) {
    let c = &h.client;
    let field = c
        .create_custom_field()
        .body_map(|b| {
            b.key("lifetime_value")
                .label("Lifetime value")
                .type_(CustomFieldType::Number)
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(field.type_, CustomFieldType::Number);
    let fields = c.list_custom_fields().send().await.unwrap();
    assert!(fields.data.iter().any(|f| f.key == "lifetime_value"));
    let err = c
        .create_custom_field()
        .body_map(|b| {
            b.key("lifetime_value")
                .label("Again")
                .type_(CustomFieldType::Text)
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(422));

    let mut values = serde_json::Map::new();
    values.insert("lifetime_value".into(), 1250.5.into());
    let contact = c
        .create_contact()
        .body_map(|b| {
            b.first_name("Grace")
                .last_name("Hopper")
                .email("grace.hopper@example.com")
                .phone("+14155550123")
                .custom_fields(values)
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(contact.custom_fields["lifetime_value"], 1250.5);

    let tagged = c
        .add_contact_tags()
        .contact_id(&contact.id)
        .body_map(|b| b.tags(vec!["scenario".to_string(), "vip".to_string()]))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert!(
        tagged.tags.contains(&"scenario".to_string()) && tagged.tags.contains(&"vip".to_string())
    );
    let by_tag: Vec<Contact> = c
        .list_contacts()
        .tag("scenario")
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        by_tag.iter().map(|x| &x.id).collect::<Vec<_>>(),
        vec![&contact.id]
    );
    let by_q = c.list_contacts().q("hopper").send().await.unwrap();
    assert!(by_q.data.iter().any(|x| x.id == contact.id));
    let by_email = c
        .list_contacts()
        .email("grace.hopper@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(by_email.meta.total, 1);
    let by_phone = c
        .list_contacts()
        .phone("+14155550123")
        .send()
        .await
        .unwrap();
    assert!(by_phone.data.iter().any(|x| x.id == contact.id));

    let removed = c
        .remove_contact_tag()
        .contact_id(&contact.id)
        .tag("vip")
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status().as_u16(), 204);
    let now = c
        .get_contact()
        .contact_id(&contact.id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(now.tags, vec!["scenario".to_string()]);

    let updated = c
        .update_contact()
        .contact_id(&contact.id)
        .body_map(|b| b.first_name("Amazing Grace"))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(updated.first_name, "Amazing Grace");
    assert_eq!(updated.email.as_deref(), Some("grace.hopper@example.com"));

    // 422 with its field: a text value for a number field.
    let mut wrong = serde_json::Map::new();
    wrong.insert("lifetime_value".into(), "a lot".into());
    let err = c
        .update_contact()
        .contact_id(&contact.id)
        .body_map(|b| b.custom_fields(wrong))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("invalid_custom_field"));
    assert_eq!(
        err.api().and_then(|a| a.field.as_deref()),
        Some("custom_fields.lifetime_value")
    );

    // Interactions of a contact that has conversations, newest first.
    let someone = c.list_conversations().per_page(100).send().await.unwrap();
    let contact_id = someone
        .data
        .iter()
        .find_map(|x| x.contact_id.clone())
        .expect("a conversation with a contact");
    let history: Vec<Interaction> = c
        .list_contact_interactions()
        .contact_id(&contact_id)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert!(!history.is_empty());
    assert!(
        history
            .windows(2)
            .all(|w| w[0].occurred_at >= w[1].occurred_at)
    );

    let deleted = c
        .delete_contact()
        .contact_id(&contact.id)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
    assert!(
        c.get_contact()
            .contact_id(&contact.id)
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );
}
