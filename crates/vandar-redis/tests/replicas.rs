//! Several OS processes (this test binary re-running itself as `child`) sharing one Redis and
//! one local fake Vandar ([`FaultServer`] in the parent): one refresh for all through a sealed
//! `RedisTokenStore`, the POST budget summed over all, and Redis stopped mid-run. (The token
//! protocol's fault scenarios, with killed, paused and skewed replicas and a flushed or
//! restarted Redis, are in `scenarios.rs`.)
//!
//! The tests run one at a time (they measure real time).

mod common;

use common::fake::account;
use common::procs;

use std::time::Duration;

use serde_json::{Value, json};
use vandar_redis::{RedisConnection, RedisRateLimiter, RedisTokenStore, SealingKey};
use vandar_runtime::test_util::{
    FaultServer, RecordedRequest, Reply, call_json as call, max_in_window,
};
use vandar_runtime::token::{Phase, Swap, TokenRecord, TokenStore, fresh_revision};
use vandar_runtime::{Binding, Config, RetryPolicy, Route, Runtime, Timeouts, TokenPair};

static ROUTES: &[Route] = &[
    common::fake::GET_BALANCE,
    Route {
        operation_id: "store_settlement",
        method: "POST",
        host: "https://api.vandar.io",
        path: "/v3/business/shop/settlement/store",
        segments: &[
            vandar_runtime::Segment::Lit("v3"),
            vandar_runtime::Segment::Lit("business"),
            vandar_runtime::Segment::Lit("shop"),
            vandar_runtime::Segment::Lit("settlement"),
            vandar_runtime::Segment::Lit("store"),
        ],
        auth: vandar_runtime::Auth::Bearer("bearer"),
        api_key_field: None,
        idempotent: false,
        checks: &[],
    },
];

const SETTLE: &str = "/v3/business/shop/settlement/store";
const NEW_ACCESS: &str = "acc-NEW-SECRET";
const NEW_REFRESH: &str = "ref-NEW-SECRET";
const OLD_ACCESS: &str = "acc-OLD-SECRET";
const OLD_REFRESH: &str = "ref-OLD-SECRET";
const NS: &str = "shop";

/// The multi-process tests measure real time: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The fake Vandar: rotates `OLD_REFRESH` into the new pair once (after 300 ms; a refresh
/// token sent again is refused), answers calls that carry the new access token, 401
/// otherwise.
async fn fake_vandar() -> FaultServer {
    let spent = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    FaultServer::start(move |req: &RecordedRequest| {
        if req.path_only() == vandar_runtime::REFRESH_PATH {
            let sent = req.json().and_then(|b| b["refreshtoken"].as_str().map(str::to_owned));
            let first = !spent.swap(true, std::sync::atomic::Ordering::SeqCst);
            return if sent.as_deref() == Some(OLD_REFRESH) && first {
                Reply::json(
                    200,
                    json!({"access_token": NEW_ACCESS, "refresh_token": NEW_REFRESH, "expires_in": 432000}),
                )
                .after(Duration::from_millis(300))
            } else {
                Reply::json(401, json!({"status": 0, "error": "invalid refresh token"}))
            };
        }
        if req.header("authorization") == Some(&format!("Bearer {NEW_ACCESS}")) {
            Reply::json(200, json!({"status": 1, "data": {"ok": true}}))
        } else {
            Reply::json(401, json!({"status": 0, "error": "Unauthenticated"}))
        }
    })
    .await
}

/// The environment of child `i`.
fn child_env(i: usize, redis_url: &str, server: &str) -> Vec<(&'static str, String)> {
    vec![
        ("VANDAR_REDIS_TEST_REDIS", redis_url.to_owned()),
        ("VANDAR_REDIS_TEST_SERVER", server.to_owned()),
        ("VANDAR_REDIS_TEST_ID", i.to_string()),
    ]
}

