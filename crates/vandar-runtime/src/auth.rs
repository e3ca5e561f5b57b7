//! Vandar token lifecycle: an access + refresh token pair, refreshed with
//! `POST https://api.vandar.io/v3/refreshtoken` ahead of expiry and once on a 401.
//!
//! * Access tokens live 5 days and refresh tokens 10 days; a refresh rotates **both**, so the
//!   old refresh token stops working and the new pair must be kept ([`TokenStore`]).
//! * Single flight: every caller goes through one async lock, so N concurrent callers with an
//!   expired token cause one refresh; callers that waited on a failed refresh get its error
//!   instead of trying again one after another.
//! * A refresh that Vandar rejects (or a refresh token past its lifetime) is final: the error
//!   says a new pair must be issued in the Vandar dashboard, and later calls fail fast with it
//!   until [`Runtime::set_token_pair`](crate::Runtime::set_token_pair) installs a new pair.
//! * A refresh is never retried by the SDK: its response carries the only copy of the rotated
//!   refresh token.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use reqwest::header::{ACCEPT, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::Instrument;
use url::Url;

pub use crate::error::AuthError;
use crate::error::ConfigError;
use crate::ratelimit::Limiters;
use crate::secret::Secret;
use crate::timeouts::{Timeouts, instant_after, system_after};

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

/// A boxed future returned by [`TokenStore`] methods.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, TokenStoreError>> + Send + 'a>>;

/// Where the current token pair lives. The runtime loads it once, on first use, and saves every
/// rotated pair (the old refresh token no longer works after a refresh, so an application that
/// restarts must find the new pair here).
///
/// # Refreshing across processes
///
/// A store shared by several processes (e.g. `vandar-redis`'s) also coordinates their
/// refreshes, because Vandar rotates both tokens on every refresh and a refresh token works
/// once. Before refreshing, the runtime calls [`begin_refresh`](Self::begin_refresh) with the
/// pair it holds; the store either grants it the refresh lease, or waits while another process
/// holds it and then hands back the pair that process saved. After the refresh the runtime
/// calls [`finish_refresh`](Self::finish_refresh) (replace the stored pair only if it is still
/// the one that was refreshed, then release the lease) or
/// [`abandon_refresh`](Self::abandon_refresh). The default methods grant the lease at once and
/// save unconditionally: right for a store only one process uses (like
/// [`MemoryTokenStore`]), whose refreshes the runtime already serialises.
///
/// Implement it with `Box::pin(async move { .. })` bodies. Error messages must not contain
/// tokens.
pub trait TokenStore: Send + Sync + 'static {
    /// The stored pair, if any.
    fn load(&self) -> StoreFuture<'_, Option<TokenPair>>;
    /// Replace the stored pair.
    fn save<'a>(&'a self, pair: &'a TokenPair) -> StoreFuture<'a, ()>;

    /// Ask to refresh `current` (the pair this process holds). Grant the lease
    /// ([`LeaseOutcome::Granted`]), or hand back a pair another process stored meanwhile
    /// ([`LeaseOutcome::Newer`]; wait for it up to `timing.wait` while another process holds
    /// the lease), or report that another process already spent this refresh token
    /// ([`LeaseOutcome::Spent`]). A lease must outlive `timing.hold` unless released, and end
    /// by itself if its holder dies. An error means no refresh is sent.
    fn begin_refresh<'a>(
        &'a self,
        current: &'a TokenPair,
        timing: LeaseTiming,
    ) -> StoreFuture<'a, LeaseOutcome> {
        let _ = (current, timing);
        Box::pin(async { Ok(LeaseOutcome::Granted(RefreshLease::local())) })
    }

    /// The refresh of `old` under `lease` returned `new`: store it only if the stored pair is
    /// still `old` (or none), then release the lease. If a newer pair is stored, keep it and
    /// return it ([`SaveOutcome::Newer`]). The default saves `new`.
    fn finish_refresh<'a>(
        &'a self,
        lease: &'a RefreshLease,
        old: &'a TokenPair,
        new: &'a TokenPair,
    ) -> StoreFuture<'a, SaveOutcome> {
        let _ = (lease, old);
        Box::pin(async move { self.save(new).await.map(|()| SaveOutcome::Saved) })
    }

    /// The refresh of `old` under `lease` failed: release the lease. Unless the failure is
    /// [`RefreshFailure::Retryable`], remember that `old`'s refresh token is spent, so that
    /// other processes do not send it again ([`LeaseOutcome::Spent`]) until a new pair is
    /// saved. The default does nothing.
    fn abandon_refresh<'a>(
        &'a self,
        lease: &'a RefreshLease,
        old: &'a TokenPair,
        failure: RefreshFailure,
    ) -> StoreFuture<'a, ()> {
        let _ = (lease, old, failure);
        Box::pin(async { Ok(()) })
    }
}

