//! The token store (compare-and-swap, `TIME`, sealing, key separation), the GCRA limiter and
//! the replica heartbeats against a real redis-server, with separate connections standing in
//! for separate processes.

mod common;

use std::time::{Duration, SystemTime};

use vandar_redis::{
    Account, RedisConnection, RedisError, RedisRateLimiter, RedisTokenStore, SealingKey,
};
use vandar_runtime::token::{Phase, Swap, TokenRecord, TokenStore, fresh_revision};
use vandar_runtime::{
    LimiterKey, MethodClass, RateLimit, RateLimits, SharedRateLimiter, SlotGrant, SlotRequest,
    TokenPair,
};

fn pair(tag: &str) -> TokenPair {
    // whole milliseconds: what the record keeps
    let ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let now = SystemTime::UNIX_EPOCH + Duration::from_millis(ms);
    TokenPair::new(
        format!("acc-{tag}-SECRET"),
        format!("ref-{tag}-SECRET"),
        now + Duration::from_secs(3600),
        now + Duration::from_secs(86_400),
    )
}

fn account() -> Account {
    Account::production("shop").unwrap()
}

fn store(url: &str) -> RedisTokenStore {
    RedisTokenStore::new(RedisConnection::open(url).unwrap(), "ns", &account()).unwrap()
}

/// The raw fields of the record's hash, read with a separate connection.
async fn raw(url: &str, key: &str) -> (Option<String>, Option<Vec<u8>>) {
    let client = redis::Client::open(url).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("HMGET")
        .arg(key)
        .arg("rev")
        .arg("blob")
        .query_async(&mut c)
        .await
        .unwrap()
}

/// Redis's own clock, read with a separate connection.
async fn redis_time(url: &str) -> SystemTime {
    let client = redis::Client::open(url).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let (s, us): (u64, u64) = redis::cmd("TIME").query_async(&mut c).await.unwrap();
    SystemTime::UNIX_EPOCH + Duration::from_secs(s) + Duration::from_micros(us)
}

#[tokio::test]
async fn compare_and_swap_writes_once_and_reports_what_is_stored() {
    let redis = redis_or_skip!();
    let (a, b) = (store(&redis.url()), store(&redis.url()));
    let before = redis_time(&redis.url()).await;
    let empty = a.load().await.unwrap();
    assert_eq!(empty.record, None);
    let now = empty.now.expect("redis reports its clock");
    assert!(
        now >= before && now <= before + Duration::from_secs(2),
        "TIME, not a guess"
    );

    // only one of two "seeds" of an empty store wins
    let seed_a = TokenRecord::seed(pair("a"));
    let seed_b = TokenRecord::seed(pair("b"));
    assert!(matches!(
        a.swap(None, &seed_a).await.unwrap(),
        Swap::Done { now: Some(_) }
    ));
    let Swap::Conflict(seen) = b.swap(None, &seed_b).await.unwrap() else {
        panic!("a second write expecting an empty store must conflict");
    };
    assert_eq!(seen.record.as_ref(), Some(&seed_a));
    assert!(seen.now.is_some());

    // the stored hash: plain `rev` for the compare, `blob` the record
    let (rev, blob) = raw(&redis.url(), a.key()).await;
    assert_eq!(rev, Some(seed_a.revision.to_string()));
    assert_eq!(
        TokenRecord::from_bytes(&blob.unwrap()).unwrap(),
        seed_a,
        "unsealed: the runtime's bytes as they are"
    );

    // a write against the current revision succeeds; a stale one conflicts and changes nothing
    let leased = seed_a.with_phase(
        Phase::Leased {
            holder: "b".into(),
            until: now + Duration::from_secs(2),
        },
        fresh_revision(),
    );
    assert!(matches!(
        b.swap(Some(seed_a.revision), &leased).await.unwrap(),
        Swap::Done { .. }
    ));
    let stale = seed_a.rotated(pair("stale"), fresh_revision());
    let Swap::Conflict(seen) = a.swap(Some(seed_a.revision), &stale).await.unwrap() else {
        panic!("a stale revision must conflict");
    };
    assert_eq!(seen.record.as_ref(), Some(&leased));
    assert_eq!(a.load().await.unwrap().record, Some(leased.clone()));
    // expecting "empty" when something is stored conflicts too
    assert!(matches!(
        a.swap(None, &stale).await.unwrap(),
        Swap::Conflict(_)
    ));

    // 16 writers race on one revision: exactly one wins
    let base = a.load().await.unwrap().record.unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let s = store(&redis.url());
            let next = base.rotated(pair(&format!("race{i}")), fresh_revision());
            let expected = base.revision;
            tokio::spawn(async move { s.swap(Some(expected), &next).await.unwrap() })
        })
        .collect();
    let mut done = 0;
    for t in tasks {
        done += usize::from(matches!(t.await.unwrap(), Swap::Done { .. }));
    }
    assert_eq!(done, 1, "one compare-and-swap wins");
    let stored = a.load().await.unwrap().record.unwrap();
    assert_eq!(stored.generation, base.generation + 1);
}

