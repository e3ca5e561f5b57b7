//! Regression tests of the token lifecycle from the adversarial review r9 (rev-b), one
//! section per finding. Only servers on 127.0.0.1 that the tests start.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tokio::time::Instant;
use vandar_runtime::test_util::{
    BEARER_GET, BEARER_ROUTES, FaultServer, RefreshMode, Reply, RotatingVandar, access, refresh,
};
use vandar_runtime::{
    AuthError, Binding, Config, ConfigBuilder, Error, MemoryTokenStore, RateLimits, RetryPolicy,
    Runtime, Snapshot, StoreFuture, Swap, Timeouts, TokenPair, TokenRecord, TokenStore,
};

const ACCESS: &str = "adv-access-SECRET";
const REFRESH: &str = "adv-refresh-SECRET";

fn binding(config: ConfigBuilder) -> Binding {
    Binding::new(
        Runtime::new(config.build().unwrap()).unwrap(),
        BEARER_ROUTES,
        &[],
    )
}

fn base(uri: &str) -> ConfigBuilder {
    Config::builder()
        .all_hosts(uri)
        .rate_limits(RateLimits::unlimited())
}

async fn safe(b: &Binding) -> Result<Value, Error> {
    vandar_runtime::test_util::call_json(b, BEARER_GET.operation_id, None).await
}

/// Fail the test if `f` runs longer than `limit`; the result and how long it took.
async fn within<T>(what: &str, limit: Duration, f: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    match tokio::time::timeout(limit, f).await {
        Ok(v) => (v, started.elapsed()),
        Err(_) => panic!("{what}: still running after {limit:?}"),
    }
}

fn expired_pair(a: &str, r: &str) -> TokenPair {
    let now = SystemTime::now();
    TokenPair::new(
        a,
        r,
        now - Duration::from_secs(60),
        now + Duration::from_secs(86_400),
    )
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}
// =============================================================================================
// F1: no future or timer outlives the tokio runtime it was made on.

/// A slow token store (its first load takes 1.5 s). An application that makes a call on one
/// tokio runtime, gives up, drops that runtime, and calls again on another one (a shared
/// client in tests or per-request runtimes in sync code) must get an answer, not a panic or a
/// forever-stuck load. (Real runtimes and threads: the point is a runtime that is gone.)
#[test]
fn a_client_outlives_the_tokio_runtime_of_an_earlier_call() {
    struct Slow {
        inner: MemoryTokenStore,
        first: AtomicBool,
    }
    impl TokenStore for Slow {
        fn load(&self) -> StoreFuture<'_, Snapshot> {
            let slow = self.first.swap(false, Ordering::SeqCst);
            let f = self.inner.load();
            Box::pin(async move {
                if slow {
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                }
                f.await
            })
        }
        fn swap<'a>(&'a self, e: Option<u64>, r: &'a TokenRecord) -> StoreFuture<'a, Swap> {
            self.inner.swap(e, r)
        }
    }
    let rt_server = tokio::runtime::Runtime::new().unwrap();
    let server = rt_server.block_on(FaultServer::start(|_| {
        Reply::json(200, json!({"status": 1}))
    }));
    let uri = server.uri();
    let store = Slow {
        inner: MemoryTokenStore::new(TokenPair::issued_at(ACCESS, REFRESH, SystemTime::now())),
        first: AtomicBool::new(true),
    };
    let b = binding(
        base(&uri)
            .timeouts(Timeouts::default().with_total(Duration::from_millis(300)))
            .token_store(store),
    );
    let b1 = b.clone();
    let first = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let r = rt.block_on(safe(&b1));
        drop(rt);
        r.map(|_| ()).map_err(|e| e.to_string())
    })
    .join()
    .expect("the first runtime's call panicked");
    assert!(
        first.is_err(),
        "the slow store made the first call time out"
    );
    std::thread::sleep(Duration::from_millis(200));
    let b2 = b.clone();
    let second = std::thread::spawn(move || {
        use futures::FutureExt as _;
        let rt = tokio::runtime::Runtime::new().unwrap();
        let mut outcomes = Vec::new();
        for _ in 0..6 {
            let r = rt.block_on(std::panic::AssertUnwindSafe(safe(&b2)).catch_unwind());
            match r {
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(e)) => outcomes.push(format!("error: {e}")),
                Err(p) => outcomes.push(format!("PANIC: {}", panic_text(&*p))),
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        Err(outcomes)
    })
    .join();
    let second = second.map_err(|p| panic_text(&*p));
    assert!(
        matches!(second, Ok(Ok(()))),
        "a call on a second runtime after the first one was dropped: {second:?}"
    );
    drop(server);
    drop(rt_server);
}