impl<T: TokenStore + ?Sized> TokenStore for Arc<T> {
    fn load(&self) -> StoreFuture<'_, Option<TokenPair>> {
        (**self).load()
    }

    fn save<'a>(&'a self, pair: &'a TokenPair) -> StoreFuture<'a, ()> {
        (**self).save(pair)
    }

    fn begin_refresh<'a>(
        &'a self,
        current: &'a TokenPair,
        timing: LeaseTiming,
    ) -> StoreFuture<'a, LeaseOutcome> {
        (**self).begin_refresh(current, timing)
    }

    fn finish_refresh<'a>(
        &'a self,
        lease: &'a RefreshLease,
        old: &'a TokenPair,
        new: &'a TokenPair,
    ) -> StoreFuture<'a, SaveOutcome> {
        (**self).finish_refresh(lease, old, new)
    }

    fn abandon_refresh<'a>(
        &'a self,
        lease: &'a RefreshLease,
        old: &'a TokenPair,
        failure: RefreshFailure,
    ) -> StoreFuture<'a, ()> {
        (**self).abandon_refresh(lease, old, failure)
    }
}

/// How long a refresh lease must last and how long to wait for another holder's (see
/// [`TokenStore::begin_refresh`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseTiming {
    /// The longest the refresh may take once the lease is granted (the runtime's total
    /// timeout: the rate-limiter wait plus the request).
    pub hold: Duration,
    /// The longest to wait while another process holds the lease.
    pub wait: Duration,
}

/// Proof of holding a store's refresh lease, handed back to
/// [`TokenStore::finish_refresh`] or [`TokenStore::abandon_refresh`]. Its id is a random
/// name, not a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshLease {
    id: String,
}

impl RefreshLease {
    /// A lease with the store's id for it.
    pub fn new(id: impl Into<String>) -> Self {
        Self { id: id.into() }
    }

    /// The lease of a store that only one process uses (no coordination needed).
    pub fn local() -> Self {
        Self::new("local")
    }

    /// The store's id for the lease.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// What [`TokenStore::begin_refresh`] decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaseOutcome {
    /// Refresh now, holding this lease.
    Granted(RefreshLease),
    /// Another process stored this pair (a newer one than the caller's): use it, do not
    /// refresh.
    Newer(TokenPair),
    /// Another process sent a refresh with this refresh token and it failed this way: do not
    /// send it again.
    Spent(RefreshFailure),
}

/// What [`TokenStore::finish_refresh`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SaveOutcome {
    /// The new pair is stored.
    Saved,
    /// The store held a newer pair than the one refreshed; it was kept and is returned.
    Newer(TokenPair),
}

/// How a refresh failed, as far as its refresh token is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshFailure {
    /// Nothing says Vandar used the refresh token (a connect failure, a limiter timeout, an
    /// unexpected status): another process may try it.
    Retryable,
    /// Vandar rejected the refresh token with this HTTP status.
    Rejected {
        /// The HTTP status of the refresh answer.
        status: u16,
    },
    /// The refresh was sent and its answer lost: the refresh token is probably used up.
    OutcomeUnknown,
}

