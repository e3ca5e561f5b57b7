//! The call's total timeout covers everything the call waits for, against servers on 127.0.0.1
//! and in real time: a shared rate limiter that never answers, grants a slot past the deadline
//! or fails late; a token store whose load or swap never answers; a slow token endpoint. Each
//! call ends by its deadline (the configured total timeout, or a per-call override) with the
//! timeout error, and nothing reaches the server when the time ran out before sending. What a
//! call gave up on (a load of the store, a refresh already sent) still finishes for the next
//! call and for the store.
//!
//! Timing checks are generous: a 1 s total must end within 4 s (a hang is caught by
//! [`bounded`]), and "at once" means well within a 5 s total.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tokio::time::Instant;
use vandar::ipg::types::TokenRequest;
use vandar::{ApiKey, Config, ConfigBuilder, Error, Timeouts, Vandar};
use vandar_runtime::test_util::{FaultServer, RefreshMode, Reply, RotatingVandar, access, refresh};
use vandar_runtime::{
    AuthError, BearerFuture, BearerSource, Binding, CallOptions, MemoryTokenStore, RateLimits,
    RetryPolicy, Runtime, SharedLimiterError, SharedLimiterFuture, SharedRateLimiter, SlotGrant,
    SlotRequest, Snapshot, StoreFuture, Swap, TokenPair, TokenRecord, TokenStore,
};

const API_KEY: &str = "ipg-key-budget-SECRET";
const ACCESS: &str = "access-budget-SECRET";
const REFRESH: &str = "refresh-budget-SECRET";

/// The longest any call here may take before it counts as a hang.
const HANG: Duration = Duration::from_secs(4);

/// Run `call`, failing the test if it is still running after [`HANG`]; its result and how
/// long it took.
async fn bounded<T>(what: &str, call: impl std::future::Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    match tokio::time::timeout(HANG, call).await {
        Ok(result) => (result, started.elapsed()),
        Err(_) => panic!("{what}: still running after {HANG:?}"),
    }
}

/// Per-attempt 30 s (the default), total `total`: only the total can end these calls.
fn timeouts(total: Duration) -> Timeouts {
    Timeouts::default().with_total(total)
}

fn assert_timeout(what: &str, result: Result<Value, Error>) {
    match result {
        Err(Error::Timeout { operation, .. }) => assert_eq!(operation, "get_transaction_info"),
        other => panic!("{what}: expected Error::Timeout, got {other:?}"),
    }
}

