//! The shared runtime (configuration, one HTTP client, rate limiters, token manager) and the
//! per-crate binding that the generated `ClientHooks` implementation delegates to:
//!
//! * `pre`: route to the operation's host (and a per-client path override, if any), fill the
//!   `x-auto-value` query parameters the caller left out, check body constraints, attach the
//!   credential (refreshing a token pair ahead of expiry; a per-client bearer token or token
//!   source wins over the configured one; client credentials for HTTP Basic). Nothing is sent
//!   when it fails.
//! * `exec`: per attempt, wait for a rate-limit slot, send with the attempt's timeout, read the
//!   whole body; refresh and replay once on a 401; retry idempotent calls after transport
//!   errors and 429/502/503/504 with backoff (honouring `Retry-After`) until the retries or the
//!   total timeout run out; normalize the response (see [`crate::response`]). One tracing span
//!   per call.
//! * `post`: turn what `exec` learned into errors: a lost response of a non-idempotent call
//!   becomes [`Error::OutcomeUnknown`], an auth or rate-limit failure its typed error.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use progenitor_client::{Error as PError, OperationInfo};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use tokio::time::Instant;
use tracing::Instrument;
use tracing::field::Empty;
use url::Url;

use crate::auth::{AuthError, BearerSource, REFRESH_HOST, REFRESH_PATH, TokenManager, TokenPair};
use crate::config::{Config, ConfigError};
use crate::error::{Error, Failure};
use crate::ratelimit::Limiters;
use crate::response::{Buffered, retry_after};
use crate::retry::{is_retryable_status, is_transient};
use crate::route::{self, Auth, AutoValue, BrowserPage, Route};
use crate::secret::Secret;

/// Configuration plus one shared `reqwest` client (rustls), the rate limiters (one per
/// credential) and the token manager. Cheap to clone; every product client built from the same
/// runtime shares its connection pool, limits and tokens.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

struct RuntimeInner {
    config: Config,
    http: reqwest::Client,
    limiters: Arc<Limiters>,
    tokens: Option<Arc<TokenManager>>,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Build the runtime: one HTTP client with rustls, the configured timeouts and user agent.
    /// Redirects are not followed: every documented answer is a direct one, and a followed
    /// redirect would turn a bank page into a bogus 200.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        let t = config.timeouts();
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent())
            .connect_timeout(t.connect)
            .timeout(t.per_attempt)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::Http(e.without_url().to_string()))?;
        let limiters = Arc::new(Limiters::new(*config.rate_limits()));
        let tokens = match &config.token_auth {
            Some(auth) => {
                let base = config.base_url(REFRESH_HOST)?;
                let target = Url::parse(REFRESH_HOST)
                    .and_then(|u| u.join(REFRESH_PATH))
                    .map_err(|e| ConfigError::Http(e.to_string()))?;
                Some(Arc::new(TokenManager::new(
                    auth.clone(),
                    config.clock().clone(),
                    http.clone(),
                    rebase(&base, &target),
                    t,
                    limiters.clone(),
                )))
            }
            None => None,
        };
        Ok(Self {
            inner: Arc::new(RuntimeInner {
                config,
                http,
                limiters,
                tokens,
            }),
        })
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

    /// Install a new Vandar token pair (e.g. one just issued in the dashboard after the old
    /// refresh token expired): saved to the token store, used from the next call on. Fails
    /// when no token pair was configured.
    pub async fn set_token_pair(&self, pair: TokenPair) -> Result<(), Error> {
        match &self.inner.tokens {
            Some(tm) => Ok(tm.set(pair).await?),
            None => Err(Error::Config(ConfigError::Invalid(
                "set_token_pair needs a runtime configured with token_pair or token_store".into(),
            ))),
        }
    }

    fn token_manager(&self, scheme: &str) -> Option<&Arc<TokenManager>> {
        if scheme == crate::VANDAR_BEARER {
            self.inner.tokens.as_ref()
        } else {
            None
        }
    }
}