impl RefreshFailure {
    fn of(e: &AuthError) -> Self {
        match e {
            AuthError::RefreshRejected { status } => Self::Rejected { status: *status },
            AuthError::RefreshOutcomeUnknown { .. } => Self::OutcomeUnknown,
            _ => Self::Retryable,
        }
    }
}

/// A [`TokenStore`] failure (its message must not contain tokens). It may carry the store's
/// own typed error as its [`source`](std::error::Error::source) (e.g. `vandar-redis`'s
/// `RedisError`).
#[derive(Clone, Debug)]
pub struct TokenStoreError {
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl TokenStoreError {
    /// A store error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// A store error with the store's own error as its source (its message is this error's).
    pub fn from_source(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            message: source.to_string(),
            source: Some(Arc::new(source)),
        }
    }

    /// The store's own error, if it is a `E`.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.source.as_deref().and_then(|s| s.downcast_ref::<E>())
    }
}

impl fmt::Display for TokenStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TokenStoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl PartialEq for TokenStoreError {
    fn eq(&self, other: &Self) -> bool {
        self.message == other.message
    }
}

impl Eq for TokenStoreError {}

/// The default [`TokenStore`]: the pair lives in memory only.
#[derive(Default)]
pub struct MemoryTokenStore {
    pair: Mutex<Option<TokenPair>>,
}

impl MemoryTokenStore {
    /// A store holding `pair`.
    pub fn new(pair: TokenPair) -> Self {
        Self {
            pair: Mutex::new(Some(pair)),
        }
    }

    /// An empty store (calls fail until a pair is set).
    pub fn empty() -> Self {
        Self::default()
    }

    /// The pair held now.
    pub fn current(&self) -> Option<TokenPair> {
        self.pair
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTokenStore")
            .field("pair", &self.current())
            .finish()
    }
}

impl TokenStore for MemoryTokenStore {
    fn load(&self) -> StoreFuture<'_, Option<TokenPair>> {
        let pair = self.current();
        Box::pin(async move { Ok(pair) })
    }

    fn save<'a>(&'a self, pair: &'a TokenPair) -> StoreFuture<'a, ()> {
        *self.pair.lock().unwrap_or_else(PoisonError::into_inner) = Some(pair.clone());
        Box::pin(async { Ok(()) })
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
}

pub(crate) type RefreshHook = Arc<dyn Fn(&TokenPair) + Send + Sync>;

/// Token-pair settings captured by the configuration.
#[derive(Clone)]
pub(crate) struct TokenAuth {
    pub(crate) store: Arc<dyn TokenStore>,
    pub(crate) settings: TokenRefresh,
    pub(crate) on_refresh: Option<RefreshHook>,
}

#[derive(Default)]
struct State {
    loaded: bool,
    pair: Option<TokenPair>,
    /// The outcome of the last refresh attempt that failed, tagged with its generation.
    last_failure: Option<(u64, AuthError)>,
    /// A final rejection of this refresh token.
    rejected: Option<(Secret, AuthError)>,
    /// A refresh with this refresh token was sent and its answer lost: it is probably used up
    /// and is not sent again.
    uncertain: Option<(Secret, AuthError)>,
}

/// Keeps the current pair and refreshes it (single flight).
pub(crate) struct TokenManager {
    auth: TokenAuth,
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    refresh_url: Url,
    timeouts: Timeouts,
    limiters: Arc<Limiters>,
    state: tokio::sync::Mutex<State>,
    /// Count of completed refresh attempts (successful or not).
    generation: AtomicU64,
}

#[derive(Deserialize)]
struct RefreshAnswer {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<Value>,
}

