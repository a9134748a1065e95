//! Transport rules: credentials never follow a redirect to another host,
//! `connect_timeout` bounds connecting, and TLS is rustls with no OpenSSL.

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
