//! Configuration: base URL per host (overridable for tests and sandboxes), timeouts, user agent,
//! credentials.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use url::Url;

use crate::secret::Secret;

/// The default `User-Agent`: `vandar-rs/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("vandar-rs/", env!("CARGO_PKG_VERSION"));

/// Timeouts applied to every request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Time to establish a TCP + TLS connection.
    pub connect: Duration,
    /// Time for one attempt, from sending the request to reading the whole response.
    pub per_attempt: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            per_attempt: Duration::from_secs(30),
        }
    }
}

/// Errors in the configuration, reported before any request is sent.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A base URL did not parse or is not http(s).
    #[error("invalid base URL for host `{host}`: {reason}")]
    InvalidBaseUrl {
        /// The default host being overridden.
        host: String,
        /// What is wrong.
        reason: String,
    },
    /// The user agent contains characters not allowed in a header.
    #[error("invalid user agent: not a valid header value")]
    InvalidUserAgent,
    /// The HTTP client could not be built (TLS backend).
    #[error("could not build the HTTP client: {0}")]
    Http(String),
}

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
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("hosts", &self.hosts)
            .field("all_hosts", &self.all_hosts)
            .field("timeouts", &self.timeouts)
            .field("user_agent", &self.user_agent)
            .field("bearer_tokens", &self.bearer_tokens.keys().collect::<Vec<_>>())
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
        }
    }
}

impl Config {
    /// Start from the production defaults.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder {
            config: Config::default(),
            error: None,
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

    /// The bearer token configured for a security scheme, if any.
    pub fn bearer_token(&self, scheme: &str) -> Option<&Secret> {
        self.bearer_tokens.get(scheme)
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
    Ok(u)
}

/// Builder for [`Config`]. Invalid values are reported by [`ConfigBuilder::build`].
#[derive(Debug)]
pub struct ConfigBuilder {
    config: Config,
    error: Option<ConfigError>,
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

    /// Connect and per-attempt timeouts.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.config.timeouts = timeouts;
        self
    }

    /// Replace the `User-Agent` (default `vandar-rs/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.config.user_agent = user_agent.into();
        self
    }

    /// The Vandar business access token (the `bearer` scheme of the Vandar specs), sent as
    /// `Authorization: Bearer` to api.vandar.io and batch.vandar.io. Not needed for the IPG.
    pub fn access_token(self, token: impl Into<String>) -> Self {
        self.bearer_token(crate::VANDAR_BEARER, token)
    }

    /// A bearer token for the named security scheme of a spec.
    pub fn bearer_token(mut self, scheme: &str, token: impl Into<String>) -> Self {
        self.config
            .bearer_tokens
            .insert(scheme.to_string(), Secret::new(token.into()));
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
        Ok(self.config)
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
        assert!(msg.contains("https://ipg.vandar.io") && msg.contains("ftp"), "{msg}");
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
    fn invalid_user_agent_is_rejected() {
        assert!(matches!(
            Config::builder().user_agent("bad\nagent").build(),
            Err(ConfigError::InvalidUserAgent)
        ));
    }
}
