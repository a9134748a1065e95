//! `ayra contacts import FILE --upsert-by email|phone`: the rows of a CSV or
//! NDJSON file upserted as contacts into each chosen account by the SDK's
//! bulk runner (`ayra::bulk::contacts`), with a progress bar on a terminal,
//! one error line per failed row, a summary and `--report FILE`.

use crate::accounts::{self, Target};
use crate::exit::{self, Failure};
use ayra::bulk::contacts::{self, ContactRow, MatchBy, Schema, Upsert};
use ayra::bulk::{Account, Bulk, InvalidItem, Item, ItemError, Outcome, Report, Status};
use clap::{Arg, ArgAction, ArgMatches};
use futures::{FutureExt, StreamExt};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::IsTerminal;
use std::io::{BufReader, Read};
use std::time::Instant;

/// The generated domain command `import` is added to.
pub const DOMAIN: &str = "contacts";

const HELP: &str = "\
Columns: first_name (required), last_name, email, phone, tags (separated by ;), and any other
column a custom field of the account (checked against its definitions). An empty cell leaves the
field alone. A row that does not validate is reported as `row N, column C: ...`; the others go in.

Reruns: every write carries an idempotency key derived from the account, the item (its email or
phone) and the batch name `contacts-import:<upsert-by>:<hash of the file's bytes>`. Running the same
file again (after a kill, a Ctrl-C, a lost connection) finds what was written and replays rather
than duplicates; an edited file is a new batch whose rows update what differs. The API keeps a
key for 24 hours.

Exit codes: 0 every row done; 2 --dry-run with changes pending; 4 a row refused by the API (4xx);
5 the API failed or could not be reached (5xx, transport); 65 a row of the file is invalid;
78 an account could not be used; 130 interrupted (Ctrl-C: the rows in flight finish, the report
stays true; rerun the same file to finish). With several, the highest.";

/// Statuses in the order of the summary.
const STATUSES: [Status; 8] = [
    Status::Created,
    Status::Updated,
    Status::Unchanged,
    Status::Replayed,
    Status::WouldCreate,
    Status::WouldUpdate,
    Status::Failed,
    Status::NotDone,
];

pub fn command() -> clap::Command {
    clap::Command::new("import")
        .about("Upsert the contacts of a CSV or NDJSON file into each chosen account (bulk)")
        .after_help(HELP)
        .arg(Arg::new("file").required(true).value_name("FILE"))
        .arg(
            Arg::new("upsert-by")
                .long("upsert-by")
                .required(true)
                .value_name("FIELD")
                .value_parser(["email", "phone"])
                .help("The field contacts are matched on"),
        )
        .arg(
            Arg::new("dry-run")
                .long("dry-run")
                .action(ArgAction::SetTrue)
                .help("Say what would be created or updated; write nothing (exit 2 if anything would)"),
        )
        .arg(
            Arg::new("report")
                .long("report")
                .value_name("FILE")
                .help("Write one line per row and account as it finishes: CSV if FILE ends in .csv, else NDJSON"),
        )
        .arg(
            Arg::new("rate-limit")
                .long("rate-limit")
                .value_name("PER_SECOND")
                .value_parser(clap::value_parser!(f64))
                .help("Each account's rate limit, when known: paced at 95-97% of it from the start, not found by slow start")
        )
        .arg(
            Arg::new("format")
                .long("format")
                .value_name("FORMAT")
                .value_parser(["csv", "ndjson"])
                .help("The input's format [default: from FILE's extension: .csv, .ndjson or .jsonl]"),
        )
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Csv,
    Ndjson,
}

