//! Contact import and sync: rows (CSV or NDJSON) to contacts, upserted by
//! email or phone through the bulk runner.
//!
//! Columns may come in any order: `first_name`, `last_name`, `email`,
//! `phone`, `tags` (separated by `;` in CSV, an array in NDJSON) and any
//! other column is a custom field (bare, `key`, or `custom_fields.key`),
//! checked against the account's definitions ([`Schema::fetch`]) for its
//! key and type. An empty cell (or a missing NDJSON field) leaves the field
//! alone. A row that does not validate is that row's
//! [`ItemError::Invalid`] naming its row and column; the others go on.
//!
//! [`Upsert`] looks the contact up by the match field (`GET
//! /contacts?email=`), then:
//! - missing: creates it, with the item's derived idempotency key. When the
//!   API replays that create (an earlier attempt or run made the contact)
//!   and that contact is no longer the row's (deleted since, or its email
//!   or phone changed in the web app), it is made anew under a key derived
//!   from the old id, so a rerun of a batch brings back what was taken
//!   away (up to 3 times within the idempotency window; a fourth makes the
//!   row [`ItemError::GaveUp`], never a `replayed` that is not there);
//! - present and equal on every field the row gives: [`Status::Unchanged`],
//!   no write;
//! - present and different: PATCHes only the fields that differ, with a
//!   key derived from the item and that patch;
//! - several present: updates the oldest, and says so in the outcome's
//!   `detail`.
//!
//! With [`Upsert::dry_run`] nothing is written: the outcome says
//! [`Status::WouldCreate`] or [`Status::WouldUpdate`] and, in `detail`,
//! which fields.
//!
//! # The race between the lookup and the create
//!
//! The API does not deduplicate contacts (a second create with the same
//! email makes a second contact) and has no conflict error for it, so
//! between this lookup and this create another writer may create the same
//! email. What the runner guarantees: two rows of one batch with the same
//! email are one item key, hence one idempotency key, so they never make
//! two contacts (the second replays the first, or is a per-item
//! `idempotency_key_reused` when its fields differ); a rerun of the batch
//! within 24 hours replays its own creates. What it cannot prevent: a
//! foreign writer's create in that window. The next sync run finds both
//! contacts, updates the oldest and names the count in `detail`.

use super::{Done, InvalidItem, Item, ItemError, Status, Task};
use crate::response::ResponseExt;
use crate::types::{Contact, ContactCreate, ContactUpdate, CustomFieldType};
use crate::{Client, Paginate, Patch};
use futures::TryStreamExt;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::io::{BufRead, Read};

/// A contact as a row gives it: `None` (and an absent custom field) leaves
/// the contact's value as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContactRow {
    /// Where it came from: the 1-based row (CSV, the header not counted) or
    /// line (NDJSON) of its file; 0 when it was not read from one.
    pub row: u64,
    /// Given name (required: a row must be able to create its contact).
    pub first_name: String,
    /// Family name.
    pub last_name: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// E.164 phone number.
    pub phone: Option<String>,
    /// Tags: the whole set.
    pub tags: Option<Vec<String>>,
    /// Custom field values, by key.
    pub custom_fields: Map<String, Value>,
}

/// The field contacts are matched on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchBy {
    /// The email address (case-insensitive).
    Email,
    /// The E.164 phone number.
    Phone,
}

impl MatchBy {
    fn column(self) -> &'static str {
        match self {
            MatchBy::Email => "email",
            MatchBy::Phone => "phone",
        }
    }

    /// The row's value of the match field, as the item key.
    fn key_of(self, row: &ContactRow) -> Option<String> {
        match self {
            MatchBy::Email => row.email.as_ref().map(|e| e.to_lowercase()),
            MatchBy::Phone => row.phone.clone(),
        }
    }

    /// A contact's value of the match field, compared as [`MatchBy::key_of`].
    fn key_of_contact(self, contact: &Contact) -> Option<String> {
        match self {
            MatchBy::Email => contact.email.as_ref().map(|e| e.to_lowercase()),
            MatchBy::Phone => contact.phone.clone(),
        }
    }
}

/// The account's custom field definitions, to check rows against.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schema {
    fields: HashMap<String, CustomFieldType>,
}

impl Schema {
    /// Definitions given by hand.
    pub fn new(fields: impl IntoIterator<Item = (String, CustomFieldType)>) -> Schema {
        Schema {
            fields: fields.into_iter().collect(),
        }
    }

    /// The account's definitions (`GET /custom-fields`, every page).
    pub async fn fetch(client: &Client) -> crate::Result<Schema> {
        let fields: Vec<_> = client
            .list_custom_fields()
            .per_page(100)
            .items()
            .try_collect()
            .await?;
        Ok(Schema::new(fields.into_iter().map(|f| (f.key, f.type_))))
    }
}

