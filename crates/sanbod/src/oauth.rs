//! The OAuth side of Sanbod: the consent callback, and [`Tokens`], which gets, caches,
//! refreshes and revokes tokens per [`TokenKey`] (grant, provider, scopes, user).
//!
//! * Authorization-code (AC) tokens carry one account holder's consent for the account
//!   services; [`Tokens::exchange_code`] stores them under a key that names the user.
//! * Client-credentials (CC) tokens belong to the application; [`Tokens::access_token`]
//!   issues one on first use.
//! * A token is renewed ahead of expiry (its `expires_in`, else the JWT's `exp` claim; a
//!   token without either is used until a 401) with its refresh token; a CC token without a
//!   usable refresh token is simply issued again. Renewals are single-flight per key.
//! * After a 401 from a service, the client from [`Tokens::client`] asks for a new token
//!   (refreshing the refused one) and replays an idempotent call once; a transfer is never
//!   sent again (the 401 is its answer, and the next call carries the new token).
//! * A token request (refresh, code exchange) runs on its own task: a caller that gives up
//!   does not cancel one already sent, and the rotated tokens are kept.
//! * A refresh token is sent at most once by this process (as the Vandar token manager does):
//!   it is marked spent right before it is sent, and the mark is cleared only when the answer
//!   shows that nothing was rotated. After a lost answer (or a refusal) it is not sent again:
//!   a still-valid access token is used until it expires, then an authorization-code key needs
//!   the user's consent again (a client-credentials key gets a new token).
//! * Expiry numbers from the server (`expires_in`, the JWT's `exp`) and the configured margin
//!   go through saturating time arithmetic: an absurd number is a far expiry, never a panic.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use url::Url;
use vandar_runtime::callback::{InvalidCallbackUrl, QueryParams};
use vandar_runtime::decide::{RefreshSeen, RefreshVerdict, refresh_outcome};
use vandar_runtime::timeouts::{system_after, unix_secs};
use vandar_runtime::{AuthError, BearerFuture, BearerSource, Error, OAuthToken, Secret};

use crate::claims::{self, Fingerprint, Owner};
use crate::names::{ProviderCode, Scope};
use crate::{Client, types};

/// How a token was issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grant {
    /// `authorization_code`: an account holder's consent (account services).
    AuthorizationCode,
    /// `client_credentials`: the application itself (conversions).
    ClientCredentials,
}

/// What a token is for: its grant, bank, scopes and (for authorization-code tokens) the account
/// holder. Two keys that differ in anything hold different tokens. Scopes are kept sorted and
/// without duplicates, so their order does not matter.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenKey {
    grant: Grant,
    provider: ProviderCode,
    scopes: Vec<Scope>,
    user: Option<String>,
}

impl TokenKey {
    /// An authorization-code token of `user` (your own id for the account holder) at
    /// `provider` for the account `scopes`.
    pub fn authorization_code(
        provider: impl Into<ProviderCode>,
        scopes: impl IntoIterator<Item = Scope>,
        user: impl Into<String>,
    ) -> Self {
        Self::new(
            Grant::AuthorizationCode,
            provider.into(),
            scopes,
            Some(user.into()),
        )
    }

    /// A client-credentials token at `provider` for the conversion `scopes`.
    pub fn client_credentials(
        provider: impl Into<ProviderCode>,
        scopes: impl IntoIterator<Item = Scope>,
    ) -> Self {
        Self::new(Grant::ClientCredentials, provider.into(), scopes, None)
    }

    fn new(
        grant: Grant,
        provider: ProviderCode,
        scopes: impl IntoIterator<Item = Scope>,
        user: Option<String>,
    ) -> Self {
        let scopes: BTreeSet<Scope> = scopes.into_iter().collect();
        Self {
            grant,
            provider,
            scopes: scopes.into_iter().collect(),
            user,
        }
    }

    /// The grant.
    pub fn grant(&self) -> Grant {
        self.grant
    }

    /// The bank.
    pub fn provider(&self) -> &ProviderCode {
        &self.provider
    }

    /// The scopes, sorted.
    pub fn scopes(&self) -> &[Scope] {
        &self.scopes
    }

