//! `ayra-sandbox`: runs the sandbox server until Ctrl-C.

use std::process::ExitCode;
use std::time::Duration;

use ayra_sandbox::{Faults, READ_ONLY_API_KEY, Sandbox, TEST_API_KEY};

const USAGE: &str = "\
Usage: ayra-sandbox [OPTIONS]

A local, in-memory server that behaves as the Ayra API (see spec/ayra.yaml).

Options:
  --port N                 Port to listen on, on 127.0.0.1 (default 8080; 0 = any free port)
  --seed-demo-data [SEED]  Add demo data (~3,000 contacts and conversations), from SEED (default 42)
  --api-key KEY            Accept another full-access API key of the default account (repeatable)
  --account NAME=KEY       Add an account NAME with the full-access key KEY (repeatable; NAME again
                           adds a key). Each account has its own data, apart from the others': it
                           starts with voices, time zones and three calendars of its own, and gets
                           its own demo data with --seed-demo-data (from SEED and NAME)
  --account-read-only NAME=KEY
                           Give the account NAME the read-only key KEY (repeatable)
  --fault-rate P           Probability (0..1) of a random 500/502/503/504 before a request runs
  --drop-rate P            Probability of closing the connection after a request ran
  --truncate-rate P        Probability of cutting a response short after a request ran
  --rate-limit N/SECS      At most N requests per API key every SECS seconds (429 beyond)
  --latency-ms N           Delay every request by N milliseconds
  --job-duration-ms N      How long asynchronous jobs take (default 300)
  --fault-seed N           Seed of the random faults (default 0)
  --now TIME               Start the sandbox's clock at TIME (RFC 3339, e.g. 2026-03-29T00:30:00Z;
                           default: now). Move it with POST /v1/_sandbox/clock/advance {\"seconds\": N}
  -h, --help               Show this help
";

fn parse<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
    let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
    v.parse()
        .map_err(|_| format!("invalid value for {flag}: '{v}'"))
}

fn rate(flag: &str, v: Option<String>) -> Result<f64, String> {
    let p: f64 = parse(flag, v)?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{flag} must be between 0 and 1"))
    }
}

fn args() -> Result<Option<ayra_sandbox::SandboxBuilder>, String> {
    let mut b = Sandbox::builder().port(8080);
    let mut faults = Faults::default();
    let mut it = std::env::args().skip(1).peekable();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| it.next());
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" => b = b.port(parse(&flag, value())?),
            "--seed-demo-data" => {
                let seed = match inline.clone() {
                    Some(v) => v.parse().map_err(|_| format!("invalid seed '{v}'"))?,
                    None => match it.peek().map(|n| n.parse::<u64>()) {
                        Some(Ok(n)) => {
                            it.next();
                            n
                        }
                        _ => 42,
                    },
                };
                b = b.seed_demo_data(seed);
            }
            "--api-key" => {
                let k: String = parse(&flag, value())?;
                b = b.api_key(k);
            }
            "--account" | "--account-read-only" => {
                let v: String = parse(&flag, value())?;
                let (name, key) = v.split_once('=').ok_or_else(|| {
                    format!("{flag} expects NAME=KEY (the account's name, then its key)")
                })?;
                b = if flag == "--account" {
                    b.account(name, key)
                } else {
                    b.account_read_only_key(name, key)
                };
            }
            "--fault-rate" => faults.error_rate = rate(&flag, value())?,
            "--drop-rate" => faults.drop_rate = rate(&flag, value())?,
            "--truncate-rate" => faults.truncate_rate = rate(&flag, value())?,
            "--latency-ms" => faults.latency = Duration::from_millis(parse(&flag, value())?),
            "--fault-seed" => faults.seed = parse(&flag, value())?,
            "--now" => {
                let v: String = parse(&flag, value())?;
                let t = chrono::DateTime::parse_from_rfc3339(&v)
                    .map_err(|_| format!("--now expects an RFC 3339 time, got '{v}'"))?;
                b = b.now(t.with_timezone(&chrono::Utc));
            }
            "--job-duration-ms" => {
                b = b.job_duration(Duration::from_millis(parse(&flag, value())?))
            }
            "--rate-limit" => {
                let v: String = parse(&flag, value())?;
                let (n, secs) = v
                    .split_once('/')
                    .ok_or_else(|| format!("--rate-limit expects N/SECS, got '{v}'"))?;
                let n: u32 = n
                    .parse()
                    .map_err(|_| format!("invalid request count '{n}'"))?;
                let secs: f64 = secs
                    .parse()
                    .map_err(|_| format!("invalid window '{secs}'"))?;
                if !(secs > 0.0 && secs < 86_400.0) {
                    return Err("the rate-limit window must be between 0 and 86400 seconds".into());
                }
                faults.rate_limit = Some((n, Duration::from_secs_f64(secs)));
            }
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(Some(b.faults(faults)))
}

#[tokio::main]
async fn main() -> ExitCode {
    let builder = match args() {
        Ok(Some(b)) => b,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("ayra-sandbox: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let sandbox = match builder.try_start().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ayra-sandbox: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("Ayra sandbox listening on {}", sandbox.base_url());
    println!("API key:           {TEST_API_KEY}");
    println!("Read-only API key: {READ_ONLY_API_KEY}");
    let others = &sandbox.accounts()[1..];
    if !others.is_empty() {
        println!(
            "Other accounts:    {} (with the keys given)",
            others.join(", ")
        );
    }
    println!("Press Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    sandbox.shutdown().await;
    ExitCode::SUCCESS
}