pub async fn run(matches: &ArgMatches) -> Result<u8, Failure> {
    let started = Instant::now();
    // Listening from now on: the handler is installed at the first poll.
    let mut interrupt = Box::pin(tokio::signal::ctrl_c());
    let _ = (&mut interrupt).now_or_never();

    let path = matches
        .get_one::<String>("file")
        .cloned()
        .unwrap_or_default();
    let by_name = matches
        .get_one::<String>("upsert-by")
        .cloned()
        .unwrap_or_default();
    let by = if by_name == "phone" {
        MatchBy::Phone
    } else {
        MatchBy::Email
    };
    let format = match matches.get_one::<String>("format").map(String::as_str) {
        Some("csv") => Format::Csv,
        Some(_) => Format::Ndjson,
        None => match std::path::Path::new(&path)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Format::Csv,
            Some("ndjson" | "jsonl") => Format::Ndjson,
            _ => {
                return Err(Failure::usage(format!(
                    "{path}: give --format csv|ndjson (the extension does not say)"
                )));
            }
        },
    };
    let unreadable = |e: std::io::Error| Failure::bad_input(format!("{path}: {e}"));
    let batch = batch_name(&by_name, open(&path).map_err(unreadable)?).map_err(unreadable)?;
    let dry_run = matches.get_flag("dry-run");
    let rate_limit = match matches.get_one::<f64>("rate-limit").copied() {
        Some(l) if !(l.is_finite() && l > 0.0) => {
            return Err(Failure::usage(format!(
                "--rate-limit {l}: give requests per second, more than 0"
            )));
        }
        l => l,
    };
    let report = match matches.get_one::<String>("report") {
        Some(p) => Some(report(p)?),
        None => None,
    };
    let targets = accounts::targets(matches, None)?;
    let mut code = exit::OK;

    // Each account's rows, checked against its own custom fields; an
    // account that cannot be read fails alone.
    let prepared = accounts::for_each_account(targets, prepare).await;
    let mut accounts = Vec::new();
    let mut sources = Vec::new();
    for p in prepared {
        match p {
            Ok((account, schema)) => {
                // Each account reads the file on its own, as its rows go.
                let file = open(&path).map_err(unreadable)?;
                sources.push((account.label().to_string(), schema, file));
                accounts.push(account);
            }
            Err(f) => {
                eprintln!("{}", f.line);
                code = code.max(f.code);
            }
        }
    }
    if accounts.is_empty() {
        return Ok(code);
    }
    let labels: Vec<String> = accounts.iter().map(|a| a.label().to_string()).collect();
    let rows = read(open(&path).map_err(unreadable)?, format, &sources[0].1).count() as u64;
    let total = rows * accounts.len() as u64;
    let items = items(sources, format, by);

    let bar = progress_bar(total);
    let on_progress = bar.clone();
    let mut bulk = Bulk::new(batch)
        .total(total)
        .on_progress(move |p| on_progress.set_position(p.done));
    if let Some(r) = report {
        bulk = bulk.report(r);
    }
    if let Some(limit) = rate_limit {
        bulk = bulk.rate_limit(limit);
    }
    let upsert = Upsert::new(by).dry_run(dry_run);
    let mut run = bulk
        .run(accounts, items, move |task, row| upsert.apply(task, row))
        .map_err(|e| Failure::sdk(&e))?;
    let cancel = run.cancel_handle();
    let mut interrupted = false;
    let mut counts: BTreeMap<Status, BTreeMap<String, u64>> = BTreeMap::new();
    loop {
        tokio::select! {
            outcome = run.next() => {
                let Some(outcome) = outcome else { break };
                *counts
                    .entry(outcome.status)
                    .or_default()
                    .entry(outcome.account.clone())
                    .or_insert(0) += 1;
                if let Some(f) = failure(&outcome) {
                    bar.suspend(|| eprintln!("{}", f.line));
                    code = code.max(f.code);
                }
            }
            _ = &mut interrupt, if !interrupted => {
                interrupted = true;
                cancel.cancel();
                bar.suspend(|| eprintln!("interrupted: the rows in flight finish; run the same file again to finish the import"));
            }
        }
    }
    bar.finish_and_clear();
    let summary = run.summary();
    if let Some(e) = &summary.report_error {
        eprintln!("error: the report could not be written (the import stopped): {e}");
        code = code.max(exit::API_SERVER);
    }
    eprint!("{}", summary_lines(&counts, &labels, started));
    if interrupted {
        code = code.max(exit::INTERRUPTED);
    }
    if dry_run && (summary.count(Status::WouldCreate) + summary.count(Status::WouldUpdate)) > 0 {
        code = code.max(exit::CHANGES);
    }
    Ok(code)
}

/// The batch name, part of every derived idempotency key: the same file
/// (byte for byte) matched the same way is the same batch, whatever its
/// path, so a rerun replays; an edited file is a new batch. The file is
/// hashed as it is read, never held whole.
fn batch_name(by: &str, mut file: impl Read) -> std::io::Result<String> {
    const FILES: uuid::Uuid = uuid::Uuid::from_u128(0x2d7c_94e1_5a3b_4f08_b6c2_81e9_0f4a_d35e);
    // The UUIDv5 of the bytes (RFC 9562: SHA-1 of the namespace, then the name).
    let mut sha = sha1_smol::Sha1::new();
    sha.update(FILES.as_bytes());
    let mut buf = vec![0; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => sha.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let mut bytes = [0; 16];
    bytes.copy_from_slice(&sha.digest().bytes()[..16]);
    let uuid = uuid::Builder::from_sha1_bytes(bytes).into_uuid();
    Ok(format!("contacts-import:{by}:{}", uuid.simple()))
}

fn open(path: &str) -> std::io::Result<BufReader<File>> {
    File::open(path).map(BufReader::new)
}

fn report(path: &str) -> Result<Report, Failure> {
    let file =
        std::fs::File::create(path).map_err(|e| Failure::bad_input(format!("{path}: {e}")))?;
    Ok(if path.to_ascii_lowercase().ends_with(".csv") {
        Report::csv(file)
    } else {
        Report::ndjson(file)
    })
}

type Row = Result<ContactRow, InvalidItem>;

/// Items read ahead of the runner at most, over all accounts.
const READ_AHEAD: usize = 1024;

/// The rows of a file, checked against an account's custom fields.
fn read<'a>(
    file: BufReader<File>,
    format: Format,
    schema: &'a Schema,
) -> Box<dyn Iterator<Item = Row> + 'a> {
    match format {
        Format::Csv => Box::new(contacts::read_csv(file, schema)),
        Format::Ndjson => Box::new(contacts::read_ndjson(file, schema)),
    }
}

