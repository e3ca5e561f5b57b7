//! Regression tests of the token lifecycle from the adversarial review r9 (rev-b), one
//! section per finding. Only servers on 127.0.0.1 that the tests start.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use vandar_runtime::test_util::{FaultServer, RefreshMode, Reply, RotatingVandar, access, refresh};
use vandar_runtime::{
    AuthError, Binding, Config, ConfigBuilder, Error, MemoryTokenStore, RateLimits, RetryPolicy,
    Route, Runtime, Segment, Snapshot, StoreFuture, Swap, Timeouts, TokenPair, TokenRecord,
    TokenStore,
};

static SAFE: Route = Route {
    operation_id: "adv_get_balance",
    method: "GET",
    host: "https://api.vandar.io",
    path: "/v3/business/shop/balance",
    segments: &[
        Segment::Lit("v3"),
        Segment::Lit("business"),
        Segment::Lit("shop"),
        Segment::Lit("balance"),
    ],
    auth: vandar_runtime::Auth::Bearer("bearer"),
    api_key_field: None,
    idempotent: true,
    checks: &[],
};

static ROUTES: &[Route] = &[SAFE];
const ACCESS: &str = "adv-access-SECRET";
const REFRESH: &str = "adv-refresh-SECRET";

fn binding(config: ConfigBuilder) -> Binding {
    Binding::new(Runtime::new(config.build().unwrap()).unwrap(), ROUTES, &[])
}

fn base(uri: &str) -> ConfigBuilder {
    Config::builder()
        .all_hosts(uri)
        .rate_limits(RateLimits::unlimited())
}

async fn safe(b: &Binding) -> Result<Value, Error> {
    vandar_runtime::test_util::call_json(b, SAFE.operation_id, None).await
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
                    .with_total(Duration::from_millis(400))
                    .with_per_attempt(Duration::from_millis(500)),
            )
            .token_pair(expired_pair(&access(0), &refresh(0))),
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
        "the late refresh answer made the call time out"
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
        // The send deadline of A's refresh (per attempt + 2 s) passes within 3 s; then the
        // replica, which recorded that it sent, treats the token as spent.
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
