//! Configuration: base URL per host (overridable for tests and sandboxes), timeouts, retries,
//! rate limits, user agent, credentials (a static access token or a refreshing token pair).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::auth::{Clock, SystemClock, TokenPair, TokenRefresh};
pub use crate::error::ConfigError;
use crate::ratelimit::{RateLimits, SharedRateLimiter};
use crate::retry::RetryPolicy;
use crate::secret::Secret;
pub use crate::timeouts::Timeouts;
use crate::token::TokenStore;
use crate::token::manager::TokenAuth;

/// The default cap on a 429's `Retry-After` that the SDK honours: 60 seconds.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The default cap on an answer's body: 8 MiB (the largest documented page, 100 statement
/// rows, is about 100 kB).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 8 * 1024 * 1024;

/// The default `User-Agent`: `vandar-rs/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("vandar-rs/", env!("CARGO_PKG_VERSION"));

/// Client configuration. Build one with [`Config::builder`].
///
/// `Debug` never shows credentials.
#[derive(Clone)]
pub struct Config {
    pub(crate) hosts: BTreeMap<String, Url>,
    pub(crate) all_hosts: Option<Url>,
    pub(crate) timeouts: Timeouts,
    pub(crate) user_agent: String,
    pub(crate) bearer_tokens: BTreeMap<String, Secret>,
    pub(crate) basic_credentials: BTreeMap<String, ClientCredentials>,
    pub(crate) retry: RetryPolicy,
    pub(crate) rate_limits: RateLimits,
    pub(crate) max_retry_after: Duration,
    pub(crate) max_response_bytes: u64,
    pub(crate) token_auth: Option<TokenAuth>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) shared_limiter: Option<Arc<dyn SharedRateLimiter>>,
    pub(crate) interceptors: crate::intercept::Interceptors,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("hosts", &self.hosts)
            .field("all_hosts", &self.all_hosts)
            .field("timeouts", &self.timeouts)
            .field("user_agent", &self.user_agent)
            .field(
                "bearer_tokens",
                &self.bearer_tokens.keys().collect::<Vec<_>>(),
            )
            .field("basic_credentials", &self.basic_credentials)
            .field(
                "token_pair",
                &self.token_auth.as_ref().map(|_| "[configured]"),
            )
            .field("retry", &self.retry)
            .field("rate_limits", &self.rate_limits)
            .field(
                "shared_rate_limiter",
                &self.shared_limiter.as_ref().map(|_| "[configured]"),
            )
            .field("max_retry_after", &self.max_retry_after)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            hosts: BTreeMap::new(),
            all_hosts: None,
            timeouts: Timeouts::default(),
            user_agent: DEFAULT_USER_AGENT.to_string(),
            bearer_tokens: BTreeMap::new(),
            basic_credentials: BTreeMap::new(),
            retry: RetryPolicy::default(),
            rate_limits: RateLimits::default(),
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            token_auth: None,
            clock: Arc::new(SystemClock),
            shared_limiter: None,
            interceptors: Default::default(),
        }
    }
}

impl Config {
    /// Start from the production defaults.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder {
            config: Config::default(),
            error: None,
            token_store: None,
            token_seed: None,
            pending_refresh: None,
            pending_hook: None,
        }
    }

    /// The base URL requests for `default_host` (e.g. `https://ipg.vandar.io`) are sent to:
    /// a per-host override, else the all-hosts override, else the host itself.
    pub fn base_url(&self, default_host: &str) -> Result<Url, ConfigError> {
        let key = default_host.trim_end_matches('/');
        if let Some(u) = self.hosts.get(key) {
            return Ok(u.clone());
        }
        if let Some(u) = &self.all_hosts {
            return Ok(u.clone());
        }
        parse_base(key, key)
    }

    /// The configured timeouts.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// The `User-Agent` sent with every request.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// The static bearer token configured for a security scheme, if any (a refreshing token
    /// pair is not reported here; see [`ConfigBuilder::token_pair`]).
    pub fn bearer_token(&self, scheme: &str) -> Option<&Secret> {
        self.bearer_tokens.get(scheme)
    }

    /// The client credentials configured for an HTTP Basic security scheme, if any (see
    /// [`ConfigBuilder::basic_auth`]).
    pub fn basic_credentials(&self, scheme: &str) -> Option<&ClientCredentials> {
        self.basic_credentials.get(scheme)
    }

    /// Whether the Vandar bearer scheme uses a refreshing token pair.
    pub fn has_token_pair(&self) -> bool {
        self.token_auth.is_some()
    }

    /// The retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The client-side rate limits.
    pub fn rate_limits(&self) -> &RateLimits {
        &self.rate_limits
    }

    /// The longest `Retry-After` the SDK honours (see [`ConfigBuilder::max_retry_after`]).
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// The largest answer body the SDK reads (see [`ConfigBuilder::max_response_bytes`]).
    pub fn max_response_bytes(&self) -> u64 {
        self.max_response_bytes
    }

    /// The wall clock used for token expiry.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The rate budget shared with other processes, if one is configured (see
    /// [`ConfigBuilder::shared_rate_limiter`]).
    pub fn shared_rate_limiter(&self) -> Option<&Arc<dyn SharedRateLimiter>> {
        self.shared_limiter.as_ref()
    }
}

