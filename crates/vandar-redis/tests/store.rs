//! The lease, compare-and-set, spent marker and GCRA against a real redis-server, with
//! separate connections standing in for separate processes.

mod common;

use std::time::{Duration, SystemTime};

use vandar_redis::{RedisConnection, RedisError, RedisRateLimiter, RedisTokenStore};
use vandar_runtime::{
    LeaseOutcome, LeaseTiming, LimiterKey, MethodClass, RateLimit, RefreshFailure, SaveOutcome,
    SlotGrant, SlotRequest, TokenPair, TokenStore,
};

fn pair(tag: &str) -> TokenPair {
    let now = SystemTime::now();
    TokenPair::new(
        format!("acc-{tag}-SECRET"),
        format!("ref-{tag}-SECRET"),
        now + Duration::from_secs(3600),
        now + Duration::from_secs(86_400),
    )
}

fn store(url: &str) -> RedisTokenStore {
    RedisTokenStore::new(RedisConnection::open(url).unwrap(), "shop")
        .unwrap()
        .with_lease_slack(Duration::ZERO)
}

fn timing(hold_ms: u64, wait_ms: u64) -> LeaseTiming {
    LeaseTiming {
        hold: Duration::from_millis(hold_ms),
        wait: Duration::from_millis(wait_ms),
    }
}