/// What a generated client carries: the runtime plus its spec's route, page and auto-value
/// tables, and the client's own overrides (a bearer token or token source, operation paths).
/// Cloning is cheap; the `with_*` methods return a changed copy and leave the original alone.
#[derive(Clone)]
pub struct Binding {
    runtime: Runtime,
    routes: &'static [Route],
    pages: &'static [BrowserPage],
    auto_values: &'static [AutoValue],
    bearer: Option<BearerOverride>,
    paths: Arc<BTreeMap<&'static str, String>>,
    /// The configured base of every host of `routes`, serialized without a trailing `/`
    /// (computed once: the configuration cannot change after it is built).
    bases: Arc<[(&'static str, Box<str>)]>,
    /// The base the generated code builds its URLs on (see [`Binding::building_on`]).
    built_on: Option<Box<str>>,
}

/// A per-client bearer credential.
#[derive(Clone)]
enum BearerOverride {
    Static(Secret),
    Source(Arc<dyn BearerSource>),
}

/// Where a fresh token comes from after a 401.
enum Refresher {
    Vandar(Arc<TokenManager>),
    Source(Arc<dyn BearerSource>),
}

impl Refresher {
    async fn token(&self, stale: Option<&str>) -> Result<Secret, AuthError> {
        match self {
            Refresher::Vandar(tm) => tm.access_token(stale).await,
            Refresher::Source(s) => s.bearer(stale).await,
        }
    }
}

impl fmt::Debug for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bearer = match &self.bearer {
            None => "none",
            Some(BearerOverride::Static(_)) => "[static token]",
            Some(BearerOverride::Source(_)) => "[token source]",
        };
        f.debug_struct("Binding")
            .field("runtime", &self.runtime)
            .field("operations", &self.routes.len())
            .field("bearer_override", &bearer)
            .field("path_overrides", &self.paths)
            .finish()
    }
}

impl Binding {
    /// Bind a spec's tables to a runtime (called by the generated `Client::with_runtime`).
    pub fn new(runtime: Runtime, routes: &'static [Route], pages: &'static [BrowserPage]) -> Self {
        let mut bases: Vec<(&'static str, Box<str>)> = Vec::new();
        for route in routes {
            if bases.iter().any(|(host, _)| *host == route.host) {
                continue;
            }
            // A host whose base cannot be had stays out: `pre` then takes the general path,
            // which reports the error.
            if let Ok(base) = runtime.config().base_url(route.host) {
                bases.push((route.host, base.as_str().trim_end_matches('/').into()));
            }
        }
        Self {
            runtime,
            routes,
            pages,
            auto_values: &[],
            bearer: None,
            paths: Arc::new(BTreeMap::new()),
            bases: bases.into(),
            built_on: None,
        }
    }

    /// The same binding, told that the generated client builds its URLs on the configured base
    /// of `default_host` (the base URL it is given is [`Binding::base_prefix`] of that host).
    /// `pre` then leaves the URL of an operation on that host as it is, and moves the others by
    /// swapping the prefix, instead of re-parsing every URL.
    pub fn building_on(mut self, default_host: &str) -> Self {
        self.built_on = Some(self.base_prefix(default_host).into());
        self
    }

    /// The configured base URL of `host`, without a trailing `/` (e.g.
    /// `http://127.0.0.1:8080/mock` when the host is overridden, else the host itself).
    pub fn base_prefix(&self, host: &str) -> String {
        let host = host.trim_end_matches('/');
        if let Some((_, base)) = self
            .bases
            .iter()
            .find(|(h, _)| h.trim_end_matches('/') == host)
        {
            return base.to_string();
        }
        self.runtime.config().base_url(host).map_or_else(
            |_| host.to_owned(),
            |u| u.as_str().trim_end_matches('/').to_owned(),
        )
    }

    /// The request URL for `route` when the generated code built `current` on `built_on`:
    /// `Ok(None)` when it is right as it is, `Ok(Some(url))` when it moves (another host, or a
    /// path override), `Err(())` when `current` was not built on `built_on` (a client made
    /// with another base URL), for the general path to handle.
    fn routed_url(&self, route: &Route, current: &Url) -> Result<Option<Url>, ()> {
        let (Some(built_on), Some((_, target))) = (
            self.built_on.as_deref(),
            self.bases.iter().find(|(h, _)| *h == route.host),
        ) else {
            return Err(());
        };
        let rest = current.as_str().strip_prefix(built_on).ok_or(())?;
        if !rest.starts_with('/') {
            return Err(());
        }
        let path_override = self.paths.get(route.operation_id);
        if path_override.is_none() && **target == *built_on {
            return Ok(None);
        }
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        let path = path_override.map_or(path, String::as_str);
        let mut text = String::with_capacity(target.len() + rest.len() + 8);
        text.push_str(target);
        text.push_str(path);
        if let Some(query) = query {
            text.push('?');
            text.push_str(query);
        }
        Url::parse(&text).map(Some).map_err(|_| ())
    }

    /// The same binding with the spec's `x-auto-value` table (emitted by the generator as
    /// `AUTO_VALUES` for specs that have one): `pre` fills each listed query parameter the
    /// caller left out.
    pub fn with_auto_values(mut self, auto_values: &'static [AutoValue]) -> Self {
        self.auto_values = auto_values;
        self
    }

    /// The `x-auto-value` table.
    pub fn auto_values(&self) -> &'static [AutoValue] {
        self.auto_values
    }