    /// The account holder of an authorization-code key.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    fn describe(&self) -> String {
        let scopes: Vec<&str> = self.scopes.iter().map(Scope::as_str).collect();
        format!(
            "{} token for provider {} and scopes [{}]",
            match self.grant {
                Grant::AuthorizationCode => "authorization-code",
                Grant::ClientCredentials => "client-credentials",
            },
            self.provider,
            scopes.join(", ")
        )
    }
}

/// A token with what is known about it. `Debug` never shows the tokens. Keep it (e.g.
/// encrypted in your database) to restore it after a restart with [`Tokens::insert`] (into one
/// process: see [one process per user](Tokens#one-process-per-user)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSet {
    /// The access token, sent as `Authorization: Bearer`.
    pub access_token: Secret,
    /// The refresh token, if the answer had one.
    pub refresh_token: Option<Secret>,
    /// `token_type` of the answer (`Bearer`).
    pub token_type: Option<String>,
    /// When the access token expires: `expires_in` of the answer, else the JWT's `exp`
    /// claim; `None` when neither says (the token is then used until a 401). A number too
    /// large for a time is a far expiry (30 years ahead at most).
    pub expires_at: Option<SystemTime>,
}

impl TokenSet {
    /// A token set from a `token` answer received at `now`; `None` without an access token.
    pub fn from_answer(answer: &types::TokenAnswer, now: SystemTime) -> Option<Self> {
        let access = answer
            .access_token
            .as_ref()
            .filter(|t| !t.expose().is_empty())?;
        let from_expires_in = answer
            .expires_in
            .and_then(|s| u64::try_from(s.get()).ok())
            .filter(|s| *s > 0)
            .map(|s| system_after(now, Duration::from_secs(s)));
        Some(Self {
            access_token: access.secret().clone(),
            refresh_token: answer
                .refresh_token
                .as_ref()
                .filter(|t| !t.expose().is_empty())
                .map(|t| t.secret().clone()),
            token_type: answer.token_type.clone(),
            expires_at: from_expires_in.or_else(|| jwt_expiry(access.expose(), now)),
        })
    }
}

/// The `exp` claim (seconds since the epoch, possibly fractional) of a JWT, if it is one; at
/// most 30 years after `now`.
fn jwt_expiry(token: &str, now: SystemTime) -> Option<SystemTime> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = match claims.get("exp")? {
        serde_json::Value::Number(n) => n.as_f64()?,
        serde_json::Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    if exp > 0.0 { unix_secs(exp, now) } else { None }
}

/// What a key's slot holds: the token set, and the refresh tokens it claimed in this process
/// (see `claims`).
struct Entry {
    set: Option<TokenSet>,
    /// This slot, in the claims.
    owner: Owner,
    /// The fingerprint of `set`'s refresh token.
    current: Option<Fingerprint>,
    /// The refresh token this slot sent last and that is spent (kept claimed, so that
    /// restoring it here or in another manager is recognised).
    spent: Option<Fingerprint>,
}

impl Entry {
    fn new(manager: u64) -> Self {
        Self {
            set: None,
            owner: Owner::new_slot(manager),
            current: None,
            spent: None,
        }
    }

    /// Hold `set` from now on (the answer of a token request, a restored set, or nothing):
    /// claim its refresh token, and let go of the previous one unless it was spent here.
    fn keep(&mut self, set: Option<TokenSet>, issuer: &str) {
        let fp = set
            .as_ref()
            .and_then(|s| s.refresh_token.as_ref())
            .map(|t| Fingerprint::of(issuer, t.expose()));
        if fp != self.current {
            if let Some(old) = self.current.take() {
                if claims::is_spent_by(old, self.owner) {
                    if let Some(older) = self.spent.replace(old)
                        && older != old
                        && Some(older) != fp
                    {
                        claims::release(older, self.owner);
                    }
                } else if Some(old) != self.spent {
                    claims::release(old, self.owner);
                }
            }
            if let Some(new) = fp
                && !claims::claim(new, self.owner)
            {
                tracing::warn!(
                    "a Sanbod token set was restored whose refresh token another key or Tokens manager of this process holds; only that one will send it (keep each user's tokens in one Tokens)"
                );
            }
            self.current = fp;
        }
        self.set = set;
    }

    /// The set to hand out for persisting: without a refresh token that was spent.
    fn persistable(&self) -> Option<TokenSet> {
        let mut set = self.set.clone()?;
        if self.current.is_some_and(claims::is_spent) {
            set.refresh_token = None;
        }
        Some(set)
    }
}

