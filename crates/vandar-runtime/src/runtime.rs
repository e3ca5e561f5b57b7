//! The shared runtime: the configuration, one HTTP client, the rate limiters (one per
//! credential) and the Vandar token manager.

use std::fmt;
use std::sync::Arc;

use crate::auth::TokenPair;
use crate::config::Config;
use crate::error::{ConfigError, Error};
use crate::ratelimit::Limiters;
use crate::token::manager::TokenManager;

/// Configuration plus one shared `reqwest` client (rustls with the `rustls` feature), the rate limiters (one per
/// credential) and the token manager. Cheap to clone; every product client built from the same
/// runtime shares its connection pool, limits and tokens.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<RuntimeInner>,
}

pub(crate) struct RuntimeInner {
    pub(crate) config: Config,
    pub(crate) http: reqwest::Client,
    pub(crate) limiters: Arc<Limiters>,
    pub(crate) tokens: Option<Arc<TokenManager>>,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Build the runtime: one HTTP client (rustls with the `rustls` feature), the configured timeouts and user agent.
    /// Redirects are not followed: every documented answer is a direct one, and a followed
    /// redirect would turn a bank page into a bogus 200. The HTTP client never resends on its
    /// own: with HTTP/2 (on when an application's own reqwest enables it), reqwest would
    /// resend a request the server refused at the protocol level (GOAWAY, REFUSED_STREAM),
    /// a money call included; every resend is the pipeline's decision (`decide`).
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        let t = config.timeouts();
        let builder = reqwest::Client::builder()
            .user_agent(config.user_agent())
            .connect_timeout(t.connect)
            .timeout(t.per_attempt)
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never());
        let http = with_tls(builder)
            .build()
            .map_err(|e| ConfigError::Http(e.without_url().to_string()))?;
        let limiters = Arc::new(Limiters::with_shared(
            *config.rate_limits(),
            config.shared_rate_limiter().cloned(),
        ));
        // The environment the token manager belongs to: the token endpoint it talks to.
        let token_endpoint = config.base_url(crate::auth::REFRESH_HOST)?;
        let inner = Arc::new_cyclic(|weak| {
            let tokens = config.token_auth.as_ref().map(|auth| {
                Arc::new(TokenManager::new(
                    auth.clone(),
                    config.clock().clone(),
                    t.per_attempt,
                    &token_endpoint,
                    weak.clone(),
                ))
            });
            RuntimeInner {
                config,
                http,
                limiters,
                tokens,
            }
        });
        Ok(Self { inner })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The shared HTTP client.
    pub fn http_client(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The current Vandar token pair (after any refresh), if a token pair is configured.
    pub async fn token_pair(&self) -> Result<Option<TokenPair>, Error> {
        match &self.inner.tokens {
            Some(tm) => Ok(tm.current().await?),
            None => Ok(None),
        }
    }

    /// Install a new Vandar token pair (e.g. one just issued in the dashboard after a lockout):
    /// written to the token store with a generation above every earlier one, so this runtime
    /// uses it from the next call on and every other replica sharing the store adopts it on its
    /// next look at the store (within about a second for a replica that cannot refresh). Fails
    /// when no token pair was configured.
    pub async fn set_token_pair(&self, pair: TokenPair) -> Result<(), Error> {
        match &self.inner.tokens {
            Some(tm) => Ok(tm.install(pair).await?),
            None => Err(Error::Config(ConfigError::Invalid(
                "set_token_pair needs a runtime configured with token_pair or token_store".into(),
            ))),
        }
    }

    /// Refresh the Vandar token pair now, through the same protocol and pipeline as an
    /// automatic refresh (the shared store's marker, no refresh token sent twice), and return
    /// the pair in use afterwards. Fails when no token pair was configured.
    pub async fn refresh_token_pair(&self) -> Result<TokenPair, Error> {
        let Some(tm) = &self.inner.tokens else {
            return Err(Error::Config(ConfigError::Invalid(
                "refresh_token_pair needs a runtime configured with token_pair or token_store"
                    .into(),
            )));
        };
        let deadline = crate::timeouts::instant_after(
            tokio::time::Instant::now(),
            self.inner.config.timeouts().total,
        );
        Ok(tm.refresh_now(deadline).await?)
    }

    pub(crate) fn token_manager(&self, scheme: &str) -> Option<&Arc<TokenManager>> {
        if scheme == crate::VANDAR_BEARER {
            self.inner.tokens.as_ref()
        } else {
            None
        }
    }
}

/// The TLS backend: with the `rustls` feature, reqwest's own rustls set-up (its default crypto
/// provider, aws-lc-rs, unless the application installed another one process-wide; the platform's
/// certificate verifier), chosen explicitly so that another crate turning on reqwest's
/// `native-tls` does not change the SDK's backend. Nothing is installed process-wide.
#[cfg(feature = "rustls")]
fn with_tls(builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
    builder.tls_backend_rustls()
}

/// Without the `rustls` feature the client speaks plain HTTP only (a local sandbox or test
/// server); an `https` call fails with a transport error that names the missing feature.
#[cfg(not(feature = "rustls"))]
fn with_tls(builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
    builder
}