impl TokenManager {
    pub(crate) fn new(
        auth: TokenAuth,
        clock: Arc<dyn Clock>,
        http: reqwest::Client,
        refresh_url: Url,
        timeouts: Timeouts,
        limiters: Arc<Limiters>,
    ) -> Self {
        Self {
            auth,
            clock,
            http,
            refresh_url,
            timeouts,
            limiters,
            state: tokio::sync::Mutex::new(State::default()),
            generation: AtomicU64::new(0),
        }
    }

    /// The current pair (loading it from the store on first use).
    pub(crate) async fn current(&self) -> Result<Option<TokenPair>, AuthError> {
        let mut st = self.state.lock().await;
        self.ensure_loaded(&mut st).await?;
        Ok(st.pair.clone())
    }

    /// Install a new pair (saved to the store); clears any earlier rejection.
    pub(crate) async fn set(&self, pair: TokenPair) -> Result<(), AuthError> {
        let mut st = self.state.lock().await;
        self.auth
            .store
            .save(&pair)
            .await
            .map_err(|e| AuthError::Store {
                reason: e.to_string(),
            })?;
        st.loaded = true;
        st.pair = Some(pair);
        st.rejected = None;
        st.last_failure = None;
        st.uncertain = None;
        Ok(())
    }

    async fn ensure_loaded(&self, st: &mut State) -> Result<(), AuthError> {
        if !st.loaded {
            st.pair = self.auth.store.load().await.map_err(|e| AuthError::Store {
                reason: e.to_string(),
            })?;
            st.loaded = true;
        }
        Ok(())
    }

