//! The generator on mutated specs: an error that names the place, never a
//! panic. Mutations are drawn by proptest from the valid fixture.

use proptest::prelude::*;
use serde_json::Value;

fn valid() -> Value {
    let text = include_str!("fixtures/valid.yaml");
    ayra_gen::parse("valid.yaml", text).unwrap().raw
}

/// Every JSON pointer in `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                pointers(
                    child,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn replacement() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::from),
        "[a-z#/{}$]{0,12}".prop_map(Value::from),
        Just(serde_json::json!({})),
        Just(serde_json::json!([])),
        Just(serde_json::json!({"$ref": "#/components/schemas/Nope"})),
        Just(serde_json::json!({"type": "string", "enum": []})),
        Just(serde_json::json!({"type": "object", "additionalProperties": false})),
    ]
}

fn generate(text: &str) -> Result<ayra_gen::Generated, ayra_gen::Failure> {
    let spec = ayra_gen::parse("mutated.yaml", text)?;
    ayra_gen::check(&spec)?;
    ayra_gen::emit(&spec, &Default::default())
}

/// Cases per property: `AYRA_FUZZ_CASES` (set by `cargo xtask fuzz`) or the CI default.
fn cases(default: u32) -> u32 {
    std::env::var("AYRA_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(300)))]

    #[test]
    fn replacing_any_node_never_panics(pick in any::<prop::sample::Index>(), value in replacement()) {
        let mut spec = valid();
        let mut all = Vec::new();
        pointers(&spec, String::new(), &mut all);
        let target = pick.get(&all[1..]).clone();
        *spec.pointer_mut(&target).unwrap() = value;
        let text = serde_json::to_string_pretty(&spec).unwrap();
        if let Err(failure) = generate(&text) {
            let message = failure.to_string();
            prop_assert!(message.starts_with("mutated.yaml"), "{message}");
            for problem in failure.problems() {
                prop_assert!(problem.pointer.is_empty() || problem.pointer.starts_with('/'), "{problem}");
            }
        }
    }

    #[test]
    fn damaged_text_never_panics(cut in 0usize..6000, flip in 0usize..6000, byte in any::<u8>()) {
        let mut text = include_str!("fixtures/valid.yaml").as_bytes().to_vec();
        let flip = flip % text.len();
        text[flip] = byte;
        text.truncate(cut.max(1).min(text.len()));
        let text = String::from_utf8_lossy(&text);
        if let Err(ayra_gen::Failure::Syntax { line, .. }) = generate(&text) {
            prop_assert!(line >= 1);
        }
    }
}