type Slot = Arc<tokio::sync::Mutex<Entry>>;

/// A key's slot, held (across a token request).
type Held = tokio::sync::OwnedMutexGuard<Entry>;

struct Inner {
    client: Client,
    margin: Duration,
    /// This manager, in the claims.
    id: u64,
    /// Whose refresh tokens these are: the token endpoint's base URL and the client id.
    issuer: String,
    slots: Mutex<HashMap<TokenKey, Slot>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        claims::release_manager(self.id);
    }
}

/// The token manager: one per application (clone it freely; clones share the tokens). It
/// keeps the tokens in this process: keep each user's tokens in one process (below).
///
/// ```no_run
/// # async fn f(sanbod: &sanbod::Client) -> Result<(), sanbod::Error> {
/// use sanbod::{ProviderCode, Scope, TokenKey, Tokens};
/// let tokens = Tokens::new(sanbod);
/// let cc = TokenKey::client_credentials(ProviderCode::Pasargad, [Scope::DepositToIban]);
/// let client = tokens.client(&cc); // every call sends a current CC token
/// # Ok(()) }
/// ```
///
/// # One process per user
///
/// [`Tokens`] keeps tokens in this process's memory; it does not share them with other
/// processes. Keep each user's (each [`TokenKey`]'s) tokens in one process, with one `Tokens`
/// (clone it): replicas that restore the same token set from your database (with
/// [`Tokens::insert`]) would each spend its refresh token, and with a rotating server all but
/// one of them lose the user's consent. Route a user's Sanbod calls to one replica, or keep the
/// tokens in one service that the others ask. Within one process the SDK detects the mistake
/// while the managers live: a refresh token restored into two managers (or two keys) is sent by
/// the first holder only, and one that was already sent is never sent again; the other
/// manager's renewal fails with [`Error::Auth`] saying so, and sends nothing.
#[derive(Clone)]
pub struct Tokens {
    inner: Arc<Inner>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self
            .inner
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("Tokens")
            .field("keys", &keys)
            .field("margin", &self.inner.margin)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// A manager whose token, authorize and revoke calls go through `client` (its runtime,
    /// client credentials, hosts and path overrides); clients from [`Tokens::client`] are
    /// derived from it. Tokens are renewed 60 seconds before they expire.
    pub fn new(client: &Client) -> Self {
        Self::with_margin(client, Duration::from_secs(60))
    }

    /// Like [`Tokens::new`], renewing tokens `margin` before they expire.
    pub fn with_margin(client: &Client, margin: Duration) -> Self {
        let config = client.binding().runtime().config();
        let endpoint = config
            .base_url(crate::generated::routes::TOKEN.host)
            .map(|u| u.to_string())
            .unwrap_or_default();
        let client_id = config
            .basic_credentials(crate::CLIENT_SCHEME)
            .map(|c| c.client_id.clone())
            .unwrap_or_default();
        Self {
            inner: Arc::new(Inner {
                client: client.clone(),
                margin,
                id: claims::next_id(),
                issuer: format!("{endpoint}|{client_id}"),
                slots: Mutex::new(HashMap::new()),
            }),
        }
    }

