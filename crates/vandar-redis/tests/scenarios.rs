//! The token protocol's fault scenarios (issue 21) with real processes: this test binary
//! re-runs itself as replicas (`child`), all sharing one real `redis-server` (a sealed
//! `RedisTokenStore`) and one fake Vandar in the parent that rotates single-use refresh
//! tokens ([`common::fake`]). Replicas are killed (SIGKILL), paused (SIGSTOP), and Redis is
//! emptied (FLUSHALL) or killed and restarted on the same port while they run.
//!
//! Each replica runs a few callers in a loop and prints one `EV ok|err <µs> <error>` line per
//! call, so the parent sees when each replica succeeds or fails. Figures are printed as
//! `FIGURE …` lines (for BENCHMARKS.md); only behaviour is asserted.
//!
//! The tests run one at a time (they measure real time).

mod common;

use std::time::{Duration, Instant, SystemTime};

use common::fake::{self, FakeVandar, Mode};
use common::procs::{self, Proc};
use serde_json::{Value, json};
use vandar_redis::{RedisConnection, RedisRateLimiter, RedisTokenStore, SealingKey};
use vandar_runtime::token::{TokenRecord, TokenStore};
use vandar_runtime::{
    Binding, Clock, Config, Error, RateLimits, RetryPolicy, Route, Runtime, Timeouts, TokenPair,
};

static ROUTES: &[Route] = &[fake::GET_BALANCE];

/// One at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A replica's call timeout (ms): its refresh send deadline is this plus 2 s.
const TOTAL_MS: u64 = 3000;

fn store(redis: &str, ns: &str) -> RedisTokenStore {
    RedisTokenStore::new(RedisConnection::open(redis).unwrap(), ns, &fake::account())
        .unwrap()
        .with_sealing_key(SealingKey::new("test", [3; 32]).unwrap())
}

/// The record in Redis.
async fn stored(redis: &str, ns: &str) -> Option<TokenRecord> {
    store(redis, ns).load().await.unwrap().record
}

/// Where the children find Redis and the fake.
struct Env {
    redis: String,
    server: String,
}

impl Env {
    /// A replica seeded with generation `seed`'s pair whose access token expires in
    /// `access_secs` (negative: expired), running `callers` callers for `secs` seconds.
    fn worker(&self, id: usize, seed: u64, access_secs: i64, callers: usize, secs: u64) -> Proc {
        self.worker_with(id, seed, access_secs, callers, secs, &[])
    }

    fn worker_with(
        &self,
        id: usize,
        seed: u64,
        access_secs: i64,
        callers: usize,
        secs: u64,
        extra: &[(&str, String)],
    ) -> Proc {
        let mut env = vec![
            ("SC_REDIS", self.redis.clone()),
            ("SC_SERVER", self.server.clone()),
            ("SC_ID", id.to_string()),
            ("SC_SEED", format!("{seed}:{access_secs}")),
            ("SC_CALLERS", callers.to_string()),
            ("SC_SECS", secs.to_string()),
        ];
        env.extend(extra.iter().cloned());
        procs::spawn("worker", &env)
    }

    /// A replica with the expired pair whose refresh (answered after `delay`) has reached
    /// the fake Vandar.
    async fn holder_in_flight(&self, fake: &FakeVandar, delay: Duration, secs: u64) -> Proc {
        fake.then(Mode::Delay(delay));
        let holder = self.worker(0, 0, -60, 3, secs);
        procs::until(Duration::from_secs(20), "the holder's refresh", || {
            fake.sent(&fake::refresh(0)) == 1
        })
        .await;
        holder
    }

    /// One process installs generation `n`'s pair with `Runtime::set_token_pair`; returns
    /// when it has (the parent's time of its report).
    async fn install(&self, n: u64) -> Instant {
        let p = procs::spawn(
            "install",
            &[
                ("SC_REDIS", self.redis.clone()),
                ("SC_SERVER", self.server.clone()),
                ("SC_INSTALL", n.to_string()),
            ],
        );
        procs::until(Duration::from_secs(20), "the install", || {
            !p.tagged("RESULT").is_empty()
        })
        .await;
        let at = p.tagged("RESULT")[0].0;
        let r = procs::results(vec![p], Duration::from_secs(5)).await;
        assert_eq!(r[0]["ok"], true, "{}", r[0]);
        at
    }
}