    /// The same binding, sending `token` as `Authorization: Bearer` on every bearer operation
    /// instead of the configured token (a token that belongs to this client only, e.g. one
    /// Sanbod user's consent). Never printed; not refreshed (a 401 is returned as is).
    pub fn with_bearer(mut self, token: Secret) -> Self {
        self.bearer = Some(BearerOverride::Static(token));
        self
    }

    /// The same binding, asking `source` for the bearer token of every bearer operation (before
    /// each call, and once more after a 401 to replay the call with a refreshed token).
    pub fn with_bearer_source(mut self, source: Arc<dyn BearerSource>) -> Self {
        self.bearer = Some(BearerOverride::Source(source));
        self
    }

    /// Whether this binding carries its own bearer token or token source.
    pub fn has_bearer_override(&self) -> bool {
        self.bearer.is_some()
    }

    /// The same binding, sending `operation_id` to `path` (on its host, after any base-URL
    /// prefix) instead of the spec's path; for paths that the upstream docs get wrong or leave
    /// open. Only operations without path parameters can be moved. `path` starts with `/` and
    /// has no query.
    pub fn with_path(mut self, operation_id: &str, path: &str) -> Result<Self, Error> {
        let route = self
            .route(operation_id)
            .ok_or_else(|| Error::InvalidRequest(format!("unknown operation `{operation_id}`")))?;
        if route.path.contains('{') {
            return Err(Error::InvalidRequest(format!(
                "`{operation_id}` has path parameters; its path cannot be overridden"
            )));
        }
        let valid = path.starts_with('/')
            && !path.contains(['?', '#', ' '])
            && Url::parse("http://x")
                .and_then(|u| u.join(path))
                .is_ok_and(|u| u.path() == path);
        if !valid {
            return Err(Error::InvalidRequest(format!(
                "path `{path}` for `{operation_id}` must start with `/` and be a plain URL path"
            )));
        }
        Arc::make_mut(&mut self.paths).insert(route.operation_id, path.to_string());
        Ok(self)
    }

    /// The path an operation is sent to: the override, else the spec's path.
    pub fn path_of(&self, operation_id: &str) -> Option<&str> {
        let route = self.route(operation_id)?;
        Some(
            self.paths
                .get(route.operation_id)
                .map_or(route.path, String::as_str),
        )
    }

