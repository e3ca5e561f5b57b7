//! The token pair in Redis, with the refresh lease and compare-and-set.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use vandar_runtime::{
    LeaseOutcome, LeaseTiming, LimiterKey, RefreshFailure, RefreshLease, SaveOutcome, StoreFuture,
    TokenPair, TokenStore,
};

use crate::conn::RedisConnection;
use crate::error::RedisError;
use crate::scripts;

/// How long a spent refresh token stays marked (its lifetime: 10 days).
const SPENT_FOR: Duration = vandar_runtime::REFRESH_TOKEN_LIFETIME;

/// The Vandar token pair in Redis, shared by every process of one Vandar account, with a
/// refresh lease so that exactly one of them refreshes an expiring pair (see the
/// [crate docs](crate)).
///
/// Keys (the namespace names the account; no key holds or derives from a token's text except
/// through SHA-256):
/// `vandar:{<ns>}:token_pair` (hash: `fp`, the refresh token's fingerprint, and `pair`, the
/// pair as JSON), `vandar:{<ns>}:refresh_lease` (the holder's random id, with a TTL) and
/// `vandar:{<ns>}:refresh_spent` (the fingerprint of a refresh token whose refresh failed
/// for good).
///
/// `Debug` shows the namespace only.
#[derive(Clone)]
pub struct RedisTokenStore {
    conn: RedisConnection,
    namespace: String,
    pair_key: String,
    lease_key: String,
    spent_key: String,
    lease_slack: Duration,
    poll: Duration,
}

impl fmt::Debug for RedisTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenStore")
            .field("namespace", &self.namespace)
            .field("lease_slack", &self.lease_slack)
            .finish_non_exhaustive()
    }
}

/// Check a namespace: 1 to 64 of `A-Z a-z 0-9 _ - . :`.
pub(crate) fn check_namespace(namespace: &str) -> Result<(), RedisError> {
    let ok = !namespace.is_empty()
        && namespace.len() <= 64
        && namespace
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
    if ok {
        Ok(())
    } else {
        Err(RedisError::InvalidNamespace {
            namespace: namespace.chars().take(64).collect(),
        })
    }
}