/// The same for a refresh: it is sent on runtime A (the server spends the refresh token on
/// arrival and answers late), A is dropped while it waits. On runtime B nothing panics, the
/// spent refresh token is never sent again (the replica knows it may have sent it), the calls
/// end with "outcome unknown", and one install of a new pair brings the client back.
#[test]
fn a_refresh_cut_short_by_its_runtime_is_never_sent_again() {
    let rt_server = tokio::runtime::Runtime::new().unwrap();
    let fake = rt_server.block_on(RotatingVandar::start());
    fake.then(RefreshMode::Delay(Duration::from_secs(30)));
    let b = binding(
        base(&fake.server.uri())
            .retry(RetryPolicy::none())
            .timeouts(
                Timeouts::default()
                    // The call gives up (and runtime A goes) while the refresh waits for its
                    // answer (30 s away), well within its attempt; long enough to send under
                    // any load.
                    .with_total(Duration::from_millis(1500))
                    .with_per_attempt(Duration::from_secs(3)),
            )
            .token_pair(expired_pair(&access(0), &refresh(0))),
    );
    let b1 = b.clone();
    let first = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let r = rt.block_on(safe(&b1));
        drop(rt);
        r.map(|_| ())
    })
    .join()
    .expect("the first runtime's call panicked");
    assert!(
        matches!(first, Err(Error::Auth(AuthError::RefreshTimeout))),
        "the late refresh answer made the call time out: {first:?}"
    );
    assert_eq!(
        fake.sent(&refresh(0)),
        1,
        "the refresh was sent on runtime A"
    );
    let b2 = b.clone();
    let second = std::thread::spawn(move || {
        use futures::FutureExt as _;
        let rt = tokio::runtime::Runtime::new().unwrap();
        let mut outcomes = Vec::new();
        // Until the send deadline of A's refresh (per attempt + 2 s) passes, calls wait for
        // it; then the replica, which recorded that it sent, treats the token as spent.
        for _ in 0..10 {
            let r = rt.block_on(std::panic::AssertUnwindSafe(safe(&b2)).catch_unwind());
            match r {
                Ok(Err(Error::Auth(AuthError::RefreshOutcomeUnknown { .. }))) => {
                    outcomes.push("outcome unknown".to_owned());
                    break;
                }
                Ok(r) => outcomes.push(format!("{:?}", r.map(|_| ()).map_err(|e| e.to_string()))),
                Err(p) => outcomes.push(format!("PANIC: {}", panic_text(&*p))),
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        // One install of a new pair recovers.
        let installed = rt.block_on(b2.runtime().set_token_pair(TokenPair::issued_at(
            access(1),
            refresh(1),
            SystemTime::now(),
        )));
        let after = rt
            .block_on(safe(&b2))
            .map(|_| ())
            .map_err(|e| e.to_string());
        (outcomes, installed.map_err(|e| e.to_string()), after)
    })
    .join()
    .map_err(|p| panic_text(&*p));
    let (outcomes, installed, after) = second.expect("runtime B panicked");
    assert!(
        outcomes.iter().all(|o| !o.starts_with("PANIC")),
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.last().map(String::as_str),
        Some("outcome unknown"),
        "{outcomes:?}"
    );
    assert!(
        outcomes.len() > 1,
        "runtime B first waited for A's send deadline: {outcomes:?}"
    );
    assert_eq!(installed, Ok(()));
    assert_eq!(after, Ok(()), "the installed pair is used");
    assert_eq!(
        fake.sent(&refresh(0)),
        1,
        "the spent refresh token was sent again"
    );
    assert_eq!(fake.refreshes(), 1);
    drop(fake);
    drop(rt_server);
}

// =============================================================================================
// F2: expiry is measured from when the refresh was sent, never from the server's `Date`.

/// A fake Vandar that rotates single-use refresh tokens and dates its refresh answers with a
/// given `Date` header (a broken clock, or a proxy that rewrites it).
async fn rotating_with_date(date: String) -> (FaultServer, Arc<Mutex<(u64, Vec<String>)>>) {
    let state = Arc::new(Mutex::new((0u64, Vec::<String>::new())));
    let st = state.clone();
    let server = FaultServer::start(move |req| {
        let mut s = st.lock().unwrap();
        if req.path_only() == "/v3/refreshtoken" {
            let sent = req.json().unwrap()["refreshtoken"]
                .as_str()
                .unwrap()
                .to_owned();
            s.1.push(sent.clone());
            if sent != refresh(s.0) {
                return Reply::json(401, json!({"status": 0, "error": "invalid refresh token"}));
            }
            s.0 += 1;
            let n = s.0;
            return Reply::json(
                200,
                json!({"token_type": "Bearer", "expires_in": 432_000,
                       "access_token": access(n), "refresh_token": refresh(n)}),
            )
            .with_header("date", &date);
        }
        if req.header("authorization") == Some(format!("Bearer {}", access(s.0)).as_str()) {
            Reply::json(200, json!({"status": 1}))
        } else {
            Reply::json(401, json!({"status": 0}))
        }
    })
    .await;
    (server, state)
}

/// One refresh answer with a wrong `Date` (a server whose clock is off, a proxy) must not turn
/// every later call into a refresh (each of which spends a refresh token), nor store the new
/// pair as expired (every replica would adopt it).
#[tokio::test(start_paused = true)]
async fn a_wrong_date_header_does_not_make_every_call_refresh() {
    for date in [
        "Sun, 06 Nov 1994 08:49:37 GMT".to_owned(),
        "Thu, 01 Jan 1970 00:00:00 GMT".to_owned(),
        // a week behind, and far ahead
        httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(7 * 86_400)),
        "Fri, 31 Dec 9999 23:59:59 GMT".to_owned(),
    ] {
        let (server, state) = rotating_with_date(date.clone()).await;
        let b = binding(
            base(&server.uri())
                .retry(RetryPolicy::none())
                .token_pair(expired_pair(&access(0), &refresh(0))),
        );
        let mut results = Vec::new();
        for _ in 0..3 {
            let (r, _) = within(&date, Duration::from_secs(10), safe(&b)).await;
            results.push(r.map(|_| ()).map_err(|e| e.to_string()));
        }
        let refreshes = state.lock().unwrap().1.len();
        assert!(
            refreshes <= 2 && results.iter().all(Result::is_ok),
            "Date: {date}: {refreshes} refreshes for 3 calls; results {results:?}"
        );
        // The pair is dated by the client: five days from about now.
        let pair = b.runtime().token_pair().await.unwrap().unwrap();
        let left = pair
            .access_expires_at
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        assert!(
            left > Duration::from_secs(432_000 - 600) && left <= Duration::from_secs(432_000),
            "Date: {date}: the access token expires in {left:?}"
        );
    }
}