#[tokio::test]
async fn sealed_records_hide_tokens_and_refuse_other_keys() {
    let redis = redis_or_skip!();
    let key = || SealingKey::new("k1", [42; 32]).unwrap();
    let sealed = store(&redis.url()).with_sealing_key(key());
    let record = TokenRecord::seed(pair("sealed"));
    assert!(matches!(
        sealed.swap(None, &record).await.unwrap(),
        Swap::Done { .. }
    ));
    let (rev, blob) = raw(&redis.url(), sealed.key()).await;
    let blob = blob.unwrap();
    assert_eq!(rev, Some(record.revision.to_string()));
    let text = String::from_utf8_lossy(&blob);
    assert!(text.starts_with("sealed:v1:k1:"), "{text}");
    assert!(!text.contains("SECRET"), "no token in what Redis holds");
    // another process with the key reads it; conflicts are opened too
    let other = store(&redis.url()).with_sealing_key(key());
    assert_eq!(other.load().await.unwrap().record, Some(record.clone()));
    let Swap::Conflict(seen) = other.swap(None, &record).await.unwrap() else {
        panic!("conflict");
    };
    assert_eq!(seen.record, Some(record.clone()));

    // no key, or another key: a clear error that names no token
    for (s, configured) in [
        (store(&redis.url()), None),
        (
            store(&redis.url()).with_sealing_key(SealingKey::new("k2", [42; 32]).unwrap()),
            Some("k2".to_owned()),
        ),
    ] {
        let err = s.load().await.unwrap_err();
        let typed = err.downcast_ref::<RedisError>().expect("typed source");
        assert_eq!(
            typed,
            &RedisError::SealedWithAnotherKey {
                stored: "k1".into(),
                configured
            }
        );
        assert!(err.to_string().contains("`k1`"), "{err}");
        assert!(!err.to_string().contains("SECRET"));
    }
    // same name, other material
    let forged = store(&redis.url()).with_sealing_key(SealingKey::new("k1", [1; 32]).unwrap());
    let err = forged.get().await.unwrap_err();
    assert_eq!(err, RedisError::Unseal { key: "k1".into() });

    // a `rev` edited by hand no longer matches the sealed revision: refused, not trusted
    let client = redis::Client::open(redis.url()).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let _: i64 = redis::cmd("HSET")
        .arg(sealed.key())
        .arg("rev")
        .arg("7")
        .query_async(&mut c)
        .await
        .unwrap();
    assert!(sealed.get().await.is_err());

    // turning sealing on: a plain record is read, and sealed on the next write
    let plain_store = RedisTokenStore::new(
        RedisConnection::open(&redis.url()).unwrap(),
        "plain",
        &account(),
    )
    .unwrap();
    let plain = TokenRecord::seed(pair("plain"));
    plain_store.swap(None, &plain).await.unwrap();
    let now_sealed = RedisTokenStore::new(
        RedisConnection::open(&redis.url()).unwrap(),
        "plain",
        &account(),
    )
    .unwrap()
    .with_sealing_key(key());
    assert_eq!(now_sealed.load().await.unwrap().record, Some(plain.clone()));
    let next = plain.with_phase(Phase::Ready, fresh_revision());
    now_sealed.swap(Some(plain.revision), &next).await.unwrap();
    let (_, blob) = raw(&redis.url(), now_sealed.key()).await;
    assert!(blob.unwrap().starts_with(b"sealed:v1:k1:"));
}

