//! Each convention check fires on a small broken spec, and its message names
//! the place (operation and JSON pointer) and the fix. The messages are
//! snapshots: a change in wording shows up in review.

use std::path::Path;

fn failure(fixture: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture);
    let failure = ayra_gen::generate(&path, &ayra_gen::Settings::default())
        .expect_err("a broken spec must not generate");
    // Only the file name: the snapshot must not depend on the checkout path.
    failure
        .to_string()
        .replace(&path.display().to_string(), fixture)
}

#[test]
fn the_valid_fixture_generates_a_client() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid.yaml");
    let generated = ayra_gen::generate(&path, &ayra_gen::Settings::default()).unwrap();
    let ids: Vec<&str> = generated.operations.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "list_agents",
            "create_agent",
            "delete_agent",
            "get_recording"
        ]
    );
    let list = &generated.operations[0];
    assert_eq!(list.list, Some(("AgentList".into(), "Agent".into())));
    assert!(generated.operations[1].idempotency_key);
    assert!(generated.operations[3].streaming);
    assert!(generated.code.contains("Unknown(::std::string::String)"));
}

#[test]
fn an_operation_without_id_tag_or_summary() {
    insta::assert_snapshot!(failure("missing_operation_id.yaml"));
}

#[test]
fn a_list_without_pagination_or_list_envelope() {
    insta::assert_snapshot!(failure("list_without_pagination.yaml"));
}

#[test]
fn a_write_without_idempotency_key() {
    insta::assert_snapshot!(failure("write_without_idempotency_key.yaml"));
}

#[test]
fn an_operation_without_the_standard_errors() {
    insta::assert_snapshot!(failure("missing_error_responses.yaml"));
}

#[test]
fn errors_an_operation_cannot_return_or_does_not_list() {
    insta::assert_snapshot!(failure("undeclared_errors.yaml"));
}

#[test]
fn response_headers_the_server_sends_but_the_spec_omits() {
    insta::assert_snapshot!(failure("missing_headers.yaml"));
}

#[test]
fn an_enum_without_its_extension_policy() {
    insta::assert_snapshot!(failure("enum_without_policy.yaml"));
}

#[test]
fn only_enums_marked_extensible_are_opened() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let enum_body = |text: &str| {
        let spec = ayra_gen::parse("valid.yaml", text).unwrap();
        ayra_gen::check(&spec).unwrap();
        let code = ayra_gen::emit(&spec, &Default::default()).unwrap().code;
        let start = code.find("pub enum AgentStatus {").expect("AgentStatus");
        let end = start + code[start..].find('}').unwrap();
        code[start..end].to_string()
    };
    assert!(enum_body(&text).contains("Unknown("));
    let closed = text.replace(
        "x-ayra-extensible: true\n      enum: [active",
        "x-ayra-extensible: false\n      enum: [active",
    );
    assert_ne!(closed, text);
    assert!(!enum_body(&closed).contains("Unknown("));
}

#[test]
fn a_ref_to_nothing() {
    insta::assert_snapshot!(failure("dangling_ref.yaml"));
}

#[test]
fn a_closed_object() {
    insta::assert_snapshot!(failure("closed_object.yaml"));
}

#[test]
fn a_yaml_syntax_error_gives_line_and_column() {
    insta::assert_snapshot!(failure("syntax_error.yaml"));
}

#[test]
fn a_document_that_is_not_openapi() {
    insta::assert_snapshot!(failure("not_openapi.yaml"));
}

#[test]
fn a_swagger_2_document() {
    insta::assert_snapshot!(failure("swagger2.yaml"));
}

#[test]
fn a_missing_file() {
    let failure = ayra_gen::generate(Path::new("no/such/spec.yaml"), &Default::default())
        .expect_err("no file");
    assert!(
        failure
            .to_string()
            .starts_with("no/such/spec.yaml: cannot read")
    );
}

#[test]
fn an_event_stream_described_as_an_object() {
    insta::assert_snapshot!(failure("event_stream_as_object.yaml"));
}

#[test]
fn a_path_key_that_is_not_a_path_template() {
    insta::assert_snapshot!(failure("path_not_a_template.yaml"));
}

#[test]
fn path_parameters_that_do_not_match_the_path() {
    insta::assert_snapshot!(failure("path_parameters_mismatch.yaml"));
}

/// The check after generation, reached without the checks before it: the
/// operations under `$agents`, which progenitor skips without a word, fail
/// generation, each named.
#[test]
fn an_operation_without_a_client_method_fails_generation() {
    let text = include_str!("fixtures/valid.yaml").replace("\n  /agents:\n", "\n  $agents:\n");
    let spec = ayra_gen::parse("dollar_agents.yaml", &text).unwrap();
    let failure = ayra_gen::emit(&spec, &Default::default())
        .expect_err("a client without list_agents and create_agent");
    insta::assert_snapshot!(failure.to_string());
}
