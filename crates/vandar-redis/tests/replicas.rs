//! Several OS processes (this test binary re-running itself as `child`) sharing one Redis and
//! one local fake Vandar ([`FaultServer`] in the parent): one refresh for all, the POST budget
//! summed over all, a lease holder killed mid-refresh, and Redis stopped mid-run.
//!
//! The tests run one at a time (they measure real time).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use vandar_redis::{RedisConnection, RedisRateLimiter, RedisTokenStore};
use vandar_runtime::test_util::{FaultServer, RecordedRequest, Reply, max_in_window};
use vandar_runtime::{
    AuthError, Binding, Clock, Config, Error, RetryPolicy, Route, Runtime, Timeouts, TokenPair,
};

static ROUTES: &[Route] = &[
    Route {
        operation_id: "get_balance",
        method: "GET",
        host: "https://api.vandar.io",
        path: "/v3/business/shop/balance",
        segments: &[
            vandar_runtime::Segment::Lit("v3"),
            vandar_runtime::Segment::Lit("business"),
            vandar_runtime::Segment::Lit("shop"),
            vandar_runtime::Segment::Lit("balance"),
        ],
        auth: vandar_runtime::Auth::Bearer("bearer"),
        api_key_field: None,
        idempotent: true,
        checks: &[],
    },
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

const BALANCE: &str = "/v3/business/shop/balance";
const SETTLE: &str = "/v3/business/shop/settlement/store";
const REFRESH: &str = "/v3/refreshtoken";
const OLD_ACCESS: &str = "acc-OLD-SECRET";
const OLD_REFRESH: &str = "ref-OLD-SECRET";
const NEW_ACCESS: &str = "acc-NEW-SECRET";
const NEW_REFRESH: &str = "ref-NEW-SECRET";
const NS: &str = "shop";

/// The multi-process tests measure real time: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The fake Vandar: refreshes `OLD_REFRESH` into the new pair (after `refresh_delay`; the
/// first refresh stalls when `stall_first`), answers calls that carry a current access token,
/// 401 otherwise.
async fn fake_vandar(refresh_delay: Duration, stall_first: bool) -> FaultServer {
    let refreshes = Arc::new(Mutex::new(0usize));
    FaultServer::start(move |req: &RecordedRequest| {
        let auth = req.header("authorization").unwrap_or("").to_owned();
        match req.path_only() {
            REFRESH => {
                let mut n = refreshes.lock().unwrap();
                *n += 1;
                if stall_first && *n == 1 {
                    return Reply::Stall;
                }
                let sent = req.json().and_then(|b| b["refreshtoken"].as_str().map(str::to_owned));
                if sent.as_deref() == Some(OLD_REFRESH) {
                    Reply::json(
                        200,
                        json!({"access_token": NEW_ACCESS, "refresh_token": NEW_REFRESH, "expires_in": 432000}),
                    )
                    .after(refresh_delay)
                } else {
                    Reply::json(401, json!({"status": 0, "error": "invalid refresh token"}))
                }
            }
            _ if auth == format!("Bearer {NEW_ACCESS}") => {
                Reply::json(200, json!({"status": 1, "data": {"ok": true}}))
            }
            _ if auth == format!("Bearer {OLD_ACCESS}") && !stall_first && refresh_delay.is_zero() => {
                Reply::json(200, json!({"status": 1, "data": {"ok": true}}))
            }
            _ => Reply::json(401, json!({"status": 0, "error": "Unauthenticated"})),
        }
    })
    .await
}

fn pair(access: &str, refresh: &str, access_in: Duration, expired: bool) -> TokenPair {
    let now = SystemTime::now();
    let access_at = if expired {
        now - Duration::from_secs(60)
    } else {
        now + access_in
    };
    TokenPair::new(
        access,
        refresh,
        access_at,
        now + Duration::from_secs(5 * 86_400),
    )
}

async fn seed(redis_url: &str, pair: &TokenPair) {
    let store = RedisTokenStore::new(RedisConnection::open(redis_url).unwrap(), NS).unwrap();
    store.put(pair).await.unwrap();
}

/// Start `n` children with a role; they print `RESULT <json>` lines.
fn spawn_children(n: usize, role: &str, redis_url: &str, server: &str) -> Vec<Child> {
    (0..n)
        .map(|i| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "child",
                    "--include-ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("VANDAR_REDIS_TEST_ROLE", role)
                .env("VANDAR_REDIS_TEST_REDIS", redis_url)
                .env("VANDAR_REDIS_TEST_SERVER", server)
                .env("VANDAR_REDIS_TEST_ID", i.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("the test binary runs")
        })
        .collect()
}

/// Wait for a child (bounded) and return its `RESULT` json.
fn result_of(mut child: Child, limit: Duration) -> Value {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut found = None;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // libtest may print `test child ... ` on the same line first
            if let Some(at) = line.find("RESULT ") {
                found = serde_json::from_str::<Value>(&line[at + 7..]).ok();
            }
        }
        let _ = tx.send(found);
    });
    let got = rx.recv_timeout(limit);
    let _ = child.kill();
    let _ = child.wait();
    got.ok()
        .flatten()
        .expect("the child reported a result in time")
}

