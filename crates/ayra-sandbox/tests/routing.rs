//! Routing takes paths literally: a trailing slash is not the resource
//! without it, so a client whose path value resolved away (a tag of `..`)
//! cannot reach another resource through the sandbox.

mod common;

use common::Env;
use serde_json::json;

#[tokio::test]
async fn a_trailing_slash_names_no_resource() {
    let env = Env::new().await;
    let created = env
        .post(
            "/contacts",
            &json!({"first_name": "Ada", "phone": "+33612345678"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.data()["id"].as_str().unwrap().to_string();

    let deleted = env.delete(&format!("/contacts/{id}/")).await;
    deleted.assert_error(404, "route_not_found", None);
    // An empty tag is a tag of length 0, refused as such.
    let deleted = env.delete(&format!("/contacts/{id}/tags/")).await;
    deleted.assert_error(400, "invalid_parameter", Some("tag"));
    assert_eq!(env.get(&format!("/contacts/{id}/")).await.status, 404);
    assert_eq!(env.get(&format!("/contacts/{id}")).await.status, 200);
}