    /// An access token to send. Refreshes first when a token is within the margin of expiry, or
    /// when `stale` (the token a 401 answered) is still the current one.
    pub(crate) async fn access_token(&self, stale: Option<&str>) -> Result<Secret, AuthError> {
        let seen = self.generation.load(Ordering::Acquire);
        let mut st = self.state.lock().await;
        self.ensure_loaded(&mut st).await?;
        let mut reread = false;
        // Newer pairs handed over by the store in this call (bounded: each one is adopted).
        let mut handed_over = 0u8;
        loop {
            let Some(pair) = st.pair.clone() else {
                return Err(AuthError::NoToken);
            };
            let now = self.clock.now();
            let margin = self.auth.settings.margin;
            let stale_hit = stale.is_some_and(|s| s == pair.access_token.expose());
            let usable = !stale_hit && pair.access_expires_at > now;
            let due = stale_hit
                || pair.access_expires_at <= system_after(now, margin)
                || pair.refresh_expires_at <= system_after(now, margin);
            if !due {
                return Ok(pair.access_token);
            }
            let fallback = |e: &AuthError| {
                if usable {
                    Ok(pair.access_token.clone())
                } else {
                    Err(e.clone())
                }
            };
            // The last refresh with this refresh token was sent and its answer lost: Vandar has
            // probably rotated the pair. Never send the token again; look for a newer pair in
            // the store (another process, or the application, may have saved one).
            if let Some((token, e)) = st.uncertain.clone()
                && token == pair.refresh_token
            {
                if !reread {
                    reread = true;
                    let stored = self.auth.store.load().await.map_err(|e| AuthError::Store {
                        reason: e.to_string(),
                    })?;
                    if let Some(newer) = stored.filter(|p| p.refresh_token != pair.refresh_token) {
                        tracing::info!("picked up a newer token pair from the token store");
                        st.pair = Some(newer);
                        st.uncertain = None;
                        st.last_failure = None;
                        continue;
                    }
                }
                return fallback(&e);
            }
            // A refresh attempt finished while this caller waited for the lock: share its
            // failure rather than trying again (a success would have made `due` false).
            if let Some((generation, e)) = &st.last_failure
                && *generation > seen
            {
                return fallback(e);
            }
            if let Some((token, e)) = &st.rejected
                && token == &pair.refresh_token
            {
                return fallback(e);
            }
            if pair.refresh_expires_at <= now {
                return fallback(&AuthError::RefreshTokenExpired);
            }
            // The refresh lease: a store shared by several processes lets one of them refresh
            // and hands the others the pair it saved.
            let timing = LeaseTiming {
                hold: self.timeouts.total,
                wait: self.timeouts.total,
            };
            let lease = match self.auth.store.begin_refresh(&pair, timing).await {
                Ok(LeaseOutcome::Granted(lease)) => lease,
                Ok(LeaseOutcome::Newer(newer)) if newer != pair && handed_over < 4 => {
                    handed_over += 1;
                    tracing::info!(
                        "another process refreshed the token pair; using the stored pair"
                    );
                    st.pair = Some(newer);
                    st.last_failure = None;
                    st.uncertain = None;
                    continue;
                }
                Ok(LeaseOutcome::Newer(_)) => {
                    let e = AuthError::Store {
                        reason: "the token store keeps handing back a pair that needs a refresh"
                            .into(),
                    };
                    let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
                    st.last_failure = Some((generation, e.clone()));
                    return fallback(&e);
                }
                Ok(LeaseOutcome::Spent(failure)) => {
                    let e = match failure {
                        RefreshFailure::Rejected { status } => {
                            let e = AuthError::RefreshRejected { status };
                            st.rejected = Some((pair.refresh_token.clone(), e.clone()));
                            e
                        }
                        RefreshFailure::OutcomeUnknown | RefreshFailure::Retryable => {
                            let e = AuthError::RefreshOutcomeUnknown {
                                reason: "another process sent a refresh with this refresh token"
                                    .into(),
                            };
                            st.uncertain = Some((pair.refresh_token.clone(), e.clone()));
                            e
                        }
                    };
                    tracing::warn!(error = %e, "another process spent this refresh token");
                    let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
                    st.last_failure = Some((generation, e.clone()));
                    return fallback(&e);
                }
                Err(e) => {
                    // Fail closed: without the lease nothing is sent (another process may be
                    // refreshing with this very refresh token).
                    let e = AuthError::Store {
                        reason: format!("could not take the token refresh lease: {e}"),
                    };
                    tracing::warn!(error = %e, "no token refresh without the lease");
                    let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
                    st.last_failure = Some((generation, e.clone()));
                    return fallback(&e);
                }
            };
            let outcome = self.refresh(&pair).await;
            let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
            return match outcome {
                Ok(new) => {
                    let new = match self.auth.store.finish_refresh(&lease, &pair, &new).await {
                        Ok(SaveOutcome::Saved) => {
                            if let Some(hook) = &self.auth.on_refresh {
                                hook(&new);
                            }
                            new
                        }
                        Ok(SaveOutcome::Newer(stored)) => {
                            tracing::warn!(
                                "the token store already holds a newer pair than this refresh's; using the stored pair"
                            );
                            stored
                        }
                        Err(e) => {
                            // The new pair is the only valid one now; keep using it even
                            // though it could not be persisted.
                            tracing::error!(error = %e, "could not save the rotated Vandar token pair");
                            if let Some(hook) = &self.auth.on_refresh {
                                hook(&new);
                            }
                            new
                        }
                    };
                    st.pair = Some(new.clone());
                    st.last_failure = None;
                    st.uncertain = None;
                    Ok(new.access_token)
                }
                Err(e) => {
                    if let Err(se) = self
                        .auth
                        .store
                        .abandon_refresh(&lease, &pair, RefreshFailure::of(&e))
                        .await
                    {
                        tracing::warn!(error = %se, "could not release the token refresh lease");
                    }
                    match e {
                        AuthError::RefreshRejected { .. } => {
                            st.rejected = Some((pair.refresh_token.clone(), e.clone()));
                        }
                        AuthError::RefreshOutcomeUnknown { .. } => {
                            tracing::error!(error = %e, "token refresh outcome unknown");
                            st.uncertain = Some((pair.refresh_token.clone(), e.clone()));
                        }
                        _ => {}
                    }
                    st.last_failure = Some((generation, e.clone()));
                    fallback(&e)
                }
            };
        }
    }

