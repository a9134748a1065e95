//! `cargo xtask build-cost [RUNS]`: what depending on the packaged `ayra`
//! costs a service's cold build, against the same one-call program written on
//! reqwest + serde + serde_json + tokio (BENCHMARKS.md, "Build cost").
//!
//! Packages `ayra` as crates.io would get it, writes both programs to a
//! temporary directory, and builds each RUNS times (default 3) in a fresh
//! target directory under `/usr/bin/time` (Linux): CPU seconds (user + sys)
//! are what is compared, since wall time depends on the machine's load.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The raw program's dependencies: reqwest with the SDK's features (the same TLS).
const RAW_DEPENDENCIES: &str = r#"reqwest = { version = "0.13", default-features = false, features = ["json", "query", "stream", "rustls", "http2"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
"#;

fn manifest(name: &str, dependencies: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [dependencies]\n{dependencies}tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n\n\
         [workspace]\n"
    )
}

const RAW_MAIN: &str = r#"use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Agent { id: String, name: String }

#[derive(Debug, Deserialize)]
struct Envelope { data: Agent }

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = std::env::var("AYRA_API_KEY")?;
    let base = std::env::var("AYRA_BASE_URL").unwrap_or_else(|_| "https://api.ayra.ai/v1".into());
    let body = reqwest::Client::new()
        .get(format!("{base}/agents/agt_1"))
        .bearer_auth(key)
        .send().await?
        .error_for_status()?
        .bytes().await?;
    let agent: Envelope = serde_json::from_slice(&body)?;
    println!("{} {}", agent.data.id, agent.data.name);
    Ok(())
}
"#;

const AYRA_MAIN: &str = r#"#[tokio::main]
async fn main() -> ayra::Result<()> {
    let client = ayra::Client::from_env()?;
    let agent = client.get_agent().agent_id("agt_1").send().await?;
    println!("{} {}", agent.data.id, agent.data.name);
    Ok(())
}
"#;

pub fn run(root: &Path, runs: usize) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("ayra-build-cost-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    crate::cargo(
        root,
        &[
            "package",
            "-p",
            "ayra",
            "-p",
            "ayra-sandbox",
            "--no-verify",
            "--allow-dirty",
        ],
        &[],
    )?;
    let version = env!("CARGO_PKG_VERSION");
    let crate_file = root.join(format!("target/package/ayra-{version}.crate"));
    status(
        Command::new("tar")
            .arg("xzf")
            .arg(&crate_file)
            .current_dir(&dir),
    )?;
    let ayra = dir.join(format!("ayra-{version}"));
    let consumers = [
        (
            "consumer-raw",
            manifest("consumer-raw", RAW_DEPENDENCIES),
            RAW_MAIN,
        ),
        (
            "consumer-ayra",
            manifest(
                "consumer-ayra",
                &format!("ayra = {{ path = {:?} }}\n", ayra.display().to_string()),
            ),
            AYRA_MAIN,
        ),
    ];
    let mut results = Vec::new();
    for (name, manifest, main) in consumers {
        let krate = dir.join(name);
        std::fs::create_dir_all(krate.join("src")).map_err(|e| e.to_string())?;
        std::fs::write(krate.join("Cargo.toml"), manifest).map_err(|e| e.to_string())?;
        std::fs::write(krate.join("src/main.rs"), main).map_err(|e| e.to_string())?;
        status(
            Command::new("cargo")
                .arg("generate-lockfile")
                .current_dir(&krate),
        )?;
        let mut cpu = Vec::new();
        for run in 1..=runs {
            let (seconds, units) = cold_build(&krate, &dir.join("target"))?;
            println!("{name} run {run}: {seconds:.1} CPU s (user + sys), {units} crates compiled");
            cpu.push(seconds);
        }
        cpu.sort_by(f64::total_cmp);
        results.push((name, cpu));
    }
    println!("\ncrate          CPU s median (range)");
    for (name, cpu) in &results {
        let median = cpu[cpu.len() / 2];
        println!(
            "{name:<14} {median:.1} ({:.1}-{:.1})",
            cpu[0],
            cpu[cpu.len() - 1]
        );
    }
    if let [(_, raw), (_, ayra)] = &results[..] {
        println!(
            "ratio          {:.2}",
            ayra[ayra.len() / 2] / raw[raw.len() / 2]
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// One build in an empty target directory: (user + sys seconds, crates compiled).
fn cold_build(krate: &Path, target: &PathBuf) -> Result<(f64, usize), String> {
    let _ = std::fs::remove_dir_all(target);
    let times = target.with_extension("time");
    let output = Command::new("/usr/bin/time")
        .args(["-f", "%U %S", "-o"])
        .arg(&times)
        .args(["cargo", "build"])
        .env("CARGO_TARGET_DIR", target)
        .current_dir(krate)
        .output()
        .map_err(|e| format!("cannot run /usr/bin/time (Linux only): {e}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let log = String::from_utf8_lossy(&output.stderr);
    let units = log
        .lines()
        .filter(|l| l.trim_start().starts_with("Compiling "))
        .count();
    let times = std::fs::read_to_string(&times).map_err(|e| e.to_string())?;
    let seconds = times
        .split_whitespace()
        .filter_map(|t| t.parse::<f64>().ok())
        .sum();
    Ok((seconds, units))
}

fn status(command: &mut Command) -> Result<(), String> {
    let status = command.status().map_err(|e| format!("{command:?}: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("{command:?} failed"))
}
