//! Runtime shared by every generated Vandar and Sanbod client crate.
//!
//! The generated crates carry only what the specs say (types, operations, and a table of each
//! operation's host, auth scheme and retry safety). Everything cross-cutting lives here, once,
//! and is attached through progenitor's `ClientHooks`:
//!
//! * [`Config`]: base URL per host (overridable for sandboxes and tests), timeouts, user agent,
//!   credentials; `Debug` never shows a credential.
//! * [`Runtime`]: the configuration plus one shared `reqwest` client (rustls).
//! * [`Binding`]: what each generated client holds; routes every operation to its host and
//!   applies its auth scheme; one tracing span per request.
//! * [`Error`]: one error type for every client; it never prints headers or secrets.
//! * [`secret`]: redacted secret values ([`Secret`], [`ApiKey`]).
//! * [`domain`]: money, identifiers, IBAN, card, mobile, national code, Jalali dates.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod binding;
mod config;
pub mod domain;
mod error;
mod route;
pub mod secret;

pub use binding::{Binding, Runtime};
pub use config::{Config, ConfigBuilder, ConfigError, DEFAULT_USER_AGENT, Timeouts};
pub use error::{ApiError, Error};
pub use route::{Auth, BrowserPage, FieldCheck, Route};
pub use secret::{ApiKey, Secret};

/// Name of the bearer security scheme in the Vandar specs (the business access token).
pub const VANDAR_BEARER: &str = "bearer";

#[doc(hidden)]
pub use progenitor_client as __progenitor_client;