#[tokio::test]
async fn accounts_and_environments_never_share_a_record() {
    let redis = redis_or_skip!();
    let conn = RedisConnection::open(&redis.url()).unwrap();
    let prod =
        RedisTokenStore::new(conn.clone(), "ns", &Account::production("shop").unwrap()).unwrap();
    let staging = RedisTokenStore::new(
        conn.clone(),
        "ns",
        &Account::new("shop", "https://staging.example").unwrap(),
    )
    .unwrap();
    let other = RedisTokenStore::new(conn, "ns", &Account::production("shop2").unwrap()).unwrap();
    let record = TokenRecord::seed(pair("prod"));
    prod.swap(None, &record).await.unwrap();
    assert_eq!(prod.load().await.unwrap().record, Some(record));
    assert_eq!(staging.load().await.unwrap().record, None);
    assert_eq!(other.load().await.unwrap().record, None);
    assert!(!prod.key().contains("SECRET"));
}

#[tokio::test]
async fn redis_down_is_a_typed_error_without_tokens() {
    let mut redis = redis_or_skip!();
    let a = store(&redis.url());
    let record = TokenRecord::seed(pair("old"));
    a.swap(None, &record).await.unwrap();
    assert!(!format!("{a:?}").contains("SECRET"));
    redis.stop();
    let err = a.get().await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    // through the runtime's trait: the typed error is the source
    let err = a.swap(Some(record.revision), &record).await.unwrap_err();
    let typed = err
        .downcast_ref::<RedisError>()
        .expect("a RedisError source");
    assert!(typed.is_unavailable(), "{typed:?}");
    assert!(err.to_string().contains("redis is unavailable"), "{err}");
    assert!(!err.to_string().contains("SECRET"));
}

fn slot(class: MethodClass, max_wait: Duration) -> SlotRequest {
    SlotRequest {
        key: LimiterKey::token_pair(),
        class,
        limit: RateLimit::new(30, Duration::from_secs(3)),
        max_wait,
    }
}

fn limiter(url: &str) -> RedisRateLimiter {
    RedisRateLimiter::new(RedisConnection::open(url).unwrap(), "ns", &account()).unwrap()
}

/// Reservations from 3 connections: the reserved instants keep to 30 per 3 s + 3/16 s.
#[tokio::test]
async fn gcra_reservations_keep_every_window_within_the_limit() {
    let redis = redis_or_skip!();
    let limiters: Vec<_> = (0..3).map(|_| limiter(&redis.url())).collect();
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for i in 0..60 {
        let l = limiters[i % 3].clone();
        tasks.push(tokio::spawn(async move {
            let grant = l
                .reserve(slot(MethodClass::Post, Duration::from_secs(60)))
                .await
                .unwrap();
            let SlotGrant::Granted { wait } = grant else {
                panic!("{grant:?}")
            };
            // the reserved instant, relative to the start (reply latency only adds)
            tokio::time::Instant::now() + wait - start
        }));
    }
    let mut at = Vec::new();
    for t in tasks {
        at.push(t.await.unwrap());
    }
    at.sort();
    let span = Duration::from_micros(3_187_500);
    let most = vandar_runtime::test_util::max_in_window(&at, span - Duration::from_millis(15));
    assert!(most <= 30, "{most} in one window");
    // smooth: one slot every 109.9 ms, so 60 take about 6.5 s
    let total = *at.last().unwrap() - at[0];
    assert!(
        total >= Duration::from_millis(6_300) && total <= Duration::from_millis(6_900),
        "{total:?}"
    );
    // the other class is a separate budget: its first slot is free now
    assert!(free_now(&limiters[0], slot(MethodClass::Other, Duration::ZERO)).await);
    // a slot beyond the caller's wait is refused and not reserved
    let grant = limiters[1]
        .reserve(slot(MethodClass::Post, Duration::from_millis(10)))
        .await
        .unwrap();
    assert!(matches!(grant, SlotGrant::TooLate { next_in } if next_in > Duration::from_secs(5)));
    // another account in the same namespace has its own budget
    let other = RedisRateLimiter::new(
        RedisConnection::open(&redis.url()).unwrap(),
        "ns",
        &Account::new("shop", "https://staging.example").unwrap(),
    )
    .unwrap();
    assert!(free_now(&other, slot(MethodClass::Post, Duration::ZERO)).await);
}

/// Whether `l` grants `request` without a wait.
async fn free_now(l: &RedisRateLimiter, request: SlotRequest) -> bool {
    l.reserve(request).await.unwrap()
        == SlotGrant::Granted {
            wait: Duration::ZERO,
        }
}