/// The calls a replica reported: (arrival, ok, µs, error).
fn calls(p: &Proc) -> Vec<(Instant, bool, u64, String)> {
    p.tagged("EV")
        .into_iter()
        .map(|(at, l)| {
            let mut it = l.splitn(3, ' ');
            let ok = it.next() == Some("ok");
            let us = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            (at, ok, us, it.next().unwrap_or("").to_owned())
        })
        .collect()
}

/// The first successful call a replica reported after `t`.
fn first_ok_after(p: &Proc, t: Instant) -> Option<Instant> {
    calls(p)
        .into_iter()
        .find(|(at, ok, ..)| *ok && *at > t)
        .map(|c| c.0)
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

// ------------------------------------------------------------------------------- children

/// A clock `SC_SKEW_MIN` minutes ahead of the system's.
struct Skewed(Duration);

impl Clock for Skewed {
    fn now(&self) -> SystemTime {
        SystemTime::now() + self.0
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set for a child"))
}

/// A replica's runtime: the sealed Redis store, seeded with `SC_SEED` (if set).
fn child_runtime() -> Runtime {
    let ns = std::env::var("SC_NS").unwrap_or_else(|_| "shop".into());
    let total = Duration::from_millis(
        std::env::var("SC_TOTAL_MS").map_or(TOTAL_MS, |v| v.parse().unwrap()),
    );
    let mut builder = Config::builder()
        .all_hosts(&env("SC_SERVER"))
        .user_agent(format!(
            "replica-{}",
            std::env::var("SC_ID").unwrap_or_default()
        ))
        .retry(RetryPolicy::none())
        .timeouts(
            Timeouts::default()
                .with_per_attempt(total)
                .with_total(total),
        )
        .token_store(store(&env("SC_REDIS"), &ns));
    if let Ok(seed) = std::env::var("SC_SEED") {
        let (n, secs) = seed.split_once(':').unwrap();
        let (n, secs): (u64, i64) = (n.parse().unwrap(), secs.parse().unwrap());
        let now = SystemTime::now();
        let access_at = if secs >= 0 {
            now + Duration::from_secs(secs as u64)
        } else {
            now - Duration::from_secs(secs.unsigned_abs())
        };
        builder = builder.token_pair(TokenPair::new(
            fake::access(n),
            fake::refresh(n),
            access_at,
            now + Duration::from_secs(5 * 86_400),
        ));
    }
    builder = if std::env::var("SC_SHARED_LIMITER").is_ok() {
        // Vandar's limits, shared in Redis (the parent may have used up the budget)
        let conn = RedisConnection::open(&env("SC_REDIS")).unwrap();
        builder.shared_rate_limiter(RedisRateLimiter::new(conn, &ns, &fake::account()).unwrap())
    } else {
        // no client-side limits: a caller's wait is the token's, not the limiter's
        builder.rate_limits(RateLimits::unlimited())
    };
    if let Ok(min) = std::env::var("SC_SKEW_MIN") {
        builder = builder.clock(Skewed(Duration::from_secs(
            min.parse::<u64>().unwrap() * 60,
        )));
    }
    Runtime::new(builder.build().unwrap()).unwrap()
}

async fn call(b: &Binding) -> Result<Value, Error> {
    let route = b.route("get_balance").unwrap();
    let request = b
        .runtime()
        .http_client()
        .get(b.url(route, &[])?)
        .build()
        .map_err(Error::from_build)?;
    b.call::<Value>(request, route, None)
        .await
        .map(|a| a.into_body())
}

/// `SC_CALLERS` callers calling in a loop for `SC_SECS` seconds, one `EV` line per call.
async fn worker() -> Value {
    let b = Binding::new(child_runtime(), ROUTES, &[]);
    let callers: usize = env("SC_CALLERS").parse().unwrap();
    let end = Instant::now() + Duration::from_secs(env("SC_SECS").parse().unwrap());
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let b = b.clone();
            tokio::spawn(async move {
                let (mut ok, mut failed) = (0usize, 0usize);
                let mut first_error = None;
                while Instant::now() < end {
                    let t = Instant::now();
                    let r = call(&b).await;
                    let us = t.elapsed().as_micros();
                    match r {
                        Ok(_) => {
                            ok += 1;
                            println!("EV ok {us} -");
                        }
                        Err(e) => {
                            failed += 1;
                            let text = e.to_string().replace('\n', " ");
                            println!("EV err {us} {text}");
                            first_error.get_or_insert(format!("after {us} us: {text}"));
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                (ok, failed, first_error)
            })
        })
        .collect();
    let (mut ok, mut failed, mut first_error) = (0, 0, None);
    for t in tasks {
        let (o, f, e) = t.await.unwrap();
        ok += o;
        failed += f;
        first_error = first_error.or(e);
    }
    // the first error a caller saw, so that a failed assertion says what went wrong
    json!({"ok": ok, "failed": failed, "first_error": first_error})
}

/// Install generation `SC_INSTALL`'s pair (fresh) with `Runtime::set_token_pair`.
async fn install() -> Value {
    let rt = child_runtime();
    let n: u64 = env("SC_INSTALL").parse().unwrap();
    let now = SystemTime::now();
    let pair = TokenPair::new(
        fake::access(n),
        fake::refresh(n),
        now + Duration::from_secs(5 * 86_400),
        now + Duration::from_secs(10 * 86_400),
    );
    match rt.set_token_pair(pair).await {
        Ok(()) => json!({"ok": true}),
        Err(e) => json!({"ok": false, "error": e.to_string()}),
    }
}

/// Not a test: the body of the replicas the tests below start. Without their environment it
/// does nothing.
#[test]
#[ignore = "a child process of the scenario tests; they start it"]
fn child() {
    procs::run_child(|role| async move {
        match role.as_str() {
            "worker" => worker().await,
            "install" => install().await,
            other => panic!("unknown role {other}"),
        }
    });
}

// ---------------------------------------------------------------------------------- tests

async fn setup() -> Option<(common::RedisServer, FakeVandar, Env)> {
    let redis = common::RedisServer::start()?;
    let fake = FakeVandar::start().await;
    let env = Env {
        redis: redis.url(),
        server: fake.server.uri(),
    };
    Some((redis, fake, env))
}

macro_rules! setup_or_skip {
    () => {
        match setup().await {
            Some(s) => s,
            None => return,
        }
    };
}

/// Scenario 8: 8 processes x 50 concurrent callers start with the expired pair: exactly one
/// refresh for the rotation, and every call succeeds with the rotated token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_refresh_once_per_rotation() {
    let _serial = SERIAL.lock().await;
    let (redis, fake, env) = setup_or_skip!();
    let workers: Vec<_> = (0..8).map(|i| env.worker(i, 0, -60, 50, 3)).collect();
    let results = procs::results(workers, Duration::from_secs(40)).await;
    let calls: u64 = results.iter().map(|r| r["ok"].as_u64().unwrap()).sum();
    for r in &results {
        assert_eq!(r["failed"], 0, "{r}");
        assert!(r["ok"].as_u64().unwrap() >= 50, "{r}");
    }
    println!(
        "FIGURE refreshes per rotation across 8 processes x 50 callers: {} ({calls} calls)",
        fake.refreshes()
    );
    assert_eq!(fake.refreshes(), 1);
    assert_eq!(fake.generation(), 1);
    let rec = stored(&redis.url(), "shop").await.unwrap();
    assert_eq!(rec.pair.refresh_token.expose(), fake::refresh(1));
}

/// Scenario 6: the pair is valid but inside the refresh margin and the refresh answer takes
/// 2 s: callers never wait for it. Prints the callers' waits (p50/p99/max).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_ahead_of_expiry_never_stalls_callers() {
    let _serial = SERIAL.lock().await;
    let (_redis, fake, env) = setup_or_skip!();
    fake.then(Mode::Delay(Duration::from_secs(2)));
    // access valid for 30 more minutes, margin 1 h: due, still usable
    let workers: Vec<_> = (0..4).map(|i| env.worker(i, 0, 1800, 20, 5)).collect();
    procs::until(Duration::from_secs(20), "the refresh", || {
        fake.refreshes() == 1
    })
    .await;
    let sent_at = Instant::now();
    let mut during = Vec::new();
    let mut all = Vec::new();
    // wait for the answer window to pass, then read every replica's calls
    tokio::time::sleep(Duration::from_secs(3)).await;
    for w in &workers {
        let c = calls(w);
        assert!(
            c.iter().all(|(_, ok, ..)| *ok),
            "a caller failed: {:?}",
            c.iter().find(|x| !x.1)
        );
        for (at, _, us, _) in &c {
            all.push(*us);
            if *at >= sent_at && *at <= sent_at + Duration::from_secs(2) {
                during.push(*us);
            }
        }
    }
    let results = procs::results(workers, Duration::from_secs(30)).await;
    for r in &results {
        assert_eq!(r["failed"], 0, "{r}");
    }
    assert_eq!(fake.refreshes(), 1, "one background refresh");
    assert_eq!(fake.unauthorized(), 0, "no call was refused");
    assert_eq!(fake.generation(), 1);
    assert!(
        !during.is_empty(),
        "calls were made while the refresh answer was delayed"
    );
    during.sort_unstable();
    all.sort_unstable();
    println!(
        "FIGURE wait of a caller with a valid token during a 2 s background refresh (4 processes x 20 callers): p50 {} us, p99 {} us, max {} us (n={}); whole run p99 {} us max {} us (n={})",
        percentile(&during, 0.5),
        percentile(&during, 0.99),
        during.last().unwrap(),
        during.len(),
        percentile(&all, 0.99),
        all.last().unwrap(),
        all.len()
    );
}

/// Scenario 5: a refresh answered 500 rotated nothing: the token stays usable (every call
/// succeeds), and the next refresh after the hold-off rotates it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_answered_500_leaves_the_token_usable() {
    let _serial = SERIAL.lock().await;
    let (redis, fake, env) = setup_or_skip!();
    fake.then(Mode::Fail(500));
    let workers: Vec<_> = (0..2).map(|i| env.worker(i, 0, 1800, 5, 8)).collect();
    procs::until(
        Duration::from_secs(30),
        "the rotation after the 500",
        || fake.generation() == 1,
    )
    .await;
    let results = procs::results(workers, Duration::from_secs(30)).await;
    for r in &results {
        assert_eq!(r["failed"], 0, "{r}");
    }
    assert_eq!(
        fake.sent(&fake::refresh(0)),
        2,
        "the 500, then the rotation"
    );
    assert_eq!(fake.refused(), 0);
    let rec = stored(&redis.url(), "shop").await.unwrap();
    assert_eq!(rec.pair.refresh_token.expose(), fake::refresh(1));
}