/// Every account's items, as the runner pulls them: the first row of every
/// account, then the second of every account... (so each account's limiter
/// has work from the start), read by a thread of their own at most
/// [`READ_AHEAD`] items ahead, so memory stays bounded however long the file
/// and however many accounts.
fn items(
    sources: Vec<(String, Schema, BufReader<File>)>,
    format: Format,
    by: MatchBy,
) -> impl futures::Stream<Item = Item<Row>> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD);
    std::thread::spawn(move || {
        let (named, files): (Vec<_>, Vec<_>) = sources
            .into_iter()
            .map(|(name, schema, file)| ((name, schema), file))
            .unzip();
        let lists: Vec<_> = named
            .iter()
            .zip(files)
            .map(|((name, schema), file)| contacts::items(name, by, read(file, format, schema)))
            .collect();
        for item in accounts::interleave(lists) {
            if tx.blocking_send(item).is_err() {
                return; // the run is over (cancelled, or failed)
            }
        }
    });
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|i| (i, rx)) })
}

/// One account's client and custom field definitions; an account that
/// cannot be read fails alone.
async fn prepare(target: Target) -> Result<(Account, Schema), Failure> {
    let name = target.name;
    let client = target.client.map_err(|f| f.in_account(&name))?;
    let schema = Schema::fetch(&client)
        .await
        .map_err(|e| Failure::sdk(&e).in_account(&name))?;
    Ok((Account::new(name, client), schema))
}

fn progress_bar(total: u64) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {per_sec}  eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

/// The error line of a failed row, and its exit code: an invalid row
/// names its row and column, a refused one its key (email or phone).
fn failure(o: &Outcome) -> Option<Failure> {
    let f = match (&o.status, &o.error) {
        (Status::Failed, Some(ItemError::Invalid(e))) => Failure::bad_input(e),
        (Status::Failed, Some(ItemError::Call(e))) => {
            let mut f = Failure::sdk(e);
            f.line = f.line.replacen("error:", &format!("error: {}:", o.key), 1);
            f
        }
        (Status::Failed, e) => Failure::new(
            exit::API_SERVER,
            format!(
                "{}: {}",
                o.key,
                e.as_ref().map(|e| e.to_string()).unwrap_or_default()
            ),
        ),
        _ => return None,
    };
    Some(f.in_account(&o.account))
}

/// One line per status: the count, and each account's when there are several.
fn summary_lines(
    counts: &BTreeMap<Status, BTreeMap<String, u64>>,
    labels: &[String],
    started: Instant,
) -> String {
    let mut out = String::new();
    for status in STATUSES {
        let by_account = counts.get(&status);
        let total: u64 = by_account.map(|m| m.values().sum()).unwrap_or(0);
        let mut line = format!("{:<13}{total}", status.as_str());
        if labels.len() > 1 && total > 0 {
            let parts: Vec<String> = labels
                .iter()
                .map(|l| {
                    let n = by_account.and_then(|m| m.get(l)).copied().unwrap_or(0);
                    format!("{l} {n}")
                })
                .collect();
            line.push_str(&format!("  ({})", parts.join(", ")));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&format!(
        "{:<13}{:.2}s\n",
        "wall time",
        started.elapsed().as_secs_f64()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::batch_name;

    #[test]
    fn the_batch_name_is_the_uuid_v5_of_the_bytes_hashed_as_they_are_read() {
        // Read in pieces smaller than the file, the name of the whole: the
        // same as hashing the bytes at once (the name before the file was
        // streamed), so reruns across versions stay the same batch.
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let at_once = uuid::Uuid::new_v5(
            &uuid::Uuid::from_u128(0x2d7c_94e1_5a3b_4f08_b6c2_81e9_0f4a_d35e),
            &bytes,
        );
        let streamed = batch_name("email", std::io::Cursor::new(&bytes)).unwrap();
        assert_eq!(
            streamed,
            format!("contacts-import:email:{}", at_once.simple())
        );
        assert_ne!(
            batch_name("email", &bytes[1..]).unwrap(),
            streamed,
            "another file, another batch"
        );
    }
}