/// Start `n` children with a role and collect their results (each within 40 s).
async fn run_children(n: usize, role: &str, redis_url: &str, server: &str) -> Vec<Value> {
    let children = (0..n)
        .map(|i| procs::spawn(role, &child_env(i, redis_url, server)))
        .collect();
    procs::results(children, Duration::from_secs(40)).await
}

// ------------------------------------------------------------------------------- children

fn sealing_key() -> SealingKey {
    SealingKey::new("test", [3; 32]).unwrap()
}

/// A runtime of a child: the shared limiter, and either the new access token (no store) or
/// the expired old pair seeded into the shared, sealed token store.
fn child_binding(ua: &str, total: Duration, shared_pair: bool) -> Binding {
    let redis = std::env::var("VANDAR_REDIS_TEST_REDIS").unwrap();
    let server = std::env::var("VANDAR_REDIS_TEST_SERVER").unwrap();
    let conn = RedisConnection::open(&redis).unwrap();
    let limiter = RedisRateLimiter::new(conn.clone(), NS, &account()).unwrap();
    let builder = if shared_pair {
        let now = std::time::SystemTime::now();
        let expired = TokenPair::new(
            OLD_ACCESS,
            OLD_REFRESH,
            now - Duration::from_secs(60),
            now + Duration::from_secs(5 * 86_400),
        );
        let store = RedisTokenStore::new(conn, NS, &account())
            .unwrap()
            .with_sealing_key(sealing_key());
        Config::builder().token_pair(expired).token_store(store)
    } else {
        Config::builder().access_token(NEW_ACCESS)
    };
    let runtime = Runtime::new(
        builder
            .all_hosts(&server)
            .user_agent(ua)
            .retry(RetryPolicy::none())
            .timeouts(
                Timeouts::default()
                    .with_per_attempt(total)
                    .with_total(total),
            )
            .shared_rate_limiter(limiter)
            .build()
            .unwrap(),
    )
    .unwrap();
    Binding::new(runtime, ROUTES, &[])
}

/// Not a test: the body of the child processes the tests below start. Without their
/// environment it does nothing.
#[test]
#[ignore = "a child process of the multi-process tests; they start it"]
fn child() {
    procs::run_child(|role| async move {
        let id: usize = std::env::var("VANDAR_REDIS_TEST_ID")
            .unwrap()
            .parse()
            .unwrap();
        let ua = format!("replica-{id}");
        match role.as_str() {
            // 50 concurrent GETs with the expired pair in the shared store
            "refresh" => {
                let b = child_binding(&ua, Duration::from_secs(20), true);
                let tasks: Vec<_> = (0..50)
                    .map(|_| {
                        let b = b.clone();
                        tokio::spawn(async move { call(&b, "get_balance", None).await })
                    })
                    .collect();
                let mut errors = Vec::new();
                for t in tasks {
                    if let Err(e) = t.await.unwrap() {
                        errors.push(e.to_string());
                    }
                }
                json!({"ok": 50 - errors.len(), "errors": errors})
            }
            // 20 POSTs (or $VANDAR_REDIS_TEST_POSTS), 10 at a time
            "post" => {
                let per_task: usize = std::env::var("VANDAR_REDIS_TEST_POSTS")
                    .ok()
                    .and_then(|n| n.parse().ok())
                    .map_or(2, |n: usize| n.div_ceil(10));
                let b = child_binding(&ua, Duration::from_secs(40), false);
                let tasks: Vec<_> = (0..10)
                    .map(|t| {
                        let b = b.clone();
                        tokio::spawn(async move {
                            let mut errors = Vec::new();
                            for k in 0..per_task {
                                let body = json!({"track_id": format!("{id}-{t}-{k}")});
                                if let Err(e) = call(&b, "store_settlement", Some(body)).await {
                                    errors.push(e.to_string());
                                }
                            }
                            errors
                        })
                    })
                    .collect();
                let mut errors = Vec::new();
                for t in tasks {
                    errors.extend(t.await.unwrap());
                }
                json!({"ok": 10 * per_task - errors.len(), "errors": errors})
            }
            other => panic!("unknown role {other}"),
        }
    });
}

