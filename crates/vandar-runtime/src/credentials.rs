//! One credential resolver: for a route and a binding, which credential the call carries, how
//! it is sent, where a fresh one comes from after a 401, and which rate-limit budget it spends.
//!
//! | route auth | credential | refreshed after a 401 by | rate-limit key |
//! |---|---|---|---|
//! | none (IPG) | the body's `api_key` | — | the api_key (each merchant its own budget) |
//! | none, no `api_key` | — | — | one shared anonymous budget |
//! | bearer, client token (`with_bearer`) | that token | — | that token |
//! | bearer, client token source (`with_bearer_source`, Sanbod) | the source's token | the source | the source |
//! | bearer `bearer` with a token pair | the Vandar access token | the token manager | the token pair |
//! | bearer, configured static token | that token | — | that token |
//! | basic (Sanbod's token endpoint) | client id + secret | — | the client id |
//!
//! The documented limits (POST 30, other methods 100 per 3 s) are Vandar's, per token; the
//! same budget is applied to each credential of every host (IPG per api_key, Sanbod per
//! client or user token), as no other limit is documented.

use std::sync::Arc;

use reqwest::header::HeaderValue;

use tokio::time::Instant;

use crate::auth::{AuthError, BearerSource};
use crate::binding::{BearerOverride, Binding};
use crate::error::Error;
use crate::ratelimit::LimiterKey;
use crate::redact::Scrubber;
use crate::route::{Auth, Route};
use crate::secret::Secret;
use crate::token::manager::TokenManager;

/// Where a fresh token comes from after a 401.
#[derive(Clone)]
pub(crate) enum Refresher {
    Vandar(Arc<TokenManager>),
    Source(Arc<dyn BearerSource>),
}

impl Refresher {
    /// A token newer than `stale` (the one the server refused), by `deadline`. Boxed: the
    /// token refresh itself goes through the pipeline that calls this.
    pub(crate) fn token<'a>(
        &'a self,
        stale: Option<&'a str>,
        deadline: Instant,
    ) -> futures::future::BoxFuture<'a, Result<Secret, AuthError>> {
        Box::pin(async move {
            match self {
                Refresher::Vandar(tm) => tm.access_token(stale, deadline).await,
                Refresher::Source(s) => tokio::time::timeout_at(deadline, s.bearer(stale))
                    .await
                    .unwrap_or(Err(AuthError::RefreshTimeout)),
            }
        })
    }
}

/// The credential of one call.
pub(crate) struct Credential {
    /// The `Authorization` header to send (`None`: remove any).
    pub(crate) header: Option<HeaderValue>,
    /// The bearer token sent (to tell a refreshed one apart).
    pub(crate) token: Option<Secret>,
    /// Where a fresh token comes from after a 401.
    pub(crate) refresher: Option<Refresher>,
    /// The rate-limit budget.
    pub(crate) key: LimiterKey,
    /// Secrets to cut from error text (token, client secret, header value).
    pub(crate) secrets: Vec<Secret>,
}

impl Credential {
    /// Add this credential's secrets to a scrubber.
    pub(crate) fn scrub_into(&self, scrubber: &mut Scrubber) {
        for s in &self.secrets {
            scrubber.add(s.expose());
        }
    }

    /// The same credential with a refreshed bearer token.
    pub(crate) fn with_token(&mut self, token: Secret) -> bool {
        let Some(value) = bearer_value(&token) else {
            return false;
        };
        self.header = Some(value);
        self.secrets.push(token.clone());
        self.token = Some(token);
        true
    }
}

/// `Authorization: Bearer <token>`, marked sensitive.
pub(crate) fn bearer_value(token: &Secret) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose())).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// A credential resolved without waiting, or what must be waited for.
pub(crate) enum Resolved<'a> {
    /// The credential (or why there is none).
    Ready(Result<Credential, Error>),
    /// The client's bearer token source is asked (for the bearer scheme named).
    Source(&'a Arc<dyn BearerSource>, &'static str),
    /// The runtime's token pair, refreshed when it is due (for the bearer scheme named).
    Manager(&'a Arc<TokenManager>, &'static str),
}

impl Binding {
    /// Resolve the credential of `route` (refreshing a token pair that is due). `api_key` is
    /// the credential the typed body carries (the route's `api_key_field`, the IPG's
    /// `api_key`), if any. (The call itself resolves first and waits only when it must.)
    #[cfg(test)]
    pub(crate) async fn credential(
        &self,
        route: &'static Route,
        api_key: Option<&str>,
        deadline: Instant,
    ) -> Result<Credential, Error> {
        match self.resolve_credential(route, api_key) {
            Resolved::Ready(credential) => credential,
            pending => self.wait_credential(route, pending, deadline).await,
        }
    }

