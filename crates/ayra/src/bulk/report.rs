//! The record of a run: one line per finished item, written and flushed as
//! it finishes, so that what a killed run leaves is true.

use super::Outcome;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Where a run writes its outcomes ([`super::Bulk::report`]): NDJSON (one
/// JSON object per line) or CSV (with a header line). Each line is flushed
/// before the next outcome is counted; the columns are `account`, `key`,
/// `status`, `id`, `request_id`, `attempts`, `idempotency_key`,
/// `error_code`, `error` and `detail`.
///
/// ```
/// let report = ayra::bulk::Report::ndjson(std::io::stdout());
/// # let _ = report;
/// let file = std::fs::File::create(std::env::temp_dir().join("run.csv")).unwrap();
/// let report = ayra::bulk::Report::csv(file);
/// # let _ = report;
/// ```
#[derive(Clone)]
pub struct Report {
    format: Format,
    out: Arc<Mutex<Box<dyn Write + Send>>>,
}

#[derive(Clone, Copy)]
enum Format {
    Ndjson,
    Csv,
}

const COLUMNS: [&str; 10] = [
    "account",
    "key",
    "status",
    "id",
    "request_id",
    "attempts",
    "idempotency_key",
    "error_code",
    "error",
    "detail",
];

impl Report {
    /// One JSON object per line.
    pub fn ndjson(out: impl Write + Send + 'static) -> Report {
        Report::new(Format::Ndjson, out)
    }

    /// CSV with a header line.
    pub fn csv(out: impl Write + Send + 'static) -> Report {
        Report::new(Format::Csv, out)
    }

    fn new(format: Format, out: impl Write + Send + 'static) -> Report {
        Report {
            format,
            out: Arc::new(Mutex::new(Box::new(out))),
        }
    }

    /// The header (CSV only).
    pub(crate) fn start(&self) -> std::io::Result<()> {
        match self.format {
            Format::Csv => self.line(&COLUMNS.map(String::from)),
            Format::Ndjson => Ok(()),
        }
    }

    pub(crate) fn write(&self, o: &Outcome) -> std::io::Result<()> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let values = [
            o.account.clone(),
            o.key.clone(),
            o.status.as_str().to_string(),
            opt(&o.id),
            opt(&o.request_id),
            o.attempts.to_string(),
            o.idempotency_key.clone(),
            o.error
                .as_ref()
                .and_then(|e| e.code())
                .unwrap_or_default()
                .to_string(),
            o.error.as_ref().map(|e| e.to_string()).unwrap_or_default(),
            opt(&o.detail),
        ];
        match self.format {
            Format::Csv => self.line(&values),
            Format::Ndjson => {
                let mut object = serde_json::Map::new();
                for (column, value) in COLUMNS.iter().zip(values) {
                    let value = match *column {
                        "attempts" => serde_json::Value::from(o.attempts),
                        _ if value.is_empty() => serde_json::Value::Null,
                        _ => serde_json::Value::from(value),
                    };
                    object.insert(column.to_string(), value);
                }
                let mut line = serde_json::to_vec(&object)?;
                line.push(b'\n');
                self.bytes(&line)
            }
        }
    }

    fn line(&self, values: &[String]) -> std::io::Result<()> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(values).map_err(std::io::Error::other)?;
        let bytes = w.into_inner().map_err(|e| e.into_error())?;
        self.bytes(&bytes)
    }

    fn bytes(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        out.write_all(bytes)?;
        out.flush()
    }
}