// ---------------------------------------------------------------------------------- tests

/// 4 processes x 50 concurrent callers, each configured with the same expired pair and one
/// sealed Redis store: exactly one refresh in total; every call succeeds with the new token;
/// Redis holds the rotated pair, sealed, one generation up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_refresh_once_through_a_sealed_store() {
    let _serial = SERIAL.lock().await;
    let redis = redis_or_skip!();
    let server = fake_vandar().await;
    let results = run_children(4, "refresh", &redis.url(), &server.uri()).await;
    for r in &results {
        assert_eq!(r["ok"], 50, "{r}");
    }
    assert_eq!(
        server.count(vandar_runtime::REFRESH_PATH),
        1,
        "exactly one refresh in total"
    );
    let gets: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path_only() != vandar_runtime::REFRESH_PATH)
        .collect();
    assert_eq!(
        gets.len(),
        200,
        "each call sent once, none with the old token"
    );
    assert!(
        gets.iter()
            .all(|r| r.header("authorization") == Some(&format!("Bearer {NEW_ACCESS}")))
    );
    let store = RedisTokenStore::new(RedisConnection::open(&redis.url()).unwrap(), NS, &account())
        .unwrap()
        .with_sealing_key(sealing_key());
    let stored = store.load().await.unwrap().record.unwrap();
    assert_eq!(stored.pair.refresh_token.expose(), NEW_REFRESH);
    assert_eq!(
        stored.generation,
        vandar_runtime::token::SEED_GENERATION + 1
    );
}