/// The separator of the header line at the start of `head`: whichever of
/// `,`, `;` and tab it holds most of outside quotes (`,` on a tie or none).
fn sniff_delimiter(head: &[u8]) -> u8 {
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in line {
        match b {
            b'"' => quoted = !quoted,
            _ if quoted => {}
            _ => {
                if let Some(c) = counts.iter_mut().find(|(d, _)| d == b) {
                    c.1 += 1;
                }
            }
        }
    }
    counts
        .iter()
        .fold((b',', 0), |best, c| if c.1 > best.1 { *c } else { best })
        .0
}

/// One cell as it was read.
enum Cell {
    /// A CSV cell (text to parse by the field's type).
    Text(String),
    /// An NDJSON value.
    Json(Value),
}

/// Reads CSV rows (a header line first). Each item is the row or why it is invalid.
///
/// The separator is the one the header line uses most of `,`, `;` and tab
/// (a spreadsheet set to French or German saves `;`); a UTF-8 byte order
/// mark and CRLF line ends are accepted.
///
/// ```
/// use ayra::bulk::contacts::{self, MatchBy, Schema};
/// use ayra::types::CustomFieldType;
/// let csv = "email,first_name,plan\nada@example.com,Ada,gold\nnot-an-email,Bob,\n";
/// let schema = Schema::new([("plan".to_string(), CustomFieldType::Text)]);
/// let rows: Vec<_> = contacts::read_csv(csv.as_bytes(), &schema).collect();
/// assert_eq!(rows[0].as_ref().unwrap().custom_fields["plan"], "gold");
/// let bad = rows[1].as_ref().unwrap_err();
/// assert_eq!((bad.row, bad.column.as_deref()), (2, Some("email")));
/// ```
pub fn read_csv<'a>(
    input: impl Read + 'a,
    schema: &'a Schema,
) -> impl Iterator<Item = Result<ContactRow, InvalidItem>> + 'a {
    let mut input = std::io::BufReader::new(input);
    let delimiter = sniff_delimiter(input.fill_buf().unwrap_or_default());
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(input);
    let header: Result<Vec<String>, InvalidItem> = reader
        .headers()
        .map(|h| h.iter().map(|c| c.trim().to_string()).collect())
        .map_err(|e| invalid(0, None, format!("cannot read the header: {e}")));
    let mut records = reader.into_records();
    let mut row = 0u64;
    let mut header_error = Some(header.clone().err());
    std::iter::from_fn(move || {
        if let Some(Some(e)) = header_error.take() {
            return Some(Err(e));
        }
        let header = header.as_ref().ok()?;
        let record = records.next()?;
        row += 1;
        Some(match record {
            Err(e) => Err(invalid(row, None, format!("not CSV: {e}"))),
            Ok(record) => {
                let cells = header
                    .iter()
                    .zip(record.iter())
                    .filter(|(_, v)| !v.trim().is_empty())
                    .map(|(c, v)| (c.clone(), Cell::Text(v.trim().to_string())))
                    .collect();
                parse_row(row, cells, schema)
            }
        })
    })
}

/// Reads NDJSON rows (one JSON object per line; blank lines are skipped).
pub fn read_ndjson<'a>(
    input: impl BufRead + 'a,
    schema: &'a Schema,
) -> impl Iterator<Item = Result<ContactRow, InvalidItem>> + 'a {
    input
        .lines()
        .enumerate()
        .filter(|(_, line)| line.as_ref().map_or(true, |l| !l.trim().is_empty()))
        .map(move |(i, line)| {
            let row = i as u64 + 1;
            let line = line.map_err(|e| invalid(row, None, format!("cannot read: {e}")))?;
            let object: Map<String, Value> = serde_json::from_str(&line)
                .map_err(|e| invalid(row, None, format!("not a JSON object: {e}")))?;
            let mut cells = Vec::new();
            for (column, value) in object {
                match (column.as_str(), value) {
                    (_, Value::Null) => {}
                    ("custom_fields", Value::Object(fields)) => cells.extend(
                        fields
                            .into_iter()
                            .filter(|(_, v)| !v.is_null())
                            .map(|(k, v)| (format!("custom_fields.{k}"), Cell::Json(v))),
                    ),
                    (_, value) => cells.push((column, Cell::Json(value))),
                }
            }
            parse_row(row, cells, schema)
        })
}

