//! Vandar token values: the access + refresh token pair, the refresh settings, OAuth tokens and
//! per-client bearer sources. The lifecycle itself (the shared record, the store, the protocol
//! and the manager) is in [`crate::token`].
//!
//! * Access tokens live 5 days and refresh tokens 10 days; a refresh rotates **both**, so the
//!   old refresh token stops working and the new pair must be kept.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

pub use crate::error::AuthError;
use crate::error::ConfigError;
use crate::secret::Secret;
use crate::timeouts::system_after;

/// Access tokens live 5 days (`expires_in` = 432000 s).
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(5 * 24 * 3600);
/// Refresh tokens live 10 days.
pub const REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(10 * 24 * 3600);
/// Host of the token refresh endpoint.
pub const REFRESH_HOST: &str = "https://api.vandar.io";
/// Path of the token refresh endpoint.
pub const REFRESH_PATH: &str = "/v3/refreshtoken";

/// A wall clock for token expiry. The default is [`SystemClock`]; tests inject their own.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A Vandar access + refresh token pair with their expiry times. `Debug` shows only the
/// expiry times.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenPair {
    /// The access token, sent as `Authorization: Bearer`.
    pub access_token: Secret,
    /// The refresh token, sent (only) to `/v3/refreshtoken`.
    pub refresh_token: Secret,
    /// When the access token expires.
    pub access_expires_at: SystemTime,
    /// When the refresh token expires.
    pub refresh_expires_at: SystemTime,
}

impl TokenPair {
    /// A pair with explicit expiry times.
    pub fn new(
        access_token: impl Into<String>,
        refresh_token: impl Into<String>,
        access_expires_at: SystemTime,
        refresh_expires_at: SystemTime,
    ) -> Self {
        Self {
            access_token: Secret::new(access_token.into()),
            refresh_token: Secret::new(refresh_token.into()),
            access_expires_at,
            refresh_expires_at,
        }
    }

    /// A pair issued at `issued_at` (e.g. when it was created in the dashboard), with the
    /// documented lifetimes: access 5 days, refresh 10 days.
    pub fn issued_at(
        access_token: impl Into<String>,
        refresh_token: impl Into<String>,
        issued_at: SystemTime,
    ) -> Self {
        Self::new(
            access_token,
            refresh_token,
            system_after(issued_at, ACCESS_TOKEN_LIFETIME),
            system_after(issued_at, REFRESH_TOKEN_LIFETIME),
        )
    }
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish()
    }
}

/// When the runtime refreshes and how long tokens live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenRefresh {
    /// Refresh when either token expires within this margin (default 1 hour).
    pub margin: Duration,
    /// Lifetime of a new access token when the refresh answer has no `expires_in` (5 days).
    pub access_lifetime: Duration,
    /// Lifetime of a new refresh token (10 days; the answer does not say).
    pub refresh_lifetime: Duration,
}

impl Default for TokenRefresh {
    fn default() -> Self {
        Self {
            margin: Duration::from_secs(3600),
            access_lifetime: ACCESS_TOKEN_LIFETIME,
            refresh_lifetime: REFRESH_TOKEN_LIFETIME,
        }
    }
}

impl TokenRefresh {
    /// Replace the margin.
    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.margin >= self.access_lifetime || self.margin >= self.refresh_lifetime {
            return Err(ConfigError::Invalid(
                "the token refresh margin must be shorter than the token lifetimes".into(),
            ));
        }
        Ok(())
    }
}

/// An OAuth token or authorization code inside a request or response body (Sanbod's
/// `access_token`, `refresh_token`, `code`). Serializes as the plain string the API needs;
/// `Debug` and `Display` show `[redacted]`, so logged bodies and generated types never print it.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthToken(Secret);

impl OAuthToken {
    /// Wrap a token.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Secret::new(value.into()))
    }

    /// The token itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The token as a [`Secret`].
    pub fn secret(&self) -> &Secret {
        &self.0
    }
}