    fn slot(&self, key: &TokenKey) -> Slot {
        let manager = self.inner.id;
        self.inner
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key.clone())
            .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(Entry::new(manager))))
            .clone()
    }

    fn now(&self) -> SystemTime {
        self.inner.client.binding().runtime().config().clock().now()
    }

    /// A client that sends this key's token on every service call: fetched (CC) or taken from
    /// the store (AC) before the first call, renewed ahead of expiry, and refreshed once after
    /// a 401 (an idempotent call is then replayed once; a transfer is never sent again: the
    /// 401 is its answer, and the next call carries the new token).
    pub fn client(&self, key: &TokenKey) -> Client {
        let source = KeySource {
            tokens: self.clone(),
            key: key.clone(),
        };
        self.inner.client.rebind(
            self.inner
                .client
                .binding()
                .clone()
                .with_bearer_source(Arc::new(source)),
        )
    }

    /// The consent page for an authorization-code `key`: sends `authorize` with the key's
    /// provider and scopes, the configured client id (`Config::builder().basic_auth(
    /// sanbod::CLIENT_SCHEME, ..)`), `redirect_uri` and `state`, and returns the 302's
    /// `Location` ([`Client::authorize_url`]).
    pub async fn authorize_url(
        &self,
        key: &TokenKey,
        redirect_uri: &str,
        state: &str,
    ) -> Result<Url, Error> {
        if key.grant != Grant::AuthorizationCode {
            return Err(Error::InvalidRequest(
                "authorize_url needs an authorization-code TokenKey".into(),
            ));
        }
        let client_id = self
            .inner
            .client
            .binding()
            .runtime()
            .config()
            .basic_credentials(crate::CLIENT_SCHEME)
            .map(|c| c.client_id.clone())
            .ok_or_else(|| {
                Error::InvalidRequest(format!(
                    "no client id: configure it with Config::builder().basic_auth(\"{}\", id, secret)",
                    crate::CLIENT_SCHEME
                ))
            })?;
        let body = types::AuthorizeRequest::builder()
            .provider_code(key.provider.to_string())
            .scope(
                key.scopes
                    .iter()
                    .map(|s| s.as_str().to_string())
                    .collect::<Vec<_>>(),
            )
            .client_id(client_id)
            .response_type(types::AuthorizeRequestResponseType::Code)
            .redirect_uri(Some(redirect_uri.to_string()))
            .state(Some(state.to_string()));
        self.inner.client.authorize_url(body).await
    }

    /// Exchange the `code` from the consent redirect (grant `authorization_code`) and keep the
    /// token under `key` (an authorization-code key naming the user who consented).
    pub async fn exchange_code(&self, key: &TokenKey, code: &str) -> Result<TokenSet, Error> {
        if key.grant != Grant::AuthorizationCode {
            return Err(Error::InvalidRequest(
                "exchange_code needs an authorization-code TokenKey".into(),
            ));
        }
        if code.trim().is_empty() {
            return Err(Error::InvalidRequest(
                "the authorization code is empty".into(),
            ));
        }
        let held = self.slot(key).lock_owned().await;
        let code = code.trim().to_owned();
        self.detached(held, move |tokens, mut held| async move {
            let set = tokens
                .request(types::TokenRequest::authorization_code(code.as_str()))
                .await?;
            held.keep(Some(set.clone()), &tokens.inner.issuer);
            Ok(set)
        })
        .await
    }

    /// A current access token for `key`: the cached one while it is more than the margin
    /// away from expiry, else a renewed one (refresh grant; for a client-credentials key a new
    /// token when there is no refresh token or the refresh fails). An authorization-code key
    /// without a token fails with [`Error::Auth`]: send the user through
    /// [`authorize_url`](Tokens::authorize_url) and [`exchange_code`](Tokens::exchange_code).
    pub async fn access_token(&self, key: &TokenKey) -> Result<Secret, Error> {
        self.token(key, None).await
    }

    /// Renew `key`'s token now (e.g. after the bank reported it invalid), whatever its expiry.
    /// A refresh token that was already sent (its answer lost, or refused) is not sent again:
    /// an authorization-code key then fails with [`Error::Auth`] (the user must consent
    /// again), a client-credentials key gets a new token.
    pub async fn refresh(&self, key: &TokenKey) -> Result<TokenSet, Error> {
        let held = self.slot(key).lock_owned().await;
        let key = key.clone();
        self.detached(held, move |tokens, mut held| async move {
            let set = tokens.renew(&key, &held).await?;
            held.keep(Some(set.clone()), &tokens.inner.issuer);
            Ok(set)
        })
        .await
    }

    async fn token(&self, key: &TokenKey, stale: Option<&str>) -> Result<Secret, Error> {
        let held = self.slot(key).lock_owned().await;
        let now = self.now();
        if let Some(set) = held.set.as_ref() {
            let refused = stale.is_some_and(|s| s == set.access_token.expose());
            let due = set
                .expires_at
                .is_some_and(|at| at <= system_after(now, self.inner.margin));
            if !refused && !due {
                return Ok(set.access_token.clone());
            }
        }
        let key = key.clone();
        let stale = stale.map(str::to_owned);
        self.detached(held, move |tokens, mut held| async move {
            let current = held.set.clone();
            match tokens.renew(&key, &held).await {
                Ok(set) => {
                    let token = set.access_token.clone();
                    held.keep(Some(set), &tokens.inner.issuer);
                    Ok(token)
                }
                Err(e) => {
                    // Still valid and not refused: keep using it; a later call tries again.
                    let usable = current.filter(|set| {
                        stale
                            .as_deref()
                            .is_none_or(|s| s != set.access_token.expose())
                            && set.expires_at.is_some_and(|at| at > now)
                    });
                    match usable {
                        Some(set) => {
                            tracing::warn!(error = %e, "Sanbod token renewal failed; using the current token");
                            Ok(set.access_token)
                        }
                        None => Err(e),
                    }
                }
            }
        })
        .await
    }

    /// Run `work` (a token request and the keeping of its answer) on its own task, holding
    /// the key's slot, and wait for it. A caller that gives up (its call's deadline, a dropped
    /// future) does not cancel a request already sent: the answer may rotate the refresh
    /// token or spend an authorization code, and the set it carries must be kept for the next
    /// call, or the user is locked out until they consent again.
    async fn detached<T, F, Fut>(&self, held: Held, work: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(Tokens, Held) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T, Error>> + Send + 'static,
    {
        tokio::spawn(work(self.clone(), held))
            .await
            .unwrap_or_else(|stopped| {
                Err(Error::Auth(AuthError::TokenUnavailable {
                    reason: format!("the Sanbod token request stopped ({stopped})"),
                }))
            })
    }

    /// A new token set for `key`, from the held set's refresh token or (client credentials) a
    /// new grant. The refresh token is marked spent before it is sent, and the mark cleared
    /// only when the outcome shows that nothing was rotated (the Vandar token manager's rule:
    /// a refresh token whose fate is unknown is never sent again).
    async fn renew(&self, key: &TokenKey, held: &Entry) -> Result<TokenSet, Error> {
        let refresh = held.set.as_ref().and_then(|set| set.refresh_token.clone());
        if let Some(refresh_token) = refresh {
            let fp = Fingerprint::of(&self.inner.issuer, refresh_token.expose());
            match claims::begin_send(fp, held.owner) {
                Err(refusal) if key.grant == Grant::AuthorizationCode => {
                    return Err(Error::Auth(AuthError::TokenUnavailable {
                        reason: format!(
                            "the Sanbod {} was not refreshed, nothing was sent: {refusal}. The user must consent again (authorize_url, exchange_code), or insert a newer token set",
                            key.describe()
                        ),
                    }));
                }
                Err(refusal) => {
                    tracing::info!(%refusal, "Sanbod CC refresh token not sent; issuing a new token");
                }
                Ok(()) => match self
                    .request(types::TokenRequest::refresh_token(refresh_token.expose()))
                    .await
                {
                    Ok(mut set) => {
                        // RFC 6749 6: without a new refresh token the old one stays valid (and
                        // so does one the server hands back unchanged).
                        let kept = set
                            .refresh_token
                            .as_ref()
                            .is_none_or(|t| Fingerprint::of(&self.inner.issuer, t.expose()) == fp);
                        if kept {
                            set.refresh_token = Some(refresh_token);
                            claims::not_spent(fp, held.owner);
                        }
                        return Ok(set);
                    }
                    Err(e) => {
                        let max_wait = self
                            .inner
                            .client
                            .binding()
                            .runtime()
                            .config()
                            .max_retry_after();
                        let verdict = refresh_outcome(refresh_seen(&e), max_wait);
                        if matches!(
                            verdict,
                            RefreshVerdict::NotSent | RefreshVerdict::NotRotated { .. }
                        ) {
                            claims::not_spent(fp, held.owner);
                        }
                        if key.grant == Grant::AuthorizationCode {
                            return Err(Error::Auth(AuthError::TokenUnavailable {
                                reason: refresh_failure(key, verdict, &e),
                            }));
                        }
                        tracing::info!(error = %e, "Sanbod CC token refresh failed; issuing a new token");
                    }
                },
            }
        }
        match key.grant {
            Grant::ClientCredentials => {
                self.request(types::TokenRequest::client_credentials(
                    key.provider.clone(),
                    key.scopes.iter().cloned(),
                ))
                .await
            }
            Grant::AuthorizationCode => Err(Error::Auth(AuthError::TokenUnavailable {
                reason: format!(
                    "no usable Sanbod {} for this user (none stored, or expired without a refresh token); send the user to authorize_url and call exchange_code",
                    key.describe()
                ),
            })),
        }
    }

    async fn request(&self, body: types::TokenRequest) -> Result<TokenSet, Error> {
        let answer = self
            .inner
            .client
            .token()
            .body(body)
            .send_with_response()
            .await?;
        TokenSet::from_answer(&answer, self.now()).ok_or_else(|| Error::Decode {
            operation: "token".into(),
            http_status: answer.status(),
            reason: "the token answer has no access_token".into(),
        })
    }

    /// Revoke `key`'s access token at Sanbod and forget it. Nothing is sent when no token is
    /// held. The token is forgotten after a success and after an API error (Sanbod no longer
    /// knows it), and kept after a transport error so that revoking can be tried again.
    pub async fn revoke(&self, key: &TokenKey) -> Result<(), Error> {
        let slot = self.slot(key);
        let mut held = slot.lock().await;
        let Some(set) = held.set.as_ref() else {
            return Ok(());
        };
        let body =
            types::RevokeRequest::builder().access_token(OAuthToken::from(&set.access_token));
        let result = self.inner.client.revoke().body(body).send().await;
        match result {
            Ok(_) => {
                held.keep(None, &self.inner.issuer);
                Ok(())
            }
            Err(e) => {
                if e.api_error().is_some() {
                    held.keep(None, &self.inner.issuer);
                }
                Err(e)
            }
        }
    }

    /// Store a token set (e.g. one kept from before a restart) under `key`.
    ///
    /// Restore a user's set into one process only (see
    /// [one process per user](Tokens#one-process-per-user)): a refresh token that
    /// another key or manager of this process holds is left to that one, and one that was
    /// already sent here is never sent again (a warning is logged; the access token is used
    /// while it is valid).
    pub async fn insert(&self, key: &TokenKey, set: TokenSet) {
        self.slot(key)
            .lock()
            .await
            .keep(Some(set), &self.inner.issuer);
    }

    /// The token set held for `key` (to persist it). A refresh token that was sent and whose
    /// rotated set never came back (it is probably spent) is left out, so that restoring the
    /// set later never sends it again.
    pub async fn get(&self, key: &TokenKey) -> Option<TokenSet> {
        self.slot(key).lock().await.persistable()
    }

    /// Forget `key`'s token without revoking it.
    pub async fn remove(&self, key: &TokenKey) -> Option<TokenSet> {
        let slot = self.slot(key);
        let mut held = slot.lock().await;
        let set = held.persistable();
        held.keep(None, &self.inner.issuer);
        set
    }
}