// =============================================================================================
// F4: a task spawned by the SDK ends; dropping everything stops it.

/// A store that fails every operation once `down` is set, counting operations.
struct Flaky {
    inner: MemoryTokenStore,
    swaps: AtomicUsize,
    ops: AtomicUsize,
    fail_from_swap: usize,
    down: AtomicBool,
}

impl TokenStore for Flaky {
    fn load(&self) -> StoreFuture<'_, Snapshot> {
        self.ops.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Box::pin(async { Err(vandar_runtime::TokenStoreError::new("store down")) });
        }
        self.inner.load()
    }
    fn swap<'a>(&'a self, expected: Option<u64>, record: &'a TokenRecord) -> StoreFuture<'a, Swap> {
        self.ops.fetch_add(1, Ordering::SeqCst);
        let n = self.swaps.fetch_add(1, Ordering::SeqCst) + 1;
        if n >= self.fail_from_swap {
            self.down.store(true, Ordering::SeqCst);
        }
        if self.down.load(Ordering::SeqCst) {
            return Box::pin(async { Err(vandar_runtime::TokenStoreError::new("store down")) });
        }
        self.inner.swap(expected, record)
    }
}

/// The token store goes down right after a rotation (swap 3 is the rotated pair): the SDK keeps
/// the pair in memory and retries the write in the background. Once every client, runtime and
/// binding is dropped, that background task must stop; it must not hit the store forever.
#[tokio::test(start_paused = true)]
async fn background_settle_stops_when_everything_is_dropped() {
    let fake = RotatingVandar::start().await;
    let store = Arc::new(Flaky {
        inner: MemoryTokenStore::new(expired_pair(&access(0), &refresh(0))),
        swaps: AtomicUsize::new(0),
        ops: AtomicUsize::new(0),
        fail_from_swap: 3,
        down: AtomicBool::new(false),
    });
    {
        let b = binding(
            base(&fake.server.uri())
                .retry(RetryPolicy::none())
                .token_store(store.clone()),
        );
        safe(&b).await.unwrap();
        assert_eq!(fake.refreshes(), 1);
        // While the client lives, the rotated pair is still being written (and used).
        let before = store.ops.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(store.ops.load(Ordering::SeqCst) > before);
        safe(&b).await.unwrap();
        assert_eq!(fake.refreshes(), 1);
    }
    // every handle is gone
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = store.ops.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = store.ops.load(Ordering::SeqCst);
    assert_eq!(
        before,
        after,
        "the token store is still being called {} times in 3 s after the runtime was dropped",
        after - before
    );
}

