//! Sandbox and production tokens never mix through Redis (review r9, rev-b F6): the
//! environment is named twice (the runtime's base URL and the store's `Account`), and a
//! runtime only ever uses a record of the environment it really talks to.

mod common;

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use vandar_redis::{Account, RedisConnection, RedisTokenStore};
use vandar_runtime::test_util::{FaultServer, Reply, RotatingVandar, access, refresh};
use vandar_runtime::{
    AuthError, Binding, Config, ConfigBuilder, Error, RateLimits, RetryPolicy, Route, Runtime,
    TokenPair,
};

static ROUTES: &[Route] = &[common::fake::GET_BALANCE];

fn binding(config: ConfigBuilder) -> Binding {
    Binding::new(Runtime::new(config.build().unwrap()).unwrap(), ROUTES, &[])
}

fn base(uri: &str) -> ConfigBuilder {
    Config::builder()
        .all_hosts(uri)
        .rate_limits(RateLimits::unlimited())
}

async fn safe(b: &Binding) -> Result<Value, Error> {
    vandar_runtime::test_util::call_json(b, common::fake::GET_BALANCE.operation_id, None).await
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

/// Two runtimes share a Redis store built with `Account::production("shop")`, as in the crate
/// docs. Runtime P points at "production" (a fake that rotates), runtime S at "sandbox"
/// (`.all_hosts(sandbox)`, its own `token_pair`). S must never send P's access token (nor
/// anything else: the store is not its own); it fails with an error naming both.
#[tokio::test]
async fn a_sandbox_runtime_never_sends_the_production_token() {
    let Some(redis) = common::RedisServer::start() else {
        return;
    };
    let production = RotatingVandar::start().await;
    let sandbox = FaultServer::start(|_| Reply::json(200, json!({"status": 1}))).await;
    // The account copied from the docs (`Account::production`), the runtime pointed at the
    // sandbox by configuration.
    let store = || {
        RedisTokenStore::new(
            RedisConnection::open(&redis.url()).unwrap(),
            "shop-backend",
            &Account::production("shop").unwrap(),
        )
        .unwrap()
    };
    let prod = binding(
        base(&production.server.uri())
            .retry(RetryPolicy::none())
            .token_store(store())
            .token_pair(expired_pair(&access(0), &refresh(0))),
    );
    safe(&prod).await.unwrap();
    assert_eq!(production.refreshes(), 1);
    let sbx = binding(
        base(&sandbox.uri())
            .retry(RetryPolicy::none())
            .token_store(store())
            .token_pair(TokenPair::issued_at(
                "sbx-acc-SECRET",
                "sbx-ref-SECRET",
                SystemTime::now(),
            )),
    );
    let refused = safe(&sbx).await;
    let leaked: Vec<_> = sandbox
        .requests()
        .iter()
        .filter_map(|r| r.header("authorization").map(str::to_owned))
        .filter(|h| h.contains("acc-"))
        .collect();
    assert!(
        leaked.is_empty(),
        "the sandbox server received the production access token: {leaked:?}"
    );
    match refused {
        Err(Error::Auth(AuthError::EnvironmentMismatch { stored, runtime })) => {
            assert_eq!(stored, production.server.uri());
            assert_eq!(runtime, sandbox.uri());
        }
        other => panic!("{other:?}"),
    }
    // The production pair in the store is untouched, and production goes on with it.
    let record = store().get().await.unwrap().record.unwrap();
    assert_eq!(record.pair.access_token.expose(), access(1));
    assert_eq!(
        record.environment.as_deref(),
        Some(production.server.uri().as_str())
    );
    safe(&prod).await.unwrap();
    assert_eq!(production.refreshes(), 1);
}