    /// The runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The route of an operation.
    pub fn route(&self, operation_id: &str) -> Option<&'static Route> {
        route::find(self.routes, operation_id)
    }

    /// Every route of this client's spec.
    pub fn routes(&self) -> &'static [Route] {
        self.routes
    }

    /// Hook run before sending: send the request to the operation's host (honouring
    /// overrides), check the body constraints, and apply its auth scheme (refreshing a token
    /// pair that is due). Fails, and nothing is sent, when the operation is unknown, a check
    /// fails or no credential can be had.
    pub async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), PError<E>> {
        let op = info.operation_id;
        let route = self.route(op).ok_or_else(|| {
            PError::Custom(format!(
                "operation `{op}` has no route; regenerate with `cargo xtask gen`"
            ))
        })?;
        if !route.checks.is_empty()
            && let Some(bytes) = request.body().and_then(|b| b.as_bytes())
            && let Some(body) = crate::response::checked_fields(bytes, route.checks)
        {
            for check in route.checks {
                check.check(op, &body).map_err(PError::InvalidRequest)?;
            }
        }
        match self.routed_url(route, request.url()) {
            Ok(None) => {}
            Ok(Some(url)) => *request.url_mut() = url,
            Err(()) => {
                let base = self
                    .runtime
                    .config()
                    .base_url(route.host)
                    .map_err(|e| PError::InvalidRequest(e.to_string()))?;
                let mut original = request.url().clone();
                if let Some(path) = self.paths.get(route.operation_id) {
                    original.set_path(path);
                }
                *request.url_mut() = rebase(&base, &original);
            }
        }
        if !self.auto_values.is_empty() {
            self.fill_auto_values(op, request.url_mut());
        }

        match route.auth {
            Auth::None => {
                request.headers_mut().remove(AUTHORIZATION);
            }
            Auth::Bearer(scheme) => {
                let no_token = |error: AuthError| {
                    tracing::warn!(operation = op, error = %error, "no access token");
                    PError::Custom(Failure::Auth { error }.encode())
                };
                let token = match (&self.bearer, self.runtime.token_manager(scheme)) {
                    (Some(BearerOverride::Static(token)), _) => token.clone(),
                    (Some(BearerOverride::Source(source)), _) => {
                        source.bearer(None).await.map_err(no_token)?
                    }
                    (None, Some(tm)) => tm.access_token(None).await.map_err(no_token)?,
                    (None, None) => self
                        .runtime
                        .config()
                        .bearer_token(scheme)
                        .cloned()
                        .ok_or_else(|| {
                            PError::InvalidRequest(if scheme == crate::VANDAR_BEARER {
                                format!(
                                    "operation `{op}` needs a bearer token (scheme `{scheme}`); set it with Config::builder().token_pair(..) or .access_token(..)"
                                )
                            } else {
                                format!(
                                    "operation `{op}` needs a bearer token (scheme `{scheme}`); give the client its own token or token source, or set one with Config::builder().bearer_token(\"{scheme}\", ..)"
                                )
                            })
                        })?,
                };
                let value = bearer_value(&token).ok_or_else(|| {
                    PError::InvalidRequest(format!(
                        "the bearer token for scheme `{scheme}` is not a valid header value"
                    ))
                })?;
                request.headers_mut().insert(AUTHORIZATION, value);
            }
            Auth::Basic(scheme) => {
                let creds = self
                    .runtime
                    .config()
                    .basic_credentials(scheme)
                    .ok_or_else(|| {
                        PError::InvalidRequest(format!(
                            "operation `{op}` needs client credentials (scheme `{scheme}`); set them with Config::builder().basic_auth(\"{scheme}\", client_id, client_secret)"
                        ))
                    })?;
                let value = creds.header_value().ok_or_else(|| {
                    PError::InvalidRequest(format!(
                        "the client credentials for scheme `{scheme}` are not a valid header value"
                    ))
                })?;
                request.headers_mut().insert(AUTHORIZATION, value);
            }
        }
        Ok(())
    }

    /// Add every `x-auto-value` query parameter of `op` that the URL lacks (or carries empty).
    fn fill_auto_values(&self, op: &str, url: &mut Url) {
        for auto in self.auto_values.iter().filter(|a| a.operation_id == op) {
            let mut present = false;
            let mut empty = false;
            for (k, v) in url.query_pairs() {
                if k == auto.param {
                    present |= !v.is_empty();
                    empty |= v.is_empty();
                }
            }
            if present {
                continue;
            }
            if empty {
                let kept: Vec<(String, String)> = url
                    .query_pairs()
                    .filter(|(k, _)| k != auto.param)
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                url.set_query(None);
                if !kept.is_empty() {
                    url.query_pairs_mut().extend_pairs(&kept);
                }
            }
            url.query_pairs_mut()
                .append_pair(auto.param, &auto.kind.generate());
        }
    }

    /// Hook that sends the request: rate limit, attempts with timeouts, 401 refresh-and-replay,
    /// retries of idempotent calls, response normalization. Runs inside one tracing span named
    /// `vandar.request` (operation, method, host, idempotent, attempt, status, latency_ms,
    /// outcome); bodies and headers are never logged.
    pub async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let span = tracing::info_span!(
            "vandar.request",
            operation = info.operation_id,
            method = %request.method(),
            host = request.url().host_str().unwrap_or(""),
            idempotent = Empty,
            attempt = Empty,
            status = Empty,
            latency_ms = Empty,
            outcome = Empty,
        );
        self.send(request, info.operation_id).instrument(span).await
    }

    async fn send(
        &self,
        mut request: reqwest::Request,
        op: &'static str,
    ) -> reqwest::Result<reqwest::Response> {
        let span = tracing::Span::current();
        let config = self.runtime.config();
        let timeouts = config.timeouts();
        let started = Instant::now();
        let deadline = started + timeouts.total;
        let route = self.route(op);
        let idempotent = route.is_some_and(|r| r.idempotent);
        let auth = route.map_or(Auth::None, |r| r.auth);
        span.record("idempotent", idempotent);
        let limiter = self.runtime.inner.limiters.for_auth(auth);
        let tokens = match (auth, &self.bearer) {
            (Auth::Bearer(_), Some(BearerOverride::Static(_))) => None,
            (Auth::Bearer(_), Some(BearerOverride::Source(s))) => {
                Some(Refresher::Source(s.clone()))
            }
            (Auth::Bearer(scheme), None) => self
                .runtime
                .token_manager(scheme)
                .cloned()
                .map(Refresher::Vandar),
            _ => None,
        };
        let method = request.method().clone();
        let mut delays = config.retry().delays();
        let mut replayed = false;
        let mut previous: Option<reqwest::Result<Buffered>> = None;
        let mut attempt = 0u32;
        let result = loop {
            attempt += 1;
            let slot = limiter.acquire(&method, deadline).await;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if slot.is_err() || remaining.is_zero() {
                if let Some(last) = previous.take() {
                    break last;
                }
                let waited = started.elapsed();
                tracing::warn!(
                    waited_ms = waited.as_millis() as u64,
                    "no rate-limit slot before the total timeout; nothing was sent"
                );
                span.record("latency_ms", waited.as_millis() as u64);
                span.record("outcome", "timeout");
                let mut resp = http::Response::new(bytes::Bytes::new());
                *resp.status_mut() = http::StatusCode::TOO_MANY_REQUESTS;
                resp.extensions_mut().insert(Failure::Timeout {
                    operation: op.to_string(),
                    waited_ms: waited.as_millis() as u64,
                });
                return Ok(reqwest::Response::from(resp));
            }
            previous = None;
            span.record("attempt", attempt);
            // Kept only when it can be used: a retry (idempotent) or a 401 replay (tokens).
            let mut spare = if idempotent || tokens.is_some() {
                request.try_clone()
            } else {
                None
            };
            *request.timeout_mut() = Some(timeouts.per_attempt.min(remaining));
            let used_token = bearer_of(&request);
            let sent_at = Instant::now();
            let result = match self.runtime.http_client().execute(request).await {
                Ok(resp) => Buffered::read(resp).await,
                Err(e) => Err(e),
            };
            let latency_ms = sent_at.elapsed().as_millis() as u64;
            match &result {
                Ok(b) => {
                    tracing::debug!(attempt, status = b.status, latency_ms, "attempt answered")
                }
                Err(e) => tracing::debug!(
                    attempt,
                    latency_ms,
                    error = %describe_transport(e),
                    "attempt failed"
                ),
            }

            // A 401 with a refreshable token: refresh (single flight) and replay once.
            let unauthorized = matches!(&result, Ok(b) if b.status == 401);
            if let (true, false, Some(tm)) = (unauthorized, replayed, &tokens)
                && let Some(mut next) = spare.take()
            {
                match tm.token(used_token.as_deref()).await {
                    Ok(token) => {
                        let changed = used_token.as_deref() != Some(token.expose());
                        if let (true, Some(v)) = (changed, bearer_value(&token)) {
                            next.headers_mut().insert(AUTHORIZATION, v);
                            replayed = true;
                            tracing::info!(attempt, "401: token refreshed, replaying once");
                            request = next;
                            continue;
                        }
                    }
                    Err(error) => {
                        let status = result.as_ref().map_or(401, |b| b.status);
                        span.record("status", status);
                        span.record("latency_ms", started.elapsed().as_millis() as u64);
                        span.record("outcome", "auth_error");
                        tracing::warn!(error = %error, "401 and no new access token");
                        return result.map(|b| {
                            let mut resp = b.normalize();
                            resp.extensions_mut().insert(Failure::Auth { error });
                            resp
                        });
                    }
                }
            }

            if let Ok(b) = &result
                && b.status == 429
            {
                limiter.pause(&method, retry_after(&b.headers));
            }
            let transient = match &result {
                Ok(b) => is_retryable_status(b.status),
                Err(e) => is_transient(e),
            };
            if !transient || !idempotent {
                break result;
            }
            let Some(next) = spare else {
                break result;
            };
            let Some(delay) = delays.next() else {
                break result;
            };
            if Instant::now() + delay >= deadline {
                break result;
            }
            tracing::info!(
                attempt,
                delay_ms = delay.as_millis() as u64,
                "transient failure, retrying"
            );
            tokio::time::sleep(delay).await;
            previous = Some(result);
            request = next;
        };

        span.record("latency_ms", started.elapsed().as_millis() as u64);
        match result {
            Ok(b) => {
                span.record("status", b.status);
                let resp = b.normalize();
                let ok = resp.status().is_success();
                span.record("outcome", if ok { "ok" } else { "api_error" });
                Ok(resp)
            }
            Err(e) => {
                let outcome = if !idempotent && response_may_be_lost(&e) {
                    "outcome_unknown"
                } else {
                    "transport_error"
                };
                span.record("outcome", outcome);
                tracing::warn!(error = %describe_transport(&e), outcome, "call failed");
                Err(e)
            }
        }
    }

    /// Hook run after `exec`: reports what `exec` found as typed errors. A transport error of a
    /// non-idempotent operation after the connection was made becomes "outcome unknown" (the
    /// request may have been processed); a rate-limit timeout or a failed token refresh becomes
    /// its own error. Everything else passes through to the generated code.
    pub async fn post<E>(
        &self,
        result: &reqwest::Result<reqwest::Response>,
        info: &OperationInfo,
    ) -> Result<(), PError<E>> {
        #[cfg(feature = "test-util")]
        if let (Ok(resp), Some(route)) = (result, self.route(info.operation_id)) {
            crate::test_util::record_operation(route, resp.status().as_u16());
        }
        match result {
            Ok(resp) => match resp.extensions().get::<Failure>() {
                Some(f) => Err(PError::Custom(f.encode())),
                None => Ok(()),
            },
            Err(e) => {
                let idempotent = self.route(info.operation_id).is_none_or(|r| r.idempotent);
                if !idempotent && response_may_be_lost(e) {
                    Err(PError::Custom(
                        Failure::OutcomeUnknown {
                            operation: info.operation_id.to_string(),
                            reason: describe_transport(e),
                        }
                        .encode(),
                    ))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// The URL of a browser page (`payment_page`, ...) with its `{param}` placeholders filled
    /// (each value percent-encoded as one path segment), on the configured host.
    pub fn page_url(&self, page: &str, params: &[(&str, &str)]) -> Result<Url, Error> {
        let p = self
            .pages
            .iter()
            .find(|p| p.name == page)
            .ok_or_else(|| Error::InvalidRequest(format!("unknown browser page `{page}`")))?;
        let mut url = self.runtime.config().base_url(p.host)?;
        {
            let mut segs = url
                .path_segments_mut()
                .map_err(|_| Error::InvalidRequest("base URL cannot take a path".into()))?;
            segs.pop_if_empty();
            let filled = route::fill_path(p.path, params).map_err(|name| {
                Error::InvalidRequest(format!("page `{page}` needs a non-empty `{name}`"))
            })?;
            for seg in filled {
                match seg {
                    route::PathSegment::Literal(s) | route::PathSegment::Value(s) => {
                        segs.push(s);
                    }
                }
            }
        }
        Ok(url)
    }
}

/// Put `original`'s path and query on `base` (keeping any path prefix of `base`).
fn rebase(base: &Url, original: &Url) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}{}", original.path()));
    url.set_query(original.query());
    url
}

/// Whether a transport error may have come after the request reached the server: anything
/// but a failed connect (nothing was sent) or a request that could not be built.
fn response_may_be_lost(e: &reqwest::Error) -> bool {
    !(e.is_connect() || e.is_builder())
}

/// A transport error as text, with its causes and without any URL.
pub(crate) fn describe_transport(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if let Some(u) = e.url() {
        text = text.replace(u.as_str(), "<url>");
    }
    if e.is_timeout() && !text.contains("timed out") {
        text.push_str(" (timed out)");
    }
    text
}

/// `Authorization: Bearer <token>`, marked sensitive.
fn bearer_value(token: &Secret) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose())).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// The bearer token a request carries.
fn bearer_of(request: &reqwest::Request) -> Option<String> {
    request
        .headers()
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebase_keeps_prefix_and_query() {
        let base = Url::parse("http://127.0.0.1:8080/mock/ipg").unwrap();
        let orig = Url::parse("https://ipg.vandar.io/api/v4/send?a=1&b=%20").unwrap();
        assert_eq!(
            rebase(&base, &orig).as_str(),
            "http://127.0.0.1:8080/mock/ipg/api/v4/send?a=1&b=%20"
        );
        let base = Url::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(
            rebase(&base, &orig).as_str(),
            "http://127.0.0.1:8080/api/v4/send?a=1&b=%20"
        );
    }

    static PAGES: &[BrowserPage] = &[BrowserPage {
        name: "payment_page",
        host: "https://ipg.vandar.io",
        path: "/v4/{token}",
    }];

    fn binding(config: Config) -> Binding {
        Binding::new(Runtime::new(config).unwrap(), &[], PAGES)
    }

    #[test]
    fn page_url_encodes_and_routes() {
        let b = binding(Config::default());
        let u = b.page_url("payment_page", &[("token", "AB C/1")]).unwrap();
        assert_eq!(u.as_str(), "https://ipg.vandar.io/v4/AB%20C%2F1");
        let b = binding(
            Config::builder()
                .all_hosts("http://127.0.0.1:1/x/")
                .build()
                .unwrap(),
        );
        let u = b.page_url("payment_page", &[("token", "T1")]).unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:1/x/v4/T1");
        assert!(b.page_url("payment_page", &[("token", "")]).is_err());
        assert!(b.page_url("nope", &[]).is_err());
    }

    static TWO_HOSTS: &[Route] = &[
        Route {
            operation_id: "send",
            method: "POST",
            host: "https://ipg.vandar.io",
            path: "/api/v4/send",
            auth: Auth::None,
            idempotent: false,
            checks: &[],
        },
        Route {
            operation_id: "refresh",
            method: "POST",
            host: "https://api.vandar.io",
            path: "/v3/refreshtoken",
            auth: Auth::None,
            idempotent: false,
            checks: &[],
        },
    ];

    /// Every way `pre` routes a URL gives what the general `rebase` gives: the URL is left as
    /// it is when it was built on its own host's base, moved to the other host's base, moved
    /// to an overridden path, and rebased when the client was made with another base URL.
    #[tokio::test]
    async fn routing_by_prefix_matches_the_general_path() {
        let config = Config::builder()
            .host("https://ipg.vandar.io", "http://127.0.0.1:9/mock/ipg/")
            .build()
            .unwrap();
        let b = Binding::new(Runtime::new(config).unwrap(), TWO_HOSTS, &[])
            .building_on("https://ipg.vandar.io");
        assert_eq!(
            b.base_prefix("https://ipg.vandar.io/"),
            "http://127.0.0.1:9/mock/ipg"
        );
        assert_eq!(
            b.base_prefix("https://api.vandar.io"),
            "https://api.vandar.io"
        );
        let built = "http://127.0.0.1:9/mock/ipg";
        let cases = [
            // (operation, URL the generated code built, where it must go)
            (
                "send",
                format!("{built}/api/v4/send?a=1&b=%20"),
                "http://127.0.0.1:9/mock/ipg/api/v4/send?a=1&b=%20",
            ),
            (
                "refresh",
                format!("{built}/v3/refreshtoken"),
                "https://api.vandar.io/v3/refreshtoken",
            ),
            (
                "send",
                "https://elsewhere.example/p/api/v4/send?x=1".to_owned(),
                "http://127.0.0.1:9/mock/ipg/p/api/v4/send?x=1",
            ),
            (
                "send",
                format!("{built}x/api/v4/send"),
                "http://127.0.0.1:9/mock/ipg/mock/ipgx/api/v4/send",
            ),
        ];
        for (op, from, to) in &cases {
            let r = prepared(&b, op, from).await.unwrap();
            assert_eq!(r.url().as_str(), *to, "{op} from {from}");
        }
        let moved = b.clone().with_path("send", "/api/v5/send").unwrap();
        let r = prepared(&moved, "send", &format!("{built}/api/v4/send?q=2"))
            .await
            .unwrap();
        assert_eq!(
            r.url().as_str(),
            "http://127.0.0.1:9/mock/ipg/api/v5/send?q=2"
        );
        // Without `building_on` every URL takes the general path, with the same results.
        let general = Binding::new(b.runtime().clone(), TWO_HOSTS, &[]);
        let r = prepared(&general, "refresh", "https://ipg.vandar.io/v3/refreshtoken")
            .await
            .unwrap();
        assert_eq!(r.url().as_str(), "https://api.vandar.io/v3/refreshtoken");
    }

    static ROUTES: &[Route] = &[
        Route {
            operation_id: "token",
            method: "POST",
            host: "https://api.sanbod.co",
            path: "/oauth/v1/token",
            auth: Auth::Basic("sanbod_client"),
            idempotent: false,
            checks: &[],
        },
        Route {
            operation_id: "statement",
            method: "POST",
            host: "https://api.sanbod.co",
            path: "/statement",
            auth: Auth::Bearer("sanbod_bearer"),
            idempotent: true,
            checks: &[],
        },
        Route {
            operation_id: "item",
            method: "GET",
            host: "https://api.sanbod.co",
            path: "/items/{id}",
            auth: Auth::None,
            idempotent: true,
            checks: &[],
        },
    ];

    static AUTO: &[AutoValue] = &[AutoValue {
        operation_id: "statement",
        param: "traceid",
        kind: crate::route::AutoKind::Uuid,
    }];

    fn sanbod_binding(config: Config) -> Binding {
        Binding::new(Runtime::new(config).unwrap(), ROUTES, &[]).with_auto_values(AUTO)
    }

    async fn prepared(
        b: &Binding,
        op: &'static str,
        url: &str,
    ) -> Result<reqwest::Request, String> {
        let mut request = reqwest::Client::new()
            .post(url)
            .header(AUTHORIZATION, "Bearer from-the-generated-code")
            .build()
            .unwrap();
        let info = OperationInfo { operation_id: op };
        b.pre::<()>(&mut request, &info)
            .await
            .map(|()| request)
            .map_err(|e| e.to_string())
    }

    fn header(r: &reqwest::Request) -> Option<&str> {
        r.headers().get(AUTHORIZATION).map(|v| v.to_str().unwrap())
    }

    #[tokio::test]
    async fn auto_values_fill_absent_and_empty_parameters_only() {
        let b = sanbod_binding(
            Config::builder()
                .bearer_token("sanbod_bearer", "t")
                .build()
                .unwrap(),
        );
        let trace = |r: &reqwest::Request| -> Vec<String> {
            r.url()
                .query_pairs()
                .filter(|(k, _)| k == "traceid")
                .map(|(_, v)| v.into_owned())
                .collect()
        };
        let r = prepared(&b, "statement", "https://api.sanbod.co/statement")
            .await
            .unwrap();
        let t = trace(&r);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].len(), 36);
        let r = prepared(
            &b,
            "statement",
            "https://api.sanbod.co/statement?a=1&traceid=mine",
        )
        .await
        .unwrap();
        assert_eq!(trace(&r), ["mine"]);
        let r = prepared(
            &b,
            "statement",
            "https://api.sanbod.co/statement?traceid=&a=x%20y",
        )
        .await
        .unwrap();
        let t = trace(&r);
        assert!(t.len() == 1 && t[0].len() == 36, "{t:?}");
        assert!(r.url().query_pairs().any(|(k, v)| k == "a" && v == "x y"));
        // Other operations are left alone.
        let b = sanbod_binding(
            Config::builder()
                .basic_auth("sanbod_client", "id", "s")
                .build()
                .unwrap(),
        );
        let r = prepared(&b, "token", "https://api.sanbod.co/oauth/v1/token")
            .await
            .unwrap();
        assert_eq!(r.url().query(), None);
    }

    #[tokio::test]
    async fn basic_auth_comes_from_the_configuration() {
        let b = sanbod_binding(
            Config::builder()
                .basic_auth("sanbod_client", "test_sanbod", "client-SECRET-42")
                .build()
                .unwrap(),
        );
        let r = prepared(&b, "token", "https://api.sanbod.co/oauth/v1/token")
            .await
            .unwrap();
        assert_eq!(
            header(&r),
            Some("Basic dGVzdF9zYW5ib2Q6Y2xpZW50LVNFQ1JFVC00Mg==")
        );
        let none = sanbod_binding(Config::default());
        let e = prepared(&none, "token", "https://api.sanbod.co/oauth/v1/token")
            .await
            .unwrap_err();
        assert!(e.contains("basic_auth(\"sanbod_client\""), "{e}");
    }

    struct Counting(std::sync::atomic::AtomicUsize);

    impl BearerSource for Counting {
        fn bearer<'a>(&'a self, stale: Option<&'a str>) -> crate::auth::BearerFuture<'a> {
            Box::pin(async move {
                let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                match stale {
                    Some(_) => Err(AuthError::TokenUnavailable {
                        reason: "refused".into(),
                    }),
                    None => Ok(Secret::new(format!("source-{n}"))),
                }
            })
        }
    }

    #[tokio::test]
    async fn per_client_bearer_overrides_win() {
        let config = Config::builder()
            .bearer_token("sanbod_bearer", "configured")
            .build()
            .unwrap();
        let base = sanbod_binding(config);
        let url = "https://api.sanbod.co/statement";
        let r = prepared(&base, "statement", url).await.unwrap();
        assert_eq!(header(&r), Some("Bearer configured"));

        let own = base.clone().with_bearer(Secret::new("own-SECRET"));
        assert!(own.has_bearer_override() && !base.has_bearer_override());
        let r = prepared(&own, "statement", url).await.unwrap();
        assert_eq!(header(&r), Some("Bearer own-SECRET"));
        assert!(!format!("{own:?}").contains("own-SECRET"));

        let source = Arc::new(Counting(Default::default()));
        let sourced = base.clone().with_bearer_source(source.clone());
        let r = prepared(&sourced, "statement", url).await.unwrap();
        assert_eq!(header(&r), Some("Bearer source-0"));
        // Routes without bearer auth are not affected.
        let r = prepared(&sourced, "item", "https://api.sanbod.co/items/1")
            .await
            .unwrap();
        assert_eq!(header(&r), None);

        let unknown = sanbod_binding(Config::default());
        let e = prepared(&unknown, "statement", url).await.unwrap_err();
        assert!(
            e.contains("sanbod_bearer") && !e.contains("token_pair"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn operation_paths_can_be_overridden() {
        let b = sanbod_binding(
            Config::builder()
                .bearer_token("sanbod_bearer", "t")
                .build()
                .unwrap(),
        );
        let moved = b
            .clone()
            .with_path("statement", "/sanboom/v1/statement")
            .unwrap();
        assert_eq!(moved.path_of("statement"), Some("/sanboom/v1/statement"));
        assert_eq!(
            b.path_of("statement"),
            Some("/statement"),
            "the original is unchanged"
        );
        let r = prepared(
            &moved,
            "statement",
            "https://api.sanbod.co/statement?traceid=x",
        )
        .await
        .unwrap();
        assert_eq!(
            r.url().as_str(),
            "https://api.sanbod.co/sanboom/v1/statement?traceid=x"
        );
        assert!(b.clone().with_path("nope", "/x").is_err());
        assert!(
            b.clone().with_path("item", "/x").is_err(),
            "path parameters"
        );
        for bad in ["x", "/a?b", "/a b", "/a#b"] {
            assert!(b.clone().with_path("statement", bad).is_err(), "{bad}");
        }
    }
}
