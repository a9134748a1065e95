//! `cargo xtask <task>`: the project's chores, in Rust so they run anywhere
//! cargo does (the alias lives in `.cargo/config.toml`).
//!
//! - `regen`: regenerate the client: write `crates/ayra/src/generated.rs`
//!   (the code the `ayra` crate compiles) and the CLI's command table
//!   `crates/ayra-cli/src/generated.rs`, and accept the new snapshots of them.
//! - `check`: fail, naming the stale files, if the committed client or the
//!   snapshot is not what the spec generates today, or the spec breaks a
//!   convention.
//! - `lint`: the spec's convention checks alone (fast).
//! - `bench`: the SDK against raw reqwest (see BENCHMARKS.md).
//! - `soak`: the fault soak at 20 times its CI size, in release mode.
//! - `fuzz`: the hostile-input properties (responses, path values, specs,
//!   sandbox requests) with 20,000 cases each from a fresh seed, and the
//!   scenarios and the sandbox's dated tests at an instant drawn from it; a failure prints the seed that
//!   replays it (`AYRA_FUZZ_SEED`).
//! - `build-cost [RUNS]`: a service's cold build with the packaged `ayra`
//!   against the same program on reqwest (CPU seconds, see BENCHMARKS.md).

mod build_cost;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

const SNAPSHOTS: &str = "crates/ayra-gen/tests/snapshots";
/// The generated client, committed so that users of `ayra` compile no generator.
const GENERATED: &str = "crates/ayra/src/generated.rs";
/// The command table of the `ayra` CLI, committed beside the CLI's code.
const GENERATED_CLI: &str = "crates/ayra-cli/src/generated.rs";

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let root = root();
    let result = match task.as_str() {
        "regen" => regen(&root),
        "check" => lint(&root).and_then(|()| check(&root)),
        "lint" => lint(&root),
        "bench" => cargo(
            &root,
            &[
                "build",
                "--release",
                "-p",
                "ayra-sandbox",
                "--bin",
                "ayra-sandbox",
            ],
            &[],
        )
        .and_then(|()| cargo(&root, &["bench", "-p", "ayra", "--bench", "sdk"], &[])),
        "soak" => cargo(
            &root,
            &[
                "test",
                "--release",
                "-p",
                "ayra",
                "--test",
                "soak",
                "--",
                "--nocapture",
            ],
            &[("AYRA_SOAK_SCALE", "20")],
        ),
        "fuzz" => fuzz(&root),
        "build-cost" => {
            let runs = std::env::args()
                .nth(2)
                .and_then(|n| n.parse().ok())
                .unwrap_or(3);
            build_cost::run(&root, runs)
        }
        _ => {
            eprintln!("usage: cargo xtask <regen|check|lint|bench|soak|fuzz|build-cost [RUNS]>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask {task}: {message}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn spec(root: &Path) -> PathBuf {
    root.join("spec/ayra.yaml")
}

/// Loads and checks the spec; prints every problem.
fn lint(root: &Path) -> Result<(), String> {
    let started = Instant::now();
    let spec = ayra_gen::load(&spec(root)).map_err(|f| f.to_string())?;
    ayra_gen::check(&spec).map_err(|f| f.to_string())?;
    println!(
        "spec/ayra.yaml: {} operations follow the conventions ({:.0?})",
        spec.api.operations().count(),
        started.elapsed()
    );
    Ok(())
}

/// Regenerates: writes the committed client, then the snapshot (through
/// insta, like the test does).
fn regen(root: &Path) -> Result<(), String> {
    let started = Instant::now();
    let code = generate(root)?;
    println!(
        "generated {} lines in {:.0?} (generation only, no compilation)",
        code.lines().count(),
        started.elapsed()
    );
    for (file, code) in [(GENERATED, code), (GENERATED_CLI, generate_cli(root)?)] {
        let path = root.join(file);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(code.as_str()) {
            std::fs::write(&path, &code).map_err(|e| format!("cannot write {file}: {e}"))?;
        }
    }
    snapshot_tests(root, "always")?;
    println!(
        "{GENERATED}, {GENERATED_CLI} and the snapshots under {SNAPSHOTS} updated: review them with `git diff`"
    );
    Ok(())
}

fn generate(root: &Path) -> Result<String, String> {
    ayra_gen::generate(&spec(root), &ayra_gen::Settings::default())
        .map(|generated| generated.code)
        .map_err(|f| f.to_string())
}

/// The CLI's command table (`ayra_gen::emit_cli`).
fn generate_cli(root: &Path) -> Result<String, String> {
    let spec = ayra_gen::load(&spec(root)).map_err(|f| f.to_string())?;
    ayra_gen::emit_cli(&spec).map_err(|f| f.to_string())
}

/// Compares the committed client with what the spec generates, and runs the
/// snapshot tests without accepting anything (a mismatch leaves a `.snap.new`
/// beside the stale snapshot, which names it).
fn check(root: &Path) -> Result<(), String> {
    let mut stale = Vec::new();
    if std::fs::read_to_string(root.join(GENERATED)).ok() != Some(generate(root)?) {
        stale.push(PathBuf::from(GENERATED));
    }
    if std::fs::read_to_string(root.join(GENERATED_CLI)).ok() != Some(generate_cli(root)?) {
        stale.push(PathBuf::from(GENERATED_CLI));
    }
    let dir = root.join(SNAPSHOTS);
    remove_pending(&dir);
    let status = snapshot_tests(root, "new");
    stale.extend(
        remove_pending(&dir)
            .into_iter()
            .map(|p| p.strip_prefix(root).map(Path::to_path_buf).unwrap_or(p)),
    );
    if !stale.is_empty() {
        let list: Vec<String> = stale.iter().map(|p| format!("  {}", p.display())).collect();
        return Err(format!(
            "these files do not match what the spec generates today:\n{}\nrun `cargo xtask regen` and review the diff",
            list.join("\n")
        ));
    }
    status?;
    println!("{GENERATED}, {GENERATED_CLI} and the snapshots match the spec");
    Ok(())
}

fn snapshot_tests(root: &Path, mode: &str) -> Result<(), String> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args([
            "test",
            "--quiet",
            "-p",
            "ayra-gen",
            "--test",
            "generated",
            "--test",
            "checks",
        ])
        .env("INSTA_UPDATE", mode)
        .env("INSTA_FORCE_PASS", if mode == "always" { "1" } else { "0" })
        .env_remove("CI")
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("the snapshot tests failed".to_string())
    }
}

