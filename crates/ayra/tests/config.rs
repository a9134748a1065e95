//! Building a client: from the environment, by hand, and what is refused.
//! One test binary of its own, because it sets process environment variables.

mod support;

#[test]
fn the_environment_and_the_defaults() {
    // SAFETY: no other test of this binary reads or writes the environment.
    unsafe {
        std::env::remove_var("AYRA_API_KEY");
        std::env::remove_var("AYRA_BASE_URL");
    }
    let err = ayra::Client::from_env().unwrap_err();
    assert!(matches!(err, ayra::Error::Config(_)), "{err:?}");
    assert!(err.to_string().contains("AYRA_API_KEY"));

    unsafe { std::env::set_var("AYRA_API_KEY", support::KEY) };
    let client = ayra::Client::from_env().unwrap();
    assert_eq!(client.base_url(), "https://api.ayra.ai/v1", "production");

    // Set but empty is unset, as shells and CI templates produce it.
    unsafe { std::env::set_var("AYRA_BASE_URL", "") };
    assert_eq!(
        ayra::Client::from_env().unwrap().base_url(),
        "https://api.ayra.ai/v1"
    );
    unsafe { std::env::set_var("AYRA_BASE_URL", "http://127.0.0.1:8080/v1/") };
    assert_eq!(
        ayra::Client::from_env().unwrap().base_url(),
        "http://127.0.0.1:8080/v1"
    );
    unsafe { std::env::set_var("AYRA_BASE_URL", "https://api.ayra.ai/v1?debug=1") };
    assert!(matches!(
        ayra::Client::from_env(),
        Err(ayra::Error::Config(_))
    ));

    let client = ayra::Client::new(support::KEY).unwrap();
    assert_eq!(client.base_url(), ayra::Environment::Production.base_url());
    assert!(!format!("{client:?}").contains(support::KEY));
}

/// A transport error's `Debug` (what `?` in `main` and `{:?}` logs print)
/// carries no query string: those hold emails and phone numbers.
#[tokio::test]
async fn errors_do_not_print_query_values() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    drop(listener);
    let client = ayra::Client::builder()
        .api_key(support::KEY)
        .base_url(url)
        .retry(ayra::RetryPolicy::none())
        .build()
        .unwrap();
    let err = client
        .list_contacts()
        .q("ada@example.com")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, ayra::Error::Transport { .. }), "{err:?}");
    for text in [format!("{err:?}"), err.to_string()] {
        assert!(!text.contains("ada"), "{text}");
        assert!(!text.contains(support::KEY), "{text}");
    }
    assert!(format!("{err:?}").contains("/v1/contacts"));
}