impl fmt::Debug for OAuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OAuthToken([redacted])")
    }
}

impl fmt::Display for OAuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<&str> for OAuthToken {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for OAuthToken {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&OAuthToken> for OAuthToken {
    fn from(value: &OAuthToken) -> Self {
        value.clone()
    }
}

impl From<Secret> for OAuthToken {
    fn from(value: Secret) -> Self {
        Self(value)
    }
}

impl From<&Secret> for OAuthToken {
    fn from(value: &Secret) -> Self {
        Self(value.clone())
    }
}

impl Serialize for OAuthToken {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        vandar_domain::sensitive::note_serialized(self.expose());
        serializer.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for OAuthToken {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

impl schemars::JsonSchema for OAuthToken {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "OAuthToken".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "OAuth token or authorization code (secret; redacted in Debug output)."
        })
    }
}

/// A boxed future returned by [`BearerSource::bearer`].
pub type BearerFuture<'a> = Pin<Box<dyn Future<Output = Result<Secret, AuthError>> + Send + 'a>>;

/// Where one client's bearer token comes from when it is not the runtime's Vandar token: an
/// OAuth token manager that holds tokens per provider, scopes or user (Sanbod). Install it with
/// [`Binding::with_bearer_source`](crate::Binding::with_bearer_source); the runtime then asks it
/// for a token before each call (`stale: None`) and, after a 401, once more with the token the
/// server refused (`stale: Some(..)`): a source that returns a different token gets the call
/// replayed once with it, as the Vandar token pair does.
///
/// Implement it with `Box::pin(async move { .. })` bodies. Error reasons must not contain tokens.
pub trait BearerSource: Send + Sync + 'static {
    /// A token to send; refresh first when `stale` is the token held now.
    fn bearer<'a>(&'a self, stale: Option<&'a str>) -> BearerFuture<'a>;

    /// A stable name of the credential behind the tokens this source hands out (the user or
    /// account they act for, the client and scopes), never a token: the rate budget is keyed by
    /// it, so two sources for one user share one budget and a new user never inherits another
    /// user's pause.
    fn identity(&self) -> String;
}

pub(crate) type RefreshHook = Arc<dyn Fn(&TokenPair) + Send + Sync>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_debug_hides_tokens() {
        let p = TokenPair::issued_at("acc-SECRET-1", "ref-SECRET-2", SystemTime::UNIX_EPOCH);
        let shown = format!("{p:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert_eq!(
            p.access_expires_at,
            SystemTime::UNIX_EPOCH + Duration::from_secs(432_000)
        );
        assert_eq!(
            p.refresh_expires_at,
            SystemTime::UNIX_EPOCH + Duration::from_secs(864_000)
        );
        let store = crate::MemoryTokenStore::new(p);
        assert!(!format!("{store:?}").contains("SECRET"));
    }

    #[test]
    fn oauth_token_is_plain_on_the_wire_and_redacted_in_debug() {
        let t = OAuthToken::from("eyJ-SECRET-token");
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"eyJ-SECRET-token\"");
        let back: OAuthToken = serde_json::from_str("\"eyJ-SECRET-token\"").unwrap();
        assert_eq!(back, t);
        assert!(!format!("{t:?} {t}").contains("SECRET"));
        assert_eq!(t.expose(), "eyJ-SECRET-token");
    }

    #[test]
    fn auth_errors_point_to_the_dashboard() {
        for e in [
            AuthError::RefreshTokenExpired,
            AuthError::RefreshRejected { status: 401 },
            AuthError::NoToken,
        ] {
            assert!(e.to_string().contains("Vandar dashboard"), "{e}");
        }
    }

    #[test]
    fn margin_must_be_shorter_than_lifetimes() {
        assert!(TokenRefresh::default().validate().is_ok());
        assert!(
            TokenRefresh::default()
                .with_margin(ACCESS_TOKEN_LIFETIME)
                .validate()
                .is_err()
        );
    }
}