/// Runs cargo with `args` and extra environment in the workspace root.
/// Explores the hostile-input properties from a fresh seed (`cargo test`
/// always draws the same cases): `AYRA_FUZZ_SEED` and `AYRA_FUZZ_CASES`
/// replay a run. On a failure, prints how to replay it and keep the case.
fn fuzz(root: &Path) -> Result<(), String> {
    use std::hash::BuildHasher;
    let seed = std::env::var("AYRA_FUZZ_SEED").unwrap_or_else(|_| {
        // A randomly keyed hasher: a new seed on every run, without a dependency.
        let seed =
            std::collections::hash_map::RandomState::new().hash_one(std::time::SystemTime::now());
        seed.to_string()
    });
    let cases = std::env::var("AYRA_FUZZ_CASES").unwrap_or_else(|_| "20000".to_string());
    println!("fuzz: AYRA_FUZZ_SEED={seed} AYRA_FUZZ_CASES={cases}");
    let now = std::env::var("AYRA_TEST_NOW").unwrap_or_else(|_| scenario_now(&seed));
    println!("fuzz: AYRA_TEST_NOW={now} (the test sandboxes' clocks start then)");
    let args = [
        "test",
        "--release",
        "--no-fail-fast",
        "-p",
        "ayra",
        "--test",
        "hostile_responses",
        "--test",
        "path_values",
        "-p",
        "ayra-gen",
        "--test",
        "hostile_specs",
        "-p",
        "ayra-sandbox",
        "--test",
        "hostile_requests",
        "--test",
        "calendars",
        "--test",
        "concurrency",
        "--test",
        "conversations",
        "-p",
        "ayra-scenarios",
        "--test",
        "scenarios",
    ];
    let env = [
        ("AYRA_FUZZ_SEED", seed.as_str()),
        ("AYRA_FUZZ_CASES", cases.as_str()),
        ("AYRA_TEST_NOW", now.as_str()),
    ];
    cargo(root, &args, &env).map_err(|e| {
        format!(
            "{e}\n\
             replay it: AYRA_FUZZ_SEED={seed} AYRA_FUZZ_CASES={cases} AYRA_TEST_NOW={now} cargo xtask fuzz\n\
             keep it: commit the `.proptest-regressions` file proptest wrote beside the failing \
             test (`git status`), and add the minimal failing input as a named regression test; \
             a test that fails only at AYRA_TEST_NOW={now} is kept by making that \
             instant the `START` of its sandboxes (`ayra_scenarios::START`, the sandbox tests' \
             `common::START`)"
        )
    })
}

/// An instant between 2024 and 2036 drawn from `seed`, to the minute: the
/// test sandboxes start at a fixed instant in `cargo test`, and at this one here, so
/// that a dependence on the day or hour (a weekend, a late afternoon, a
/// daylight-saving change) shows up.
fn scenario_now(seed: &str) -> String {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    let drawn = BuildHasherDefault::<DefaultHasher>::default().hash_one(seed);
    let from = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z").expect("a date");
    let minutes = drawn % (12 * 366 * 24 * 60);
    (from + chrono::Duration::minutes(minutes as i64))
        .to_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn cargo(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args(args)
        .envs(env.iter().copied())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} failed", args.join(" ")))
    }
}

/// Deletes pending `.snap.new` files and returns the snapshots they stand for.
fn remove_pending(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut stale = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "new") {
            let _ = std::fs::remove_file(&path);
            stale.push(path.with_extension(""));
        }
    }
    stale.sort();
    stale
}