    async fn refresh(&self, pair: &TokenPair) -> Result<TokenPair, AuthError> {
        let span = tracing::info_span!(
            "vandar.token_refresh",
            host = self.refresh_url.host_str().unwrap_or(""),
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        async {
            let started = tokio::time::Instant::now();
            let deadline = instant_after(started, self.timeouts.total);
            let limiter = self
                .limiters
                .get(crate::ratelimit::LimiterKey::token_pair());
            if limiter
                .acquire(&reqwest::Method::POST, deadline)
                .await
                .is_err()
            {
                return Err(AuthError::RefreshFailed {
                    reason: "timed out waiting for the rate limiter".into(),
                });
            }
            let body = serde_json::json!({ "refreshtoken": pair.refresh_token.expose() });
            let request = self
                .http
                .post(self.refresh_url.clone())
                .header(ACCEPT, HeaderValue::from_static("application/json"))
                .json(&body)
                .timeout(
                    self.timeouts
                        .per_attempt
                        .min(deadline.saturating_duration_since(tokio::time::Instant::now())),
                );
            let result = async {
                let resp = request.send().await?;
                let status = resp.status().as_u16();
                let bytes = resp.bytes().await?;
                Ok::<_, reqwest::Error>((status, bytes))
            }
            .await;
            let span = tracing::Span::current();
            span.record("latency_ms", started.elapsed().as_millis() as u64);
            let (status, bytes) = result.map_err(|e| {
                let reason = crate::error::describe_transport(&e);
                tracing::warn!(error = %reason, "token refresh failed");
                if e.is_connect() || e.is_builder() {
                    AuthError::RefreshFailed { reason }
                } else {
                    AuthError::RefreshOutcomeUnknown { reason }
                }
            })?;
            span.record("status", status);
            let answer = serde_json::from_slice::<RefreshAnswer>(&bytes).ok();
            let rejected_body = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .is_some_and(|v| crate::response::is_failure_body(&v));
            match (status, answer) {
                (
                    200..=299,
                    Some(RefreshAnswer {
                        access_token: Some(access),
                        refresh_token: Some(refresh),
                        expires_in,
                    }),
                ) if !access.is_empty() && !refresh.is_empty() => {
                    let now = self.clock.now();
                    let lifetime = expires_in
                        .as_ref()
                        .and_then(|v| match v {
                            Value::Number(n) => n.as_u64(),
                            Value::String(s) => s.trim().parse().ok(),
                            _ => None,
                        })
                        .filter(|s| *s > 0)
                        .map(Duration::from_secs)
                        .unwrap_or(self.auth.settings.access_lifetime);
                    tracing::info!(expires_in_s = lifetime.as_secs(), "access token refreshed");
                    Ok(TokenPair::new(
                        access,
                        refresh,
                        system_after(now, lifetime),
                        system_after(now, self.auth.settings.refresh_lifetime),
                    ))
                }
                (200..=299, _) if rejected_body => Err(AuthError::RefreshRejected { status }),
                (200..=299, _) => Err(AuthError::RefreshOutcomeUnknown {
                    reason: format!("HTTP {status} without access_token and refresh_token"),
                }),
                (500 | 502 | 504, _) => Err(AuthError::RefreshOutcomeUnknown {
                    reason: format!("HTTP {status}"),
                }),
                (400 | 401 | 403 | 422, _) => {
                    tracing::warn!(status, "refresh token rejected");
                    Err(AuthError::RefreshRejected { status })
                }
                (_, _) => Err(AuthError::RefreshFailed {
                    reason: format!("HTTP {status}"),
                }),
            }
        }
        .instrument(span)
        .await
    }
}

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
        let store = MemoryTokenStore::new(p);
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