/// The error lines of a replica that say how to recover (`set_token_pair`).
fn lockouts(p: &Proc) -> usize {
    calls(p)
        .iter()
        .filter(|(_, ok, _, e)| !ok && e.contains("set_token_pair"))
        .count()
}

/// Scenario 1: the replica holding the refresh is killed (SIGKILL) while its refresh is in
/// flight (the answer is delayed). No other replica sends that refresh token again; they
/// report the lockout, naming `set_token_pair`; one `set_token_pair` in one new process brings
/// every one back. Prints the time to recover.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_killed_mid_refresh_locks_out_until_one_install() {
    let _serial = SERIAL.lock().await;
    let (redis, fake, env) = setup_or_skip!();
    let holder = env
        .holder_in_flight(&fake, Duration::from_secs(30), 60)
        .await;
    holder.kill();
    let others: Vec<_> = (1..4).map(|i| env.worker(i, 0, -60, 3, 30)).collect();
    locked_out_until_one_install(&redis, &fake, &env, others, "holder killed").await;
}

/// A refresh whose answer is dropped after Vandar rotated (the lost answer): nobody sends its
/// refresh token again; every replica reports the lockout naming `set_token_pair`; one
/// install brings every one back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_refresh_answer_locks_out_until_one_install() {
    let _serial = SERIAL.lock().await;
    let (redis, fake, env) = setup_or_skip!();
    fake.then(Mode::RotateThenClose);
    let workers: Vec<_> = (0..3).map(|i| env.worker(i, 0, -60, 3, 30)).collect();
    locked_out_until_one_install(&redis, &fake, &env, workers, "answer lost").await;
}