fn assert_token_timeout(what: &str, result: Result<Value, vandar_runtime::Error>) {
    match result {
        Err(vandar_runtime::Error::Auth(AuthError::RefreshTimeout)) => {}
        other => panic!("{what}: expected Error::Auth(RefreshTimeout), got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The shared rate limiter (through the generated IPG client: every call asks the shared
// limiter for a slot of the api_key's budget).

/// A shared limiter that answers after `delay` (never, for `None`) with `answer`.
struct Shared {
    delay: Option<Duration>,
    answer: Result<SlotGrant, SharedLimiterError>,
    asked: AtomicUsize,
}

impl Shared {
    fn new(delay: Option<Duration>, answer: Result<SlotGrant, SharedLimiterError>) -> Arc<Self> {
        Arc::new(Self {
            delay,
            answer,
            asked: AtomicUsize::new(0),
        })
    }

    fn never() -> Arc<Self> {
        Self::new(None, granted(Duration::ZERO))
    }
}

fn granted(wait: Duration) -> Result<SlotGrant, SharedLimiterError> {
    Ok(SlotGrant::Granted { wait })
}

impl SharedRateLimiter for Shared {
    fn acquire(&self, _: SlotRequest) -> SharedLimiterFuture<'_, SlotGrant> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        let (delay, answer) = (self.delay, self.answer.clone());
        Box::pin(async move {
            match delay {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending::<()>().await,
            }
            answer
        })
    }
}

async fn info_server() -> FaultServer {
    let answer = vandar_tests::example(
        &vandar_tests::spec("vandar-ipg"),
        "get_transaction_info",
        Some("200"),
        "awaiting_verify",
    );
    FaultServer::start(move |_| Reply::json(200, answer.clone())).await
}

fn ipg_config(server: &FaultServer, shared: &Arc<Shared>) -> ConfigBuilder {
    Config::builder()
        .all_hosts(&server.uri())
        .retry(RetryPolicy::none())
        .rate_limits(RateLimits::vandar())
        .shared_rate_limiter(shared.clone())
}

fn client(config: ConfigBuilder) -> Vandar {
    Vandar::new(config.build().unwrap()).unwrap()
}

/// `get_transaction_info` (a POST of the api_key's budget), with `options` when given.
async fn info(v: &Vandar, options: Option<CallOptions>) -> Result<Value, Error> {
    let ipg = match options {
        Some(o) => v.ipg().with_options(o).unwrap(),
        None => v.ipg(),
    };
    ipg.get_transaction_info()
        .body(
            TokenRequest::builder()
                .api_key(ApiKey::from(API_KEY))
                .token("4FFSKSZ9I3CJWOA"),
        )
        .send()
        .await
        .map(|r| serde_json::to_value(r).unwrap())
}

/// The configured total, and a per-call override of a long configured total, are each
/// honoured.
fn both_ways(total: Duration) -> [(&'static str, Timeouts, Option<CallOptions>); 2] {
    [
        ("configured total", timeouts(total), None),
        (
            "per-call total",
            Timeouts::default(),
            Some(CallOptions::new().total_timeout(total)),
        ),
    ]
}

#[tokio::test]
async fn a_shared_limiter_that_never_answers_ends_the_call_at_its_deadline() {
    let server = info_server().await;
    for (how, t, options) in both_ways(Duration::from_secs(1)) {
        let shared = Shared::never();
        let v = client(ipg_config(&server, &shared).timeouts(t));
        let (result, took) = bounded(how, info(&v, options)).await;
        assert_timeout(how, result);
        assert!(took >= Duration::from_millis(900), "{how}: {took:?}");
        assert_eq!(shared.asked.load(Ordering::SeqCst), 1, "{how}");
    }
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_grant_past_the_deadline_fails_at_once_like_the_local_limiter() {
    let server = info_server().await;
    for (how, t, options) in both_ways(Duration::from_secs(5)) {
        let shared = Shared::new(Some(Duration::ZERO), granted(Duration::from_secs(10)));
        let v = client(ipg_config(&server, &shared).timeouts(t));
        let (result, took) = bounded(how, info(&v, options)).await;
        assert_timeout(how, result);
        assert!(took < Duration::from_secs(3), "{how}: waited {took:?}");
    }
    assert!(server.requests().is_empty(), "nothing was sent");
    // a grant within the budget is waited for, then sent
    let shared = Shared::new(Some(Duration::ZERO), granted(Duration::from_millis(300)));
    let v = client(ipg_config(&server, &shared).timeouts(timeouts(Duration::from_secs(5))));
    let (result, took) = bounded("a grant 300 ms away", info(&v, None)).await;
    result.unwrap();
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_shared_limiter_that_fails_late_ends_the_call_at_its_deadline() {
    let server = info_server().await;
    let down = || Err(SharedLimiterError::new("redis did not answer"));
    for (how, t, options) in both_ways(Duration::from_secs(1)) {
        let shared = Shared::new(Some(Duration::from_secs(5)), down());
        let v = client(ipg_config(&server, &shared).timeouts(t));
        let (result, took) = bounded(how, info(&v, options)).await;
        assert_timeout(how, result);
        assert!(took >= Duration::from_millis(900), "{how}: {took:?}");
    }
    assert!(server.requests().is_empty(), "nothing was sent");
    // a failure with time to spare falls back to the local limiter and sends
    let shared = Shared::new(Some(Duration::from_millis(200)), down());
    let v = client(ipg_config(&server, &shared).timeouts(timeouts(Duration::from_secs(5))));
    let (result, _) = bounded("fails in 200 ms", info(&v, None)).await;
    result.unwrap();
    assert_eq!(server.requests().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// The credential: the token store, the refresh, a bearer source (through a binding of one
// bearer route, as a generated client's `send()` calls it).

fn binding(config: vandar_runtime::ConfigBuilder, options: Option<CallOptions>) -> Binding {
    let b = Binding::new(
        Runtime::new(config.build().unwrap()).unwrap(),
        vandar_runtime::test_util::BEARER_ROUTES,
        &[],
    );
    match options {
        Some(o) => b.with_call_options(o).unwrap(),
        None => b,
    }
}

async fn balance(b: &Binding) -> Result<Value, vandar_runtime::Error> {
    vandar_runtime::test_util::call_json(b, "get_balance", None).await
}

fn token_config(uri: &str) -> vandar_runtime::ConfigBuilder {
    Config::builder()
        .all_hosts(uri)
        .retry(RetryPolicy::none())
        .rate_limits(RateLimits::unlimited())
}

/// A binding whose pair lives in `store` (seeded with `seed`).
fn stored_pair(
    uri: &str,
    store: &Arc<Switch>,
    seed: Option<TokenPair>,
    timeouts: Timeouts,
    options: Option<CallOptions>,
) -> Binding {
    let mut config = token_config(uri)
        .token_store(store.clone())
        .timeouts(timeouts);
    if let Some(seed) = seed {
        config = config.token_pair(seed);
    }
    binding(config, options)
}

/// Attempt and total timeouts.
fn attempt_and_total(per_attempt: Duration, total: Duration) -> Timeouts {
    Timeouts::default()
        .with_per_attempt(per_attempt)
        .with_total(total)
}

/// One call of a 1 s total that must end at its deadline, waiting for its credential.
async fn ends_at_its_deadline(how: &str, b: &Binding) {
    let (result, took) = bounded(how, balance(b)).await;
    assert_token_timeout(how, result);
    assert!(took >= Duration::from_millis(900), "{how}: {took:?}");
}

fn valid_pair() -> TokenPair {
    TokenPair::issued_at(ACCESS, REFRESH, SystemTime::now())
}

/// The fake's first pair with its access token expired (a call must refresh first).
fn expired_pair() -> TokenPair {
    let now = SystemTime::now();
    TokenPair::new(
        access(0),
        refresh(0),
        now - Duration::from_secs(60),
        now + Duration::from_secs(86_400),
    )
}

/// A store in memory whose operations can be made to never answer: every load while
/// `hang_loads`, and the swaps whose number (from 1) is in `hang_swaps` while `hanging`.
struct Switch {
    inner: MemoryTokenStore,
    hang_loads: AtomicBool,
    hanging: AtomicBool,
    hang_swaps: Vec<usize>,
    swaps: AtomicUsize,
}

impl Switch {
    fn new(inner: MemoryTokenStore, hang_loads: bool, hang_swaps: &[usize]) -> Arc<Self> {
        Arc::new(Self {
            inner,
            hang_loads: AtomicBool::new(hang_loads),
            hanging: AtomicBool::new(true),
            hang_swaps: hang_swaps.to_vec(),
            swaps: AtomicUsize::new(0),
        })
    }

    /// Answer every operation from now on.
    fn answer(&self) {
        self.hang_loads.store(false, Ordering::SeqCst);
        self.hanging.store(false, Ordering::SeqCst);
    }
}

impl TokenStore for Switch {
    fn load(&self) -> StoreFuture<'_, Snapshot> {
        if self.hang_loads.load(Ordering::SeqCst) {
            return Box::pin(std::future::pending());
        }
        self.inner.load()
    }

    fn swap<'a>(&'a self, expected: Option<u64>, record: &'a TokenRecord) -> StoreFuture<'a, Swap> {
        let n = self.swaps.fetch_add(1, Ordering::SeqCst) + 1;
        if self.hanging.load(Ordering::SeqCst) && self.hang_swaps.contains(&n) {
            return Box::pin(std::future::pending());
        }
        self.inner.swap(expected, record)
    }
}

/// Wait (up to 10 s) until the store holds the pair of generation `n`.
async fn stored(store: &Switch, n: u64) {
    let until = Instant::now() + Duration::from_secs(10);
    while store
        .inner
        .current()
        .map(|p| p.access_token.expose().to_owned())
        != Some(access(n))
    {
        assert!(Instant::now() < until, "the store never got generation {n}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_token_store_that_never_answers_ends_the_call_at_its_deadline() {
    let server = FaultServer::start(|_| Reply::json(200, json!({"status": 1}))).await;
    for (how, t, options) in both_ways(Duration::from_secs(1)) {
        let store = Switch::new(MemoryTokenStore::empty(), true, &[]);
        let b = stored_pair(&server.uri(), &store, Some(valid_pair()), t, options);
        ends_at_its_deadline(how, &b).await;
        // the next call joins the load still under way, and ends by its own deadline
        let (result, _) = bounded(how, balance(&b)).await;
        assert_token_timeout(how, result);
    }
    assert!(server.requests().is_empty(), "nothing was sent");
}

/// The first load runs on its own task, bounded by the attempt timeout: after a caller gave
/// up on it, it still ends, and the configured pair is used while the store does not answer.
#[tokio::test]
async fn a_store_that_never_answers_is_given_up_for_the_configured_pair() {
    let server = FaultServer::start(|_| Reply::json(200, json!({"status": 1}))).await;
    let store = Switch::new(MemoryTokenStore::empty(), true, &[]);
    let t = attempt_and_total(Duration::from_secs(1), Duration::from_millis(500));
    let b = stored_pair(&server.uri(), &store, Some(valid_pair()), t, None);
    let (result, _) = bounded("first call", balance(&b)).await;
    assert_token_timeout("first call", result);
    assert!(server.requests().is_empty(), "nothing was sent");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (result, _) = bounded("after the load gave up", balance(&b)).await;
    result.unwrap();
    let sent = server.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].header("authorization"),
        Some(format!("Bearer {ACCESS}").as_str())
    );
}

/// A refresh whose store write never answers: the call ends by its deadline with nothing
/// sent, and the refresh under way ends too (bounded by the attempt timeout), so the next
/// call refreshes once the store answers.
#[tokio::test]
async fn a_token_store_whose_swap_never_answers_during_a_refresh() {
    // swap 1 is the lease, swap 2 the "about to send" marker (written by the pipeline's gate,
    // after the rate-limit slot)
    for (which, hang) in [("lease", 1), ("marker", 2)] {
        let fake = RotatingVandar::start().await;
        let store = Switch::new(MemoryTokenStore::new(expired_pair()), false, &[hang]);
        let t = attempt_and_total(Duration::from_secs(2), Duration::from_secs(1));
        let b = stored_pair(&fake.server.uri(), &store, None, t, None);
        ends_at_its_deadline(which, &b).await;
        assert!(
            fake.server.requests().is_empty(),
            "{which}: nothing was sent"
        );
        // the refresh gives the store up after the attempt timeout (2 s); then the store
        // answers again and the next call refreshes once and goes through
        store.answer();
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let patient = b
            .clone()
            .with_call_options(CallOptions::new().total_timeout(Duration::from_secs(3)))
            .unwrap();
        let (result, _) = bounded(which, balance(&patient)).await;
        result.unwrap_or_else(|e| panic!("{which}: {e}"));
        assert_eq!(fake.refreshes(), 1, "{which}");
        assert_eq!(fake.sent(&refresh(0)), 1, "{which}");
        stored(&store, 1).await;
    }
}

/// The refresh was sent and rotated, but the store does not take the rotated pair: the
/// caller's deadline passes, yet the pair is held at once (the next call uses it without a
/// second refresh) and written to the store once it answers.
#[tokio::test]
async fn a_rotated_pair_reaches_the_next_call_and_the_store_after_the_deadline() {
    let fake = RotatingVandar::start().await;
    // swap 1: lease, 2: marker, 3: the rotated pair
    let store = Switch::new(MemoryTokenStore::new(expired_pair()), false, &[3]);
    let t = attempt_and_total(Duration::from_secs(2), Duration::from_secs(1));
    let b = stored_pair(&fake.server.uri(), &store, None, t, None);
    let (result, _) = bounded("first call", balance(&b)).await;
    assert_token_timeout("first call", result);
    assert_eq!(fake.refreshes(), 1);
    assert_eq!(fake.server.count("/v3/business/shop/balance"), 0);
    let (result, _) = bounded("second call", balance(&b)).await;
    result.unwrap();
    assert_eq!(
        fake.refreshes(),
        1,
        "the rotated pair was held, not refreshed again"
    );
    store.answer();
    stored(&store, 1).await;
    fake.assert_each_token_at_most_once(&[]);
}

/// A slow token endpoint: the caller's deadline passes while the refresh is under way; the
/// refresh goes on, the store gets its pair, and the next call uses it without a second
/// refresh. Also after a 401 (the replay waits for the refresh within the same deadline).
#[tokio::test]
async fn a_slow_token_endpoint_ends_the_call_at_its_deadline() {
    for (how, t, options) in both_ways(Duration::from_secs(1)) {
        let fake = RotatingVandar::start().await;
        fake.then(RefreshMode::Delay(Duration::from_secs(2)));
        let store = Switch::new(MemoryTokenStore::new(expired_pair()), false, &[]);
        let b = stored_pair(&fake.server.uri(), &store, None, t, options);
        ends_at_its_deadline(how, &b).await;
        assert_eq!(fake.server.count("/v3/business/shop/balance"), 0, "{how}");
        stored(&store, 1).await;
        let (result, _) = bounded(how, balance(&b)).await;
        result.unwrap_or_else(|e| panic!("{how}: {e}"));
        assert_eq!(fake.refreshes(), 1, "{how}");
    }
    // a 401 on a pair that looked valid, then a slow refresh
    let fake = RotatingVandar::builder()
        .first_pair("acc-elsewhere-SECRET", &refresh(0))
        .start()
        .await;
    fake.then(RefreshMode::Delay(Duration::from_secs(2)));
    let now = SystemTime::now();
    let store = Switch::new(
        MemoryTokenStore::new(TokenPair::issued_at(access(0), refresh(0), now)),
        false,
        &[],
    );
    let b = binding(
        token_config(&fake.server.uri()).token_store(store.clone()),
        Some(CallOptions::new().total_timeout(Duration::from_secs(1))),
    );
    let (result, _) = bounded("401, then a slow refresh", balance(&b)).await;
    // The call was sent and answered 401: the error says so, and why no new token came.
    match result {
        Err(vandar_runtime::Error::Unauthorized {
            refresh: AuthError::RefreshTimeout,
            ..
        }) => {}
        other => {
            panic!("401, then a slow refresh: expected Unauthorized(RefreshTimeout), got {other:?}")
        }
    }
    assert_eq!(fake.unauthorized(), 1);
    stored(&store, 1).await;
    balance(&b).await.unwrap();
    assert_eq!(fake.refreshes(), 1);
}

/// A client's bearer source that never answers.
struct Silent;

impl BearerSource for Silent {
    fn bearer<'a>(&'a self, _: Option<&'a str>) -> BearerFuture<'a> {
        Box::pin(std::future::pending())
    }

    fn identity(&self) -> String {
        "silent".into()
    }
}

#[tokio::test]
async fn a_bearer_source_that_never_answers_ends_the_call_at_its_deadline() {
    let server = FaultServer::start(|_| Reply::json(200, json!({"status": 1}))).await;
    for (how, t, options) in both_ways(Duration::from_secs(1)) {
        let b = binding(token_config(&server.uri()).timeouts(t), options)
            .with_bearer_source(Arc::new(Silent));
        ends_at_its_deadline(how, &b).await;
    }
    assert!(server.requests().is_empty(), "nothing was sent");
}
