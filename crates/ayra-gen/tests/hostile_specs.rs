//! The generator on mutated specs: an error that names the file and the
//! place (a JSON pointer, or a line and column), or a client that parses and
//! whose operation table matches the spec; never a panic. Mutations are drawn
//! by proptest from the valid fixture.

use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use serde_json::Value;
use syn::visit_mut::VisitMut;

const FIXTURE: &str = include_str!("fixtures/valid.yaml");

fn valid() -> Value {
    ayra_gen::parse("valid.yaml", FIXTURE).unwrap().raw
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

/// Whether generation produced a client or an error.
#[derive(Debug, PartialEq)]
enum Outcome {
    Client,
    Error,
}

/// Generates from `text` and checks what came out: a failure names the file
/// and the place; a client parses as Rust and its operation table is the spec's.
fn generate_and_check(text: &str) -> Result<Outcome, TestCaseError> {
    match generate(text) {
        Ok(generated) => {
            let spec = ayra_gen::parse("mutated.yaml", text).expect("generated, so it parsed");
            check_client(&spec.raw, &generated)?;
            Ok(Outcome::Client)
        }
        Err(failure) => {
            check_failure(&failure)?;
            Ok(Outcome::Error)
        }
    }
}

fn check_failure(failure: &ayra_gen::Failure) -> Result<(), TestCaseError> {
    let message = failure.to_string();
    prop_assert!(message.starts_with("mutated.yaml"), "{message}");
    match failure {
        ayra_gen::Failure::Syntax { line, column, .. } => {
            prop_assert!(*line >= 1 && *column >= 1, "{message}");
            let place = format!("mutated.yaml:{line}:{column}: ");
            prop_assert!(message.starts_with(&place), "{message}");
        }
        ayra_gen::Failure::Invalid { problems, .. } => {
            prop_assert!(!problems.is_empty(), "{message}");
            for problem in problems {
                prop_assert!(
                    problem.pointer.len() > 1 && problem.pointer.starts_with('/'),
                    "a problem without a place: {problem}"
                );
                prop_assert!(!problem.message.is_empty(), "{problem}");
            }
        }
        ayra_gen::Failure::Generator { message: m, .. } => {
            prop_assert!(!m.trim().is_empty(), "{message}");
        }
        ayra_gen::Failure::Read { .. } => prop_assert!(false, "nothing is read: {message}"),
    }
    Ok(())
}

/// The functions a file defines and the `OPERATIONS` table's length and uses.
#[derive(Default)]
struct Tables {
    functions: Vec<String>,
    operations_len: Option<usize>,
    indexes: Vec<usize>,
}

impl VisitMut for Tables {
    fn visit_impl_item_fn_mut(&mut self, f: &mut syn::ImplItemFn) {
        self.functions.push(f.sig.ident.to_string());
        syn::visit_mut::visit_impl_item_fn_mut(self, f);
    }

    fn visit_item_const_mut(&mut self, c: &mut syn::ItemConst) {
        if c.ident == "OPERATIONS"
            && let syn::Expr::Reference(r) = &*c.expr
            && let syn::Expr::Array(a) = &*r.expr
        {
            self.operations_len = Some(a.elems.len());
        }
        syn::visit_mut::visit_item_const_mut(self, c);
    }

    fn visit_expr_index_mut(&mut self, e: &mut syn::ExprIndex) {
        if let syn::Expr::Path(p) = &*e.expr
            && p.path
                .segments
                .last()
                .is_some_and(|s| s.ident == "OPERATIONS")
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(i),
                ..
            }) = &*e.index
        {
            self.indexes.push(i.base10_parse().expect("an index"));
        }
        syn::visit_mut::visit_expr_index_mut(self, e);
    }
}

/// The keys of a path item that are operations.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The generated code parses; every operation of the spec is in the table
/// once, with its method and path, and has a client method; every use of the
/// table is in bounds.
fn check_client(raw: &Value, generated: &ayra_gen::Generated) -> Result<(), TestCaseError> {
    prop_assert!(!generated.code.trim().is_empty());
    let mut file = syn::parse_file(&generated.code)
        .map_err(|e| TestCaseError::fail(format!("the generated code does not parse: {e}")))?;
    let mut tables = Tables::default();
    tables.visit_file_mut(&mut file);

    let mut in_spec = Vec::new();
    for (path, item) in raw["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                in_spec.push((id.to_string(), method.to_uppercase(), path.clone()));
            }
        }
    }
    let mut generated_ops: Vec<(String, String, String)> = generated
        .operations
        .iter()
        .map(|o| (o.id.clone(), o.method.to_uppercase(), o.path.clone()))
        .collect();
    in_spec.sort();
    generated_ops.sort();
    prop_assert_eq!(
        &generated_ops,
        &in_spec,
        "the table is the spec's operations"
    );
    let len = generated.operations.len();
    prop_assert_eq!(
        tables.operations_len,
        Some(len),
        "OPERATIONS holds every operation"
    );
    prop_assert!(
        tables.indexes.iter().all(|i| *i < len),
        "an OPERATIONS index out of bounds: {:?}",
        tables.indexes
    );
    for (id, _, _) in &in_spec {
        prop_assert!(tables.functions.contains(id), "no client method for {}", id);
    }
    Ok(())
}

