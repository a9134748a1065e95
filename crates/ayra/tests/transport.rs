//! Transport rules: credentials never follow a redirect to another host,
//! `connect_timeout` bounds connecting, TLS is rustls with no OpenSSL, and
//! requests go where the base URL says, with the headers the API requires.

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

/// The default build links rustls only: no OpenSSL, no native TLS, in the
/// dependencies a user of `ayra` compiles (as `cargo tree` resolves them).
#[test]
fn the_default_build_links_no_openssl() {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["tree", "-p", "ayra", "-e", "normal", "--prefix", "none"])
        .args(["--format", "{p}"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        names.contains(&"rustls"),
        "rustls is the TLS stack: {names:?}"
    );
    for banned in [
        "openssl",
        "openssl-sys",
        "native-tls",
        "hyper-tls",
        "tokio-native-tls",
    ] {
        assert!(!names.contains(&banned), "{banned} is linked");
    }
}

/// `connect_timeout` bounds connecting: a listener whose backlog is full
/// never completes the handshake, and the call ends with a timeout, not a hang.
#[tokio::test]
async fn connect_timeout_bounds_a_connection_that_never_completes() {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    // Fill the accept queue (never accepted) until a handshake stalls.
    let mut held = Vec::new();
    let mut full = false;
    for _ in 0..64 {
        let connect = tokio::net::TcpStream::connect(addr);
        match tokio::time::timeout(std::time::Duration::from_millis(500), connect).await {
            Ok(Ok(stream)) => held.push(stream),
            _ => {
                full = true;
                break;
            }
        }
    }
    assert!(full, "the backlog filled");
    let client = ayra::Client::builder()
        .api_key(KEY)
        .base_url(format!("http://{addr}/v1"))
        .connect_timeout(std::time::Duration::from_millis(200))
        .timeout(std::time::Duration::from_secs(60))
        .retry(ayra::RetryPolicy::none())
        .build()
        .unwrap();
    // The guard is 25 times the setting and half the 10 s default: only the
    // setting (not the default, nor the 60 s request timeout) ends the call in time.
    let guard = ayra::DEFAULT_CONNECT_TIMEOUT / 2;
    let call = client.get_agent().agent_id("agt_1").send();
    let result = tokio::time::timeout(guard, call)
        .await
        .expect("the connect_timeout set, not a default, ends the call");
    let err = result.unwrap_err();
    assert!(matches!(err, ayra::Error::Timeout { .. }), "{err:?}");
    drop(held);
}

/// Each request goes to the operation's path under the base URL's path,
/// whatever slash ends the base URL, with its path values encoded and its
/// query kept, and carries the spec's `api-version` and `accept`.
#[tokio::test]
async fn requests_go_to_the_path_under_the_base_url_with_the_api_version() {
    let server = Server::start(|r, i| {
        if r.target.contains("/contacts") {
            Reply::Json(200, list_page(i))
        } else {
            Reply::Json(200, ok(agent("agt_1", "active"), i))
        }
    })
    .await;
    let root = server.url.trim_end_matches("/v1").to_string();
    for (base, stem) in [
        (server.url.clone(), "/v1"),
        (format!("{}/", server.url), "/v1"),
        (root.clone(), ""),
        (format!("{root}/"), ""),
    ] {
        let client = ayra::Client::builder()
            .api_key(KEY)
            .base_url(&base)
            .build()
            .unwrap();
        client.get_agent().agent_id("a b/c").send().await.unwrap();
        client.list_contacts().tag("vip").send().await.unwrap();
        let recorded = server.recorded();
        let [.., get, list] = &recorded[..] else {
            panic!("two requests expected");
        };
        assert_eq!(
            get.target,
            format!("{stem}/agents/a%20b%2Fc"),
            "base {base}"
        );
        assert_eq!(
            list.target,
            format!("{stem}/contacts?tag=vip"),
            "base {base}"
        );
        for request in [get, list] {
            assert_eq!(request.header("api-version"), Some("1.0.0"));
            assert_eq!(request.header("accept"), Some("application/json"));
        }
    }
}

fn list_page(i: usize) -> String {
    serde_json::json!({
        "data": [],
        "meta": {
            "page": 1, "per_page": 20, "total": 0, "total_pages": 0,
            "request_id": format!("req_test_{i}"), "timestamp": "2026-01-01T00:00:00Z"
        },
        "links": {"first": "/contacts?page=1", "last": "/contacts?page=1", "next": null, "prev": null}
    })
    .to_string()
}