/// What a failed token request tells about its refresh token, as the Vandar token manager
/// reads its own refresh (`decide::refresh_outcome`): nothing sent, answered without a
/// rotation, refused, or lost (sent, and no readable answer: probably rotated).
fn refresh_seen(e: &Error) -> RefreshSeen {
    let answered = |status: u16| RefreshSeen::Answer {
        status,
        retry_after: e.retry_after(),
        tokens: false,
        failure_body: (200..300).contains(&status),
    };
    match e {
        Error::InvalidRequest(_) | Error::Config(_) | Error::Auth(_) | Error::Timeout { .. } => {
            RefreshSeen::NotSent
        }
        Error::Transport(t) if t.reqwest_error().is_connect() => RefreshSeen::NotSent,
        Error::Transport(t) => RefreshSeen::Unknown {
            status: t.http_status(),
        },
        Error::RateLimited { retry_after, .. } => RefreshSeen::RateLimited {
            retry_after: *retry_after,
        },
        Error::OutcomeUnknown { http_status, .. } => RefreshSeen::Unknown {
            status: *http_status,
        },
        Error::ResponseTooLarge { http_status, .. } | Error::Decode { http_status, .. } => {
            RefreshSeen::Unknown {
                status: Some(*http_status),
            }
        }
        Error::Api(api) => answered(api.http_status),
        Error::Redirect { http_status, .. } => answered(*http_status),
        Error::UnexpectedStatus { status } => answered(*status),
        _ => RefreshSeen::Unknown {
            status: e.http_status(),
        },
    }
}

