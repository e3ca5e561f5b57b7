//! A Redis that accepts connections and never answers (a hung server, a black-holed network):
//! a call through the runtime still ends by its total timeout with nothing sent, and once the
//! command timeout turns the silence into an error the runtime goes on without Redis (the
//! local limiter, the configured pair). Needs no redis-server: the silent one is a plain
//! listener on 127.0.0.1.

mod common;

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::time::Instant;
use vandar_redis::{RedisConnection, RedisOptions, RedisRateLimiter, RedisTokenStore};
use vandar_runtime::test_util::{FaultServer, Reply, call_json};
use vandar_runtime::{
    AuthError, Binding, Config, ConfigBuilder, Error, RateLimits, RetryPolicy, Route, Runtime,
    Timeouts, TokenPair,
};

static ROUTES: &[Route] = &[common::fake::GET_BALANCE];

const ACCESS: &str = "acc-silent-SECRET";

/// A listener on 127.0.0.1 that reads whatever arrives and never writes; its `redis://` URL.
async fn silent_redis() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("redis://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
            });
        }
    });
    (url, task)
}

/// A connection to `url` whose connect and command timeouts are `timeout`.
fn connection(url: &str, timeout: Duration) -> RedisConnection {
    let options = RedisOptions {
        command_timeout: timeout,
        connect_timeout: timeout,
        ..RedisOptions::default()
    };
    RedisConnection::open_with(url, options).unwrap()
}

async fn server() -> FaultServer {
    FaultServer::start(|_| Reply::json(200, json!({"status": 1, "data": {"wallet": 1000}}))).await
}

fn config(server: &FaultServer, total: Duration) -> ConfigBuilder {
    Config::builder()
        .all_hosts(&server.uri())
        .retry(RetryPolicy::none())
        .timeouts(Timeouts::default().with_total(total))
}

/// One call, failing the test if it runs for more than 4 s.
async fn call(config: ConfigBuilder) -> (Result<Value, Error>, Duration) {
    let b = Binding::new(Runtime::new(config.build().unwrap()).unwrap(), ROUTES, &[]);
    let started = Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(4), call_json(&b, "get_balance", None))
        .await
        .expect("the call ended within 4 s");
    (result, started.elapsed())
}

#[tokio::test]
async fn a_silent_redis_limiter_never_holds_a_call_past_its_deadline() {
    let (url, _redis) = silent_redis().await;
    let server = server().await;
    // the call's total, and the limiter's connect and command timeouts
    let limited = |total, redis_timeout| {
        let limiter = RedisRateLimiter::new(
            connection(&url, redis_timeout),
            "ns",
            &common::fake::account(),
        )
        .unwrap();
        config(&server, total)
            .access_token(ACCESS)
            .rate_limits(RateLimits::vandar())
            .shared_rate_limiter(limiter)
    };
    // a total (1 s) far shorter than the connect and command timeouts (10 s): the call ends
    // at its deadline
    let (result, took) = call(limited(Duration::from_secs(1), Duration::from_secs(10))).await;
    assert!(
        matches!(result, Err(Error::Timeout { .. })),
        "{result:?} after {took:?}"
    );
    assert!(server.requests().is_empty(), "nothing was sent");
    // with time to spare, the command timeout (1 s) makes it an error: the local limiter
    // decides
    let (result, _) = call(limited(Duration::from_secs(3), Duration::from_secs(1))).await;
    result.unwrap();
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_silent_redis_token_store_never_holds_a_call_past_its_deadline() {
    let (url, _redis) = silent_redis().await;
    let server = server().await;
    let binding = |redis_timeout, total| {
        let store = RedisTokenStore::new(
            connection(&url, redis_timeout),
            "ns",
            &common::fake::account(),
        )
        .unwrap();
        let pair = TokenPair::issued_at(ACCESS, "ref-silent-SECRET", SystemTime::now());
        let config = config(&server, total)
            .rate_limits(RateLimits::unlimited())
            .token_store(store)
            .token_pair(pair);
        Binding::new(Runtime::new(config.build().unwrap()).unwrap(), ROUTES, &[])
    };
    let call = |b: Binding| async move {
        tokio::time::timeout(Duration::from_secs(4), call_json(&b, "get_balance", None))
            .await
            .expect("the call ended within 4 s")
    };
    // a total (1 s) far shorter than the connect and command timeouts (10 s): the first call
    // ends at its deadline, nothing sent
    let b = binding(Duration::from_secs(10), Duration::from_secs(1));
    let first = call(b.clone()).await;
    assert!(
        matches!(first, Err(Error::Auth(AuthError::RefreshTimeout))),
        "{first:?}"
    );
    assert!(server.requests().is_empty(), "nothing was sent");
    // the load goes on after the caller gave up; the command timeout (1 s) ends it, and the
    // configured pair is used while Redis does not answer
    let b = binding(Duration::from_secs(1), Duration::from_millis(500));
    let first = call(b.clone()).await;
    assert!(
        matches!(first, Err(Error::Auth(AuthError::RefreshTimeout))),
        "{first:?}"
    );
    assert!(server.requests().is_empty(), "nothing was sent");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    call(b).await.unwrap();
    let sent = server.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].header("authorization"),
        Some(format!("Bearer {ACCESS}").as_str())
    );
}
