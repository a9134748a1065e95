//! The errors the generator reports: each names a place in the spec.

use std::fmt;

/// One thing wrong with the spec, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// JSON pointer into the document, e.g. `/paths/~1agents/post/parameters`.
    pub pointer: String,
    /// The `operationId` (or `METHOD path` when it has none) the problem is in.
    pub operation: Option<String>,
    /// What is wrong and what to change.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            pointer: pointer.into(),
            operation: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.pointer)?;
        if let Some(op) = &self.operation {
            write!(f, " ({op})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Why generation failed. Every variant names the file; none is a panic.
#[derive(Debug)]
pub enum Failure {
    /// The file could not be read.
    Read { file: String, error: std::io::Error },
    /// The file is not YAML: the position of the first syntax error.
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// The spec broke one or more of its rules; all of them are listed.
    Invalid {
        file: String,
        problems: Vec<Problem>,
    },
    /// progenitor rejected the spec (or failed on it).
    Generator { file: String, message: String },
}

impl Failure {
    /// The problems found by the checks (empty for other failures).
    pub fn problems(&self) -> &[Problem] {
        match self {
            Failure::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }

    pub(crate) fn invalid(file: &str, problems: Vec<Problem>) -> Self {
        Failure::Invalid {
            file: file.to_string(),
            problems,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Read { file, error } => write!(f, "{file}: cannot read: {error}"),
            Failure::Syntax {
                file,
                line,
                column,
                message,
            } => write!(f, "{file}:{line}:{column}: not valid YAML: {message}"),
            Failure::Invalid { file, problems } => {
                write!(f, "{file}: {} problem(s):", problems.len())?;
                for p in problems {
                    write!(f, "\n  {file}{p}")?;
                }
                Ok(())
            }
            Failure::Generator { file, message } => {
                write!(f, "{file}: progenitor cannot generate a client: {message}")
            }
        }
    }
}

impl std::error::Error for Failure {}