#[tokio::test]
async fn one_holder_and_the_waiter_gets_the_new_pair() {
    let redis = redis_or_skip!();
    let (a, b) = (store(&redis.url()), store(&redis.url()));
    let (old, new) = (pair("old"), pair("new"));
    assert!(a.seed(&old).await.unwrap());
    assert!(!b.seed(&new).await.unwrap(), "a stored pair is kept");
    assert_eq!(b.get().await.unwrap(), Some(old.clone()));

    let LeaseOutcome::Granted(lease) = a.lease(&old, timing(5000, 0)).await.unwrap() else {
        panic!("the first asker gets the lease");
    };
    let waiter = {
        let (b, old) = (b.clone(), old.clone());
        tokio::spawn(async move {
            let started = tokio::time::Instant::now();
            (b.lease(&old, timing(5000, 3000)).await, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiter.is_finished(),
        "the second asker waits for the holder"
    );
    assert_eq!(
        a.finish(&lease, &old, &new).await.unwrap(),
        SaveOutcome::Saved
    );
    let (outcome, waited) = waiter.await.unwrap();
    assert_eq!(outcome.unwrap(), LeaseOutcome::Newer(new.clone()));
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert_eq!(a.get().await.unwrap(), Some(new.clone()));

    // A waiter whose wait ends first gets the typed error.
    let LeaseOutcome::Granted(_) = a.lease(&new, timing(5000, 0)).await.unwrap() else {
        panic!("lease for the new pair");
    };
    let err = b.lease(&new, timing(5000, 200)).await.unwrap_err();
    assert!(matches!(err, RedisError::LeaseWait { .. }), "{err}");
}

#[tokio::test]
async fn a_dead_holders_lease_expires_and_a_slow_holder_cannot_overwrite() {
    let redis = redis_or_skip!();
    let (a, b) = (store(&redis.url()), store(&redis.url()));
    let (old, mine, theirs) = (pair("old"), pair("slow"), pair("fast"));
    b.put(&old).await.unwrap();
    // `a` takes a 400 ms lease and stalls (as if dead).
    let LeaseOutcome::Granted(slow) = a.lease(&old, timing(400, 0)).await.unwrap() else {
        panic!("granted");
    };
    let started = tokio::time::Instant::now();
    let LeaseOutcome::Granted(fast) = b.lease(&old, timing(5000, 3000)).await.unwrap() else {
        panic!("granted once the lease expired");
    };
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_millis(2000),
        "{waited:?}"
    );
    assert_eq!(
        b.finish(&fast, &old, &theirs).await.unwrap(),
        SaveOutcome::Saved
    );
    // The slow holder finishes later: compare-and-set keeps the newer pair.
    assert_eq!(
        a.finish(&slow, &old, &mine).await.unwrap(),
        SaveOutcome::Newer(theirs.clone())
    );
    assert_eq!(a.get().await.unwrap(), Some(theirs));
}

#[tokio::test]
async fn a_spent_refresh_token_is_not_handed_out_again() {
    let redis = redis_or_skip!();
    let (a, b) = (store(&redis.url()), store(&redis.url()));
    let old = pair("old");
    a.put(&old).await.unwrap();
    let LeaseOutcome::Granted(lease) = a.lease(&old, timing(5000, 0)).await.unwrap() else {
        panic!("granted");
    };
    a.abandon(&lease, &old, RefreshFailure::OutcomeUnknown)
        .await
        .unwrap();
    assert_eq!(
        b.lease(&old, timing(5000, 1000)).await.unwrap(),
        LeaseOutcome::Spent(RefreshFailure::OutcomeUnknown)
    );
    // A retryable failure only releases the lease.
    let other = pair("other");
    a.put(&other).await.unwrap();
    let LeaseOutcome::Granted(lease) = a.lease(&other, timing(5000, 0)).await.unwrap() else {
        panic!("granted");
    };
    a.abandon(&lease, &other, RefreshFailure::Retryable)
        .await
        .unwrap();
    let LeaseOutcome::Granted(lease) = b.lease(&other, timing(5000, 0)).await.unwrap() else {
        panic!("granted after a retryable failure");
    };
    b.abandon(&lease, &other, RefreshFailure::Retryable)
        .await
        .unwrap();
    // Installing a pair clears the marker.
    let rejected = pair("rejected");
    a.put(&rejected).await.unwrap();
    let LeaseOutcome::Granted(lease) = a.lease(&rejected, timing(100, 0)).await.unwrap() else {
        panic!("granted");
    };
    a.abandon(&lease, &rejected, RefreshFailure::Rejected { status: 401 })
        .await
        .unwrap();
    assert_eq!(
        b.lease(&rejected, timing(100, 0)).await.unwrap(),
        LeaseOutcome::Spent(RefreshFailure::Rejected { status: 401 })
    );
    a.put(&rejected).await.unwrap();
    assert!(matches!(
        b.lease(&rejected, timing(100, 0)).await.unwrap(),
        LeaseOutcome::Granted(_)
    ));
}

#[tokio::test]
async fn redis_down_is_a_typed_error_and_no_key_names_a_token() {
    let mut redis = redis_or_skip!();
    let a = store(&redis.url());
    let p = pair("old");
    a.put(&p).await.unwrap();
    assert!(!a.pair_key().contains("SECRET") && !a.lease_key().contains("SECRET"));
    assert!(!format!("{a:?}").contains("SECRET"));
    redis.stop();
    let err = a.get().await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    let err = a.lease(&p, timing(1000, 1000)).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    // through the runtime's trait: the typed error is the source
    let err = TokenStore::load(&a).await.unwrap_err();
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

/// Reservations from 3 connections: the reserved instants keep to 30 per 3 s + 3/16 s.
#[tokio::test]
async fn gcra_reservations_keep_every_window_within_the_limit() {
    let redis = redis_or_skip!();
    let limiters: Vec<_> = (0..3)
        .map(|_| {
            RedisRateLimiter::new(RedisConnection::open(&redis.url()).unwrap(), "shop").unwrap()
        })
        .collect();
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
    let grant = limiters[0]
        .reserve(slot(MethodClass::Other, Duration::ZERO))
        .await
        .unwrap();
    assert_eq!(
        grant,
        SlotGrant::Granted {
            wait: Duration::ZERO
        }
    );
    // a slot beyond the caller's wait is refused and not reserved
    let grant = limiters[1]
        .reserve(slot(MethodClass::Post, Duration::from_millis(10)))
        .await
        .unwrap();
    assert!(matches!(grant, SlotGrant::TooLate { next_in } if next_in > Duration::from_secs(5)));
}

#[tokio::test]
async fn a_429_pause_holds_back_every_process() {
    let redis = redis_or_skip!();
    let a = RedisRateLimiter::new(RedisConnection::open(&redis.url()).unwrap(), "shop").unwrap();
    let b = RedisRateLimiter::new(RedisConnection::open(&redis.url()).unwrap(), "shop").unwrap();
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
    assert_eq!(
        b.reserve(other).await.unwrap(),
        SlotGrant::Granted {
            wait: Duration::ZERO
        }
    );
}
