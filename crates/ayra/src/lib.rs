//! The Rust SDK for the [Ayra](https://ayra.ai) voice-AI API: agents,
//! conversations, contacts, calendars, workflows and analytics.
//!
//! Every operation of the API is a method on [`Client`] that returns a
//! builder; `send()` runs it with retries, an idempotency key on writes, and
//! one typed [`Error`]. List operations also stream ([`Paginate`]).
//!
//! # Quick start
//!
//! ```no_run
//! use ayra::prelude::*;
//! use futures::TryStreamExt;
//!
//! # async fn run() -> ayra::Result<()> {
//! let client = ayra::Client::from_env()?; // AYRA_API_KEY, optional AYRA_BASE_URL
//!
//! let agent = client
//!     .create_agent()
//!     .body(AgentCreate::builder().name("Front desk").voice_id("voice_ava").prompt("Be brief."))
//!     .send()
//!     .await?;
//! println!("created {} ({})", agent.data.id, agent.request_id().unwrap_or("-"));
//!
//! let mut contacts = client.list_contacts().tag("vip").per_page(100).items();
//! while let Some(contact) = contacts.try_next().await? {
//!     println!("{}", contact.first_name);
//! }
//! # Ok(()) }
//! ```
//!
//! Partial updates: in a PATCH body a setter not called leaves the field
//! unchanged, `None` clears a nullable field (sends `null`) and a list setter
//! sends what it is given, `[]` included (see [`Patch`]).
//!
//! Forward compatibility: responses may carry fields and enum values newer
//! than this SDK; unknown fields are ignored and unknown enum values decode
//! to an `Unknown(String)` variant, so a deployed client keeps working.
#![deny(missing_docs)]

mod cache;
mod client;
mod download;
mod error;
mod events;
pub mod jobs;
mod pagination;
mod patch;
mod path;
mod response;
mod retry;
#[doc(hidden)]
pub mod runtime;
mod text;

/// The generated client, types and request builders (from `spec/ayra.yaml`,
/// by `cargo xtask regen`; committed so that users compile no generator).
#[allow(missing_docs, clippy::all, unused_imports, dead_code)]
pub mod api {
    include!("generated.rs");
}

pub use api::{builder, types};
/// The date-time crate of the generated types, re-exported for convenience.
pub use chrono;
pub use client::{
    CallOptions, Client, ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, Environment,
};
pub use download::Download;
pub use error::{ApiError, Call, DecodeError, Error, Result};
pub use pagination::{DEFAULT_PREFETCH, ListEnvelope, ListOperation, Page, Paginate};
pub use patch::Patch;
pub use response::{Response, ResponseExt};
pub use retry::RetryPolicy;
pub use text::IntoOptionalString;
pub use types::ErrorCode;

/// The names most programs use: the client, the traits that add methods, and
/// the API's types.
pub mod prelude {
    pub use crate::types::*;
    pub use crate::{Client, Download, Error, Paginate, Patch, ResponseExt, Result};
}

/// The README's example is compiled as a doctest, so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
