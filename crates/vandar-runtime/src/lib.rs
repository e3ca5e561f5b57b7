//! Runtime shared by every generated Vandar and Sanbod client crate.
//!
//! The generated crates carry only what the specs say (types, operations, and a table of each
//! operation's host, auth scheme, retry safety and request constraints). Everything
//! cross-cutting lives here, once. The xtask rewrites every generated `send()` to hand its
//! request to [`Binding::send_json`] (or [`Binding::call_raw`]), so one pipeline serves every
//! operation of every crate:
//!
//! * [`Config`]: base URL per host (overridable for sandboxes and tests), [`Timeouts`]
//!   (connect, per attempt, total), [`RetryPolicy`], [`RateLimits`], the `Retry-After` cap, the
//!   response size cap, user agent, credentials (a static access token or a refreshing
//!   [`TokenPair`]; OAuth [`ClientCredentials`] for HTTP Basic schemes); `Debug` never shows a
//!   credential, and a base URL with a user name or password is refused.
//! * [`Runtime`]: the configuration plus one shared `reqwest` client (rustls with the default
//!   feature `rustls`: reqwest's own set-up, selected on this client only; nothing is installed
//!   process-wide and an application's own reqwest clients are unaffected), one rate limiter
//!   per credential and the token manager.
//! * [`Binding`]: what each generated client holds; per client it can carry its own bearer
//!   token or [`BearerSource`] (Sanbod's per-user/per-scope OAuth tokens), path overrides, and
//!   fills [`AutoValue`] query parameters (Sanbod's `traceid`).
//! * The send pipeline, as small pieces: the generated code builds each URL once with
//!   [`Binding::url`] (the one path encoder, [`path`]) and checks its typed body with
//!   [`CheckedBody`]; the bridge (`Binding::send_json`: credential, decoding), one credential resolver (which credential, how it is refreshed, which rate
//!   budget it spends), the attempt loop, and [`decide`], the pure decisions (finish, retry
//!   after a delay, refresh and replay, outcome unknown, rate limited, fail) with a table test.
//! * [`Error`]: one error type for every client and every call. Each says what happened, on
//!   which host and operation, and the next step; it carries the HTTP status of every answer
//!   it was built from and the request id where the API sent one, says "outcome unknown" for
//!   a money call that may have taken effect, names the cause class of a transport failure
//!   ([`TransportKind`]) and the credential kind behind a 401 ([`CredentialKind`]), and holds
//!   no secrets ([`redact`]).
//! * [`secret`]: redacted secret values ([`Secret`], [`ApiKey`]).
//! * [`domain`]: money, identifiers, IBAN, card, mobile, national code, Jalali dates, track
//!   ids: the crate [`vandar_domain`] (no HTTP dependency), re-exported unchanged.
//!
//! # Guarantees
//!
//! * No header, body or configuration value panics: every instant and expiry is computed with
//!   saturating arithmetic.
//! * A request that breaks the spec's constraints (an amount outside its range, an empty
//!   required string, a relative URL, an empty path parameter) is refused before sending,
//!   with a message naming the field.
//! * A call whose route is not idempotent (IPG send and verify, settlements, withdrawals,
//!   refunds, transfers) reaches the server at most once per call, whatever answers: after a
//!   401 the token is refreshed and the 401 is the answer (the next call carries the new
//!   token); only an idempotent call is replayed after a 401, once. When its answer does not
//!   say whether it took effect (lost, a 5xx other than 501/503/505/511, an unreadable 2xx,
//!   over the size cap) the error is [`Error::OutcomeUnknown`], with the status. The HTTP
//!   client's own retries are off.
//! * No window of 3 seconds sees more than 30 POSTs or 100 other requests per credential from
//!   one runtime (configurable; a safety margin of 1/16 of the window by default). The IPG's
//!   budget is per api_key, the token pair's per pair, Sanbod's per client or user token.
//! * A 429's `Retry-After` holds a credential back for at most the configured cap (60 s by
//!   default); a longer one is [`Error::RateLimited`] with the server's value.
//! * The token lifecycle is a protocol every replica follows ([`token::protocol`], model-checked
//!   in `crates/vandar-model`): one refresh per rotation across every replica sharing a token
//!   store, no refresh token sent after it may have been spent, no lockout while a valid pair
//!   exists anywhere, and no caller with a valid access token waiting on a refresh.
//! * Tracing output carries operation ids, methods, hosts, statuses, attempts and latencies;
//!   never URLs' query strings, headers, bodies or tokens.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod auth;
mod binding;
mod bridge;
pub mod callback;
pub mod check;
mod config;
mod credentials;
pub mod decide;
mod error;
pub mod field;
#[cfg(test)]
mod hook_tests;
mod intercept;
mod open_enum;
pub mod pagination;
pub mod path;
mod pipeline;
mod ratelimit;
pub mod redact;
pub(crate) mod response;
mod retry;
mod route;
mod runtime;
pub mod secret;
#[cfg(any(test, feature = "test-util"))]
pub mod test_util;
pub mod timeouts;
pub mod token;
mod unicode;

pub use auth::{
    ACCESS_TOKEN_LIFETIME, BearerFuture, BearerSource, Clock, OAuthToken, REFRESH_HOST,
    REFRESH_PATH, REFRESH_TOKEN_LIFETIME, SystemClock, TokenPair, TokenRefresh,
};
pub use binding::Binding;
pub use bridge::{Answer, SendFuture};
pub use check::{BodyInput, CheckBody, CheckedBody, Checker, NoBody, SentBody, normalize_http_url};
pub use config::{
    ClientCredentials, Config, ConfigBuilder, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_RETRY_AFTER,
    DEFAULT_USER_AGENT,
};
pub use error::{
    ApiError, AuthError, ConfigError, CredentialKind, Error, REQUEST_ID_HEADERS, TransportError,
    TransportKind,
};
pub use field::{FieldError, FieldText, IntoField, parse_field_text};
pub use intercept::{
    AttemptInfo, AttemptResult, CallOptions, Interceptor, RESERVED_HEADERS, SECRET_HEADERS,
};
pub use pagination::{ListRequest, Paginate, Position};
pub use path::Segment;
pub use ratelimit::{
    LimiterKey, MethodClass, RateLimit, RateLimits, SharedLimiterError, SharedLimiterFuture,
    SharedRateLimiter, SlotGrant, SlotRequest,
};
pub use retry::RetryPolicy;
pub use route::{Auth, AutoKind, AutoValue, BrowserPage, FieldCheck, Route, is_absolute_http_url};
pub use runtime::Runtime;
pub use secret::{ApiKey, Secret};
pub use timeouts::Timeouts;
pub use token::{
    MemoryTokenStore, Snapshot, StoreFuture, Swap, TokenRecord, TokenStore, TokenStoreError,
};
/// The domain types (money, identifiers, IBAN, card, mobile, national code, Jalali dates,
/// track ids): the crate [`vandar_domain`], which has no HTTP dependency, re-exported here
/// unchanged so that `vandar_runtime::domain::Rial` and `vandar_domain::Rial` are one type.
pub use vandar_domain as domain;

/// Name of the bearer security scheme in the Vandar specs (the business access token).
pub const VANDAR_BEARER: &str = "bearer";

#[doc(hidden)]
pub use bytes::Bytes as __Bytes;
#[doc(hidden)]
pub use progenitor_client as __progenitor_client;
#[doc(hidden)]
pub use serde as __serde;