/// The items of a batch of rows for one account, keyed by the match field;
/// a row without it is an invalid item keyed `row N`.
pub fn items(
    account: &str,
    by: MatchBy,
    rows: impl IntoIterator<Item = Result<ContactRow, InvalidItem>>,
) -> impl Iterator<Item = Item<Result<ContactRow, InvalidItem>>> {
    let account = account.to_string();
    rows.into_iter().map(move |row| {
        let key = row.as_ref().ok().and_then(|r| by.key_of(r));
        match (row, key) {
            (Ok(row), Some(key)) => Item::new(&account, key, Ok(row)),
            (Ok(row), None) => Item::new(
                &account,
                format!("row {}", row.row),
                Err(invalid(
                    row.row,
                    Some(by.column()),
                    format!("required to match contacts by {}", by.column()),
                )),
            ),
            (Err(e), _) => Item::new(&account, format!("row {}", e.row), Err(e)),
        }
    })
}

fn invalid(row: u64, column: Option<&str>, message: impl Into<String>) -> InvalidItem {
    InvalidItem {
        row,
        column: column.map(str::to_string),
        message: message.into(),
    }
}

fn text(row: u64, column: &str, cell: Cell) -> Result<String, InvalidItem> {
    match cell {
        Cell::Text(s) | Cell::Json(Value::String(s)) => Ok(s),
        Cell::Json(_) => Err(invalid(row, Some(column), "expected a string")),
    }
}

fn parse_row(
    row: u64,
    cells: Vec<(String, Cell)>,
    schema: &Schema,
) -> Result<ContactRow, InvalidItem> {
    let mut out = ContactRow {
        row,
        ..ContactRow::default()
    };
    let mut first_name = None;
    for (column, cell) in cells {
        let c = column.as_str();
        match c {
            "first_name" | "last_name" => {
                let v = text(row, c, cell)?;
                if v.chars().count() > 100 {
                    return Err(invalid(row, Some(c), "longer than 100 characters"));
                }
                if c == "first_name" {
                    first_name = Some(v);
                } else {
                    out.last_name = Some(v);
                }
            }
            "email" => {
                let v = text(row, c, cell)?;
                if !is_email(&v) {
                    return Err(invalid(
                        row,
                        Some(c),
                        format!("{v:?} is not an email address"),
                    ));
                }
                out.email = Some(v);
            }
            "phone" => {
                let v = text(row, c, cell)?;
                if !is_e164(&v) {
                    return Err(invalid(
                        row,
                        Some(c),
                        format!("{v:?} is not an E.164 phone number (e.g. +33612345678)"),
                    ));
                }
                out.phone = Some(v);
            }
            "tags" => {
                let tags: Vec<String> = match cell {
                    Cell::Text(s) => s
                        .split(';')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_string)
                        .collect(),
                    Cell::Json(Value::Array(a)) => a
                        .into_iter()
                        .map(|t| match t {
                            Value::String(s) => Ok(s),
                            _ => Err(invalid(row, Some(c), "expected an array of strings")),
                        })
                        .collect::<Result<_, _>>()?,
                    Cell::Json(_) => {
                        return Err(invalid(row, Some(c), "expected an array of strings"));
                    }
                };
                if tags.len() > 50 || tags.iter().any(|t| t.chars().count() > 64) {
                    return Err(invalid(
                        row,
                        Some(c),
                        "at most 50 tags of 1 to 64 characters",
                    ));
                }
                out.tags = Some(tags);
            }
            _ => {
                let key = c.strip_prefix("custom_fields.").unwrap_or(c);
                let Some(kind) = schema.fields.get(key) else {
                    return Err(invalid(
                        row,
                        Some(c),
                        format!("no custom field has the key {key:?}"),
                    ));
                };
                let value = typed(cell, kind).map_err(|m| invalid(row, Some(c), m))?;
                out.custom_fields.insert(key.to_string(), value);
            }
        }
    }
    out.first_name = first_name.ok_or_else(|| invalid(row, Some("first_name"), "required"))?;
    if out.email.is_none() && out.phone.is_none() {
        return Err(invalid(
            row,
            Some("email"),
            "an email or a phone is required",
        ));
    }
    Ok(out)
}