/// The fingerprint of a refresh token: 128 bits of SHA-256, in hex.
fn fingerprint(pair: &TokenPair) -> String {
    LimiterKey::of("refresh_token", pair.refresh_token.expose()).hex()
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn encode(pair: &TokenPair) -> String {
    json!({
        "v": 1,
        "access_token": pair.access_token.expose(),
        "refresh_token": pair.refresh_token.expose(),
        "access_expires_at_ns": nanos(pair.access_expires_at),
        "refresh_expires_at_ns": nanos(pair.refresh_expires_at),
    })
    .to_string()
}

fn decode(text: &str) -> Result<TokenPair, RedisError> {
    let corrupt = || RedisError::Corrupt { what: "token_pair" };
    let v: Value = serde_json::from_str(text).map_err(|_| corrupt())?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let t = |k: &str| {
        v.get(k)
            .and_then(Value::as_u64)
            .and_then(|ns| UNIX_EPOCH.checked_add(Duration::from_nanos(ns)))
    };
    Ok(TokenPair::new(
        s("access_token").ok_or_else(corrupt)?,
        s("refresh_token").ok_or_else(corrupt)?,
        t("access_expires_at_ns").ok_or_else(corrupt)?,
        t("refresh_expires_at_ns").ok_or_else(corrupt)?,
    ))
}

fn failure_text(failure: RefreshFailure) -> String {
    match failure {
        RefreshFailure::Retryable => String::new(),
        RefreshFailure::OutcomeUnknown => "unknown".into(),
        RefreshFailure::Rejected { status } => format!("rejected:{status}"),
    }
}

fn parse_failure(text: &str) -> RefreshFailure {
    match text.strip_prefix("rejected:").map(str::parse::<u16>) {
        Some(Ok(status)) => RefreshFailure::Rejected { status },
        _ => RefreshFailure::OutcomeUnknown,
    }
}

impl RedisTokenStore {
    /// The store of the Vandar account named `namespace` (1 to 64 of `A-Z a-z 0-9 _ - . :`;
    /// give each account its own, never a token).
    pub fn new(conn: RedisConnection, namespace: &str) -> Result<Self, RedisError> {
        check_namespace(namespace)?;
        let key = |what: &str| format!("vandar:{{{namespace}}}:{what}");
        Ok(Self {
            pair_key: key("token_pair"),
            lease_key: key("refresh_lease"),
            spent_key: key("refresh_spent"),
            namespace: namespace.to_owned(),
            conn,
            lease_slack: Duration::from_secs(1),
            poll: Duration::from_millis(25),
        })
    }

    /// How much longer than the refresh may take the lease lasts (default 1 s): a holder
    /// that dies mid-refresh blocks the others for the runtime's total timeout plus this.
    pub fn with_lease_slack(mut self, slack: Duration) -> Self {
        self.lease_slack = slack;
        self
    }

    /// The Redis key of the pair (a hash).
    pub fn pair_key(&self) -> &str {
        &self.pair_key
    }

    /// The Redis key of the refresh lease.
    pub fn lease_key(&self) -> &str {
        &self.lease_key
    }

    /// Store `pair` only if no pair is stored yet (the first deployment: every replica may
    /// call it with the dashboard-issued pair; the first one wins, the rest keep the pair
    /// already there, which may have been refreshed since). Returns whether it was stored.
    pub async fn seed(&self, pair: &TokenPair) -> Result<bool, RedisError> {
        self.store(pair, "nx").await
    }

    /// The stored pair, if any.
    pub async fn get(&self) -> Result<Option<TokenPair>, RedisError> {
        let text: Option<String> = self
            .conn
            .run("load token pair", |mut c| {
                let key = self.pair_key.clone();
                async move {
                    redis::cmd("HGET")
                        .arg(key)
                        .arg("pair")
                        .query_async(&mut c)
                        .await
                }
            })
            .await?;
        text.as_deref().map(decode).transpose()
    }

    /// Replace the stored pair (e.g. one just issued in the dashboard); clears any spent
    /// marker. The runtime calls it from `Runtime::set_token_pair`.
    pub async fn put(&self, pair: &TokenPair) -> Result<(), RedisError> {
        self.store(pair, "set").await.map(|_| ())
    }

    async fn store(&self, pair: &TokenPair, mode: &'static str) -> Result<bool, RedisError> {
        let stored: i64 = self
            .conn
            .run("save token pair", |mut c| {
                let mut inv = scripts::SAVE.prepare_invoke();
                inv.key(&self.pair_key)
                    .key(&self.spent_key)
                    .arg(fingerprint(pair))
                    .arg(encode(pair))
                    .arg(mode);
                async move { inv.invoke_async(&mut c).await }
            })
            .await?;
        Ok(stored == 1)
    }

    /// Take the lease, waiting while another process holds it (see
    /// [`TokenStore::begin_refresh`]).
    pub async fn lease(
        &self,
        current: &TokenPair,
        timing: LeaseTiming,
    ) -> Result<LeaseOutcome, RedisError> {
        let started = tokio::time::Instant::now();
        let fp = fingerprint(current);
        let id = uuid::Uuid::new_v4().to_string();
        let hold = timing.hold.saturating_add(self.lease_slack);
        let hold_ms = hold.as_millis().max(1).to_string();
        let mut announced = false;
        loop {
            let (what, detail): (String, String) = self
                .conn
                .run("begin token refresh", |mut c| {
                    let mut inv = scripts::BEGIN_REFRESH.prepare_invoke();
                    inv.key(&self.pair_key)
                        .key(&self.lease_key)
                        .key(&self.spent_key)
                        .arg(&fp)
                        .arg(&id)
                        .arg(&hold_ms);
                    async move { inv.invoke_async(&mut c).await }
                })
                .await?;
            match what.as_str() {
                "granted" => {
                    tracing::debug!(namespace = %self.namespace, "token refresh lease granted");
                    return Ok(LeaseOutcome::Granted(RefreshLease::new(id)));
                }
                "newer" => return Ok(LeaseOutcome::Newer(decode(&detail)?)),
                "spent" => return Ok(LeaseOutcome::Spent(parse_failure(&detail))),
                "wait" => {
                    let waited = started.elapsed();
                    if waited >= timing.wait {
                        return Err(RedisError::LeaseWait { waited });
                    }
                    if !announced {
                        announced = true;
                        tracing::info!(
                            namespace = %self.namespace,
                            "another process is refreshing the token pair; waiting for it"
                        );
                    }
                    // The lease's remaining time, if Redis said; poll well before it ends.
                    let left = detail
                        .parse::<i64>()
                        .ok()
                        .filter(|ms| *ms > 0)
                        .map(|ms| Duration::from_millis(ms as u64))
                        .unwrap_or(self.poll);
                    let jitter = Duration::from_millis(fastrand::u64(0..=10));
                    let nap = self
                        .poll
                        .min(left)
                        .saturating_add(jitter)
                        .min(timing.wait - waited);
                    tokio::time::sleep(nap).await;
                }
                _ => {
                    return Err(RedisError::Corrupt {
                        what: "lease answer",
                    });
                }
            }
        }
    }

    /// Compare-and-set after a refresh (see [`TokenStore::finish_refresh`]).
    pub async fn finish(
        &self,
        lease: &RefreshLease,
        old: &TokenPair,
        new: &TokenPair,
    ) -> Result<SaveOutcome, RedisError> {
        let (what, detail): (String, String) = self
            .conn
            .run("finish token refresh", |mut c| {
                let mut inv = scripts::FINISH_REFRESH.prepare_invoke();
                inv.key(&self.pair_key)
                    .key(&self.lease_key)
                    .key(&self.spent_key)
                    .arg(fingerprint(old))
                    .arg(lease.id())
                    .arg(fingerprint(new))
                    .arg(encode(new));
                async move { inv.invoke_async(&mut c).await }
            })
            .await?;
        match what.as_str() {
            "saved" => Ok(SaveOutcome::Saved),
            "newer" => Ok(SaveOutcome::Newer(decode(&detail)?)),
            _ => Err(RedisError::Corrupt {
                what: "finish answer",
            }),
        }
    }

    /// Release the lease after a failed refresh (see [`TokenStore::abandon_refresh`]).
    pub async fn abandon(
        &self,
        lease: &RefreshLease,
        old: &TokenPair,
        failure: RefreshFailure,
    ) -> Result<(), RedisError> {
        let _: i64 = self
            .conn
            .run("abandon token refresh", |mut c| {
                let mut inv = scripts::ABANDON_REFRESH.prepare_invoke();
                inv.key(&self.lease_key)
                    .key(&self.spent_key)
                    .arg(lease.id())
                    .arg(fingerprint(old))
                    .arg(failure_text(failure))
                    .arg(SPENT_FOR.as_millis().to_string());
                async move { inv.invoke_async(&mut c).await }
            })
            .await?;
        Ok(())
    }
}

impl TokenStore for RedisTokenStore {
    fn load(&self) -> StoreFuture<'_, Option<TokenPair>> {
        Box::pin(async move { Ok(self.get().await?) })
    }

    fn save<'a>(&'a self, pair: &'a TokenPair) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(self.put(pair).await?) })
    }

    fn begin_refresh<'a>(
        &'a self,
        current: &'a TokenPair,
        timing: LeaseTiming,
    ) -> StoreFuture<'a, LeaseOutcome> {
        Box::pin(async move { Ok(self.lease(current, timing).await?) })
    }

    fn finish_refresh<'a>(
        &'a self,
        lease: &'a RefreshLease,
        old: &'a TokenPair,
        new: &'a TokenPair,
    ) -> StoreFuture<'a, SaveOutcome> {
        Box::pin(async move { Ok(self.finish(lease, old, new).await?) })
    }

    fn abandon_refresh<'a>(
        &'a self,
        lease: &'a RefreshLease,
        old: &'a TokenPair,
        failure: RefreshFailure,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(self.abandon(lease, old, failure).await?) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_round_trip_and_keys_hold_no_token() {
        let pair = TokenPair::new(
            "acc-SECRET",
            "ref-SECRET",
            UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789),
            UNIX_EPOCH + Duration::from_millis(1_700_000_900_000),
        );
        assert_eq!(decode(&encode(&pair)).unwrap(), pair);
        assert!(decode("{\"access_token\": \"x\"}").is_err());
        let fp = fingerprint(&pair);
        assert_eq!(fp.len(), 32);
        assert!(!fp.contains("SECRET"));
        assert_eq!(
            parse_failure(&failure_text(RefreshFailure::OutcomeUnknown)),
            RefreshFailure::OutcomeUnknown
        );
        assert_eq!(
            parse_failure(&failure_text(RefreshFailure::Rejected { status: 401 })),
            RefreshFailure::Rejected { status: 401 }
        );
    }

    #[test]
    fn opening_outside_a_runtime_is_an_error_not_a_panic() {
        assert_eq!(
            RedisConnection::open("redis://127.0.0.1:1/").unwrap_err(),
            RedisError::NoRuntime
        );
    }

    #[tokio::test]
    async fn a_malformed_url_is_refused() {
        let err = RedisConnection::open("not a url").unwrap_err();
        assert!(matches!(err, RedisError::InvalidUrl { .. }), "{err:?}");
    }

    #[test]
    fn namespaces_are_checked() {
        assert!(check_namespace("shop-1.prod:eu").is_ok());
        for bad in ["", "a b", "x{y}", &"n".repeat(65)] {
            assert!(matches!(
                check_namespace(bad),
                Err(RedisError::InvalidNamespace { .. })
            ));
        }
    }
}
