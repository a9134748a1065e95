//! One clap command per operation, built from the generated table, and the
//! call it makes through `ayra`'s raw entry point (`Client::call` and
//! friends: the SDK's retries, idempotency keys and typed errors).

use crate::accounts;
use crate::exit::{self, Failure};
use crate::generated::COMMANDS;
use crate::output::{self, Format};
use crate::table::{Command, Kind, Success};
use ayra::{Paginate, RawRequest};
use clap::{Arg, ArgAction, ArgMatches};
use futures::StreamExt;
use serde_json::{Map, Value};

/// `--agent-id` for `agent_id`.
fn flag(name: &str) -> String {
    name.replace('_', "-")
}

fn arg(name: &str, kind: Kind, values: &'static [&'static str], help: &str) -> Arg {
    let mut arg = Arg::new(name.to_string())
        .long(flag(name))
        .value_name(name.to_uppercase())
        .help(help.to_string());
    arg = match kind {
        Kind::Enum => arg.value_parser(values.to_vec()),
        Kind::Integer => arg.value_parser(clap::value_parser!(i64)),
        Kind::Number => arg.value_parser(clap::value_parser!(f64)),
        Kind::Boolean => arg.value_parser(clap::value_parser!(bool)),
        Kind::String => arg,
    };
    arg
}

/// The domain commands (`agents`, `contacts`, ...), each with its operations.
pub fn domains() -> Vec<clap::Command> {
    let mut names: Vec<&str> = Vec::new();
    for c in COMMANDS {
        if !names.contains(&c.domain) {
            names.push(c.domain);
        }
    }
    names
        .into_iter()
        .map(|domain| {
            let mut group = clap::Command::new(domain)
                .about(format!("The {domain} operations of the API"))
                .subcommand_required(true);
            for c in COMMANDS.iter().filter(|c| c.domain == domain) {
                group = group.subcommand(command(c));
            }
            group
        })
        .collect()
}

fn command(c: &'static Command) -> clap::Command {
    let mut cmd =
        clap::Command::new(c.name).about(format!("{} ({} {})", c.summary, c.method, c.path));
    for p in c.params {
        let mut a = arg(p.name, p.kind, p.values, p.help);
        if p.required {
            a = if c.body_template.is_some() {
                a.required_unless_present("body-template")
            } else {
                a.required(true)
            };
        }
        cmd = cmd.arg(a);
    }
    for f in c.fields {
        let help = if f.required {
            format!("{} [required unless in --body]", f.help)
        } else {
            f.help.to_string()
        };
        cmd = cmd.arg(arg(f.name, f.kind, f.values, &help));
    }
    if c.body_template.is_some() {
        cmd = cmd
            .arg(
                Arg::new("body")
                    .long("body")
                    .value_name("@FILE|-|JSON")
                    .help("The whole request body: @file.json, - for stdin, or JSON; flags override its fields"),
            )
            .arg(
                Arg::new("body-template")
                    .long("body-template")
                    .action(ArgAction::SetTrue)
                    .help("Print a skeleton of the request body and exit"),
            );
    }
    if ayra::api::operation(c.operation).is_some_and(|op| op.idempotency_key) {
        cmd = cmd.arg(
            Arg::new("idempotency-key")
                .long("idempotency-key")
                .value_name("KEY")
                .help("Send this Idempotency-Key (to resend a write safely) instead of a new one"),
        );
    }
    if c.list {
        cmd = cmd.arg(
            Arg::new("all")
                .long("all")
                .action(ArgAction::SetTrue)
                .help("Every page, one item per line (NDJSON)"),
        );
    }
    cmd
}

fn json_of(kind: Kind, matches: &ArgMatches, name: &str) -> Option<Value> {
    match kind {
        Kind::Integer => matches.get_one::<i64>(name).map(|v| Value::from(*v)),
        Kind::Number => matches.get_one::<f64>(name).map(|v| Value::from(*v)),
        Kind::Boolean => matches.get_one::<bool>(name).map(|v| Value::from(*v)),
        Kind::String | Kind::Enum => matches
            .get_one::<String>(name)
            .map(|v| Value::from(v.as_str())),
    }
}

fn query_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `--body`: `@file`, `-` (stdin) or JSON text; a JSON error names
/// `file:line:column`.
fn read_body(spec: &str) -> Result<Value, Failure> {
    let (name, text) = if let Some(path) = spec.strip_prefix('@') {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::bad_input(format!("{path}: {e}")))?;
        (path.to_string(), text)
    } else if spec == "-" {
        let text = std::io::read_to_string(std::io::stdin())
            .map_err(|e| Failure::bad_input(format!("stdin: {e}")))?;
        ("<stdin>".to_string(), text)
    } else {
        ("--body".to_string(), spec.to_string())
    };
    serde_json::from_str(&text)
        .map_err(|e| Failure::bad_input(format!("{name}:{}:{}: {e}", e.line(), e.column())))
}

