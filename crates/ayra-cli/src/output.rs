//! What a command prints on stdout: a table on a terminal, JSON when piped,
//! or what `--output json|ndjson|table` asks for.

use crate::exit::Failure;
use clap::ArgMatches;
use serde_json::Value;
use std::io::{IsTerminal, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Ndjson,
    Table,
}

pub fn format(matches: &ArgMatches) -> Format {
    match matches.get_one::<String>("output").map(String::as_str) {
        Some("json") => Format::Json,
        Some("ndjson") => Format::Ndjson,
        Some("table") => Format::Table,
        _ if std::io::stdout().is_terminal() => Format::Table,
        _ => Format::Json,
    }
}

/// Writes to stdout; a reader that went away (`| head`) ends the program
/// quietly, as other command-line tools do.
pub fn write(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Failure::new(
            crate::exit::API_SERVER,
            format!("cannot write stdout: {e}"),
        )),
    }
}

/// One JSON value per line (an item of `--all`).
pub fn line(value: &Value) -> Result<(), Failure> {
    write(&format!("{value}\n"))
}

/// A response body: the whole envelope as JSON; its `data` (each item of a
/// list on its own line) as NDJSON; `data` as a table.
pub fn print_body(format: Format, body: &Value) -> Result<(), Failure> {
    let data = body.get("data").unwrap_or(body);
    match format {
        Format::Json => write(&format!(
            "{}\n",
            serde_json::to_string_pretty(body).unwrap_or_default()
        )),
        Format::Ndjson => match data {
            Value::Array(items) => items.iter().try_for_each(line),
            other => line(other),
        },
        Format::Table => match data {
            Value::Array(items) => write(&table(items)),
            Value::Object(map) => write(&pairs(map)),
            other => line(other),
        },
    }
}

/// Rows that are not an API body (e.g. `ayra accounts list`).
pub fn print_list(format: Format, rows: &[Value]) -> Result<(), Failure> {
    match format {
        Format::Json => write(&format!(
            "{}\n",
            serde_json::to_string_pretty(rows).unwrap_or_default()
        )),
        Format::Ndjson => rows.iter().try_for_each(line),
        Format::Table => write(&table(rows)),
    }
}

/// The columns: the scalar fields of the first item, at most 8.
pub fn table(items: &[Value]) -> String {
    let Some(Value::Object(first)) = items.first() else {
        return if items.is_empty() {
            "(none)\n".to_string()
        } else {
            items.iter().map(|v| format!("{}\n", cell(v))).collect()
        };
    };
    // Identity first, then the other scalar fields in the body's order.
    let first_ones = ["id", "name", "key", "status"];
    let mut columns: Vec<&String> = first
        .iter()
        .filter(|(_, v)| !v.is_object() && !v.is_array())
        .map(|(k, _)| k)
        .collect();
    columns.sort_by_key(|c| {
        first_ones
            .iter()
            .position(|f| f == c)
            .unwrap_or(first_ones.len())
    });
    columns.truncate(8);
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| columns.iter().map(|c| cell(&item[c.as_str()])).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([c.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let header: Vec<String> = columns.iter().map(|c| c.to_uppercase()).collect();
    for row in std::iter::once(&header).chain(rows.iter()) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn pairs(map: &serde_json::Map<String, Value>) -> String {
    let width = map.keys().map(|k| k.len()).max().unwrap_or(0);
    map.iter()
        .map(|(k, v)| format!("{k:<width$}  {}\n", cell(v)))
        .collect()
}

/// A cell: strings bare, null as `-`, long text cut at 60 characters.
fn cell(v: &Value) -> String {
    let text = match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let text = text.replace(['\n', '\t'], " ");
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(59).collect();
        format!("{cut}…")
    } else {
        text
    }
}