/// Why an authorization-code key's refresh failed, and what to do.
fn refresh_failure(key: &TokenKey, verdict: RefreshVerdict, e: &Error) -> String {
    let what = key.describe();
    match verdict {
        RefreshVerdict::Rejected { status } => format!(
            "Sanbod refused the refresh of the {what} (HTTP {status}: {e}); the user must consent again (authorize_url, exchange_code)"
        ),
        RefreshVerdict::Lost | RefreshVerdict::Rotated => format!(
            "the refresh of the {what} was sent and no readable answer came back ({e}); its refresh token is probably spent and is not sent again: the user must consent again (authorize_url, exchange_code), or insert a newer token set"
        ),
        RefreshVerdict::NotSent | RefreshVerdict::NotRotated { .. } => format!(
            "refreshing the {what} failed and rotated nothing ({e}); the token set is unchanged and the refresh is tried again on the next renewal"
        ),
    }
}

/// The bearer source of a client from [`Tokens::client`].
struct KeySource {
    tokens: Tokens,
    key: TokenKey,
}

impl BearerSource for KeySource {
    fn bearer<'a>(&'a self, stale: Option<&'a str>) -> BearerFuture<'a> {
        Box::pin(async move {
            self.tokens
                .token(&self.key, stale)
                .await
                .map_err(|e| match e {
                    Error::Auth(a) => a,
                    other => AuthError::TokenUnavailable {
                        reason: format!(
                            "could not get the Sanbod {}: {other}",
                            self.key.describe()
                        ),
                    },
                })
        })
    }