fn parse_base(host: &str, url: &str) -> Result<Url, ConfigError> {
    let err = |reason: String| ConfigError::InvalidBaseUrl {
        host: host.to_string(),
        reason,
    };
    let u = Url::parse(url).map_err(|e| err(e.to_string()))?;
    if u.scheme() != "https" && u.scheme() != "http" {
        return Err(err(format!("scheme `{}` is not http(s)", u.scheme())));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(err("a base URL has no query or fragment".into()));
    }
    if u.cannot_be_a_base() || u.host_str().is_none() {
        return Err(err("not a base URL".into()));
    }
    if !u.username().is_empty() || u.password().is_some() {
        // Never echoed: the URL with its credentials is not part of the message.
        return Err(err(
            "a base URL must not carry a user name or password (they would be sent to every host and printed in URLs); configure credentials with the credential methods".into(),
        ));
    }
    Ok(u)
}

/// An OAuth client's id and secret for HTTP Basic auth. `Debug` shows the id, never the
/// secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    /// The client id (not secret).
    pub client_id: String,
    /// The client secret.
    pub client_secret: Secret,
}

impl ClientCredentials {
    /// `Basic base64(id:secret)`, the value of the `Authorization` header.
    pub(crate) fn header_value(&self) -> Option<http::HeaderValue> {
        use base64::Engine as _;
        let raw = format!("{}:{}", self.client_id, self.client_secret.expose());
        let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
        let mut value = http::HeaderValue::from_str(&format!("Basic {encoded}")).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .finish()
    }
}

/// Builder for [`Config`]. Invalid values are reported by [`ConfigBuilder::build`].
pub struct ConfigBuilder {
    config: Config,
    error: Option<ConfigError>,
    token_store: Option<Arc<dyn TokenStore>>,
    token_seed: Option<TokenPair>,
    pending_refresh: Option<TokenRefresh>,
    pending_hook: Option<crate::auth::RefreshHook>,
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("config", &self.config)
            .field("error", &self.error)
            .field(
                "token_store",
                &self.token_store.as_ref().map(|_| "[configured]"),
            )
            .finish_non_exhaustive()
    }
}

impl ConfigBuilder {
    /// Send requests meant for `default_host` (e.g. `https://ipg.vandar.io`) to `base_url`
    /// instead (a sandbox, a proxy, a local mock). `base_url` may carry a path prefix.
    pub fn host(mut self, default_host: &str, base_url: &str) -> Self {
        let key = default_host.trim_end_matches('/').to_string();
        match parse_base(&key, base_url) {
            Ok(u) => {
                self.config.hosts.insert(key, u);
            }
            Err(e) => self.error = self.error.or(Some(e)),
        }
        self
    }

    /// Send requests for every host to `base_url` (tests against one local mock server).
    /// Per-host overrides still win.
    pub fn all_hosts(mut self, base_url: &str) -> Self {
        match parse_base("*", base_url) {
            Ok(u) => self.config.all_hosts = Some(u),
            Err(e) => self.error = self.error.or(Some(e)),
        }
        self
    }

