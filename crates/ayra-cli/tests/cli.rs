//! The `ayra` binary against an in-process sandbox with several accounts:
//! commands, output, errors and exit codes, accounts, plan and apply. Every
//! run goes through [`Env::run`], which fails the test if any API key of the
//! sandbox appears in what the binary printed.

use ayra_sandbox::{Faults, Resource, Sandbox};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

const ACME: &str = "sk_test_acme_7f3a9c1e";
const GLOBEX: &str = "sk_test_globex_2b8d4e6f";
const WRONG: &str = "sk_test_wrong_5c1a0d9b";

struct Env {
    sandbox: Sandbox,
    dir: tempfile::TempDir,
}

/// What a run printed and its exit code.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

impl Env {
    /// A sandbox with accounts `acme` and `globex`, and a config file naming
    /// them (acme's key in the file, globex's read from a variable) plus
    /// `bad`, an account whose key the sandbox refuses (named to sort between the others).
    async fn new() -> Env {
        let sandbox = Sandbox::builder()
            .account("acme", ACME)
            .account("globex", GLOBEX)
            .start()
            .await;
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "default = \"acme\"\n\
             [accounts.acme]\nbase_url = \"{url}\"\napi_key = \"{ACME}\"\n\
             [accounts.globex]\nbase_url = \"{url}\"\napi_key_env = \"GLOBEX_KEY\"\n\
             [accounts.bad]\nbase_url = \"{url}\"\napi_key = \"{WRONG}\"\n",
            url = sandbox.base_url()
        );
        std::fs::create_dir_all(dir.path().join("ayra")).unwrap();
        std::fs::write(dir.path().join("ayra/config.toml"), config).unwrap();
        Env { sandbox, dir }
    }

    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("ayra"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("XDG_CONFIG_HOME", self.dir.path())
            .env("GLOBEX_KEY", GLOBEX)
            .current_dir(self.dir.path());
        cmd
    }

    /// Runs the binary (stdin empty), and checks that no key was printed.
    fn run(&self, args: &[&str]) -> Run {
        self.run_with(self.command(args))
    }

    fn run_with(&self, mut cmd: std::process::Command) -> Run {
        let Output {
            status,
            stdout,
            stderr,
        } = cmd.stdin(std::process::Stdio::null()).output().unwrap();
        let run = Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        };
        no_key(&[&run.stdout, &run.stderr]);
        run
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path: PathBuf = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }

    fn agents(&self, account: &str) -> Vec<Value> {
        let run = self.run(&["--account", account, "agents", "list", "--all"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.json_lines()
    }

    fn writes(&self) -> u64 {
        self.sandbox.stats().writes_applied
    }
}

/// No key of the sandbox in any output.
fn no_key(outputs: &[&str]) {
    for key in [ACME, GLOBEX, WRONG, ayra_sandbox::TEST_API_KEY] {
        for out in outputs {
            assert!(!out.contains(key), "a key was printed:\n{out}");
        }
    }
}

/// The workflow block of [`FILE`], which the prune test removes.
const WORKFLOWS: &str = r#"workflows:
  booking-sms:
    name: Booking confirmation
    trigger_type: appointment_booked
    steps:
      - type: send_sms
        config:
          to: "{{contact.phone}}"
          body: See you at ${clinic}
"#;

const FILE: &str = r#"
project: clinics
agents:
  front-desk:
    name: ${clinic} front desk
    voice_id: voice_ava
    prompt: You answer the phone for ${clinic}.
    first_message: ${greeting}
    phone_number: ${phone}
    timezone: ${timezone}
workflows:
  booking-sms:
    name: Booking confirmation
    trigger_type: appointment_booked
    steps:
      - type: send_sms
        config:
          to: "{{contact.phone}}"
          body: See you at ${clinic}
custom_fields:
  insurance_provider: {label: Insurance provider, type: text}
accounts:
  acme:
    values: {clinic: Acme Dental, greeting: Hello Acme, phone: "+14155550101", timezone: America/New_York}
  globex:
    values: {clinic: Globex Smiles, greeting: Bonjour Globex, phone: "+33180000202", timezone: Europe/Paris}
    agents:
      front-desk: {max_call_duration_seconds: 900}
"#;

fn marked(agents: &[Value], key: &str) -> Vec<Value> {
    agents
        .iter()
        .filter(|a| {
            a["metadata"]["ayra.managed-by"] == "clinics" && a["metadata"]["ayra.key"] == key
        })
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn operations_output_and_errors() {
    let env = Env::new().await;
    // Scalar body fields as flags; JSON when piped.
    let created = env.run(&[
        "agents",
        "create",
        "--name",
        "Ada",
        "--voice-id",
        "voice_ava",
        "--prompt",
        "Be brief.",
    ]);
    assert_eq!(created.code, 0, "{}", created.stderr);
    let body: Value = serde_json::from_str(&created.stdout).unwrap();
    assert_eq!(body["data"]["name"], "Ada");
    assert_eq!(body["data"]["metadata"], serde_json::json!({}));
    // The default account is acme: globex does not see it.
    assert_eq!(
        env.sandbox.account("acme").unwrap().count(Resource::Agents),
        1
    );
    assert_eq!(
        env.sandbox
            .account("globex")
            .unwrap()
            .count(Resource::Agents),
        0
    );

    // --body from a file, a flag over one of its fields; --output ndjson.
    let path = env.file(
        "agent.json",
        r#"{"name": "File", "voice_id": "voice_ava", "prompt": "p", "metadata": {"crm": "7"}}"#,
    );
    let run = env.run(&[
        "agents",
        "create",
        "--body",
        &format!("@{path}"),
        "--name",
        "Flag",
        "-o",
        "ndjson",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let agent = &run.json_lines()[0];
    assert_eq!(
        (&agent["name"], &agent["metadata"]["crm"]),
        (&"Flag".into(), &"7".into())
    );

    // --all: every page, one item per line, through the SDK's pagination.
    for i in 0..3 {
        let name = format!("Agent {i}");
        let run = env.run(&[
            "agents",
            "create",
            "--name",
            &name,
            "--voice-id",
            "voice_ava",
            "--prompt",
            "p",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let all = env.run(&["agents", "list", "--per-page", "2", "--all"]);
    assert_eq!(all.json_lines().len(), 5, "{}", all.stdout);
    let table = env.run(&["agents", "list", "-o", "table"]);
    assert!(table.stdout.starts_with("ID "), "{}", table.stdout);

    // An API error: one line with status, type, code, field, request id; exit 4.
    let bad = env.run(&[
        "agents",
        "create",
        "--name",
        "X",
        "--voice-id",
        "voice_nope",
        "--prompt",
        "p",
    ]);
    assert_eq!(bad.code, 4);
    let line = bad.stderr.trim_end();
    assert!(!line.contains('\n'), "{line}");
    for part in [
        "status=422",
        "type=unprocessable_entity",
        "code=invalid_reference",
        "field=voice_id",
        "request_id=req_",
        "account=acme",
    ] {
        assert!(line.contains(part), "{part} missing: {line}");
    }
    assert_eq!(
        env.run(&["agents", "get", "--agent-id", "agt_nope"]).code,
        4
    );
    // Usage errors: 64; a bad --body file: 65 with file:line:column; nothing sent.
    let before = env.sandbox.stats().requests;
    assert_eq!(env.run(&["agents", "create", "--name", "X"]).code, 64);
    assert_eq!(env.run(&["agents", "nope"]).code, 64);
    let broken = env.file("broken.json", "{\n  \"name\": \"x\",\n  oops\n}");
    let run = env.run(&["agents", "create", "--body", &format!("@{broken}")]);
    assert_eq!(run.code, 65);
    assert!(run.stderr.contains("broken.json:3:3"), "{}", run.stderr);
    assert_eq!(env.sandbox.stats().requests, before, "nothing is sent");
    // A transport failure: 5.
    let mut cmd = env.command(&["agents", "list"]);
    cmd.env("AYRA_API_KEY", ACME)
        .env("AYRA_BASE_URL", "http://127.0.0.1:9/v1");
    assert_eq!(env.run_with(cmd).code, 5);
    // The skeleton of a body, without an account.
    let template = env.run(&["workflows", "create", "--body-template"]);
    let template: Value = serde_json::from_str(&template.stdout).unwrap();
    assert!(template["steps"].is_array() && template["trigger_type"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn accounts_env_and_verbose_traces() {
    let env = Env::new().await;
    // AYRA_API_KEY alone still works (and wins over the file's default).
    let mut cmd = env.command(&[
        "agents",
        "create",
        "--name",
        "G",
        "--voice-id",
        "voice_ava",
        "--prompt",
        "p",
    ]);
    cmd.env("AYRA_API_KEY", GLOBEX)
        .env("AYRA_BASE_URL", env.sandbox.base_url());
    assert_eq!(env.run_with(cmd).code, 0);
    assert_eq!(
        env.sandbox
            .account("globex")
            .unwrap()
            .count(Resource::Agents),
        1
    );
    // --account repeated: each account's answer, tagged.
    let run = env.run(&[
        "--account",
        "acme",
        "--account",
        "globex",
        "agents",
        "list",
        "--all",
    ]);
    let accounts: Vec<Value> = run
        .json_lines()
        .iter()
        .map(|l| l["account"].clone())
        .collect();
    assert_eq!(
        accounts,
        ["globex"],
        "only globex has an agent: {}",
        run.stdout
    );
    // A wrong key fails its account only; the others answer; exit 4.
    let run = env.run(&["--all-accounts", "agents", "list", "-o", "ndjson"]);
    assert_eq!(run.code, 4);
    assert!(
        run.stderr.contains("account=bad") && run.stderr.contains("code=invalid_api_key"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    // The list masks keys; --verbose traces each request without the key.
    let list = env.run(&["accounts", "list", "-o", "json"]);
    let rows: Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(rows[0]["api_key"], "…9c1e");
    assert_eq!(rows[1]["api_key"], "…0d9b");
    assert_eq!(rows[2]["api_key"], "$GLOBEX_KEY");
    let traced = env.run(&["-v", "--all-accounts", "agents", "list"]);
    assert!(
        traced.stderr.contains("ayra.request") && traced.stderr.contains("request_id"),
        "{}",
        traced.stderr
    );

    // `accounts add` writes the file 0600, the key from stdin.
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let fresh = tempfile::tempdir().unwrap();
    let mut cmd = env.command(&[
        "accounts",
        "add",
        "new",
        "--base-url",
        &env.sandbox.base_url(),
        "--api-key-stdin",
    ]);
    cmd.env("XDG_CONFIG_HOME", fresh.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{ACME}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    no_key(&[
        &String::from_utf8_lossy(&out.stdout),
        &String::from_utf8_lossy(&out.stderr),
    ]);
    assert!(out.status.success());
    let file = fresh.path().join("ayra/config.toml");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let mut cmd = env.command(&["--account", "new", "agents", "list", "--all"]);
    cmd.env("XDG_CONFIG_HOME", fresh.path());
    assert_eq!(env.run_with(cmd).code, 0, "the saved account works");
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_twice_then_drift_shows_exactly_that_difference() {
    let env = Env::new().await;
    let file = env.file("clinics.yaml", FILE);
    let plan = env.run(&["plan", &file]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert_eq!(env.writes(), 0, "plan writes nothing");
    let apply = env.run(&["apply", &file]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert_eq!(
        env.writes(),
        6,
        "3 resources in 2 accounts: {}",
        apply.stdout
    );
    let globex = marked(&env.agents("globex"), "front-desk");
    assert_eq!(globex.len(), 1);
    assert_eq!(globex[0]["name"], "Globex Smiles front desk");
    assert_eq!(globex[0]["max_call_duration_seconds"], 900);
    assert_eq!(
        marked(&env.agents("acme"), "front-desk")[0]["phone_number"],
        "+14155550101"
    );

    // A second apply makes zero writes; plan says nothing to do.
    let before = env.writes();
    let again = env.run(&["apply", &file]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(env.writes(), before, "{}", again.stdout);
    assert_eq!(env.run(&["plan", &file]).code, 0);

    // A change made outside shows as exactly that difference.
    let id = marked(&env.agents("acme"), "front-desk")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let run = env.run(&[
        "--account",
        "acme",
        "agents",
        "update",
        "--agent-id",
        &id,
        "--prompt",
        "Changed in the web app.",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let drift = env.run(&["plan", &file]);
    assert_eq!(drift.code, 2);
    let changes: Vec<&str> = drift
        .stdout
        .lines()
        .filter(|l| {
            l.starts_with("  +")
                || l.starts_with("  ~")
                || l.starts_with("  -")
                || l.starts_with("      ")
        })
        .collect();
    assert_eq!(
        changes,
        [
            format!("  ~ agent front-desk ({id}): update").as_str(),
            "      prompt: \"Changed in the web app.\" -> \"You answer the phone for Acme Dental.\"",
        ],
        "{}",
        drift.stdout
    );
    assert!(env.run(&["apply", &file]).code == 0);
    assert_eq!(
        env.writes(),
        before + 2,
        "the update, and the CLI's own update before it"
    );
    assert_eq!(env.run(&["plan", &file]).code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_never_touches_an_unmarked_resource() {
    let env = Env::new().await;
    // In acme: an unmarked agent with the file's name, another unmarked one.
    for name in ["Acme Dental front desk", "Night line"] {
        let run = env.run(&[
            "--account",
            "acme",
            "agents",
            "create",
            "--name",
            name,
            "--voice-id",
            "voice_ava",
            "--prompt",
            "Mine.",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let unmarked_before = env.agents("acme");
    let file = env.file("clinics.yaml", FILE);
    let plan = env.run(&["--account", "acme", "plan", &file]);
    assert!(
        plan.stdout.contains("! agent front-desk: left alone")
            && plan.stdout.contains("without the marker"),
        "{}",
        plan.stdout
    );
    assert_eq!(env.run(&["--account", "acme", "apply", &file]).code, 0);
    // The file no longer names the workflow nor the agent; --prune.
    assert!(FILE.contains(WORKFLOWS));
    let smaller = env.file("smaller.yaml", &FILE.replace(WORKFLOWS, ""));
    let workflows_before = env
        .sandbox
        .account("acme")
        .unwrap()
        .count(Resource::Workflows);
    let pruned = env.run(&["--account", "acme", "apply", "--prune", &smaller]);
    assert_eq!(pruned.code, 0, "{}{}", pruned.stdout, pruned.stderr);
    assert!(
        pruned.stdout.contains("deleted workflow booking-sms"),
        "{}",
        pruned.stdout
    );
    assert_eq!(
        env.sandbox
            .account("acme")
            .unwrap()
            .count(Resource::Workflows),
        workflows_before - 1
    );
    // Both unmarked agents are exactly as they were.
    let after = env.agents("acme");
    for agent in unmarked_before {
        assert!(after.contains(&agent), "changed or deleted: {agent}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_apply_killed_halfway_converges_when_run_again() {
    let env = Env::new().await;
    let mut text = String::from("project: clinics\nagents:\n");
    for i in 0..12 {
        text.push_str(&format!(
            "  desk-{i}: {{name: Desk {i}, voice_id: voice_ava, prompt: Desk {i}.}}\n"
        ));
    }
    text.push_str("accounts:\n  acme: {}\n");
    let file = env.file("many.yaml", &text);
    env.sandbox.set_faults(Faults {
        latency: Duration::from_millis(300),
        ..Faults::default()
    });
    let mut child = env
        .command(&["apply", &file])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it after its first writes (bounded wait).
    for _ in 0..3000 {
        if env.writes() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap();
    let _ = child.wait();
    let written = env.writes();
    assert!(
        (2..8).contains(&written),
        "killed halfway, after {written} writes"
    );
    env.sandbox.set_faults(Faults::default());
    let rerun = env.run(&["apply", &file]);
    assert_eq!(rerun.code, 0, "{}{}", rerun.stdout, rerun.stderr);
    let agents = env.agents("acme");
    for i in 0..12 {
        assert_eq!(
            marked(&agents, &format!("desk-{i}")).len(),
            1,
            "desk-{i} once: {agents:?}"
        );
    }
    assert_eq!(agents.len(), 12, "no duplicate");
    assert_eq!(env.run(&["plan", &file]).code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_file_names_its_line_and_column_and_sends_nothing() {
    let env = Env::new().await;
    let requests = env.sandbox.stats().requests;
    let cases = [
        (
            "typo.yaml",
            FILE.replace("    prompt: You answer", "    promt: You answer"),
            "typo.yaml:7:5",
        ),
        (
            "syntax.yaml",
            FILE.replace("project: clinics", "project: [clinics"),
            "syntax.yaml:",
        ),
        (
            "type.yaml",
            FILE.replace(
                "front-desk: {max_call_duration_seconds: 900}",
                "front-desk: {max_call_duration_seconds: long}",
            ),
            "type.yaml:28:47",
        ),
        (
            "value.yaml",
            FILE.replace("greeting: Hello Acme, ", ""),
            "no value for ${greeting}",
        ),
    ];
    for (name, text, expected) in cases {
        let file = env.file(name, &text);
        for command in ["plan", "apply"] {
            let run = env.run(&[command, &file]);
            assert_eq!(run.code, 65, "{name}: {}{}", run.stdout, run.stderr);
            assert!(run.stderr.contains(expected), "{name}: {}", run.stderr);
        }
    }
    assert_eq!(env.sandbox.stats().requests, requests, "nothing was sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_key_fails_that_account_only() {
    let env = Env::new().await;
    let text = FILE.replace("accounts:\n", "accounts:\n  bad:\n    values: {clinic: W, greeting: W, phone: \"+14155550909\", timezone: UTC}\n");
    let file = env.file("clinics.yaml", &text);
    let run = env.run(&["apply", &file]);
    assert_eq!(run.code, 4, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("account=bad") && run.stderr.contains("code=invalid_api_key"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    for account in ["acme", "globex"] {
        assert_eq!(
            marked(&env.agents(account), "front-desk").len(),
            1,
            "{account} applied"
        );
    }
}

impl Env {
    /// The account's contacts, through the binary.
    fn contacts(&self, account: &str) -> Vec<Value> {
        let run = self.run(&["--account", account, "contacts", "list", "--all"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.json_lines()
    }

    fn account_writes(&self, account: &str) -> u64 {
        self.sandbox
            .account(account)
            .unwrap()
            .stats()
            .writes_applied
    }

    fn count_contacts(&self, account: &str) -> usize {
        self.sandbox
            .account(account)
            .unwrap()
            .count(Resource::Contacts)
    }

    /// Defines the custom field `plan` (text) in `account`.
    fn plan_field(&self, account: &str) {
        let run = self.run(&[
            "--account",
            account,
            "contacts",
            "create-custom-field",
            "--key",
            "plan",
            "--label",
            "Plan",
            "--type",
            "text",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
}

/// A CSV of `n` contacts: `{prefix}{i}@example.com`, first name
/// `{PREFIX}{i}`.
fn contacts_csv(prefix: &str, n: usize) -> String {
    let mut csv = String::from("email,first_name\n");
    let upper = prefix.to_uppercase();
    for i in 0..n {
        csv.push_str(&format!("{prefix}{i}@example.com,{upper}{i}\n"));
    }
    csv
}

/// The count of `status` in an import's summary (`created      3 ...`).
fn summary_count(stderr: &str, status: &str) -> u64 {
    stderr
        .lines()
        .find_map(|l| {
            let rest = l.strip_prefix(status)?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no {status} in the summary:\n{stderr}"))
}

/// The report's rows (CSV with a header line), as column -> value.
fn csv_report(path: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|l| {
            // No cell of these tests holds a comma or a quote.
            header
                .iter()
                .zip(l.split(','))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

const CONTACTS: &str = "\
email,first_name,last_name,phone,tags,plan
ada@example.com,Ada,Lovelace,+14155550111,vip;math,gold
alan@example.com,Alan,Turing,,math,silver
grace@example.com,Grace,Hopper,+14155550113,,gold
";

#[tokio::test(flavor = "multi_thread")]
async fn import_creates_a_rerun_writes_nothing_and_a_change_updates_only_that_field() {
    let env = Env::new().await;
    env.plan_field("acme");
    let file = env.file("contacts.csv", CONTACTS);
    let report = env.dir.path().join("report.csv");
    let report = report.to_str().unwrap();
    let args = |file: &str| -> Vec<String> {
        [
            "--account",
            "acme",
            "contacts",
            "import",
            file,
            "--upsert-by",
            "email",
        ]
        .map(String::from)
        .to_vec()
    };
    let mut first = args(&file);
    first.extend(["--report".to_string(), report.to_string()]);
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    let run = env.run(&first);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "", "stdout stays clean");
    assert_eq!(summary_count(&run.stderr, "created"), 3, "{}", run.stderr);
    assert_eq!(env.count_contacts("acme"), 3);
    let lines = csv_report(report);
    assert_eq!(lines.len(), 3, "one line per row");
    assert!(lines.iter().all(|l| l["status"] == "created"), "{lines:?}");
    let ada = env
        .contacts("acme")
        .into_iter()
        .find(|c| c["email"] == "ada@example.com")
        .unwrap();
    assert_eq!(ada["tags"], serde_json::json!(["vip", "math"]));
    assert_eq!(ada["custom_fields"]["plan"], "gold");

    // The same file again: nothing written, nothing new.
    let writes = env.account_writes("acme");
    let again = env.run(&first);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(env.account_writes("acme"), writes, "{}", again.stderr);
    assert_eq!(env.count_contacts("acme"), 3);
    assert_eq!(summary_count(&again.stderr, "created"), 0);
    assert_eq!(
        summary_count(&again.stderr, "unchanged") + summary_count(&again.stderr, "replayed"),
        3,
        "{}",
        again.stderr
    );

    // A contact deleted since the import: the same file again replays the
    // earlier create (the batch is named by the file's content, so the same
    // bytes under another path are the same batch), finds the contact gone
    // and makes it anew, once.
    let ada_id = ada["id"].as_str().unwrap();
    let run = env.run(&[
        "--account",
        "acme",
        "contacts",
        "delete",
        "--contact-id",
        ada_id,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let copy = env.file("copy.csv", CONTACTS);
    let (writes, replays) = (
        env.account_writes("acme"),
        env.sandbox.stats().idempotent_replays,
    );
    let copy_args = args(&copy);
    let copy_args: Vec<&str> = copy_args.iter().map(String::as_str).collect();
    let run = env.run(&copy_args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(summary_count(&run.stderr, "created"), 1, "{}", run.stderr);
    assert!(
        env.sandbox.stats().idempotent_replays > replays,
        "the same batch: the earlier create replayed"
    );
    assert_eq!(env.account_writes("acme"), writes + 1, "one new contact");
    assert_eq!(env.count_contacts("acme"), 3);
    let run = env.run(&copy_args);
    assert_eq!(summary_count(&run.stderr, "created"), 0, "{}", run.stderr);
    assert_eq!(env.count_contacts("acme"), 3, "made anew once");
    let writes = env.account_writes("acme");

    // One field changed: one write, that field only.
    let before = env.contacts("acme");
    let changed = env.file(
        "changed.csv",
        &CONTACTS.replace("Alan,Turing,,math,silver", "Alan,Turing,,math,platinum"),
    );
    let mut update = args(&changed);
    update.extend(["--report".to_string(), report.to_string()]);
    let update: Vec<&str> = update.iter().map(String::as_str).collect();
    let run = env.run(&update);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(env.account_writes("acme"), writes + 1, "{}", run.stderr);
    assert_eq!(summary_count(&run.stderr, "updated"), 1);
    let lines = csv_report(report);
    let alan = lines
        .iter()
        .find(|l| l["key"] == "alan@example.com")
        .unwrap();
    assert_eq!(
        (alan["status"].as_str(), alan["detail"].as_str()),
        ("updated", "custom_fields.plan")
    );
    for contact in env.contacts("acme") {
        let was = before.iter().find(|c| c["id"] == contact["id"]).unwrap();
        for field in ["first_name", "last_name", "email", "phone", "tags"] {
            assert_eq!(
                contact[field], was[field],
                "{field} of {}",
                contact["email"]
            );
        }
        let want = if contact["email"] == "alan@example.com" {
            "platinum".into()
        } else {
            was["custom_fields"]["plan"].clone()
        };
        assert_eq!(contact["custom_fields"]["plan"], want);
    }

    // --dry-run: says what would change, writes nothing, exit 2.
    let writes = env.sandbox.stats().writes_applied;
    let dry = env.file(
        "dry.csv",
        &format!("{CONTACTS}linus@example.com,Linus,Torvalds,,,\n")
            .replace("Alan,Turing,,math,silver", "Alan,Turing,,math,platinum")
            .replace("Grace,Hopper", "Grace,Brewster"),
    );
    let mut dry_run = args(&dry);
    dry_run.push("--dry-run".to_string());
    let dry_run: Vec<&str> = dry_run.iter().map(String::as_str).collect();
    let run = env.run(&dry_run);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        env.sandbox.stats().writes_applied,
        writes,
        "nothing written"
    );
    assert_eq!(summary_count(&run.stderr, "would_create"), 1);
    assert_eq!(summary_count(&run.stderr, "would_update"), 1);
    assert_eq!(summary_count(&run.stderr, "unchanged"), 2);
    assert_eq!(env.count_contacts("acme"), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_row_is_reported_with_row_and_column_and_the_others_go_in() {
    let env = Env::new().await;
    env.plan_field("acme");
    let ndjson = env.file(
        "contacts.ndjson",
        "{\"email\": \"ada@example.com\", \"first_name\": \"Ada\", \"plan\": \"gold\"}\n\
         {\"email\": \"not-an-email\", \"first_name\": \"Bob\"}\n\
         \n\
         {\"email\": \"eve@example.com\", \"first_name\": \"Eve\", \"vip\": true}\n\
         {\"email\": \"alan@example.com\", \"first_name\": \"Alan\"}\n",
    );
    let report = env.dir.path().join("report.ndjson");
    let report = report.to_str().unwrap();
    let run = env.run(&[
        "contacts",
        "import",
        &ndjson,
        "--upsert-by",
        "email",
        "--report",
        report,
    ]);
    assert_eq!(run.code, 65, "{}", run.stderr);
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 2, "{}", run.stderr);
    assert!(
        errors[0].contains("account=acme")
            && errors[0].contains("row 2, column email: \"not-an-email\" is not an email address"),
        "{}",
        run.stderr
    );
    assert!(
        errors[1].contains("row 4, column vip: no custom field has the key \"vip\""),
        "{}",
        run.stderr
    );
    assert_eq!(env.count_contacts("acme"), 2, "the good rows went in");
    let lines: Vec<Value> = std::fs::read_to_string(report)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "one line per row: {lines:?}");
    let mut statuses: Vec<&str> = lines
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    statuses.sort();
    assert_eq!(statuses, ["created", "created", "failed", "failed"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn import_into_every_account_and_a_wrong_key_fails_that_account_only() {
    let env = Env::new().await;
    env.plan_field("acme");
    env.plan_field("globex");
    let file = env.file("contacts.csv", CONTACTS);
    // acme, bad and globex: the same rows to each.
    let run = env.run(&[
        "--all-accounts",
        "contacts",
        "import",
        &file,
        "--upsert-by",
        "email",
    ]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(
        errors[0].contains("account=bad") && errors[0].contains("code=invalid_api_key"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("created      6  (acme 3, globex 3)"),
        "{}",
        run.stderr
    );
    for account in ["acme", "globex"] {
        assert_eq!(env.count_contacts(account), 3, "{account}");
    }
    // The two good accounts again: nothing new; AYRA_API_KEY alone too.
    let writes = env.sandbox.stats().writes_applied;
    let run = env.run(&[
        "--account",
        "acme",
        "--account",
        "globex",
        "contacts",
        "import",
        &file,
        "--upsert-by",
        "email",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut cmd = env.command(&["contacts", "import", &file, "--upsert-by", "email"]);
    cmd.env("AYRA_API_KEY", GLOBEX)
        .env("AYRA_BASE_URL", env.sandbox.base_url());
    let run = env.run_with(cmd);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(summary_count(&run.stderr, "unchanged"), 3, "{}", run.stderr);
    assert_eq!(env.sandbox.stats().writes_applied, writes);
    assert_eq!(env.count_contacts("globex"), 3);
    // An API that cannot be reached: 5.
    let mut cmd = env.command(&["contacts", "import", &file, "--upsert-by", "email"]);
    cmd.env("AYRA_API_KEY", GLOBEX)
        .env("AYRA_BASE_URL", "http://127.0.0.1:9/v1");
    assert_eq!(env.run_with(cmd).code, 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_import_leaves_a_true_report_and_a_rerun_finishes_it() {
    let env = Env::new().await;
    let csv = contacts_csv("c", 60);
    let file = env.file("many.csv", &csv);
    let report = env.dir.path().join("report.csv");
    let report = report.to_str().unwrap();
    env.sandbox.set_faults(Faults {
        latency: Duration::from_millis(500),
        ..Faults::default()
    });
    let mut child = env
        .command(&[
            "contacts",
            "import",
            &file,
            "--upsert-by",
            "email",
            "--report",
            report,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..3000 {
        if env.writes() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let mut status = None;
    for _ in 0..3000 {
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let Some(status) = status else {
        child.kill().unwrap();
        panic!("the import did not stop after Ctrl-C");
    };
    assert_eq!(status.code(), Some(130));
    env.sandbox.set_faults(Faults::default());
    // The report is true: its created rows are exactly the contacts there are.
    let lines = csv_report(report);
    let mut created: Vec<String> = lines
        .iter()
        .filter(|l| l["status"] == "created")
        .map(|l| l["key"].clone())
        .collect();
    assert!(
        lines
            .iter()
            .all(|l| ["created", "not_done"].contains(&l["status"].as_str())),
        "{lines:?}"
    );
    let mut held: Vec<String> = env
        .contacts("acme")
        .iter()
        .map(|c| c["email"].as_str().unwrap().to_string())
        .collect();
    created.sort();
    held.sort();
    assert_eq!(created, held);
    assert!(held.len() < 60, "interrupted before the end");
    // The same file again finishes it, without a duplicate.
    let run = env.run(&["contacts", "import", &file, "--upsert-by", "email"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut emails: Vec<Value> = env
        .contacts("acme")
        .iter()
        .map(|c| c["email"].clone())
        .collect();
    emails.sort_by_key(|e| e.to_string());
    emails.dedup();
    assert_eq!(emails.len(), 60);
    assert_eq!(env.count_contacts("acme"), 60, "no duplicate");
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_waits_out_a_rate_limit_in_every_account() {
    let env = Env::new().await;
    let mut text = String::from("project: clinics\nagents:\n");
    for i in 0..8 {
        text.push_str(&format!(
            "  desk-{i}: {{name: Desk {i}, voice_id: voice_ava, prompt: Desk {i}.}}\n"
        ));
    }
    text.push_str("accounts:\n  acme: {}\n  globex: {}\n");
    let file = env.file("many.yaml", &text);
    env.sandbox.set_faults(Faults {
        rate_limit: Some((3, Duration::from_secs(1))),
        ..Faults::default()
    });
    let run = env.run(&["apply", &file]);
    env.sandbox.set_faults(Faults::default());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(env.sandbox.stats().faults.rate_limited > 0, "throttled");
    for account in ["acme", "globex"] {
        let agents = env.agents(account);
        for i in 0..8 {
            assert_eq!(marked(&agents, &format!("desk-{i}")).len(), 1, "{account}");
        }
        assert_eq!(agents.len(), 8, "{account}: no duplicate");
    }
    assert_eq!(env.run(&["plan", &file]).code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_write_stops_its_account_and_the_others_apply() {
    let env = Env::new().await;
    let text = FILE.replace(
        "front-desk: {max_call_duration_seconds: 900}",
        "front-desk: {voice_id: voice_nope}",
    );
    let file = env.file("clinics.yaml", &text);
    let run = env.run(&["apply", &file]);
    assert_eq!(run.code, 4, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("account=globex") && run.stderr.contains("code=invalid_reference"),
        "{}",
        run.stderr
    );
    let globex = run.stdout.split("account globex:").nth(1).unwrap();
    assert!(
        globex.contains("! stopped: a write failed"),
        "{}",
        run.stdout
    );
    assert_eq!(marked(&env.agents("acme"), "front-desk").len(), 1);
    assert_eq!(marked(&env.agents("globex"), "front-desk").len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_deleted_outside_is_created_again_by_the_next_apply() {
    let env = Env::new().await;
    let file = env.file("clinics.yaml", FILE);
    assert_eq!(env.run(&["--account", "acme", "apply", &file]).code, 0);
    let id = marked(&env.agents("acme"), "front-desk")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let run = env.run(&["--account", "acme", "agents", "delete", "--agent-id", &id]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The same plan again: its create carries the same derived key as the
    // first apply's (replayed by the API, the id of the deleted agent), so
    // apply sees the replay and creates the agent anew under a new key.
    let replays = env.sandbox.stats().idempotent_replays;
    let run = env.run(&["--account", "acme", "apply", &file]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        env.sandbox.stats().idempotent_replays,
        replays + 1,
        "the first apply's key, replayed"
    );
    let agents = marked(&env.agents("acme"), "front-desk");
    assert_eq!(agents.len(), 1, "{}", run.stdout);
    assert_ne!(agents[0]["id"], id.as_str());
    assert_eq!(env.run(&["--account", "acme", "plan", &file]).code, 0);
}

/// `--rate-limit` paces every account from the first request: 8 rows (a
/// lookup and a create each) told 4/s go 1/3.8 s apart, so the 16th request
/// leaves ~3.9 s after the first; found by slow start (from 10/s, growing
/// sevenfold a second) they would all be sent in well under 2 s.
#[tokio::test(flavor = "multi_thread")]
async fn a_known_rate_limit_paces_the_import_from_the_start() {
    let env = Env::new().await;
    let csv = contacts_csv("p", 8);
    let file = env.file("paced.csv", &csv);
    let import = |limit: &str| {
        env.run(&[
            "contacts",
            "import",
            &file,
            "--upsert-by",
            "email",
            "--rate-limit",
            limit,
        ])
    };
    let refused = import("0");
    assert_eq!(refused.code, 64, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("--rate-limit"),
        "{}",
        refused.stderr
    );
    assert_eq!(env.count_contacts("acme"), 0, "nothing sent");

    let started = std::time::Instant::now();
    let run = import("4");
    let took = started.elapsed();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(env.count_contacts("acme"), 8);
    // A lower bound only: a loaded machine makes it longer, never shorter.
    assert!(took >= Duration::from_millis(3_500), "paced: {took:?}");
}