    /// The credential of `route` when it needs no waiting (no key, a static or configured
    /// bearer token, client credentials); otherwise what [`Binding::wait_credential`] waits
    /// for. The usual call never runs the waiting code (issue 22: the code one call runs).
    pub(crate) fn resolve_credential(
        &self,
        route: &'static Route,
        api_key: Option<&str>,
    ) -> Resolved<'_> {
        let op = route.operation_id;
        Resolved::Ready(match route.auth {
            Auth::None => Ok(Credential {
                header: None,
                token: None,
                refresher: None,
                key: match api_key {
                    Some(k) => LimiterKey::of("api_key", k),
                    None => LimiterKey::anonymous(),
                },
                // The key is the body's: the call's scrubber reads it from there.
                secrets: Vec::new(),
            }),
            Auth::Bearer(scheme) => match (&self.bearer, self.runtime().token_manager(scheme)) {
                (Some(BearerOverride::Static(token)), _) => {
                    let key = LimiterKey::of("bearer", token.expose());
                    bearer_credential(scheme, token.clone(), None, key)
                }
                (Some(BearerOverride::Source(source)), _) => {
                    return Resolved::Source(source, scheme);
                }
                (None, Some(tm)) => return Resolved::Manager(tm, scheme),
                (None, None) => self
                    .runtime()
                    .config()
                    .bearer_token(scheme)
                    .cloned()
                    .ok_or_else(|| Error::InvalidRequest(missing_bearer(op, scheme)))
                    .and_then(|token| {
                        let key = LimiterKey::of("bearer", token.expose());
                        bearer_credential(scheme, token, None, key)
                    }),
            },
            Auth::Basic(scheme) => self.basic_credential(op, scheme),
        })
    }

    /// The credential [`Binding::resolve_credential`] could not give at once: a token from the
    /// client's source or from the runtime's token pair, by `deadline`.
    pub(crate) async fn wait_credential(
        &self,
        route: &'static Route,
        pending: Resolved<'_>,
        deadline: Instant,
    ) -> Result<Credential, Error> {
        let op = route.operation_id;
        let no_token = |error: AuthError| {
            tracing::warn!(operation = op, error = %error, "no access token");
            Error::Auth(error)
        };
        match pending {
            Resolved::Ready(credential) => credential,
            Resolved::Source(source, scheme) => {
                let token = tokio::time::timeout_at(deadline, source.bearer(None))
                    .await
                    .unwrap_or(Err(AuthError::RefreshTimeout))
                    .map_err(no_token)?;
                // Keyed by what the tokens act for, never by an address.
                let key = LimiterKey::of("source", &source.identity());
                bearer_credential(scheme, token, Some(Refresher::Source(source.clone())), key)
            }
            Resolved::Manager(tm, scheme) => {
                // Boxed: the token manager's future is large, and inline it would make every
                // call's future (IPG calls included) that large.
                let token = Box::pin(tm.access_token(None, deadline))
                    .await
                    .map_err(no_token)?;
                let refresher = Some(Refresher::Vandar(tm.clone()));
                bearer_credential(scheme, token, refresher, LimiterKey::token_pair())
            }
        }
    }

    /// The client credentials of `scheme` as a `Basic` credential.
    fn basic_credential(&self, op: &str, scheme: &str) -> Result<Credential, Error> {
        let creds = self
            .runtime()
            .config()
            .basic_credentials(scheme)
            .ok_or_else(|| {
                Error::InvalidRequest(format!(
                    "operation `{op}` needs client credentials (scheme `{scheme}`); set them with Config::builder().basic_auth(\"{scheme}\", client_id, client_secret)"
                ))
            })?;
        let header = creds.header_value().ok_or_else(|| {
            Error::InvalidRequest(format!(
                "the client credentials for scheme `{scheme}` are not a valid header value"
            ))
        })?;
        let encoded = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Basic "))
            .map(|h| Secret::new(h.to_owned()));
        Ok(Credential {
            header: Some(header),
            token: None,
            refresher: None,
            key: LimiterKey::of("basic", &creds.client_id),
            secrets: [Some(creds.client_secret.clone()), encoded]
                .into_iter()
                .flatten()
                .collect(),
        })
    }
}

/// A bearer credential: `token` as the `Authorization` header, scrubbed from error text.
fn bearer_credential(
    scheme: &str,
    token: Secret,
    refresher: Option<Refresher>,
    key: LimiterKey,
) -> Result<Credential, Error> {
    let header = bearer_value(&token).ok_or_else(|| {
        Error::InvalidRequest(format!(
            "the bearer token for scheme `{scheme}` is not a valid header value"
        ))
    })?;
    Ok(Credential {
        header: Some(header),
        secrets: vec![token.clone()],
        token: Some(token),
        refresher,
        key,
    })
}

fn missing_bearer(op: &str, scheme: &str) -> String {
    if scheme == crate::VANDAR_BEARER {
        format!(
            "operation `{op}` needs a bearer token (scheme `{scheme}`); set it with Config::builder().token_pair(..) or .access_token(..)"
        )
    } else {
        format!(
            "operation `{op}` needs a bearer token (scheme `{scheme}`); give the client its own token or token source, or set one with Config::builder().bearer_token(\"{scheme}\", ..)"
        )
    }
}
