//! The Rust SDK for the [Ayra](https://ayra.ai) voice-AI API: agents,
//! conversations, contacts, calendars, workflows and analytics.
//!
//! Every operation of the API is a method on [`Client`] that returns a
//! request builder; `send()` runs it with retries, an idempotency key on
//! writes, and one typed [`Error`]. List operations also stream
//! ([`Paginate`]).
//!
//! # The API by domain
//!
//! Each page lists its operations with their HTTP verb and path and the
//! method to call; [`domains`] maps every REST operation to its method.
//!
//! | domain | what |
//! | --- | --- |
//! | [agents](domains::agents) | voice agents, voices, time zones |
//! | [conversations](domains::conversations) | history, transcripts, recordings, live events |
//! | [contacts](domains::contacts) | contacts, tags, custom fields, interactions |
//! | [calendars](domains::calendars) | availability, appointments, recurring series |
//! | [workflows](domains::workflows) | workflows and their executions |
//! | [analytics](domains::analytics) | metrics, reports, exports |
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
//!     .body_map(|b| b.name("Front desk").voice_id("voice_ava").prompt("Be brief."))
//!     .send()
//!     .await?
//!     .into_data();
//! println!("created {} ({})", agent.id, agent.status);
//!
//! let mut contacts = client.list_contacts().tag("vip").per_page(100).items();
//! while let Some(contact) = contacts.try_next().await? {
//!     println!("{}", contact.first_name);
//! }
//! # Ok(()) }
//! ```
//!
//! # Writing a call
//!
//! A request body is written inside the call with `.body_map(|b| ...)`: the
//! builder comes in ready, so there is no body type to name or import, and
//! a value that does not fit is reported by `send()` as
//! [`Error::InvalidRequest`]. (`.body(AgentCreate::builder()...)` takes a
//! builder made elsewhere, for a body reused across calls.)
//!
//! Setters take the values you hold: `.duration_minutes(30)` for an
//! optional field (`None` leaves it out), `.recurrence(Recurrence::builder()...)`
//! for a nested object, `.tags(["vip", "tour"])` for a list and
//! `.custom_fields(json!({"visits": 3}))` (or a map, or any `Serialize`
//! struct) for a JSON object; see [`IntoOptional`], [`IntoList`] and
//! [`IntoJsonObject`].
//!
//! `send()` returns a [`Response`]: it dereferences to the body
//! (`response.data`, `response.meta`) beside [`request_id()`](ResponseExt::request_id)
//! and [`is_replay()`](ResponseExt::is_replay), and
//! [`into_data()`](Response::into_data) keeps just the resource.
//!
//! Partial updates: in a PATCH body a setter not called leaves the field
//! unchanged, `None` clears a nullable field (sends `null`) and a list setter
//! sends what it is given, `[]` included (see [`Patch`]).
//!
//! Forward compatibility: responses may carry fields and enum values newer
//! than this SDK; unknown fields are ignored and unknown enum values decode
//! to an `Unknown(String)` variant, so a deployed client keeps working.
#![deny(missing_docs)]

mod account;
pub mod bulk;
mod cache;
mod client;
mod download;
mod error;
mod events;
mod fields;
pub mod jobs;
mod pagination;
mod patch;
mod path;
mod raw;
mod response;
mod retry;
#[doc(hidden)]
pub mod runtime;

/// The generated client, types and request builders (from `spec/ayra.yaml`,
/// by `cargo xtask regen`; committed so that users compile no generator).
#[allow(missing_docs, clippy::all, unused_imports, dead_code)]
pub mod api {
    include!("generated.rs");
}

pub use api::{builder, domains, types};
/// The date-time crate of the generated types, re-exported for convenience.
pub use chrono;
pub use client::{
    CallOptions, Client, ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, Environment,
};
pub use download::Download;
pub use error::{ApiError, Call, DecodeError, Error, Result};
pub use fields::{IntoItem, IntoJsonObject, IntoList, IntoOptional};
pub use pagination::{DEFAULT_PREFETCH, ListEnvelope, ListOperation, Page, Paginate};
pub use patch::Patch;
pub use raw::{RawList, RawPage, RawRequest};
/// The HTTP status type of responses and errors.
pub use reqwest::StatusCode;
pub use response::{Envelope, Response, ResponseExt};
pub use retry::RetryPolicy;
/// An operation of the spec, as [`Client::call`] takes it (from [`api::OPERATIONS`]).
pub use runtime::Operation;
/// The JSON crate of free-form fields (custom fields, workflow input, ...),
/// re-exported with its `json!` macro.
pub use serde_json::{self, json};
pub use types::ErrorCode;

/// The names most programs use: the client, the traits that add methods, the
/// API's types and `json!`.
pub mod prelude {
    pub use crate::jobs::Job;
    pub use crate::types::*;
    pub use crate::{Client, Download, Error, Paginate, Patch, ResponseExt, Result, json};
}

/// The README's example is compiled as a doctest, so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