/// Wait until every one of `others` reports the lockout (naming `set_token_pair`) with no
/// call succeeding and `ref-0` sent once; then install a new pair in one new process and check
/// that every replica recovers (prints the time it took).
async fn locked_out_until_one_install(
    redis: &common::RedisServer,
    fake: &FakeVandar,
    env: &Env,
    others: Vec<Proc>,
    what: &str,
) {
    procs::until(
        Duration::from_secs(20),
        "every replica's lockout error",
        || others.iter().all(|p| lockouts(p) > 0),
    )
    .await;
    assert_eq!(
        fake.refreshes(),
        1,
        "nobody sent the spent refresh token again"
    );
    for p in &others {
        assert!(
            calls(p).iter().all(|c| !c.1),
            "no call succeeds before the install"
        );
    }
    // the operator issues a new pair in the dashboard and installs it once
    fake.issue(100);
    let installed = env.install(100).await;
    procs::until(Duration::from_secs(15), "every replica's recovery", || {
        others
            .iter()
            .all(|p| first_ok_after(p, installed).is_some())
    })
    .await;
    let recovered: Vec<Duration> = others
        .iter()
        .map(|p| first_ok_after(p, installed).unwrap() - installed)
        .collect();
    let worst = recovered.iter().max().unwrap();
    println!(
        "FIGURE time to recover after one set_token_pair ({what}, {} locked-out processes): slowest {} ms, each {:?} ms",
        others.len(),
        worst.as_millis(),
        recovered
            .iter()
            .map(Duration::as_millis)
            .collect::<Vec<_>>()
    );
    // after recovering, calls keep succeeding
    tokio::time::sleep(Duration::from_millis(500)).await;
    let since = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    for p in &others {
        let after: Vec<_> = calls(p).into_iter().filter(|c| c.0 > since).collect();
        assert!(
            !after.is_empty() && after.iter().all(|c| c.1),
            "{:?}",
            after.iter().find(|c| !c.1)
        );
    }
    others.into_iter().for_each(Proc::kill);
    fake.assert_each_token_at_most_once(&[]);
    assert_eq!(fake.sent(&fake::refresh(0)), 1);
    let rec = stored(&redis.url(), "shop").await.unwrap();
    assert_eq!(rec.pair.access_token.expose(), fake::access(100));
}