// ------------------------------------------------------------------------------- children

fn child_runtime(ua: &str, total: Duration) -> Runtime {
    let redis = std::env::var("VANDAR_REDIS_TEST_REDIS").unwrap();
    let server = std::env::var("VANDAR_REDIS_TEST_SERVER").unwrap();
    let conn = RedisConnection::open(&redis).unwrap();
    let store = RedisTokenStore::new(conn.clone(), NS).unwrap();
    let limiter = RedisRateLimiter::new(conn, NS).unwrap().with_replicas(4);
    Runtime::new(
        Config::builder()
            .all_hosts(&server)
            .user_agent(ua)
            .retry(RetryPolicy::none())
            .timeouts(
                Timeouts::default()
                    .with_per_attempt(total)
                    .with_total(total),
            )
            .token_store(store)
            .shared_rate_limiter(limiter)
            .build()
            .unwrap(),
    )
    .unwrap()
}

async fn call(b: &Binding, op: &'static str, body: Option<Value>) -> Result<Value, Error> {
    let route = b.route(op).unwrap();
    let mut builder = b
        .runtime()
        .http_client()
        .request(route.method.parse().unwrap(), b.url(route, &[])?);
    let body = body
        .map(|body| vandar_runtime::CheckedBody::new(route, &body))
        .transpose()?;
    if let Some(body) = &body {
        builder = builder.json(body);
    }
    let request = builder.build().map_err(Error::from_build)?;
    b.call::<Value>(request, route, body)
        .await
        .map(|a| a.into_body())
}

/// Not a test: the body of the child processes the tests below start. Without their
/// environment it does nothing.
#[test]
#[ignore = "a child process of the multi-process tests; they start it"]
fn child() {
    let Ok(role) = std::env::var("VANDAR_REDIS_TEST_ROLE") else {
        eprintln!("not started as a child process: nothing to do");
        return;
    };
    let id: usize = std::env::var("VANDAR_REDIS_TEST_ID")
        .unwrap()
        .parse()
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let result = rt.block_on(async move {
        let ua = format!("replica-{id}");
        match role.as_str() {
            // 50 concurrent GETs with the expired pair
            "refresh" => {
                let b = Binding::new(child_runtime(&ua, Duration::from_secs(20)), ROUTES, &[]);
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
                let b = Binding::new(child_runtime(&ua, Duration::from_secs(40)), ROUTES, &[]);
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
            // 5 callers retrying GETs until they succeed (at most 25 s)
            "survive" => {
                let b = Binding::new(child_runtime(&ua, Duration::from_secs(2)), ROUTES, &[]);
                let tasks: Vec<_> = (0..5)
                    .map(|_| {
                        let b = b.clone();
                        tokio::spawn(async move {
                            let started = tokio::time::Instant::now();
                            let mut failures = 0;
                            while started.elapsed() < Duration::from_secs(25) {
                                match call(&b, "get_balance", None).await {
                                    Ok(_) => return (true, failures),
                                    Err(_) => {
                                        failures += 1;
                                        tokio::time::sleep(Duration::from_millis(100)).await;
                                    }
                                }
                            }
                            (false, failures)
                        })
                    })
                    .collect();
                let mut ok = 0;
                let mut failures = 0;
                for t in tasks {
                    let (done, f) = t.await.unwrap();
                    ok += usize::from(done);
                    failures += f;
                }
                json!({"ok": ok, "failures": failures})
            }
            other => panic!("unknown role {other}"),
        }
    });
    println!("\nRESULT {result}");
}

// ---------------------------------------------------------------------------------- tests

/// 4 processes x 50 concurrent callers, one expired pair: exactly one refresh; every call
/// succeeds with the new token; the GETs of all processes together keep to 100 per 3 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_refresh_once() {
    let _serial = SERIAL.lock().await;
    let redis = redis_or_skip!();
    let server = fake_vandar(Duration::from_millis(300), false).await;
    seed(
        &redis.url(),
        &pair(OLD_ACCESS, OLD_REFRESH, Duration::ZERO, true),
    )
    .await;
    let children = spawn_children(4, "refresh", &redis.url(), &server.uri());
    let results: Vec<Value> = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| result_of(c, Duration::from_secs(40)))
            .collect()
    })
    .await
    .unwrap();
    for r in &results {
        assert_eq!(r["ok"], 50, "{r}");
    }
    assert_eq!(server.count(REFRESH), 1, "exactly one refresh in total");
    let gets: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path_only() == BALANCE)
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
    let times: Vec<_> = gets.iter().map(|r| r.at).collect();
    assert!(max_in_window(&times, Duration::from_secs(3)) <= 100);
    let stored = RedisTokenStore::new(RedisConnection::open(&redis.url()).unwrap(), NS)
        .unwrap()
        .get()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.refresh_token.expose(), NEW_REFRESH);
}

