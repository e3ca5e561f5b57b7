//! Runtime shared by every generated Vandar and Sanbod client crate.
//!
//! The generated crates carry only what the specs say (types, operations, and a table of each
//! operation's host, auth scheme and retry safety). Everything cross-cutting lives here, once,
//! and is attached through progenitor's `ClientHooks` (`pre`, `exec`, `post`):
//!
//! * [`Config`]: base URL per host (overridable for sandboxes and tests), [`Timeouts`]
//!   (connect, per attempt, total), [`RetryPolicy`], [`RateLimits`], user agent, credentials
//!   (a static access token or a refreshing [`TokenPair`]; OAuth [`ClientCredentials`] for
//!   HTTP Basic schemes); `Debug` never shows a credential.
//! * [`Runtime`]: the configuration plus one shared `reqwest` client (rustls), one rate limiter
//!   per credential and the token manager.
//! * [`Binding`]: what each generated client holds; routes every operation to its host,
//!   applies its auth scheme, waits for rate-limit slots, retries idempotent calls, refreshes
//!   tokens on expiry and on 401; one tracing span per call. Per client it can carry its own
//!   bearer token or [`BearerSource`] (Sanbod's per-user/per-scope OAuth tokens), path
//!   overrides, and fills [`AutoValue`] query parameters (Sanbod's `traceid`).
//! * [`Error`]: one error type for every client, including "outcome unknown" for a payment
//!   call whose response was lost; it never prints headers or secrets.
//! * [`secret`]: redacted secret values ([`Secret`], [`ApiKey`]).
//! * [`domain`]: money, identifiers, IBAN, card, mobile, national code, Jalali dates.
//!
//! # Guarantees
//!
//! * A call whose route is not idempotent (IPG send and verify, settlements, withdrawals,
//!   refunds, transfers) reaches the server at most once per call. The only replay is after a
//!   401 (the server refused it unauthenticated), with a refreshed token, once.
//! * No window of 3 seconds sees more than 30 POSTs or 100 other requests per credential from
//!   one runtime (configurable); unauthenticated calls (the IPG) share one limit per runtime.
//! * Tracing output carries operation ids, methods, hosts, statuses, attempts and latencies;
//!   never URLs' query strings, headers, bodies or tokens.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod auth;
mod binding;
pub mod callback;
mod config;
pub mod domain;
mod error;
#[cfg(test)]
mod hook_tests;
mod ratelimit;
pub mod response;
mod retry;
mod route;
pub mod secret;
#[cfg(any(test, feature = "test-util"))]
pub mod test_util;

pub use auth::{
    ACCESS_TOKEN_LIFETIME, AuthError, BearerFuture, BearerSource, Clock, MemoryTokenStore,
    OAuthToken, REFRESH_HOST, REFRESH_PATH, REFRESH_TOKEN_LIFETIME, StoreFuture, SystemClock,
    TokenPair, TokenRefresh, TokenStore, TokenStoreError,
};
pub use binding::{Binding, Runtime};
pub use config::{
    ClientCredentials, Config, ConfigBuilder, ConfigError, DEFAULT_USER_AGENT, Timeouts,
};
pub use error::{ApiError, Error};
pub use ratelimit::{RateLimit, RateLimits};
pub use retry::RetryPolicy;
pub use route::{
    Auth, AutoKind, AutoValue, BrowserPage, FieldCheck, PathSegment, Route, fill_path,
};
pub use secret::{ApiKey, Secret};

/// Name of the bearer security scheme in the Vandar specs (the business access token).
pub const VANDAR_BEARER: &str = "bearer";

#[doc(hidden)]
pub use progenitor_client as __progenitor_client;