/// Every replica's last 3 calls ended after `t` and succeeded.
fn all_ok_after(procs: &[&Proc], t: Instant) -> bool {
    procs.iter().all(|p| {
        let c = calls(p);
        c.len() >= 3 && c[c.len() - 3..].iter().all(|c| c.1 && c.0 > t)
    })
}

/// Wait (at most `limit`) until [`all_ok_after`]; `false` when it did not happen.
async fn all_ok_within(procs: &[&Proc], t: Instant, limit: Duration) -> bool {
    let start = Instant::now();
    while !all_ok_after(procs, t) {
        if start.elapsed() > limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    true
}

/// Each replica's last error.
fn last_errors(procs: &[&Proc]) -> Vec<Option<String>> {
    procs
        .iter()
        .map(|p| calls(p).into_iter().rev().find(|c| !c.1).map(|c| c.3))
        .collect()
}

/// The stored pair is the fake's current one.
async fn assert_stored_is_current(redis: &str, fake: &FakeVandar) {
    let rec = stored(redis, "shop").await.expect("a stored record");
    assert_eq!(
        rec.pair.refresh_token.expose(),
        fake::refresh(fake.generation()),
        "the store holds the newest pair (generation {})",
        rec.generation
    );
}

/// Scenario 2: the holder is paused (SIGSTOP) while its refresh is in flight, past its send
/// deadline, then resumed (SIGCONT). Nobody sends the spent refresh token; all replicas end
/// on the one valid pair.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]

async fn a_holder_paused_past_its_deadline_sends_nothing_spent() {
    let _serial = SERIAL.lock().await;
    let (redis, fake, env) = setup_or_skip!();
    let holder = env
        .holder_in_flight(&fake, Duration::from_secs(1), 25)
        .await;
    holder.signal("-STOP");
    let others: Vec<_> = (1..3).map(|i| env.worker(i, 0, -60, 3, 22)).collect();
    // past the send deadline (call timeout 3 s + 2 s) of the holder's marker
    tokio::time::sleep(Duration::from_secs(7)).await;
    holder.signal("-CONT");
    let resumed = Instant::now();
    let all: Vec<&Proc> = std::iter::once(&holder).chain(others.iter()).collect();
    let ended = all_ok_within(&all, resumed, Duration::from_secs(15)).await;
    fake.assert_each_token_at_most_once(&[]);
    let rec = stored(&redis.url(), "shop").await.unwrap();
    println!(
        "after the resume: the store holds generation {} ({:?}); Vandar is at generation {}",
        rec.generation,
        rec.phase,
        fake.generation()
    );
    assert!(
        ended,
        "every replica uses the rotated pair after the holder resumed; last errors: {:?}",
        last_errors(&all)
    );
    assert_eq!(fake.refreshes(), 1);
    assert_stored_is_current(&redis.url(), &fake).await;
    drop(all);
    holder.kill();
    others.into_iter().for_each(Proc::kill);
}

/// Scenario 3: Redis loses its data (FLUSHALL) while replicas run, and new replicas start
/// seeding the old dashboard pair (`Config::token_pair` + `token_store`): the newest pair wins
/// (the spent dashboard pair never stays the current one) and every replica's calls succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flushed_store_keeps_the_newest_pair_over_a_seeded_one() {
    let _serial = SERIAL.lock().await;
    let (redis, fake, env) = setup_or_skip!();
    let old: Vec<_> = (0..2).map(|i| env.worker(i, 0, -60, 3, 40)).collect();
    procs::until(Duration::from_secs(20), "the first rotation", || {
        old.iter().all(|p| calls(p).iter().any(|c| c.1))
    })
    .await;
    assert_eq!(fake.generation(), 1);
    assert_eq!(common::command(redis.port(), "FLUSHALL"), "+OK");
    let flushed = Instant::now();
    // new replicas seed the dashboard pair (generation 0: its refresh token is spent)
    let new: Vec<_> = (2..4).map(|i| env.worker(i, 0, -60, 3, 35)).collect();
    let all: Vec<&Proc> = old.iter().chain(new.iter()).collect();
    let ended = all_ok_within(&all, flushed, Duration::from_secs(30)).await;
    let settled = flushed.elapsed();
    assert!(
        ended,
        "every replica's calls succeed after the flush; last errors: {:?}",
        last_errors(&all)
    );
    println!(
        "FIGURE after FLUSHALL: all replicas succeed {} ms later; the spent dashboard refresh token was sent {} more time(s) (refused); rotations {}",
        settled.as_millis(),
        fake.sent(&fake::refresh(0)) - 1,
        fake.generation()
    );
    assert_stored_is_current(&redis.url(), &fake).await;
    for t in 1..=fake.generation() {
        assert!(fake.sent(&fake::refresh(t)) <= 1);
    }
    drop(all);
    old.into_iter().chain(new).for_each(Proc::kill);
}