/// 4 processes firing POSTs as fast as the shared limiter lets them: the server never sees
/// more than 30 in any 3 s window, and the budget is used (no 429, nothing refused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_share_the_post_budget() {
    let _serial = SERIAL.lock().await;
    let redis = redis_or_skip!();
    let server = fake_vandar(Duration::ZERO, false).await;
    seed(
        &redis.url(),
        &pair(OLD_ACCESS, OLD_REFRESH, Duration::from_secs(86_400), false),
    )
    .await;
    let children = spawn_children(4, "post", &redis.url(), &server.uri());
    let results: Vec<Value> = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| result_of(c, Duration::from_secs(40)))
            .collect()
    })
    .await
    .unwrap();
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

/// The lease holder is killed while its refresh is in flight: after the lease expires
/// another process refreshes, and every caller gets through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_lease_holder_is_replaced_after_the_lease_expires() {
    let _serial = SERIAL.lock().await;
    let redis = redis_or_skip!();
    let server = fake_vandar(Duration::ZERO, true).await;
    seed(
        &redis.url(),
        &pair(OLD_ACCESS, OLD_REFRESH, Duration::ZERO, true),
    )
    .await;
    let mut children = spawn_children(3, "survive", &redis.url(), &server.uri());
    // wait for the (stalled) first refresh and kill whoever sent it
    let started = tokio::time::Instant::now();
    let first = loop {
        if let Some(r) = server
            .requests()
            .into_iter()
            .find(|r| r.path_only() == REFRESH)
        {
            break r;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no refresh was sent"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let holder: usize = first
        .header("user-agent")
        .and_then(|ua| ua.strip_prefix("replica-"))
        .and_then(|i| i.parse().ok())
        .expect("the refresh carries the replica's user agent");
    let mut killed = children.remove(holder);
    killed.kill().unwrap();
    killed.wait().unwrap();
    let results: Vec<Value> = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| result_of(c, Duration::from_secs(40)))
            .collect()
    })
    .await
    .unwrap();
    for r in &results {
        assert_eq!(r["ok"], 5, "{r}");
    }
    let refreshes: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path_only() == REFRESH)
        .collect();
    assert_eq!(refreshes.len(), 2, "the dead holder's and one more");
    assert_ne!(
        refreshes[1].header("user-agent"),
        first.header("user-agent")
    );
    // the lease lasts the total timeout (2 s) + 1 s slack from its grant
    let gap = refreshes[1].at - refreshes[0].at;
    assert!(
        gap >= Duration::from_millis(2_700) && gap <= Duration::from_secs(8),
        "{gap:?}"
    );
}

/// A wall clock the test moves.
#[derive(Clone)]
struct ManualClock(Arc<Mutex<SystemTime>>);

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