/// A custom field's value, of its type.
fn typed(cell: Cell, kind: &CustomFieldType) -> Result<Value, String> {
    let want = match kind {
        CustomFieldType::Text => "text",
        CustomFieldType::Number => "a number",
        CustomFieldType::Date => "a date (YYYY-MM-DD)",
        CustomFieldType::Boolean => "true or false",
        CustomFieldType::Unknown(_) => {
            return Ok(match cell {
                Cell::Text(s) => Value::String(s),
                Cell::Json(v) => v,
            });
        }
    };
    let wrong = |v: &dyn std::fmt::Display| format!("{v} is not {want}");
    match (kind, cell) {
        (CustomFieldType::Text, Cell::Text(s) | Cell::Json(Value::String(s))) => {
            Ok(Value::String(s))
        }
        (CustomFieldType::Number, Cell::Json(Value::Number(n))) => Ok(Value::Number(n)),
        (CustomFieldType::Number, Cell::Text(s)) => {
            if let Ok(i) = s.parse::<i64>() {
                return Ok(Value::from(i));
            }
            s.parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| wrong(&format!("{s:?}")))
        }
        (CustomFieldType::Date, Cell::Text(s) | Cell::Json(Value::String(s))) => {
            match chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
                Ok(_) if s.len() == 10 => Ok(Value::String(s)),
                _ => Err(wrong(&format!("{s:?}"))),
            }
        }
        (CustomFieldType::Boolean, Cell::Json(Value::Bool(b))) => Ok(Value::Bool(b)),
        (CustomFieldType::Boolean, Cell::Text(s)) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "0" => Ok(Value::Bool(false)),
            _ => Err(wrong(&format!("{s:?}"))),
        },
        (_, Cell::Json(v)) => Err(wrong(&v)),
        (_, Cell::Text(s)) => Err(wrong(&format!("{s:?}"))),
    }
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    s.len() <= 254
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// The upsert of one contact row ([`Upsert::apply`] is the runner's operation).
///
/// ```no_run
/// use ayra::bulk::{Account, Bulk, contacts::{self, MatchBy, Schema, Upsert}};
/// # async fn run(client: ayra::Client) -> ayra::Result<()> {
/// let schema = Schema::fetch(&client).await?;
/// let file = std::fs::File::open("contacts.csv").map_err(ayra::Error::Io)?;
/// let rows: Vec<_> = contacts::read_csv(file, &schema).collect();
/// let items = contacts::items("acme", MatchBy::Email, rows);
/// let upsert = Upsert::new(MatchBy::Email);
/// let summary = Bulk::new("crm-sync")
///     .report(ayra::bulk::Report::csv(std::io::stdout()))
///     .run(
///         [Account::new("acme", client)],
///         futures::stream::iter(items),
///         move |task, row| upsert.clone().apply(task, row),
///     )?
///     .finish()
///     .await;
/// println!("{summary:?}");
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Upsert {
    by: MatchBy,
    dry_run: bool,
}

impl Upsert {
    /// Upsert matching on `by`.
    pub fn new(by: MatchBy) -> Upsert {
        Upsert { by, dry_run: false }
    }

    /// Says what would happen, writes nothing.
    pub fn dry_run(mut self, dry_run: bool) -> Upsert {
        self.dry_run = dry_run;
        self
    }

    /// Looks the row's contact up, then creates it, updates what differs, or
    /// leaves it unchanged.
    pub async fn apply(
        self,
        task: Task,
        row: Result<ContactRow, InvalidItem>,
    ) -> Result<Done, ItemError> {
        let row = row?;
        let key = self
            .by
            .key_of(&row)
            .ok_or_else(|| invalid(0, Some(self.by.column()), "missing"))?;
        let found = task
            .call(|| {
                let list = task.client().list_contacts().per_page(100);
                match self.by {
                    MatchBy::Email => list.email(key.as_str()),
                    MatchBy::Phone => list.phone(key.as_str()),
                }
                .send()
            })
            .await?
            .into_inner()
            .data;
        let matches = found.len();
        let Some(existing) = found
            .into_iter()
            .min_by_key(|c| (c.created_at, c.id.clone()))
        else {
            return self.create(&task, row).await;
        };
        let (update, changed) = difference(&existing, &row);
        let mut done = if changed.is_empty() {
            Done::without_write(Status::Unchanged, Some(existing.id.clone()))
        } else if self.dry_run {
            Done::without_write(Status::WouldUpdate, Some(existing.id.clone()))
                .detail(changed.join(" "))
        } else {
            let body = serde_json::to_string(&update).unwrap_or_default();
            let idempotency_key = task.derived_key(&body);
            let response = task
                .call(|| {
                    task.client()
                        .update_contact()
                        .contact_id(existing.id.as_str())
                        .idempotency_key(idempotency_key.as_str())
                        .body(update.clone())
                        .send()
                })
                .await?;
            let id = response.data.id.clone();
            Done::written(&response, Status::Updated, id).detail(changed.join(" "))
        };
        if matches > 1 {
            let note = format!(
                "{matches} contacts match; the oldest, {}, is the one kept in sync",
                existing.id
            );
            done.detail = Some(match done.detail {
                Some(d) => format!("{d}; {note}"),
                None => note,
            });
        }
        Ok(done)
    }