/// 4 processes firing POSTs as fast as the shared limiter lets them: the server never sees
/// more than 30 in any 3 s window, and the budget is used (no 429, nothing refused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_share_the_post_budget() {
    let _serial = SERIAL.lock().await;
    let redis = redis_or_skip!();
    let server = fake_vandar().await;
    let results = run_children(4, "post", &redis.url(), &server.uri()).await;
    for r in &results {
        assert_eq!(r["ok"], 20, "{r}");
    }
    let posts: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path_only() == SETTLE)
        .collect();
    assert_eq!(posts.len(), 80);
    let mut ids: Vec<_> = posts
        .iter()
        .map(|r| r.json().unwrap()["track_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 80, "every POST arrived once");
    let times: Vec<_> = posts.iter().map(|r| r.at).collect();
    let most = max_in_window(&times, Duration::from_secs(3));
    assert!(most <= 30, "{most} POSTs in one 3 s window");
    // the budget is used: ~9.1 per second sustained (GCRA, burst 1, margin 3/16 s)
    let span = (*times.iter().max().unwrap() - *times.iter().min().unwrap()).as_secs_f64();
    let rate = (posts.len() - 1) as f64 / span;
    eprintln!(
        "POST rate across 4 processes: {rate:.2}/s ({:.1} % of 10/s), most in 3 s: {most}",
        rate * 10.0
    );
    assert!(rate >= 8.0, "{rate:.2} POST/s");
}

/// Redis stops mid-run: POSTs keep going (the local limiter takes over, with the limits
/// divided by the replicas last counted), each sent once, none refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopping_mid_run_falls_back_and_sends_nothing_twice() {
    let _serial = SERIAL.lock().await;
    let mut redis = redis_or_skip!();
    let server = fake_vandar().await;
    let conn = RedisConnection::open(&redis.url()).unwrap();
    let limiter = RedisRateLimiter::new(conn, NS, &account())
        .unwrap()
        .with_replicas(2);
    let b = Binding::new(
        Runtime::new(
            Config::builder()
                .all_hosts(&server.uri())
                .retry(RetryPolicy::none())
                .access_token(NEW_ACCESS)
                .shared_rate_limiter(limiter)
                .build()
                .unwrap(),
        )
        .unwrap(),
        ROUTES,
        &[],
    );
    let post = |tag: String| {
        let b = b.clone();
        async move { call(&b, "store_settlement", Some(json!({"track_id": tag}))).await }
    };
    for i in 0..5 {
        post(format!("up-{i}")).await.unwrap();
    }
    redis.stop();
    // the local limiter (30 / 2 replicas) takes over
    for i in 0..5 {
        let err = post(format!("down-{i}")).await;
        assert!(err.is_ok(), "{err:?}");
    }
    let mut ids: Vec<_> = server
        .requests()
        .iter()
        .filter(|r| r.path_only() == SETTLE)
        .map(|r| r.json().unwrap()["track_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 10);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10, "nothing sent twice");
}

// ------------------------------------------------------------------------------ benchmarks

/// A slot under limits nobody reaches.
fn bench_slot() -> vandar_runtime::SlotRequest {
    vandar_runtime::SlotRequest {
        key: vandar_runtime::LimiterKey::token_pair(),
        class: vandar_runtime::MethodClass::Other,
        limit: vandar_runtime::RateLimit::new(1_000_000, Duration::from_secs(3)),
        max_wait: Duration::from_secs(1),
    }
}

fn report_round_trip(what: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "BENCH {what}: p50 {:?} p99 {:?} (n={})",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.len()
    );
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Benchmark (`benches/scripts/redis.sh`): the latency the Redis limiter adds to a call on
/// loopback, against the local limiter (limits high enough that nobody waits).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with benches/scripts/redis.sh"]
async fn bench_added_latency() {
    let _serial = SERIAL.lock().await;
    let redis = redis_or_skip!();
    let server = fake_vandar().await;
    let n = 2000;
    let high = vandar_runtime::RateLimits {
        post: Some(vandar_runtime::RateLimit::new(
            1_000_000,
            Duration::from_secs(3),
        )),
        other: Some(vandar_runtime::RateLimit::new(
            1_000_000,
            Duration::from_secs(3),
        )),
    };
    let mut report = Vec::new();
    for shared in [false, true] {
        let conn = RedisConnection::open(&redis.url()).unwrap();
        let mut builder = Config::builder()
            .all_hosts(&server.uri())
            .retry(RetryPolicy::none())
            .rate_limits(high)
            .access_token(NEW_ACCESS);
        if shared {
            builder = builder
                .shared_rate_limiter(RedisRateLimiter::new(conn.clone(), NS, &account()).unwrap());
        }
        let b = Binding::new(Runtime::new(builder.build().unwrap()).unwrap(), ROUTES, &[]);
        for _ in 0..100 {
            call(&b, "get_balance", None).await.unwrap();
        }
        let mut lat = Vec::with_capacity(n);
        for _ in 0..n {
            let t = std::time::Instant::now();
            call(&b, "get_balance", None).await.unwrap();
            lat.push(t.elapsed());
        }
        lat.sort();
        let mean = lat.iter().sum::<Duration>() / n as u32;
        report.push((shared, mean, percentile(&lat, 0.5), percentile(&lat, 0.99)));
        // the limiter's own round trip
        if shared {
            let l = RedisRateLimiter::new(conn.clone(), "bench", &account()).unwrap();
            let mut rt = Vec::with_capacity(n);
            for _ in 0..n {
                let t = std::time::Instant::now();
                l.reserve(bench_slot()).await.unwrap();
                rt.push(t.elapsed());
            }
            report_round_trip("gcra script round trip", rt);
            // the token store's round trips (sealed: the AEAD is included)
            let store = RedisTokenStore::new(conn.clone(), "bench", &account())
                .unwrap()
                .with_sealing_key(SealingKey::new("bench", [9; 32]).unwrap());
            let mut record = TokenRecord::seed(TokenPair::issued_at(
                "acc-BENCH",
                "ref-BENCH",
                std::time::SystemTime::now(),
            ));
            store.swap(None, &record).await.unwrap();
            let (mut loads, mut swaps) = (Vec::with_capacity(n), Vec::with_capacity(n));
            for _ in 0..n {
                let t = std::time::Instant::now();
                store.load().await.unwrap();
                loads.push(t.elapsed());
                let next = record.with_phase(Phase::Ready, fresh_revision());
                let t = std::time::Instant::now();
                let done = store.swap(Some(record.revision), &next).await.unwrap();
                swaps.push(t.elapsed());
                assert!(matches!(done, Swap::Done { .. }));
                record = next;
            }
            report_round_trip("token store load (sealed)", loads);
            report_round_trip("token store swap (sealed)", swaps);
            // the GCRA script over rediss:// (rustls), after the handshake
            if let Some((_tls, port, ca)) = common::tls_server() {
                let conn = RedisConnection::builder()
                    .url(&format!("rediss://127.0.0.1:{port}/"))
                    .root_certificate(ca)
                    .open()
                    .unwrap();
                let l = RedisRateLimiter::new(conn, "bench", &account()).unwrap();
                let mut rt = Vec::with_capacity(n);
                for i in 0..n + 100 {
                    let t = std::time::Instant::now();
                    l.reserve(bench_slot()).await.unwrap();
                    if i >= 100 {
                        rt.push(t.elapsed());
                    }
                }
                report_round_trip("gcra script round trip over TLS", rt);
            }
        }
    }
    for (shared, mean, p50, p99) in &report {
        let which = if *shared {
            "redis limiter"
        } else {
            "local limiter"
        };
        println!("BENCH call latency, {which}: mean {mean:?} p50 {p50:?} p99 {p99:?} (n={n})");
    }
    let added = report[1].2.saturating_sub(report[0].2);
    println!("BENCH added latency per call (p50): {added:?}");
}

/// Benchmark: utilisation of the POST limit by 4 processes sharing the Redis limiter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with benches/scripts/redis.sh"]
async fn bench_utilisation() {
    let _serial = SERIAL.lock().await;
    let redis = redis_or_skip!();
    let server = fake_vandar().await;
    let per_child = 40;
    let children = (0..4)
        .map(|i| {
            let mut env = child_env(i, &redis.url(), &server.uri());
            env.push(("VANDAR_REDIS_TEST_POSTS", per_child.to_string()));
            procs::spawn("post", &env)
        })
        .collect();
    let results = procs::results(children, Duration::from_secs(60)).await;
    let failed: usize = results
        .iter()
        .map(|r| r["errors"].as_array().map_or(0, Vec::len))
        .sum();
    let mut times: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path_only() == SETTLE)
        .map(|r| r.at)
        .collect();
    times.sort();
    let w = Duration::from_secs(3);
    let most = max_in_window(&times, w);
    let span = (*times.last().unwrap() - times[0]).as_secs_f64();
    let rate = (times.len() - 1) as f64 / span;
    // full 3 s windows starting at each arrival and ending inside the run
    let last = *times.last().unwrap();
    let windows: Vec<usize> = times
        .iter()
        .filter(|t| **t + w <= last)
        .map(|t| times.iter().filter(|u| **u >= *t && **u < *t + w).count())
        .collect();
    let mean_window = windows.iter().sum::<usize>() as f64 / windows.len().max(1) as f64;
    println!(
        "BENCH 4 processes, {} POSTs in {span:.2} s: {rate:.2}/s = {:.1} % of 30/3 s; mean per full 3 s window {mean_window:.1} ({:.1} %); max in any 3 s window {most}; rejected/failed {failed}",
        times.len(),
        rate * 10.0,
        mean_window / 30.0 * 100.0
    );
    assert!(most <= 30);
    assert_eq!(failed, 0);
}