/// The request of a command line.
fn request(c: &Command, matches: &ArgMatches) -> Result<RawRequest, Failure> {
    let mut request = RawRequest::default();
    for p in c.params {
        if let Some(v) = json_of(p.kind, matches, p.name) {
            request = if p.path {
                request.path(p.name, query_text(&v))
            } else {
                request.query(p.name, query_text(&v))
            };
        }
    }
    if c.body_template.is_some() {
        let mut body = match opt_string(matches, "body") {
            Some(spec) => read_body(spec)?,
            None => Value::Object(Map::new()),
        };
        let Value::Object(map) = &mut body else {
            return Err(Failure::bad_input("--body must be a JSON object"));
        };
        for f in c.fields {
            if let Some(v) = json_of(f.kind, matches, f.name) {
                map.insert(f.name.to_string(), v);
            }
        }
        let missing: Vec<String> = c
            .fields
            .iter()
            .filter(|f| f.required && !map.contains_key(f.name))
            .map(|f| format!("--{}", flag(f.name)))
            .collect();
        if !missing.is_empty() {
            return Err(Failure::usage(format!(
                "required: {} (or give them in --body)",
                missing.join(", ")
            )));
        }
        request = request.body(body);
    }
    if let Some(key) = opt_string(matches, "idempotency-key") {
        request = request.idempotency_key(key);
    }
    Ok(request)
}

pub async fn run(domain: &str, matches: &ArgMatches) -> Result<u8, Failure> {
    let Some((name, sub)) = matches.subcommand() else {
        return Err(Failure::usage(format!("ayra {domain} <operation>")));
    };
    let c = COMMANDS
        .iter()
        .find(|c| c.domain == domain && c.name == name)
        .ok_or_else(|| Failure::usage(format!("no command `ayra {domain} {name}`")))?;
    if sub.get_flag_opt("body-template") {
        output::write(&format!("{}\n", c.body_template.unwrap_or("{}")))?;
        return Ok(exit::OK);
    }
    let op = ayra::api::operation(c.operation)
        .ok_or_else(|| Failure::usage(format!("the SDK has no operation {}", c.operation)))?;
    let request = request(c, sub)?;
    let targets = accounts::targets(sub, None)?;
    let format = output::format(sub);
    let several = targets.len() > 1;
    let mut code = exit::OK;
    for target in targets {
        if several && format == Format::Table {
            output::write(&format!("== {} ==\n", target.name))?;
        }
        let outcome = match &target.client {
            Ok(client) => send(client, c, op, request.clone(), sub, format, several).await,
            Err(f) => Err(Failure {
                code: f.code,
                line: f.line.clone(),
            }),
        };
        if let Err(f) = outcome {
            let f = f.in_account(&target.name);
            eprintln!("{}", f.line);
            code = code.max(f.code);
        }
    }
    Ok(code)
}

/// An option the command may not have (`--body` exists only with a body).
fn opt_string<'m>(matches: &'m ArgMatches, name: &str) -> Option<&'m String> {
    matches.try_get_one::<String>(name).ok().flatten()
}

trait FlagOpt {
    fn get_flag_opt(&self, name: &str) -> bool;
}

impl FlagOpt for ArgMatches {
    /// `get_flag` for a flag the command may not have.
    fn get_flag_opt(&self, name: &str) -> bool {
        self.try_get_one::<bool>(name)
            .ok()
            .flatten()
            .copied()
            .unwrap_or(false)
    }
}

async fn send(
    client: &ayra::Client,
    c: &Command,
    op: &'static ayra::runtime::Operation,
    request: RawRequest,
    matches: &ArgMatches,
    format: Format,
    several: bool,
) -> Result<(), Failure> {
    let label = client.account_label().to_string();
    let tag = |v: Value| {
        if several {
            serde_json::json!({"account": label, "data": v})
        } else {
            v
        }
    };
    match c.success {
        Success::Json if c.list && matches.get_flag_opt("all") => {
            let mut items = client.call_list(op, request).items();
            let mut rows = Vec::new();
            while let Some(item) = items.next().await {
                let item = item.map_err(|e| Failure::sdk(&e))?;
                if format == Format::Table {
                    rows.push(item);
                } else {
                    output::line(&tag(item))?;
                }
            }
            if format == Format::Table {
                output::write(&output::table(&rows))?;
            }
            Ok(())
        }
        Success::Json => {
            let body = client
                .call(op, request)
                .await
                .map_err(|e| Failure::sdk(&e))?
                .into_inner();
            let body = if several && format != Format::Table {
                tag(body)
            } else {
                body
            };
            output::print_body(format, &body)
        }
        Success::Empty => {
            let response = client
                .call_empty(op, request)
                .await
                .map_err(|e| Failure::sdk(&e))?;
            if format == Format::Table {
                output::write(&format!("done ({})\n", response.status().as_u16()))?;
            }
            Ok(())
        }
        Success::Stream => {
            let body = client
                .call_stream(op, request)
                .await
                .map_err(|e| Failure::sdk(&e))?
                .into_inner();
            let mut body = body.into_inner();
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| {
                    Failure::new(exit::API_SERVER, format!("the stream broke: {e}"))
                })?;
                out.write_all(&chunk)
                    .map_err(|e| Failure::new(exit::API_SERVER, format!("stdout: {e}")))?;
            }
            Ok(())
        }
    }
}