/// The seed of `cargo test`'s cases.
const SEED: u64 = 0x5eed_0019_a7a5_0001;

/// The properties' configuration. `cargo test` draws `default_cases` cases
/// from a fixed seed, so that a commit passes or fails the same way on every
/// run and machine; `cargo xtask fuzz` explores with `AYRA_FUZZ_CASES` cases
/// from a fresh `AYRA_FUZZ_SEED`, which it prints to replay a failure. A
/// failure's case is saved beside this file (`.proptest-regressions`) and
/// replayed first on every run: commit it.
fn config(default_cases: u32) -> ProptestConfig {
    fn var<T: std::str::FromStr>(name: &str) -> Option<T> {
        std::env::var(name).ok()?.parse().ok()
    }
    ProptestConfig {
        cases: var("AYRA_FUZZ_CASES").unwrap_or(default_cases),
        rng_seed: proptest::test_runner::RngSeed::Fixed(var("AYRA_FUZZ_SEED").unwrap_or(SEED)),
        source_file: Some(file!()),
        ..ProptestConfig::default()
    }
}

/// Runs `strategy` through `property`; each outcome must occur at least once,
/// so that a property whose inputs never reach generation (or never fail it)
/// is caught.
fn run_expecting_both<S: Strategy>(
    default_cases: u32,
    strategy: S,
    property: impl Fn(S::Value) -> Result<Outcome, TestCaseError>,
) {
    let seen = std::sync::Mutex::new((0u32, 0u32));
    let mut runner = TestRunner::new(config(default_cases));
    runner
        .run(&strategy, |value| {
            let outcome = property(value)?;
            let mut seen = seen.lock().unwrap();
            match outcome {
                Outcome::Client => seen.0 += 1,
                Outcome::Error => seen.1 += 1,
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let (clients, errors) = *seen.lock().unwrap();
    println!("{clients} clients generated, {errors} placed errors");
    assert!(clients > 0, "no case generated a client ({errors} errors)");
    assert!(errors > 0, "no case failed ({clients} clients)");
}

#[test]
fn replacing_any_node_gives_a_client_or_a_placed_error() {
    let all = {
        let mut all = Vec::new();
        pointers(&valid(), String::new(), &mut all);
        all
    };
    let strategy = (any::<prop::sample::Index>(), replacement());
    run_expecting_both(300, strategy, |(pick, value)| {
        let mut spec = valid();
        let target = pick.get(&all[1..]);
        *spec.pointer_mut(target).unwrap() = value;
        generate_and_check(&serde_json::to_string_pretty(&spec).unwrap())
    });
}

#[test]
fn a_flipped_byte_gives_a_client_or_a_placed_error() {
    // The length is kept, so the whole document is still there to generate from.
    let strategy = (any::<prop::sample::Index>(), any::<u8>());
    run_expecting_both(150, strategy, |(at, byte)| {
        let mut text = FIXTURE.as_bytes().to_vec();
        let at = at.index(text.len());
        text[at] = byte;
        generate_and_check(&String::from_utf8_lossy(&text))
    });
}

proptest! {
    #![proptest_config(config(150))]

    #[test]
    fn a_cut_document_gives_a_client_or_a_placed_error(cut in any::<prop::sample::Index>()) {
        let cut = cut.index(FIXTURE.len());
        let text = String::from_utf8_lossy(&FIXTURE.as_bytes()[..cut]);
        generate_and_check(&text)?;
    }
}

// Cases the properties found, kept as named tests: they hold whatever the
// strategies become.

/// Issue 19: the `/` of `paths: /agents:` flipped to `$` gave a client without
/// `list_agents` and `create_agent`, and no error.
#[test]
fn regression_a_path_key_without_its_slash_is_a_placed_error() {
    let at = FIXTURE.find("\n  /agents:\n").expect("the /agents key") + 3;
    let mut text = FIXTURE.as_bytes().to_vec();
    text[at] = b'$';
    let text = String::from_utf8(text).unwrap();
    assert_eq!(generate_and_check(&text).unwrap(), Outcome::Error);
    let failure = generate(&text).unwrap_err();
    assert_eq!(failure.problems()[0].pointer, "/paths/$agents", "{failure}");
}
