//! Transport rules: credentials never follow a redirect to another host.

mod support;
use support::{KEY, Reply, Server, agent, ok};

#[tokio::test]
async fn a_redirect_to_another_host_does_not_carry_the_key() {
    let elsewhere = Server::start(|_, i| Reply::Json(200, ok(agent("agt_1", "active"), i))).await;
    // Same machine, other host name and port: a different origin for reqwest.
    let target = elsewhere.url.replace("127.0.0.1", "localhost");
    let origin = Server::start(move |r, _| {
        Reply::With(
            307,
            vec![(
                "location",
                format!("{target}{}", r.target.trim_start_matches("/v1")),
            )],
            String::new(),
        )
    })
    .await;
    let client = origin.client().build().unwrap();
    let agent = client.get_agent().agent_id("agt_1").send().await.unwrap();
    assert_eq!(agent.data.id, "agt_1", "the redirect was followed");
    assert_eq!(
        origin.recorded()[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    let followed = &elsewhere.recorded()[0];
    assert_eq!(
        followed.header("authorization"),
        None,
        "the key stayed behind"
    );
}

#[tokio::test]
async fn requests_carry_a_user_agent_naming_the_sdk() {
    let server = Server::start(|_, i| Reply::Json(200, ok(agent("agt_1", "active"), i))).await;
    server
        .client()
        .build()
        .unwrap()
        .get_agent()
        .agent_id("agt_1")
        .send()
        .await
        .unwrap();
    let ua = server.recorded()[0]
        .header("user-agent")
        .unwrap()
        .to_string();
    assert_eq!(ua, format!("ayra-rust/{}", env!("CARGO_PKG_VERSION")));
}