/// Scenario 4: Redis is killed while a refresh is in flight and restarted (empty, same
/// port): the rotated pair is saved once Redis is back; the others adopt it and never send the
/// old refresh token again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_during_a_refresh_gets_the_rotated_pair_back() {
    redis_killed_during_a_refresh(TOTAL_MS, Duration::from_secs(2), Duration::from_secs(4)).await;
}

/// Scenario 4 with a 1 s call timeout (send deadline 3 s) and Redis down for 7 s: longer than
/// the holder's retry backoff reaches (its pair must still be saved before anyone sends the
/// old refresh token).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]

async fn redis_down_longer_than_the_send_deadline_during_a_refresh() {
    redis_killed_during_a_refresh(1000, Duration::from_millis(500), Duration::from_secs(7)).await;
}

/// Scenario 4's body: replicas with call timeout `total_ms`; the refresh answer comes after
/// `delay`; Redis is down for `outage` from the moment the refresh reaches the fake.
async fn redis_killed_during_a_refresh(total_ms: u64, delay: Duration, outage: Duration) {
    let _serial = SERIAL.lock().await;
    let (mut redis, fake, env) = setup_or_skip!();
    fake.then(Mode::Delay(delay));
    let total = [("SC_TOTAL_MS", total_ms.to_string())];
    let workers: Vec<_> = (0..3)
        .map(|i| env.worker_with(i, 0, -60, 3, 30, &total))
        .collect();
    procs::until(Duration::from_secs(20), "the refresh", || {
        fake.sent(&fake::refresh(0)) == 1
    })
    .await;
    redis.stop();
    // the answer arrives while Redis is down
    tokio::time::sleep(outage).await;
    redis.restart();
    let back = Instant::now();
    let url = redis.url();
    let mut saved = None;
    for _ in 0..150 {
        if let Ok(Some(rec)) = store(&url, "shop").load().await.map(|s| s.record)
            && rec.pair.refresh_token.expose() == fake::refresh(1)
        {
            saved = Some(back.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let saved = saved.expect("the rotated pair is saved once Redis is back");
    let refs: Vec<&Proc> = workers.iter().collect();
    let ended = all_ok_within(&refs, back + saved, Duration::from_secs(15)).await;
    assert!(
        ended,
        "every replica adopts the rotated pair; last errors: {:?}",
        last_errors(&refs)
    );
    println!(
        "FIGURE Redis restarted empty during a refresh (down {outage:?}, call timeout {total_ms} ms): the rotated pair was saved {} ms after it was back",
        saved.as_millis()
    );
    let refreshes: Vec<String> = fake
        .server
        .requests()
        .iter()
        .filter(|r| r.path_only() == vandar_runtime::REFRESH_PATH)
        .map(|r| {
            let at = r.at.into_std();
            match at.checked_duration_since(back) {
                Some(d) => format!("+{} ms", d.as_millis()),
                None => format!("-{} ms", (back - at).as_millis()),
            }
        })
        .collect();
    println!("refreshes received, against Redis back: {refreshes:?}");
    fake.assert_each_token_at_most_once(&[]);
    assert_eq!(fake.refreshes(), 1);
    assert_stored_is_current(&url, &fake).await;
    drop(refs);
    workers.into_iter().for_each(Proc::kill);
}

/// Scenario 7: one replica's clock runs 90 minutes ahead. With 80 minutes left on the access
/// token (refresh margin 1 h) it does not refresh early because of its own clock; when a
/// refresh is due and it makes it, the expiry it writes is on the answer's `Date` (and Redis
/// `TIME`), not 90 minutes off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_with_a_skewed_clock_neither_refreshes_early_nor_writes_a_wrong_expiry() {
    let _serial = SERIAL.lock().await;
    let (redis, fake, env) = setup_or_skip!();
    let skew = [("SC_SKEW_MIN", "90".to_owned())];
    let workers = vec![
        env.worker_with(0, 0, 80 * 60, 3, 4, &skew),
        env.worker(1, 0, 80 * 60, 3, 4),
    ];
    for r in procs::results(workers, Duration::from_secs(30)).await {
        assert_eq!(r["failed"], 0, "{r}");
        assert!(r["ok"].as_u64().unwrap() > 0, "{r}");
    }
    assert_eq!(
        fake.refreshes(),
        0,
        "nobody refreshed 80 minutes before expiry"
    );
    let rec = stored(&redis.url(), "shop").await.unwrap();
    assert_eq!(rec.pair.refresh_token.expose(), fake::refresh(0));
    let left = rec
        .pair
        .access_expires_at
        .duration_since(SystemTime::now())
        .unwrap();
    assert!(
        left > Duration::from_secs(70 * 60),
        "the stored expiry is unchanged: {left:?} left"
    );

    // now due (30 minutes left) in another namespace; the skewed replica alone refreshes
    let skew2 = [
        ("SC_SKEW_MIN", "90".to_owned()),
        ("SC_NS", "skew2".to_owned()),
    ];
    let r = procs::results(
        vec![env.worker_with(2, 0, 30 * 60, 3, 3, &skew2)],
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(r[0]["failed"], 0, "{}", r[0]);
    assert_eq!(fake.refreshes(), 1);
    let rec = stored(&redis.url(), "skew2").await.unwrap();
    assert_eq!(rec.pair.refresh_token.expose(), fake::refresh(1));
    let expected = SystemTime::now() + Duration::from_secs(fake::EXPIRES_IN);
    let off = match rec.pair.access_expires_at.duration_since(expected) {
        Ok(d) => d,
        Err(e) => e.duration(),
    };
    println!(
        "FIGURE skewed replica (+90 min): stored access expiry is {} s off the real now + expires_in",
        off.as_secs()
    );
    assert!(
        off < Duration::from_secs(60),
        "the expiry written is {off:?} off (a 90 minute skew would be 5400 s)"
    );
}

/// Scenario 2, before sending: the holder takes the lease and waits for a rate-limit slot
/// (the parent used up the shared POST budget in Redis), is paused (SIGSTOP) past its lease
/// while the others take the refresh over and rotate, then resumed (SIGCONT): it sends
/// nothing (its marker's compare-and-swap fails) and adopts the rotated pair.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_paused_before_sending_past_its_lease_sends_nothing() {
    let _serial = SERIAL.lock().await;
    let (redis, fake, env) = setup_or_skip!();
    let limiter = RedisRateLimiter::new(
        RedisConnection::open(&redis.url()).unwrap(),
        "shop",
        &fake::account(),
    )
    .unwrap();
    for _ in 0..60 {
        let grant = limiter
            .reserve(vandar_runtime::SlotRequest {
                key: vandar_runtime::LimiterKey::token_pair(),
                class: vandar_runtime::MethodClass::Post,
                limit: vandar_runtime::RateLimit::new(30, Duration::from_secs(3)),
                max_wait: Duration::from_secs(60),
            })
            .await
            .unwrap();
        assert!(matches!(grant, vandar_runtime::SlotGrant::Granted { .. }));
    }
    let slow = [
        ("SC_SHARED_LIMITER", "1".to_owned()),
        ("SC_TOTAL_MS", "20000".to_owned()),
    ];
    let holder = env.worker_with(0, 0, -60, 1, 30, &slow);
    let url = redis.url();
    let mut leased = false;
    for _ in 0..200 {
        if let Some(rec) = stored(&url, "shop").await
            && matches!(rec.phase, vandar_runtime::token::Phase::Leased { .. })
        {
            leased = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(leased, "the holder took the lease");
    holder.signal("-STOP");
    assert_eq!(
        fake.refreshes(),
        0,
        "the holder is still waiting for its slot"
    );
    let others: Vec<_> = (1..3).map(|i| env.worker(i, 0, -60, 3, 25)).collect();
    procs::until(Duration::from_secs(20), "the takeover's rotation", || {
        fake.generation() == 1
    })
    .await;
    // past the holder's slot (about 6 s after the budget was used up)
    tokio::time::sleep(Duration::from_secs(7)).await;
    holder.signal("-CONT");
    let resumed = Instant::now();
    let all: Vec<&Proc> = std::iter::once(&holder).chain(others.iter()).collect();
    let ended = all_ok_within(&all, resumed, Duration::from_secs(20)).await;
    fake.assert_each_token_at_most_once(&[]);
    assert!(
        ended,
        "every replica uses the rotated pair; last errors: {:?}",
        last_errors(&all)
    );
    assert_eq!(fake.refreshes(), 1, "the resumed holder sent nothing");
    assert_stored_is_current(&url, &fake).await;
    drop(all);
    holder.kill();
    others.into_iter().for_each(Proc::kill);
}