/// While the client lives and the store stays down, the background write still ends (after
/// `SETTLE_GIVE_UP`, 5 minutes), and the store is asked at most about once a second.
#[tokio::test(start_paused = true)]
async fn background_settle_gives_up_after_a_while() {
    let fake = RotatingVandar::start().await;
    let store = Arc::new(Flaky {
        inner: MemoryTokenStore::new(expired_pair(&access(0), &refresh(0))),
        swaps: AtomicUsize::new(0),
        ops: AtomicUsize::new(0),
        fail_from_swap: 3,
        down: AtomicBool::new(false),
    });
    let b = binding(
        base(&fake.server.uri())
            .retry(RetryPolicy::none())
            .token_store(store.clone()),
    );
    safe(&b).await.unwrap();
    let start = store.ops.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(301)).await;
    let at_give_up = store.ops.load(Ordering::SeqCst);
    assert!(
        (150..=700).contains(&(at_give_up - start)),
        "{} store operations in 5 minutes",
        at_give_up - start
    );
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(
        store.ops.load(Ordering::SeqCst),
        at_give_up,
        "the background write goes on after 5 minutes"
    );
    drop(b);
}

// =============================================================================================
// F6: a runtime never adopts (or sends) another environment's pair.

/// Two runtimes share one store but talk to two environments (two servers). The second one
/// refuses the first one's pair with an error that names both, and sends nothing with it (nor
/// with its own configured pair: the store is not its own).
#[tokio::test(start_paused = true)]
async fn a_runtime_never_adopts_another_environments_pair() {
    let production = RotatingVandar::start().await;
    let sandbox = FaultServer::start(|_| Reply::json(200, json!({"status": 1}))).await;
    let store = Arc::new(MemoryTokenStore::empty());
    let prod = binding(
        base(&production.server.uri())
            .retry(RetryPolicy::none())
            .token_store(store.clone())
            .token_pair(expired_pair(&access(0), &refresh(0))),
    );
    safe(&prod).await.unwrap();
    assert_eq!(production.refreshes(), 1);
    // The record names the environment (the token endpoint's base URL, with its port).
    let prod_env = production.server.uri();
    assert_eq!(
        store.record().unwrap().environment.as_deref(),
        Some(prod_env.as_str())
    );

    let sbx = binding(
        base(&sandbox.uri())
            .retry(RetryPolicy::none())
            .token_store(store.clone())
            .token_pair(TokenPair::issued_at(
                "sbx-acc-SECRET",
                "sbx-ref-SECRET",
                SystemTime::now(),
            )),
    );
    for _ in 0..2 {
        let err = safe(&sbx).await.unwrap_err();
        let Error::Auth(AuthError::EnvironmentMismatch { stored, runtime }) = &err else {
            panic!("{err:?}");
        };
        assert_eq!(stored, &prod_env);
        assert_eq!(runtime, &sandbox.uri());
        let text = err.to_string();
        assert!(
            text.contains(&prod_env) && text.contains(&sandbox.uri()),
            "{text}"
        );
        assert!(!text.contains("SECRET"), "{text}");
    }
    assert!(
        sandbox.requests().is_empty(),
        "the sandbox server got a request"
    );
    // Installing a pair through the sandbox runtime does not overwrite production's.
    assert!(matches!(
        sbx.runtime()
            .set_token_pair(TokenPair::issued_at("x-acc", "x-ref", SystemTime::now()))
            .await,
        Err(Error::Auth(AuthError::EnvironmentMismatch { .. }))
    ));
    assert_eq!(
        store.record().unwrap().pair.access_token.expose(),
        access(1)
    );
    // Production is unaffected.
    safe(&prod).await.unwrap();
    assert_eq!(production.refreshes(), 1);
}

/// A record written before records named their environment is adopted, and named by the
/// first write.
#[tokio::test(start_paused = true)]
async fn a_record_without_an_environment_is_adopted_and_named() {
    let fake = RotatingVandar::start().await;
    let store = Arc::new(MemoryTokenStore::new(expired_pair(&access(0), &refresh(0))));
    assert_eq!(store.record().unwrap().environment, None);
    let b = binding(
        base(&fake.server.uri())
            .retry(RetryPolicy::none())
            .token_store(store.clone()),
    );
    safe(&b).await.unwrap();
    assert_eq!(fake.refreshes(), 1);
    let stored = store.record().unwrap();
    assert_eq!(stored.pair.access_token.expose(), access(1));
    assert_eq!(
        stored.environment.as_deref(),
        Some(fake.server.uri().as_str())
    );
}