    /// Connect, per-attempt and total timeouts.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.config.timeouts = timeouts;
        self
    }

    /// Replace the `User-Agent` (default `vandar-rs/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.config.user_agent = user_agent.into();
        self
    }

    /// A static Vandar business access token (the `bearer` scheme of the Vandar specs), sent as
    /// `Authorization: Bearer` to api.vandar.io and batch.vandar.io. It is never refreshed:
    /// when it expires (after 5 days) calls fail with HTTP 401. Use
    /// [`token_pair`](Self::token_pair) to have the SDK refresh it. Not needed for the IPG.
    pub fn access_token(self, token: impl Into<String>) -> Self {
        self.bearer_token(crate::VANDAR_BEARER, token)
    }

    /// A Vandar access + refresh token pair (from the dashboard or an earlier refresh). The
    /// runtime refreshes it with `POST /v3/refreshtoken` in the background ahead of expiry and
    /// once on a 401, and reports each rotation to
    /// [`on_token_refresh`](Self::on_token_refresh). Takes precedence over
    /// [`access_token`](Self::access_token).
    ///
    /// The pair *seeds* the token store: it is written only into an empty store, with the
    /// lowest generation, so a restart (or every replica starting with the dashboard pair)
    /// never replaces a newer pair the store holds. Without
    /// [`token_store`](Self::token_store) the store is an in-memory
    /// [`MemoryTokenStore`](crate::MemoryTokenStore), shared by every runtime built from this
    /// configuration (they refresh once between them). To replace a pair on purpose, use
    /// [`Runtime::set_token_pair`](crate::Runtime::set_token_pair).
    pub fn token_pair(mut self, pair: TokenPair) -> Self {
        self.token_seed = Some(pair);
        self
    }

    /// Where the token record lives (default: in memory). A store shared by several processes
    /// (e.g. `vandar-redis`'s) makes them follow one protocol: one refresh per rotation, no
    /// refresh token sent twice (see [`token`](crate::token)). Combine with
    /// [`token_pair`](Self::token_pair) to seed an empty store.
    pub fn token_store(mut self, store: impl TokenStore) -> Self {
        self.token_store = Some(Arc::new(store));
        self
    }

    /// When to refresh and how long tokens live (defaults: refresh 1 hour before either token
    /// expires; access 5 days, refresh 10 days).
    pub fn token_refresh(mut self, settings: TokenRefresh) -> Self {
        self.pending_refresh = Some(settings);
        self
    }

    /// Called with every rotated pair after it is saved to the token store (e.g. to write it
    /// to a secrets manager). Runs inline; keep it short.
    pub fn on_token_refresh(mut self, hook: impl Fn(&TokenPair) + Send + Sync + 'static) -> Self {
        self.pending_hook = Some(Arc::new(hook));
        self
    }

    /// The wall clock used to judge token expiry (default: the system clock). Tests inject
    /// a manual clock.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.config.clock = Arc::new(clock);
        self
    }

    /// Retry policy for idempotent operations (default: 3 retries, exponential backoff from
    /// 200 ms, capped at 5 s, with jitter). Use [`RetryPolicy::none`] to disable retries.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// The longest `Retry-After` of a 429 the SDK honours (default
    /// [`DEFAULT_MAX_RETRY_AFTER`], 60 s). A shorter one holds back every caller of the
    /// credential for that long (an idempotent call waits and retries); a longer one holds them
    /// back for the cap only, and the call fails with
    /// [`Error::RateLimited`](crate::Error::RateLimited) carrying the server's value, so a
    /// server cannot block a credential for hours.
    pub fn max_retry_after(mut self, cap: Duration) -> Self {
        self.config.max_retry_after = cap;
        self
    }

    /// The largest answer body to read (default [`DEFAULT_MAX_RESPONSE_BYTES`]). A larger
    /// answer is not read: the call fails with
    /// [`Error::ResponseTooLarge`](crate::Error::ResponseTooLarge), or
    /// [`Error::OutcomeUnknown`](crate::Error::OutcomeUnknown) for a non-idempotent call's 2xx.
    pub fn max_response_bytes(mut self, cap: u64) -> Self {
        self.config.max_response_bytes = cap;
        self
    }

    /// Client-side rate limits (default: the documented Vandar limits, POST 30 and other
    /// methods 100 per 3 seconds, per credential).
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.config.rate_limits = limits;
        self
    }

    /// Add an [`Interceptor`](crate::Interceptor): called around every attempt of every call
    /// (the token refresh included), in the order added.
    pub fn interceptor(mut self, interceptor: impl crate::Interceptor) -> Self {
        self.config.interceptors.0.push(Arc::new(interceptor));
        self
    }

    /// Share the rate budget with every other process that uses the same credentials (e.g.
    /// replicas of a backend): before each request and each token refresh the runtime asks
    /// `limiter` (e.g. `vandar_redis::RedisRateLimiter`) for a slot of the budget that
    /// [`rate_limits`](Self::rate_limits) describes, so the sum over all processes keeps to it.
    /// While `limiter` fails, each process falls back to its local limiter (see
    /// [`SharedRateLimiter`]).
    pub fn shared_rate_limiter(mut self, limiter: impl SharedRateLimiter) -> Self {
        self.config.shared_limiter = Some(Arc::new(limiter));
        self
    }

    /// A bearer token for the named security scheme of a spec.
    pub fn bearer_token(mut self, scheme: &str, token: impl Into<String>) -> Self {
        self.config
            .bearer_tokens
            .insert(scheme.to_string(), Secret::new(token.into()));
        self
    }

    /// Client credentials (an OAuth client id and secret) for the named HTTP Basic security
    /// scheme of a spec, sent as `Authorization: Basic base64(id:secret)` by the operations
    /// that use it (e.g. Sanbod's token endpoint, scheme `sanbod_client`). The secret is never
    /// printed. The id must not contain `:` (HTTP Basic cannot carry it).
    pub fn basic_auth(
        mut self,
        scheme: &str,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        let client_id = client_id.into();
        if client_id.is_empty() || client_id.contains(':') {
            self.error = self.error.or(Some(ConfigError::Invalid(format!(
                "the client id for scheme `{scheme}` is empty or contains `:`"
            ))));
            return self;
        }
        self.config.basic_credentials.insert(
            scheme.to_string(),
            ClientCredentials {
                client_id,
                client_secret: Secret::new(client_secret.into()),
            },
        );
        self
    }

    /// Validate and finish.
    pub fn build(self) -> Result<Config, ConfigError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if http::HeaderValue::from_str(&self.config.user_agent).is_err() {
            return Err(ConfigError::InvalidUserAgent);
        }
        let mut config = self.config;
        let t = config.timeouts;
        if t.connect.is_zero() || t.per_attempt.is_zero() || t.total.is_zero() {
            return Err(ConfigError::Invalid(
                "timeouts must be greater than zero".into(),
            ));
        }
        config.retry.validate()?;
        if config.max_response_bytes == 0 {
            return Err(ConfigError::Invalid(
                "max_response_bytes must be greater than zero".into(),
            ));
        }
        config.rate_limits.validate()?;
        let refresh = self.pending_refresh.unwrap_or_default();
        refresh.validate()?;
        if self.token_store.is_some() || self.token_seed.is_some() {
            let store = self
                .token_store
                .unwrap_or_else(|| Arc::new(crate::MemoryTokenStore::empty()));
            config.token_auth = Some(TokenAuth {
                store,
                seed: self.token_seed,
                settings: refresh,
                on_refresh: self.pending_hook,
            });
        } else if self.pending_hook.is_some() {
            return Err(ConfigError::Invalid(
                "on_token_refresh needs a token pair or token store".into(),
            ));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_win_in_order() {
        let c = Config::builder()
            .all_hosts("http://127.0.0.1:9/all")
            .host("https://ipg.vandar.io/", "http://127.0.0.1:9/ipg")
            .build()
            .unwrap();
        assert_eq!(
            c.base_url("https://ipg.vandar.io").unwrap().as_str(),
            "http://127.0.0.1:9/ipg"
        );
        assert_eq!(
            c.base_url("https://api.vandar.io").unwrap().as_str(),
            "http://127.0.0.1:9/all"
        );
        let d = Config::default();
        assert_eq!(
            d.base_url("https://api.vandar.io").unwrap().as_str(),
            "https://api.vandar.io/"
        );
    }

    #[test]
    fn bad_base_url_names_the_host() {
        let e = Config::builder()
            .host("https://ipg.vandar.io", "ftp://x")
            .build()
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("https://ipg.vandar.io") && msg.contains("ftp"),
            "{msg}"
        );
        assert!(
            Config::builder()
                .host("https://ipg.vandar.io", "http://x/?q=1")
                .build()
                .is_err()
        );
    }

    #[test]
    fn debug_hides_tokens() {
        let c = Config::builder()
            .access_token("very-secret-token-123")
            .build()
            .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("very-secret-token-123"), "{dbg}");
        assert!(dbg.contains("bearer"), "{dbg}");
    }

    #[test]
    fn basic_credentials_are_encoded_and_never_printed() {
        let c = Config::builder()
            .basic_auth("sanbod_client", "test_sanbod", "client-SECRET-42")
            .build()
            .unwrap();
        let creds = c.basic_credentials("sanbod_client").unwrap();
        assert_eq!(creds.client_id, "test_sanbod");
        // base64("test_sanbod:client-SECRET-42")
        assert_eq!(
            creds.header_value().unwrap().to_str().unwrap(),
            "Basic dGVzdF9zYW5ib2Q6Y2xpZW50LVNFQ1JFVC00Mg=="
        );
        assert!(creds.header_value().unwrap().is_sensitive());
        for shown in [format!("{c:?}"), format!("{creds:?}")] {
            assert!(!shown.contains("client-SECRET-42"), "{shown}");
            assert!(shown.contains("test_sanbod"), "{shown}");
        }
        assert!(c.basic_credentials("other").is_none());
        assert!(
            Config::builder()
                .basic_auth("s", "a:b", "x")
                .build()
                .is_err()
        );
    }

    #[test]
    fn invalid_user_agent_is_rejected() {
        assert!(matches!(
            Config::builder().user_agent("bad\nagent").build(),
            Err(ConfigError::InvalidUserAgent)
        ));
    }
}