#[tokio::test]
async fn a_429_pause_holds_back_every_process_of_the_account_only() {
    let redis = redis_or_skip!();
    let (a, b) = (limiter(&redis.url()), limiter(&redis.url()));
    a.hold_back(LimiterKey::token_pair(), Duration::from_secs(2))
        .await
        .unwrap();
    let grant = b
        .reserve(slot(MethodClass::Other, Duration::from_secs(10)))
        .await
        .unwrap();
    let SlotGrant::Granted { wait } = grant else {
        panic!("{grant:?}")
    };
    assert!(
        wait >= Duration::from_millis(1800) && wait <= Duration::from_secs(2),
        "{wait:?}"
    );
    // another credential is not held back
    let other = SlotRequest {
        key: LimiterKey::of("api_key", "k"),
        ..slot(MethodClass::Other, Duration::ZERO)
    };
    assert!(free_now(&b, other).await);
    // nor is another account's token pair
    let other_account = RedisRateLimiter::new(
        RedisConnection::open(&redis.url()).unwrap(),
        "ns",
        &Account::production("shop2").unwrap(),
    )
    .unwrap();
    assert!(free_now(&other_account, slot(MethodClass::Other, Duration::ZERO)).await);
}

/// Wait (bounded) until `l` counts `n` replicas.
async fn until_counted(l: &RedisRateLimiter, n: u32) -> u32 {
    let started = tokio::time::Instant::now();
    while l.replicas() != n && started.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    l.replicas()
}

/// The fallback budget follows the live replicas: 3 heartbeats divide the limits by 3; one
/// replica stopping is no longer counted after its beat ends; a fixed count overrides.
#[tokio::test]
async fn the_fallback_budget_follows_the_live_replicas() {
    let redis = redis_or_skip!();
    let beat = |l: RedisRateLimiter| {
        l.with_heartbeat(Duration::from_millis(100), Duration::from_millis(400))
            .unwrap()
    };
    let a = beat(limiter(&redis.url()));
    assert_eq!(until_counted(&a, 1).await, 1, "alone");
    let b = beat(limiter(&redis.url()));
    let c = beat(limiter(&redis.url()));
    assert_eq!(until_counted(&a, 3).await, 3);
    let limits = RateLimits::vandar();
    let fallback = a.fallback_limits(&limits);
    assert_eq!(fallback.post.unwrap().max_requests(), 10, "30 / 3");
    assert_eq!(fallback.other.unwrap().max_requests(), 33, "100 / 3");
    // another account's replicas are not counted
    let _elsewhere = RedisRateLimiter::new(
        RedisConnection::open(&redis.url()).unwrap(),
        "ns",
        &Account::production("shop2").unwrap(),
    )
    .unwrap()
    .with_heartbeat(Duration::from_millis(100), Duration::from_millis(400))
    .unwrap();
    // one replica goes away: counted out within its beat's end
    drop(c);
    assert_eq!(until_counted(&a, 2).await, 2);
    assert_eq!(until_counted(&b, 2).await, 2);
    assert_eq!(a.fallback_limits(&limits).post.unwrap().max_requests(), 15);
    // a fixed count overrides the heartbeats
    let fixed = limiter(&redis.url()).with_replicas(5);
    assert_eq!(fixed.replicas(), 5);
    assert_eq!(
        fixed.fallback_limits(&limits).post.unwrap().max_requests(),
        6
    );
}

/// While Redis is down the last live count is kept (that is when the fallback applies).
#[tokio::test]
async fn the_last_count_is_kept_while_redis_is_down() {
    let mut redis = redis_or_skip!();
    let beat = |l: RedisRateLimiter| {
        l.with_heartbeat(Duration::from_millis(100), Duration::from_millis(400))
            .unwrap()
    };
    let a = beat(limiter(&redis.url()));
    let _b = beat(limiter(&redis.url()));
    assert_eq!(until_counted(&a, 2).await, 2);
    redis.stop();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(a.replicas(), 2);
    let err = a
        .reserve(slot(MethodClass::Other, Duration::ZERO))
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert_eq!(
        a.fallback_limits(&RateLimits::vandar())
            .post
            .unwrap()
            .max_requests(),
        15
    );
}