/// Redis stops mid-run: POSTs with a valid token keep going (the local limiter takes over),
/// each sent once; once the pair needs a refresh, calls fail with the store error and no
/// refresh is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopping_mid_run_fails_closed_and_sends_nothing_twice() {
    let _serial = SERIAL.lock().await;
    let mut redis = redis_or_skip!();
    let server = fake_vandar(Duration::ZERO, false).await;
    let now = SystemTime::now();
    let clock = ManualClock(Arc::new(Mutex::new(now)));
    let conn = RedisConnection::open(&redis.url()).unwrap();
    let store = RedisTokenStore::new(conn.clone(), NS).unwrap();
    store
        .put(&TokenPair::new(
            OLD_ACCESS,
            OLD_REFRESH,
            now + Duration::from_secs(2 * 3600),
            now + Duration::from_secs(5 * 86_400),
        ))
        .await
        .unwrap();
    let b = Binding::new(
        Runtime::new(
            Config::builder()
                .all_hosts(&server.uri())
                .retry(RetryPolicy::none())
                .clock(clock.clone())
                .token_store(store.clone())
                .shared_rate_limiter(RedisRateLimiter::new(conn, NS).unwrap().with_replicas(2))
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
    // a valid token keeps working; the local limiter (30 / 2 replicas) takes over
    for i in 0..5 {
        post(format!("down-{i}")).await.unwrap();
    }
    // within the refresh margin the token is still valid: still working, no refresh sent
    *clock.0.lock().unwrap() = now + Duration::from_secs(3600 + 60);
    post("due".into()).await.unwrap();
    // expired: the refresh fails closed with the typed store error; nothing is sent
    *clock.0.lock().unwrap() = now + Duration::from_secs(3 * 3600);
    for i in 0..3 {
        let err = post(format!("expired-{i}")).await.unwrap_err();
        match &err {
            Error::Auth(AuthError::Store { reason }) => assert!(
                reason.contains("redis is unavailable") || reason.contains("redis did not answer"),
                "{reason}"
            ),
            other => panic!("expected the store error, got {other:?}"),
        }
        assert!(!err.to_string().contains("SECRET"));
    }
    assert_eq!(server.count(REFRESH), 0, "no refresh without the lease");
    let mut ids: Vec<_> = server
        .requests()
        .iter()
        .filter(|r| r.path_only() == SETTLE)
        .map(|r| r.json().unwrap()["track_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 11);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 11, "nothing sent twice");
    assert!(!ids.iter().any(|i| i.starts_with("expired")));
}

// ------------------------------------------------------------------------------ benchmarks

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
    let server = fake_vandar(Duration::ZERO, false).await;
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
            builder = builder.shared_rate_limiter(RedisRateLimiter::new(conn.clone(), NS).unwrap());
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
            let l = RedisRateLimiter::new(conn, "bench").unwrap();
            let mut rt = Vec::with_capacity(n);
            for _ in 0..n {
                let t = std::time::Instant::now();
                let req = vandar_runtime::SlotRequest {
                    key: vandar_runtime::LimiterKey::token_pair(),
                    class: vandar_runtime::MethodClass::Other,
                    limit: vandar_runtime::RateLimit::new(1_000_000, Duration::from_secs(3)),
                    max_wait: Duration::from_secs(1),
                };
                l.reserve(req).await.unwrap();
                rt.push(t.elapsed());
            }
            rt.sort();
            println!(
                "BENCH gcra script round trip: p50 {:?} p99 {:?}",
                percentile(&rt, 0.5),
                percentile(&rt, 0.99)
            );
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
    let server = fake_vandar(Duration::ZERO, false).await;
    seed(
        &redis.url(),
        &pair(OLD_ACCESS, OLD_REFRESH, Duration::from_secs(86_400), false),
    )
    .await;
    let per_child = 40;
    let children: Vec<_> = (0..4)
        .map(|i| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "child",
                    "--include-ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("VANDAR_REDIS_TEST_ROLE", "post")
                .env("VANDAR_REDIS_TEST_POSTS", per_child.to_string())
                .env("VANDAR_REDIS_TEST_REDIS", redis.url())
                .env("VANDAR_REDIS_TEST_SERVER", server.uri())
                .env("VANDAR_REDIS_TEST_ID", i.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap()
        })
        .collect();
    let results: Vec<Value> = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| result_of(c, Duration::from_secs(60)))
            .collect()
    })
    .await
    .unwrap();
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

/// Redis stops while a refresh is in flight: the new pair (the only valid one now) is kept in
/// memory and used; the refresh is not sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopping_during_a_refresh_keeps_the_new_pair() {
    let _serial = SERIAL.lock().await;
    let mut redis = redis_or_skip!();
    let server = fake_vandar(Duration::from_millis(800), false).await;
    seed(
        &redis.url(),
        &pair(OLD_ACCESS, OLD_REFRESH, Duration::ZERO, true),
    )
    .await;
    let conn = RedisConnection::open(&redis.url()).unwrap();
    let b = Binding::new(
        Runtime::new(
            Config::builder()
                .all_hosts(&server.uri())
                .retry(RetryPolicy::none())
                .token_store(RedisTokenStore::new(conn, NS).unwrap())
                .build()
                .unwrap(),
        )
        .unwrap(),
        ROUTES,
        &[],
    );
    let first = {
        let b = b.clone();
        tokio::spawn(async move { call(&b, "get_balance", None).await })
    };
    let started = tokio::time::Instant::now();
    while server.count(REFRESH) == 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "no refresh");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    redis.stop();
    first.await.unwrap().unwrap();
    for _ in 0..5 {
        call(&b, "get_balance", None).await.unwrap();
    }
    assert_eq!(server.count(REFRESH), 1, "the refresh is not sent again");
    let gets: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path_only() == BALANCE)
        .collect();
    assert_eq!(gets.len(), 6);
    assert!(
        gets.iter()
            .all(|r| r.header("authorization") == Some(&format!("Bearer {NEW_ACCESS}")))
    );
}
