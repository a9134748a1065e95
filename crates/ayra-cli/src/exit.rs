//! Exit codes, and the one line on stderr that every failure prints.

/// Success.
pub const OK: u8 = 0;
/// `ayra plan`: the file differs from what the accounts hold.
pub const CHANGES: u8 = 2;
/// The API refused the request (a 4xx).
pub const API_CLIENT: u8 = 4;
/// The API failed or could not be reached (a 5xx, a transport error, a timeout).
pub const API_SERVER: u8 = 5;
/// The command line was wrong (sysexits `EX_USAGE`).
pub const USAGE: u8 = 64;
/// An input file was wrong: the plan file, `--body`, a CSV (`EX_DATAERR`).
pub const BAD_INPUT: u8 = 65;
/// The configuration was wrong: the config file, no key (`EX_CONFIG`).
pub const CONFIG: u8 = 78;
/// Interrupted by Ctrl-C (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;

/// What `--help` says about them.
pub const HELP: &str = "\
Exit codes:
  0   success
  2   changes pending (ayra plan, ayra contacts import --dry-run)
  4   the API refused the request (4xx; for an import: a row it refused)
  5   the API failed or could not be reached (5xx, connection, timeout)
  64  usage error
  65  bad input file (plan file, --body; an invalid row of an import)
  78  bad configuration (config file, account, API key)
  130 interrupted (Ctrl-C during an import: the rows in flight finish)
With several accounts, the highest code of any account.";

/// A failure: its exit code and the line printed on stderr.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub line: String,
}

impl Failure {
    pub fn new(code: u8, message: impl std::fmt::Display) -> Failure {
        Failure {
            code,
            line: one_line(&format!("error: {message}")),
        }
    }

    pub fn usage(message: impl std::fmt::Display) -> Failure {
        Failure::new(USAGE, message)
    }

    pub fn bad_input(message: impl std::fmt::Display) -> Failure {
        Failure::new(BAD_INPUT, message)
    }

    pub fn config(message: impl std::fmt::Display) -> Failure {
        Failure::new(CONFIG, message)
    }

    /// An SDK error: for an API error its status, type, code, field and
    /// request id; the account when the client has one. The SDK's errors
    /// never hold the key.
    pub fn sdk(e: &ayra::Error) -> Failure {
        let account = e
            .account()
            .map(|a| format!(" account={a}"))
            .unwrap_or_default();
        if let Some(api) = e.api() {
            let code = if api.status.is_server_error() {
                API_SERVER
            } else {
                API_CLIENT
            };
            return Failure {
                code,
                line: one_line(&format!(
                    "error: status={} type={} code={} field={} request_id={}{account}: {}",
                    api.status.as_u16(),
                    api.error_type,
                    api.code,
                    api.field.as_deref().unwrap_or("-"),
                    api.request_id.as_deref().unwrap_or("-"),
                    api.message,
                )),
            };
        }
        let code = match e {
            ayra::Error::InvalidRequest(_) => USAGE,
            ayra::Error::Config(_) => CONFIG,
            _ => API_SERVER,
        };
        let request_id = e
            .request_id()
            .map(|id| format!(" request_id={id}"))
            .unwrap_or_default();
        Failure {
            code,
            line: one_line(&format!("error:{request_id}{account}: {e}")),
        }
    }

    /// The same failure, naming the account it happened in.
    pub fn in_account(mut self, account: &str) -> Failure {
        if !self.line.contains(" account=") {
            self.line = self
                .line
                .replacen("error:", &format!("error: account={account}"), 1);
        }
        self
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