    async fn create(self, task: &Task, row: ContactRow) -> Result<Done, ItemError> {
        if self.dry_run {
            return Ok(Done::without_write(Status::WouldCreate, None));
        }
        let wanted = self.by.key_of(&row);
        let body = ContactCreate {
            first_name: row.first_name,
            last_name: row.last_name,
            email: row.email,
            phone: row.phone,
            tags: row.tags.unwrap_or_default(),
            custom_fields: row.custom_fields,
        };
        let mut key = task.idempotency_key().to_string();
        // The contacts this row made that are no longer it, and why.
        let mut gone: Vec<String> = Vec::new();
        loop {
            let response = task
                .call(|| {
                    task.client()
                        .create_contact()
                        .idempotency_key(key.as_str())
                        .body(body.clone())
                        .send()
                })
                .await?;
            let id = response.data.id.clone();
            if !response.is_replay() {
                let done = Done::written(&response, Status::Created, id);
                if gone.is_empty() {
                    return Ok(done);
                }
                return Ok(done.detail(format!("created anew: {}", gone.join(", "))));
            }
            if gone.len() >= MAX_RECREATES {
                // Its contact was taken away again each time it was made
                // anew: the row is not in the account, and saying `replayed`
                // would claim it is.
                return Err(ItemError::GaveUp(format!(
                    "its contact was deleted or changed each time it was made anew ({}, then {id}); the row is not in the account",
                    gone.join(", ")
                )));
            }
            // A replay: an earlier attempt or run made this contact. The
            // lookup did not find it, so since then it was deleted, or its
            // match field changed (an edit in the web app): then the row's
            // contact is made anew, under a key derived from the old id, so
            // that a rerun replays this create in turn.
            let why = match task
                .call(|| task.client().get_contact().contact_id(id.as_str()).send())
                .await
            {
                Ok(c) if self.by.key_of_contact(&c.data) == wanted => {
                    return Ok(Done::written(&response, Status::Created, id));
                }
                Ok(_) => format!("{id} has another {}", self.by.column()),
                Err(ItemError::Call(e)) if e.status() == Some(crate::StatusCode::NOT_FOUND) => {
                    format!("{id} deleted")
                }
                Err(e) => return Err(e),
            };
            key = task.derived_key(&format!("after {id}"));
            gone.push(why);
        }
    }
}

/// How many times one row's contact is made anew after being deleted
/// (each a replayed create whose contact is gone) before the row fails with
/// [`ItemError::GaveUp`]: each rerun after a delete adds one to the chain.
const MAX_RECREATES: usize = 3;

/// The PATCH that makes `contact` what `row` says, and the names of the
/// fields it changes.
fn difference(contact: &Contact, row: &ContactRow) -> (ContactUpdate, Vec<String>) {
    let mut update = ContactUpdate {
        custom_fields: Map::new(),
        email: Patch::Unchanged,
        first_name: None,
        last_name: Patch::Unchanged,
        phone: Patch::Unchanged,
        tags: None,
    };
    let mut changed = Vec::new();
    if row.first_name != contact.first_name {
        update.first_name = Some(row.first_name.clone());
        changed.push("first_name".to_string());
    }
    let mut nullable =
        |name: &str, want: &Option<String>, have: &Option<String>, field: &mut Patch<String>| {
            if let Some(want) = want
                && have.as_deref() != Some(want.as_str())
            {
                *field = Patch::Set(want.clone());
                changed.push(name.to_string());
            }
        };
    nullable(
        "last_name",
        &row.last_name,
        &contact.last_name,
        &mut update.last_name,
    );
    // The match field is equal by construction, up to case for emails.
    let same_email = row.email.as_ref().map(|e| e.to_lowercase())
        == contact.email.as_ref().map(|e| e.to_lowercase());
    if !same_email {
        nullable("email", &row.email, &contact.email, &mut update.email);
    }
    nullable("phone", &row.phone, &contact.phone, &mut update.phone);
    if let Some(tags) = &row.tags {
        let mut want: Vec<&String> = tags.iter().collect();
        let mut have: Vec<&String> = contact.tags.iter().collect();
        want.sort();
        want.dedup();
        have.sort();
        if want != have {
            update.tags = Some(tags.clone());
            changed.push("tags".to_string());
        }
    }
    for (key, value) in &row.custom_fields {
        if contact.custom_fields.get(key) != Some(value) {
            update.custom_fields.insert(key.clone(), value.clone());
            changed.push(format!("custom_fields.{key}"));
        }
    }
    (update, changed)
}