    fn identity(&self) -> String {
        // One budget per token: the grant, provider, scopes and user name the token, so two
        // clients for one user share it and another user never does.
        format!(
            "sanbod|{}|user={}",
            self.key.describe(),
            self.key.user.as_deref().unwrap_or("-")
        )
    }
}

/// Where the bank sends the user after consent: `redirect_uri?code=..&state=..`.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationCallback {
    /// The authorization code for [`Tokens::exchange_code`] (single use).
    pub code: String,
    /// The `state` sent to `authorize`, echoed back: compare it with the user's session.
    pub state: Option<String>,
}

impl fmt::Debug for AuthorizationCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationCallback")
            .field("code", &"[redacted]")
            .field("state", &self.state)
            .finish()
    }
}

/// A consent redirect that carries no code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// The redirect carries an OAuth `error` (e.g. `access_denied`: the user declined).
    #[error("the user's consent failed: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Denied {
        /// The `error` parameter.
        error: String,
        /// The `error_description` parameter, if any.
        description: Option<String>,
    },
    /// Neither `code` nor `error` is present.
    #[error("the redirect has no `code`")]
    MissingCode,
    /// The text looked like a URL but did not parse.
    #[error("the redirect URL does not parse: {0}")]
    InvalidUrl(String),
}

