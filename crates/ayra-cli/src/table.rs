//! The types of the command table that `ayra-gen` emits from the spec into
//! `generated.rs` (one [`Command`] per operation).

/// One operation of the API as a command: `ayra <domain> <name>`.
#[derive(Debug)]
pub struct Command {
    /// The `operationId` (the key into `ayra::api::operation`).
    pub operation: &'static str,
    /// The spec's tag: the command group.
    pub domain: &'static str,
    /// The operation's words without the domain's noun (see ayra-gen's `cli.rs`).
    pub name: &'static str,
    pub summary: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub success: Success,
    /// Whether it returns the list envelope (pages; `--all`).
    pub list: bool,
    /// Path and query parameters.
    pub params: &'static [Param],
    /// The request body's scalar fields, as flags.
    pub fields: &'static [Field],
    /// A skeleton of the request body (JSON), when the operation takes one.
    pub body_template: Option<&'static str>,
}

/// What a successful response carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Success {
    Json,
    /// `204`, no body.
    Empty,
    /// A download or an event stream, written to stdout as it comes.
    Stream,
}

/// The type of a flag's value.
// The spec has no number or boolean parameter today; the generator emits them.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Integer,
    Number,
    Boolean,
    Enum,
}

/// A path or query parameter.
#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    /// In the path (else the query).
    pub path: bool,
    pub kind: Kind,
    pub required: bool,
    pub values: &'static [&'static str],
    pub help: &'static str,
}

/// A scalar field of the request body.
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub values: &'static [&'static str],
    pub help: &'static str,
}