impl AuthorizationCallback {
    /// Read the redirect from its query string (`code=..&state=..`, with or without `?`) or
    /// the whole URL. S003 documents the `code` only; `state` and the OAuth `error` parameters
    /// are read as RFC 6749 (4.1.2) defines them.
    pub fn parse(query_or_url: &str) -> Result<Self, CallbackError> {
        let q = QueryParams::parse(query_or_url)
            .map_err(|InvalidCallbackUrl(reason)| CallbackError::InvalidUrl(reason))?;
        if let Some(error) = q.non_empty("error") {
            return Err(CallbackError::Denied {
                error: error.to_string(),
                description: q.non_empty("error_description").map(str::to_string),
            });
        }
        let code = q.non_empty("code").ok_or(CallbackError::MissingCode)?;
        Ok(Self {
            code: code.to_string(),
            state: q.get("state").map(str::to_string),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_scope_order() {
        let a = TokenKey::authorization_code("059", [Scope::Statement, Scope::AchReport], "u1");
        let b = TokenKey::authorization_code(
            ProviderCode::Sina,
            [Scope::AchReport, Scope::Statement, Scope::Statement],
            "u1",
        );
        assert_eq!(a, b);
        assert_ne!(
            a,
            TokenKey::authorization_code("059", [Scope::Statement, Scope::AchReport], "u2")
        );
        assert_ne!(
            TokenKey::client_credentials("057", [Scope::CardToIban]),
            TokenKey::client_credentials("054", [Scope::CardToIban])
        );
        assert_eq!(a.scopes().len(), 2);
        assert_eq!(a.user(), Some("u1"));
    }

    fn jwt(claims: &str) -> String {
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.sig", b(r#"{"alg":"HS256"}"#), b(claims))
    }

    #[test]
    fn expiry_from_expires_in_then_jwt() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_639_569_950);
        let token = jwt(r#"{"iat":1639569950.35819,"exp":1639573550.358177}"#);
        let answer = types::TokenAnswer {
            access_token: Some(OAuthToken::from(token.as_str())),
            refresh_token: None,
            token_type: Some("Bearer".into()),
            expires_in: None,
        };
        let set = TokenSet::from_answer(&answer, now).unwrap();
        let exp = set.expires_at.unwrap();
        let secs = exp
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert_eq!(secs, 1_639_573_550);
        let with_expires_in = types::TokenAnswer {
            expires_in: Some(300.into()),
            ..answer.clone()
        };
        assert_eq!(
            TokenSet::from_answer(&with_expires_in, now)
                .unwrap()
                .expires_at,
            Some(now + Duration::from_secs(300))
        );
        let opaque = types::TokenAnswer {
            access_token: Some("not-a-jwt".into()),
            ..answer.clone()
        };
        assert_eq!(
            TokenSet::from_answer(&opaque, now).unwrap().expires_at,
            None
        );
        let empty = types::TokenAnswer {
            access_token: None,
            ..answer
        };
        assert!(TokenSet::from_answer(&empty, now).is_none());
        assert!(!format!("{set:?}").contains(&token));
    }

    #[test]
    fn absurd_expiry_numbers_are_far_expiries_not_panics() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let far = system_after(now, vandar_runtime::timeouts::FAR_FUTURE);
        let answer = |access: &str, expires_in: Option<i64>| types::TokenAnswer {
            access_token: Some(OAuthToken::from(access)),
            refresh_token: Some(OAuthToken::from("refresh-SECRET")),
            token_type: Some("Bearer".into()),
            expires_in: expires_in.map(Into::into),
        };
        for secs in [i64::MAX, i64::from(u32::MAX) * 1_000] {
            let set = TokenSet::from_answer(&answer("opaque", Some(secs)), now).unwrap();
            assert_eq!(set.expires_at, Some(far), "expires_in {secs}");
            assert_eq!(set.refresh_token.unwrap().expose(), "refresh-SECRET");
        }
        for exp in [
            r#"{"exp":1e30}"#,
            r#"{"exp":1.7976931348623157e308}"#,
            r#"{"exp":"1e400"}"#,
            r#"{"exp":18446744073709551615}"#,
        ] {
            let set = TokenSet::from_answer(&answer(&jwt(exp), None), now).unwrap();
            assert_eq!(set.expires_at, Some(far), "{exp}");
        }
        for exp in [r#"{"exp":-5}"#, r#"{"exp":"NaN"}"#, r#"{"exp":0}"#] {
            let set = TokenSet::from_answer(&answer(&jwt(exp), None), now).unwrap();
            assert_eq!(set.expires_at, None, "{exp}");
        }
        // -5 and 0 seconds of expires_in say nothing: the JWT (or nothing) decides.
        let set = TokenSet::from_answer(&answer("opaque", Some(-5)), now).unwrap();
        assert_eq!(set.expires_at, None);
    }

    #[test]
    fn callback_parsing() {
        let c =
            AuthorizationCallback::parse("https://app.example/cb?code=bbe0ead3-3c2e&state=7000")
                .unwrap();
        assert_eq!(c.code, "bbe0ead3-3c2e");
        assert_eq!(c.state.as_deref(), Some("7000"));
        assert!(!format!("{c:?}").contains("bbe0ead3"));
        assert_eq!(
            AuthorizationCallback::parse("?state=1"),
            Err(CallbackError::MissingCode)
        );
        let denied = AuthorizationCallback::parse("error=access_denied&state=1").unwrap_err();
        assert!(
            matches!(denied, CallbackError::Denied { ref error, .. } if error == "access_denied")
        );
        assert!(matches!(
            AuthorizationCallback::parse("http://[::1"),
            Err(CallbackError::InvalidUrl(_))
        ));
    }
}
