//! The hooks end to end against the fault-injecting server, driving `pre`/`exec`/`post` the way
//! the generated `send()` does, with bearer routes (no generated client uses one yet). Every
//! test runs under paused tokio time: waits, timeouts and backoff are virtual and exact.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::json;
use tokio::time::Instant;

use crate::route::Auth;
use crate::test_util::{
    CapturedTraces, FaultServer, RecordedRequest, RefreshMode, Reply, RotatingVandar, max_in_window,
};
use crate::{
    AuthError, Binding, Clock, Config, ConfigBuilder, Error, MemoryTokenStore, RateLimit,
    RateLimits, RetryPolicy, Route, Runtime, Timeouts, TokenPair, TokenRefresh,
};

static ROUTES: &[Route] = &[
    Route {
        operation_id: "get_balance",
        method: "GET",
        host: "https://api.vandar.io",
        path: "/v3/business/shop/balance",
        segments: &[
            crate::Segment::Lit("v3"),
            crate::Segment::Lit("business"),
            crate::Segment::Lit("shop"),
            crate::Segment::Lit("balance"),
        ],
        auth: Auth::Bearer("bearer"),
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
            crate::Segment::Lit("v3"),
            crate::Segment::Lit("business"),
            crate::Segment::Lit("shop"),
            crate::Segment::Lit("settlement"),
            crate::Segment::Lit("store"),
        ],
        auth: Auth::Bearer("bearer"),
        api_key_field: None,
        idempotent: false,
        checks: &[],
    },
    Route {
        operation_id: "ipg_info",
        method: "POST",
        host: "https://ipg.vandar.io",
        path: "/api/v4/transaction",
        segments: &[
            crate::Segment::Lit("api"),
            crate::Segment::Lit("v4"),
            crate::Segment::Lit("transaction"),
        ],
        auth: Auth::None,
        api_key_field: Some("api_key"),
        idempotent: true,
        checks: &[],
    },
    Route {
        operation_id: "ipg_verify",
        method: "POST",
        host: "https://ipg.vandar.io",
        path: "/api/v4/verify",
        segments: &[
            crate::Segment::Lit("api"),
            crate::Segment::Lit("v4"),
            crate::Segment::Lit("verify"),
        ],
        auth: Auth::None,
        api_key_field: Some("api_key"),
        idempotent: false,
        checks: &[],
    },
    Route {
        operation_id: "health",
        method: "GET",
        host: "https://ipg.vandar.io",
        path: "/health",
        segments: &[crate::Segment::Lit("health")],
        auth: Auth::None,
        api_key_field: Some("api_key"),
        idempotent: true,
        checks: &[],
    },
];

const BALANCE: &str = "/v3/business/shop/balance";
const SETTLE: &str = "/v3/business/shop/settlement/store";
const REFRESH: &str = "/v3/refreshtoken";
const INFO: &str = "/api/v4/transaction";
const VERIFY: &str = "/api/v4/verify";

const OLD_ACCESS: &str = "acc-OLD-4f1c-SECRET";
const OLD_REFRESH: &str = "ref-OLD-77aa-SECRET";
const NEW_ACCESS: &str = "acc-NEW-9b2e-SECRET";
const NEW_REFRESH: &str = "ref-NEW-c3d0-SECRET";

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// A wall clock that tests set by hand.
#[derive(Clone)]
struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    fn at(t: SystemTime) -> Self {
        Self(Arc::new(Mutex::new(t)))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

/// Test settings: every host on the server, generous per-attempt timeout, 4 retries.
fn config(server: &FaultServer) -> ConfigBuilder {
    Config::builder()
        .all_hosts(&server.uri())
        .timeouts(
            Timeouts::default()
                .with_per_attempt(Duration::from_secs(5))
                .with_total(Duration::from_secs(120)),
        )
        .retry(RetryPolicy {
            max_retries: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            jitter: true,
        })
        .clock(ManualClock::at(t0()))
}

fn binding(config: Config) -> Binding {
    Binding::new(Runtime::new(config).unwrap(), ROUTES, &[])
}

/// What a generated `send()` does: build the request, then `Binding::call`.
use crate::test_util::call_json as call;

fn ok() -> Reply {
    Reply::json(200, json!({"status": 1, "data": {"wallet": 1000}}))
}

fn gaps(reqs: &[RecordedRequest]) -> Vec<Duration> {
    reqs.windows(2).map(|w| w[1].at - w[0].at).collect()
}

// ---------------------------------------------------------------- retries

#[tokio::test(start_paused = true)]
async fn safe_call_recovers_from_reset_stall_and_5xx() {
    let server = FaultServer::scripted(
        vec![
            Reply::Reset,
            Reply::Stall,
            Reply::json(503, json!({"message": "maintenance"})),
            Reply::text(502, "text/html", "<html>bad gateway</html>"),
        ],
        ok(),
    )
    .await;
    let b = binding(config(&server).build().unwrap());
    let started = Instant::now();
    let body = call(&b, "ipg_info", Some(json!({"token": "T"})))
        .await
        .unwrap();
    assert_eq!(body["status"], 1);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 5, "4 failures, then success");
    assert!(reqs.iter().all(|r| r.path_only() == INFO));
    let g = gaps(&reqs);
    // backoff 100, 200, 400, 800 ms (jitter adds up to 100%), after the stall its 5 s timeout
    assert!(
        g[0] >= Duration::from_millis(100) && g[0] <= Duration::from_millis(200),
        "{g:?}"
    );
    assert!(
        g[1] >= Duration::from_millis(5200) && g[1] <= Duration::from_millis(5400),
        "{g:?}"
    );
    assert!(
        g[2] >= Duration::from_millis(400) && g[2] <= Duration::from_millis(800),
        "{g:?}"
    );
    assert!(
        g[3] >= Duration::from_millis(800) && g[3] <= Duration::from_millis(1600),
        "{g:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn retries_are_bounded_and_the_last_answer_is_returned() {
    let server = FaultServer::scripted(vec![], Reply::json(503, json!({"message": "down"}))).await;
    let b = binding(config(&server).build().unwrap());
    let err = call(&b, "ipg_info", None).await.unwrap_err();
    assert_eq!(server.requests().len(), 5, "1 attempt + 4 retries");
    let api = err.api_error().unwrap_or_else(|| panic!("{err}"));
    assert_eq!(api.http_status, 503);
    assert_eq!(api.messages, vec!["down"]);
    assert!(err.is_retryable());

    // the total timeout cuts the retries short: 100 + 200 ms fit into 1 s, 400 more do not
    let server = FaultServer::scripted(vec![], Reply::json(503, json!({"message": "down"}))).await;
    let b = binding(
        config(&server)
            .timeouts(Timeouts::default().with_total(Duration::from_millis(1000)))
            .retry(RetryPolicy {
                max_retries: 10,
                initial_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_millis(100),
                jitter: false,
            })
            .build()
            .unwrap(),
    );
    let started = Instant::now();
    let err = call(&b, "ipg_info", None).await.unwrap_err();
    assert_eq!(err.http_status(), Some(503));
    assert!(started.elapsed() <= Duration::from_millis(1000));
    assert_eq!(
        server.requests().len(),
        10,
        "attempts at 0, 100, .., 900 ms"
    );
}

#[tokio::test(start_paused = true)]
async fn a_429_retry_after_holds_back_every_caller() {
    let server = FaultServer::scripted(
        vec![
            Reply::json(429, json!({"message": "Too Many Attempts."}))
                .with_header("retry-after", "7"),
        ],
        ok(),
    )
    .await;
    let b = binding(config(&server).build().unwrap());
    let first = tokio::spawn({
        let b = b.clone();
        async move { call(&b, "ipg_info", None).await }
    });
    // let the first call meet its 429, then start a second, unrelated call
    tokio::time::sleep(Duration::from_millis(10)).await;
    let second = call(&b, "health", None).await;
    assert!(second.is_ok());
    assert!(first.await.unwrap().is_ok());
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].path_only(), INFO);
    for r in &reqs[1..] {
        assert!(
            r.at - reqs[0].at >= Duration::from_secs(7),
            "{:?}",
            r.at - reqs[0].at
        );
    }
}

#[tokio::test(start_paused = true)]
async fn rate_limit_wait_past_the_total_timeout_sends_nothing() {
    let server = FaultServer::scripted(vec![], ok()).await;
    let b = binding(
        config(&server)
            .timeouts(Timeouts::default().with_total(Duration::from_secs(2)))
            .rate_limits(RateLimits {
                post: Some(RateLimit::new(2, Duration::from_secs(10)).with_burst(1)),
                other: None,
            })
            .build()
            .unwrap(),
    );
    call(&b, "ipg_verify", None).await.unwrap();
    let err = call(&b, "ipg_verify", None).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("nothing was sent"), "{err}");
    assert!(err.is_retryable());
    assert_eq!(server.requests().len(), 1);
}

// ---------------------------------------------------------------- non-idempotent calls

#[tokio::test(start_paused = true)]
async fn lost_response_of_a_payment_call_is_outcome_unknown_and_sent_once() {
    for (fault, what) in [
        (Reply::Close, "closed"),
        (Reply::Reset, "reset"),
        (Reply::Stall, "timeout"),
        (ok().after(Duration::from_secs(60)), "slow answer"),
    ] {
        let server = FaultServer::scripted(vec![fault], ok()).await;
        let b = binding(config(&server).build().unwrap());
        let err = call(&b, "ipg_verify", Some(json!({"token": "T"})))
            .await
            .unwrap_err();
        assert!(err.is_outcome_unknown(), "{what}: {err}");
        assert!(!err.is_retryable(), "{what}");
        let text = err.to_string();
        assert!(
            text.contains("ipg_verify") && text.contains("get_transaction_info"),
            "{text}"
        );
        assert!(text.contains("track_id"), "{text}");
        assert_eq!(server.requests().len(), 1, "{what}: sent exactly once");
    }
}

/// An error body just under the size cap is not kept: the error is its status and size, not
/// megabytes of field errors in every Display and log line.
#[tokio::test(start_paused = true)]
async fn a_huge_error_body_becomes_a_short_error_that_keeps_its_status() {
    let errors: serde_json::Map<String, serde_json::Value> = (0..20_000)
        .map(|i| (format!("field_{i}"), json!(["is invalid"])))
        .collect();
    let body = json!({"message": "The given data was invalid.", "errors": errors});
    let server =
        FaultServer::start(move |_| Reply::json(422, body.clone()).with_header("retry-after", "7"))
            .await;
    let b = binding(config(&server).access_token("t").build().unwrap());
    let err = call(&b, "get_balance", None).await.unwrap_err();
    assert_eq!(err.http_status(), Some(422), "{err}");
    let api = err.api_error().unwrap();
    assert_eq!(api.retry_after, Some(Duration::from_secs(7)));
    assert!(api.field_errors.is_empty());
    let text = format!("{err} {err:?}");
    assert!(text.len() < 4096, "{} bytes", text.len());
    assert!(text.contains("too large to keep"), "{text}");
    // a body under 64 KiB is read as before
    let small =
        FaultServer::start(|_| Reply::json(422, json!({"errors": {"amount": ["is too small"]}})))
            .await;
    let b = binding(config(&small).access_token("t").build().unwrap());
    let err = call(&b, "get_balance", None).await.unwrap_err();
    assert_eq!(
        err.api_error().unwrap().field_errors["amount"],
        vec!["is too small"]
    );
}

#[tokio::test(start_paused = true)]
async fn payment_calls_are_not_retried_on_5xx_or_429() {
    // 500/502/504 and a CDN's or proxy's timeouts may come after the request was processed:
    // outcome unknown, sent once
    for status in [500, 502, 504, 520, 522, 524, 598, 599] {
        let server = FaultServer::scripted(
            vec![Reply::text(
                status,
                "text/html",
                "<html>A timeout occurred</html>",
            )],
            ok(),
        )
        .await;
        let b = binding(config(&server).build().unwrap());
        let err = call(&b, "ipg_verify", None).await.unwrap_err();
        assert_eq!(server.requests().len(), 1, "{err}");
        assert!(err.is_outcome_unknown() && !err.is_retryable(), "{err}");
        assert_eq!(err.http_status(), Some(status), "{err}");
    }
    for reply in [
        Reply::json(503, json!({"message": "busy"})),
        Reply::json(429, json!({"message": "slow down"})).with_header("retry-after", "3"),
    ] {
        let server = FaultServer::scripted(vec![reply], ok()).await;
        let b = binding(config(&server).build().unwrap());
        let err = call(&b, "ipg_verify", None).await.unwrap_err();
        assert_eq!(server.requests().len(), 1, "{err}");
        assert!(err.is_retryable(), "{err}");
        if err.http_status() == Some(429) {
            assert_eq!(
                err.api_error().unwrap().retry_after,
                Some(Duration::from_secs(3))
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn connect_failure_is_a_plain_transport_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let b = binding(
        Config::builder()
            .all_hosts(&format!("http://127.0.0.1:{port}"))
            .retry(RetryPolicy::none())
            .build()
            .unwrap(),
    );
    let err = call(&b, "ipg_verify", None).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err}");
    assert!(!err.is_outcome_unknown(), "nothing was sent");
    // It names the host and the cause class, never the URL.
    let text = err.to_string();
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.contains("connection refused"), "{text}");
    assert!(!text.contains("http://"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn status_zero_on_http_200_is_an_error() {
    let server = FaultServer::scripted(
        vec![],
        Reply::json(
            200,
            json!({"status": 0, "errors": {"error": "tool is not active"}}),
        ),
    )
    .await;
    let b = binding(config(&server).build().unwrap());
    let err = call(&b, "ipg_info", None).await.unwrap_err();
    let api = err.api_error().unwrap_or_else(|| panic!("{err}"));
    assert_eq!(api.http_status, 200, "the real status");
    assert_eq!(api.upstream_status, Some(0));
    assert_eq!(api.messages, vec!["tool is not active"]);
    assert_eq!(
        server.requests().len(),
        1,
        "an answer, not a transient failure"
    );
}

#[tokio::test(start_paused = true)]
async fn undocumented_status_with_a_json_body_keeps_its_messages() {
    let server = FaultServer::scripted(
        vec![],
        Reply::json(
            500,
            json!({"status": 0, "errors": {"error": "retry only if sure"}}),
        ),
    )
    .await;
    let b = binding(config(&server).build().unwrap());
    let err = call(&b, "ipg_info", None).await.unwrap_err();
    let api = err.api_error().unwrap_or_else(|| panic!("{err}"));
    assert_eq!(
        (api.http_status, api.messages.clone()),
        (500, vec!["retry only if sure".to_string()])
    );
    assert_eq!(api.raw["errors"]["error"], "retry only if sure");
    assert!(!err.is_retryable());
}

// ---------------------------------------------------------------- tokens

/// A Vandar API that accepts only `NEW_ACCESS` and rotates `OLD_REFRESH` to the new pair
/// (after `delay`, so that concurrent callers pile up behind the refresh).
async fn token_server(delay: Duration) -> FaultServer {
    FaultServer::start(move |req| match req.path_only() {
        REFRESH => {
            let body = req.json().unwrap_or_default();
            if body == json!({"refreshtoken": OLD_REFRESH}) && req.header("authorization").is_none()
            {
                Reply::json(
                    200,
                    json!({"token_type": "Bearer", "expires_in": 432000,
                           "access_token": NEW_ACCESS, "refresh_token": NEW_REFRESH}),
                )
                .after(delay)
            } else {
                Reply::text(401, "application/json", r#"{ "unauthorized" }"#)
            }
        }
        _ if req.header("authorization") == Some(&format!("Bearer {NEW_ACCESS}")) => ok(),
        _ => Reply::json(401, json!({"status": 0, "error": "Unauthenticated"})),
    })
    .await
}

fn expired_pair() -> TokenPair {
    // issued 6 days ago: the access token expired a day ago, the refresh token is valid
    TokenPair::issued_at(
        OLD_ACCESS,
        OLD_REFRESH,
        t0() - Duration::from_secs(6 * 86400),
    )
}

#[tokio::test(start_paused = true)]
async fn concurrent_callers_with_an_expired_token_cause_one_refresh() {
    let server = token_server(Duration::from_millis(200)).await;
    let store = Arc::new(MemoryTokenStore::new(expired_pair()));
    let hook_calls = Arc::new(AtomicUsize::new(0));
    let b = binding(
        config(&server)
            .token_store(store.clone())
            .on_token_refresh({
                let hook_calls = hook_calls.clone();
                move |pair| {
                    assert_eq!(pair.access_token.expose(), NEW_ACCESS);
                    hook_calls.fetch_add(1, Ordering::SeqCst);
                }
            })
            .build()
            .unwrap(),
    );
    let calls: Vec<_> = (0..200)
        .map(|i| {
            let b = b.clone();
            let op = if i % 4 == 0 {
                "store_settlement"
            } else {
                "get_balance"
            };
            tokio::spawn(async move { call(&b, op, None).await })
        })
        .collect();
    for c in calls {
        c.await.unwrap().unwrap();
    }
    assert_eq!(server.count(REFRESH), 1, "exactly one refresh");
    assert_eq!(hook_calls.load(Ordering::SeqCst), 1);
    let api_calls: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path_only() != REFRESH)
        .collect();
    assert_eq!(api_calls.len(), 200, "no 401s, no replays");
    let bearer = format!("Bearer {NEW_ACCESS}");
    assert!(
        api_calls
            .iter()
            .all(|r| r.header("authorization") == Some(bearer.as_str()))
    );
    // the rotated pair replaced the old one, with fresh expiry times
    let stored = store.current().unwrap();
    assert_eq!(stored.access_token.expose(), NEW_ACCESS);
    assert_eq!(stored.refresh_token.expose(), NEW_REFRESH);
    assert_eq!(
        stored.access_expires_at,
        t0() + Duration::from_secs(432_000)
    );
    assert_eq!(
        stored.refresh_expires_at,
        t0() + Duration::from_secs(864_000)
    );
    assert_eq!(b.runtime().token_pair().await.unwrap(), Some(stored));
}

#[tokio::test(start_paused = true)]
async fn a_401_refreshes_once_and_replays_once() {
    // an idempotent call: refreshed and replayed once, the same request
    let server = token_server(Duration::ZERO).await;
    // valid by the clock, but the server no longer accepts it
    let pair = TokenPair::issued_at(OLD_ACCESS, OLD_REFRESH, t0());
    let b = binding(config(&server).token_pair(pair).build().unwrap());
    call(&b, "get_balance", None).await.unwrap();
    let reqs = server.requests();
    let paths: Vec<_> = reqs.iter().map(|r| r.path_only()).collect();
    assert_eq!(paths, vec![BALANCE, REFRESH, BALANCE]);
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("Bearer {OLD_ACCESS}").as_str())
    );
    assert_eq!(
        reqs[2].header("authorization"),
        Some(format!("Bearer {NEW_ACCESS}").as_str())
    );

    // a money call: the token is refreshed, the call is never sent again; the 401 is the
    // answer, and the caller's next call carries the new token
    let server = token_server(Duration::ZERO).await;
    let pair = TokenPair::issued_at(OLD_ACCESS, OLD_REFRESH, t0());
    let b = binding(config(&server).token_pair(pair).build().unwrap());
    let settle = Some(json!({"amount": 5000, "track_id": "t-1"}));
    let err = call(&b, "store_settlement", settle.clone())
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(401), "{err}");
    let reqs = server.requests();
    let paths: Vec<_> = reqs.iter().map(|r| r.path_only()).collect();
    assert_eq!(paths, vec![SETTLE, REFRESH], "refreshed, not resent");
    let body = call(&b, "store_settlement", settle).await.unwrap();
    assert_eq!(body["status"], 1);
    let reqs = server.requests();
    let paths: Vec<_> = reqs.iter().map(|r| r.path_only()).collect();
    assert_eq!(paths, vec![SETTLE, REFRESH, SETTLE]);
    assert_eq!(
        reqs[2].header("authorization"),
        Some(format!("Bearer {NEW_ACCESS}").as_str())
    );

    // a 401 after the replay is the answer: no loop
    let server = FaultServer::start(|req| match req.path_only() {
        REFRESH => Reply::json(
            200,
            json!({"access_token": NEW_ACCESS, "refresh_token": NEW_REFRESH, "expires_in": "432000"}),
        ),
        _ => Reply::json(401, json!({"status": 0, "error": "Unauthenticated"})),
    })
    .await;
    let pair = TokenPair::issued_at(OLD_ACCESS, OLD_REFRESH, t0());
    let b = binding(config(&server).token_pair(pair).build().unwrap());
    let err = call(&b, "get_balance", None).await.unwrap_err();
    assert_eq!(err.http_status(), Some(401));
    assert_eq!(err.api_error().unwrap().messages, vec!["Unauthenticated"]);
    assert_eq!(server.count(BALANCE), 2);
    assert_eq!(server.count(REFRESH), 1);
}

#[tokio::test(start_paused = true)]
async fn proactive_refresh_inside_the_margin() {
    // the access token has 30 minutes left; the margin is 1 hour
    let pair = TokenPair::new(
        OLD_ACCESS,
        OLD_REFRESH,
        t0() + Duration::from_secs(1800),
        t0() + Duration::from_secs(5 * 86400),
    );
    // A server that still accepts the old (valid) token: the call goes out at once with it,
    // while the refresh runs in the background (the caller never waits on it).
    let both = FaultServer::start(|req| match req.path_only() {
        REFRESH => Reply::json(
            200,
            json!({"token_type": "Bearer", "expires_in": 432000,
                   "access_token": NEW_ACCESS, "refresh_token": NEW_REFRESH}),
        )
        .after(Duration::from_secs(2)),
        _ => ok(),
    })
    .await;
    let b = binding(config(&both).token_pair(pair.clone()).build().unwrap());
    let started = tokio::time::Instant::now();
    call(&b, "get_balance", None).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the caller did not wait"
    );
    let first = both.requests();
    assert_eq!(first.last().unwrap().path_only(), BALANCE);
    assert_eq!(
        first.last().unwrap().header("authorization"),
        Some(format!("Bearer {OLD_ACCESS}").as_str())
    );
    // once the background refresh is done, the next call sends the new token
    tokio::time::sleep(Duration::from_secs(3)).await;
    call(&b, "get_balance", None).await.unwrap();
    let all = both.requests();
    assert_eq!(all.iter().filter(|r| r.path_only() == REFRESH).count(), 1);
    assert_eq!(
        all.last().unwrap().header("authorization"),
        Some(format!("Bearer {NEW_ACCESS}").as_str())
    );

    // with a 10-minute margin the same pair is used as is
    let server = token_server(Duration::ZERO).await;
    let b = binding(
        config(&server)
            .token_pair(pair)
            .token_refresh(TokenRefresh::default().with_margin(Duration::from_secs(600)))
            .build()
            .unwrap(),
    );
    let err = call(&b, "get_balance", None).await;
    // the server only accepts the new token, so the old one gets a 401, a refresh and a replay
    assert!(err.is_ok());
    let paths: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.path_only().to_string())
        .collect();
    assert_eq!(paths, vec![BALANCE, REFRESH, BALANCE]);
}

#[tokio::test(start_paused = true)]
async fn expired_refresh_token_says_to_issue_a_new_one() {
    let server = token_server(Duration::ZERO).await;
    let pair = TokenPair::issued_at(
        OLD_ACCESS,
        OLD_REFRESH,
        t0() - Duration::from_secs(11 * 86400),
    );
    let b = binding(config(&server).token_pair(pair).build().unwrap());
    let err = call(&b, "get_balance", None).await.unwrap_err();
    assert!(
        matches!(err, Error::Auth(AuthError::RefreshTokenExpired)),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("issue a new token pair in the Vandar dashboard"),
        "{err}"
    );
    assert!(server.requests().is_empty(), "nothing sent");
}

#[tokio::test(start_paused = true)]
async fn rejected_refresh_is_final_until_a_new_pair_is_set() {
    let server = token_server(Duration::ZERO).await;
    let stale = TokenPair::issued_at(
        OLD_ACCESS,
        "ref-REVOKED-SECRET",
        t0() - Duration::from_secs(6 * 86400),
    );
    let b = binding(config(&server).token_pair(stale).build().unwrap());
    for _ in 0..3 {
        let err = call(&b, "get_balance", None).await.unwrap_err();
        assert!(
            matches!(err, Error::Auth(AuthError::RefreshRejected { status: 401 })),
            "{err}"
        );
        assert!(err.to_string().contains("Vandar dashboard"), "{err}");
    }
    assert_eq!(server.count(REFRESH), 1, "later calls fail fast");
    assert_eq!(server.count(BALANCE), 0);
    // a new pair from the dashboard
    b.runtime()
        .set_token_pair(TokenPair::issued_at(NEW_ACCESS, NEW_REFRESH, t0()))
        .await
        .unwrap();
    call(&b, "get_balance", None).await.unwrap();
    assert_eq!(server.count(BALANCE), 1);
}

#[tokio::test(start_paused = true)]
async fn waiters_share_a_failed_refresh() {
    let server = FaultServer::start(|req| match req.path_only() {
        REFRESH => Reply::json(503, json!({"status": 0, "errors": {"error": "oops"}}))
            .after(Duration::from_millis(100)),
        _ => ok(),
    })
    .await;
    let clock = ManualClock::at(t0());
    let b = binding(
        config(&server)
            .clock(clock.clone())
            .token_pair(expired_pair())
            .build()
            .unwrap(),
    );
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let b = b.clone();
            tokio::spawn(async move { call(&b, "get_balance", None).await })
        })
        .collect();
    for c in calls {
        let err = c.await.unwrap().unwrap_err();
        assert!(
            matches!(&err, Error::Auth(AuthError::RefreshFailed { .. })),
            "{err}"
        );
    }
    assert_eq!(server.count(REFRESH), 1);
    assert_eq!(server.count(BALANCE), 0);
    // a 503 rotated nothing: the pair stays usable and the refresh is tried again after the
    // backoff (not before), with the same refresh token
    let err = call(&b, "get_balance", None).await.unwrap_err();
    assert!(err.to_string().contains("next try"), "{err}");
    assert_eq!(server.count(REFRESH), 1);
    *clock.0.lock().unwrap() += Duration::from_secs(3);
    let _ = call(&b, "get_balance", None).await;
    assert_eq!(server.count(REFRESH), 2);
}

#[tokio::test(start_paused = true)]
async fn static_access_token_still_works_without_refresh() {
    let server = FaultServer::scripted(
        vec![Reply::json(
            401,
            json!({"status": 0, "error": "Unauthenticated"}),
        )],
        ok(),
    )
    .await;
    let b = binding(config(&server).access_token(OLD_ACCESS).build().unwrap());
    let err = call(&b, "get_balance", None).await.unwrap_err();
    assert_eq!(err.http_status(), Some(401));
    assert_eq!(server.count(REFRESH), 0);
    call(&b, "get_balance", None).await.unwrap();
    let reqs = server.requests();
    assert_eq!(
        reqs[1].header("authorization"),
        Some(format!("Bearer {OLD_ACCESS}").as_str())
    );
}

// ---------------------------------------------------------------- rate limits

#[tokio::test(start_paused = true)]
async fn no_3_second_window_exceeds_the_limits() {
    let server = FaultServer::scripted(vec![], ok()).await;
    let b = binding(config(&server).build().unwrap());
    let calls: Vec<_> = (0..360)
        .map(|i| {
            let b = b.clone();
            // 120 POSTs and 240 GETs, all unauthenticated (one per-runtime limit)
            let op = if i % 3 == 0 { "ipg_verify" } else { "health" };
            tokio::spawn(async move { call(&b, op, None).await })
        })
        .collect();
    for c in calls {
        c.await.unwrap().unwrap();
    }
    let reqs = server.requests();
    assert_eq!(reqs.len(), 360, "no 429s, no retries: callers waited");
    let posts: Vec<Instant> = reqs
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.at)
        .collect();
    let others: Vec<Instant> = reqs
        .iter()
        .filter(|r| r.method != "POST")
        .map(|r| r.at)
        .collect();
    let w = Duration::from_secs(3);
    let (p, o) = (max_in_window(&posts, w), max_in_window(&others, w));
    assert!(p <= 30 && o <= 100, "POST {p}, other {o}");
    // and the limits are used, not just respected
    assert!(p >= 29 && o >= 99, "POST {p}, other {o}");
}

#[tokio::test(start_paused = true)]
async fn limits_are_per_credential() {
    let server = FaultServer::scripted(vec![], ok()).await;
    let fresh = TokenPair::issued_at(NEW_ACCESS, NEW_REFRESH, t0());
    let limits = RateLimits {
        post: Some(RateLimit::new(2, Duration::from_secs(3)).with_burst(1)),
        other: None,
    };
    let a = binding(
        config(&server)
            .token_pair(fresh)
            .rate_limits(limits)
            .build()
            .unwrap(),
    );
    let start = Instant::now();
    // one bearer POST and one unauthenticated POST go at once: different credentials
    let (x, y) = tokio::join!(
        call(&a, "store_settlement", None),
        call(&a, "ipg_verify", None)
    );
    x.unwrap();
    y.unwrap();
    assert_eq!(Instant::now(), start);
    // a second bearer POST waits for its own lane
    call(&a, "store_settlement", None).await.unwrap();
    assert_eq!(Instant::now() - start, Duration::from_secs(3));
}

// ---------------------------------------------------------------- redaction and tracing

const API_KEY: &str = "ipg-key-SECRET-5e1f";
const NATIONAL_CODE: &str = "0084575948";
const CARD: &str = "6037991234567890";

/// Runs [`secrets_never_reach_logs_errors_or_debug_inner`] alone in a child process of this
/// test binary. A thread-local subscriber (`set_default`) can miss a span whose callsite another
/// test thread registers at the same moment (tracing caches callsite interest process-wide), so
/// the log capture is only deterministic when no other test runs in the process.
#[test]
fn secrets_never_reach_logs_errors_or_debug() {
    crate::test_util::run_in_own_process(
        "hook_tests::secrets_never_reach_logs_errors_or_debug_inner",
    );
}

#[tokio::test(start_paused = true)]
#[ignore = "run in its own process by secrets_never_reach_logs_errors_or_debug"]
async fn secrets_never_reach_logs_errors_or_debug_inner() {
    let (captured, _guard) = CapturedTraces::start();

    let server = FaultServer::start(|req| match (req.path_only(), req.seq) {
        (REFRESH, _) => Reply::json(
            200,
            json!({"access_token": NEW_ACCESS, "refresh_token": NEW_REFRESH, "expires_in": 432000}),
        ),
        (VERIFY, _) => Reply::Reset,
        (INFO, _) => Reply::json(
            422,
            json!({"status": 0, "errors": ["api_key is invalid"], "echo": API_KEY}),
        ),
        _ if req.header("authorization") == Some(&format!("Bearer {NEW_ACCESS}")) => ok(),
        _ => Reply::json(401, json!({"status": 0, "error": "Unauthenticated"})),
    })
    .await;
    let config = config(&server).token_pair(expired_pair()).build().unwrap();
    let b = binding(config.clone());
    let body = json!({"api_key": API_KEY, "national_code": NATIONAL_CODE, "card_number": CARD,
                      "refreshtoken": OLD_REFRESH});
    let mut shown = Vec::new();
    shown.push(format!(
        "{:?}",
        call(&b, "get_balance", Some(body.clone())).await
    ));
    let err = call(&b, "ipg_verify", Some(body.clone()))
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown());
    shown.push(format!("{err} {err:?}"));
    let err = call(&b, "ipg_info", Some(body.clone())).await.unwrap_err();
    shown.push(format!("{err} {err:?}"));
    let rejected = binding(
        self::config(&server)
            .token_pair(TokenPair::issued_at(
                OLD_ACCESS,
                OLD_REFRESH,
                t0() - Duration::from_secs(11 * 86400),
            ))
            .build()
            .unwrap(),
    );
    let err = call(&rejected, "get_balance", Some(body))
        .await
        .unwrap_err();
    shown.push(format!("{err} {err:?}"));
    shown.push(format!("{config:?} {b:?} {:?}", b.runtime()));
    shown.push(format!("{:?}", b.runtime().token_pair().await.unwrap()));
    shown.push(format!(
        "{:?}",
        Config::builder()
            .token_pair(expired_pair())
            .access_token(OLD_ACCESS)
    ));

    let logs = captured.text();
    assert!(logs.contains("vandar.request"), "{logs}");
    assert!(logs.contains("vandar.token_refresh"), "{logs}");
    assert!(
        logs.contains("operation=\"ipg_verify\"") || logs.contains("operation=ipg_verify"),
        "{logs}"
    );
    assert!(logs.contains("outcome_unknown"), "{logs}");
    assert!(logs.contains("attempt=1"), "{logs}");
    shown.push(logs);
    for text in &shown {
        for secret in [
            OLD_ACCESS,
            OLD_REFRESH,
            NEW_ACCESS,
            NEW_REFRESH,
            API_KEY,
            NATIONAL_CODE,
            CARD,
        ] {
            assert!(!text.contains(secret), "{secret} leaked in: {text}");
        }
    }
    // the server did receive them: the check above is not vacuous
    let reqs = server.requests();
    assert!(
        reqs.iter()
            .any(|r| String::from_utf8_lossy(&r.body).contains(API_KEY))
    );
    assert!(
        reqs.iter()
            .any(|r| r.header("authorization") == Some(&format!("Bearer {NEW_ACCESS}")))
    );
}

// ------------------------------------------------- the reliability contract (issue 13)

/// Class 1: no header, body or config value can panic.
#[tokio::test(start_paused = true)]
async fn class1_server_and_config_values_cannot_panic() {
    // Retry-After u64::MAX on a safe and on a money call
    for op in ["ipg_info", "ipg_verify"] {
        let server = FaultServer::scripted(
            vec![
                Reply::json(429, json!({"message": "slow"}))
                    .with_header("retry-after", "18446744073709551615"),
            ],
            ok(),
        )
        .await;
        let b = binding(config(&server).build().unwrap());
        let err = call(&b, op, None).await.unwrap_err();
        assert!(matches!(err, Error::RateLimited { .. }), "{op}: {err}");
        assert_eq!(err.retry_after(), Some(Duration::from_secs(u64::MAX)));
    }
    // Duration::MAX in every timeout passes `build()` and the call works
    let server = FaultServer::scripted(vec![], ok()).await;
    let config = config(&server)
        .timeouts(
            Timeouts::default()
                .with_connect(Duration::MAX)
                .with_per_attempt(Duration::MAX)
                .with_total(Duration::MAX),
        )
        .max_retry_after(Duration::MAX)
        .rate_limits(RateLimits {
            post: Some(RateLimit::new(1, Duration::MAX)),
            other: Some(RateLimit::new(2, Duration::MAX).with_margin(Duration::MAX)),
        })
        .build()
        .unwrap();
    let b = binding(config);
    call(&b, "ipg_info", None).await.unwrap();
    call(&b, "health", None).await.unwrap();
    // a refresh answer with an absurd lifetime
    let server = FaultServer::start(|req| match req.path_only() {
        REFRESH => Reply::json(
            200,
            json!({"expires_in": u64::MAX, "access_token": NEW_ACCESS, "refresh_token": NEW_REFRESH}),
        ),
        _ => ok(),
    })
    .await;
    let b = binding(config_with_pair(&server, expired_pair()));
    call(&b, "get_balance", None).await.unwrap();
    let pair = b.runtime().token_pair().await.unwrap().unwrap();
    assert!(pair.access_expires_at > t0());
}

fn config_with_pair(server: &FaultServer, pair: TokenPair) -> Config {
    config(server).token_pair(pair).build().unwrap()
}

/// Class 2: a server cannot block a credential for long; above the cap the caller gets a
/// typed error with the server's value.
#[tokio::test(start_paused = true)]
async fn class2_retry_after_is_capped() {
    let server = FaultServer::scripted(
        vec![Reply::json(429, json!({"message": "slow"})).with_header("retry-after", "3600")],
        ok(),
    )
    .await;
    let b = binding(
        config(&server)
            .max_retry_after(Duration::from_secs(5))
            .build()
            .unwrap(),
    );
    let start = Instant::now();
    let err = call(&b, "ipg_info", None).await.unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after, http_status: 429, .. } if retry_after == Duration::from_secs(3600)),
        "{err}"
    );
    assert!(
        err.is_retryable() && err.to_string().contains("3600"),
        "{err}"
    );
    // the next call of the credential waits at most the cap, then goes out
    call(&b, "ipg_info", None).await.unwrap();
    let waited = Instant::now() - start;
    assert!(waited <= Duration::from_secs(6), "{waited:?}");
    assert_eq!(server.requests().len(), 2);
    // within the cap an idempotent call waits Retry-After and retries
    let server = FaultServer::scripted(
        vec![Reply::json(429, json!({})).with_header("retry-after", "4")],
        ok(),
    )
    .await;
    let b = binding(config(&server).build().unwrap());
    let start = Instant::now();
    call(&b, "ipg_info", None).await.unwrap();
    assert!(Instant::now() - start >= Duration::from_secs(4));
    assert_eq!(server.requests().len(), 2);
}

/// Class 3: a money call answered 2xx with a body that does not decode is "outcome unknown"
/// with its status; an idempotent call's is a decode error with its status.
#[tokio::test(start_paused = true)]
async fn class3_undecodable_2xx_of_a_money_call_is_outcome_unknown() {
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Typed {
        status: i64,
        token: String,
    }
    let bodies = [
        Reply::text(200, "text/html", "<html>thanks</html>"),
        Reply::text(200, "application/json", ""),
        Reply::text(200, "application/json", r#"{"status":1,"tok"#),
        Reply::json(200, json!({"status": 1})),
    ];
    for body in bodies {
        for (op, money) in [
            ("ipg_verify", true),
            ("store_settlement", true),
            ("ipg_info", false),
        ] {
            let server = FaultServer::scripted(vec![], body.clone()).await;
            let b = binding(
                config(&server)
                    .access_token("static-token-1234")
                    .build()
                    .unwrap(),
            );
            let route = b.route(op).unwrap();
            let request = b
                .runtime()
                .http_client()
                .request(route.method.parse().unwrap(), b.url(route, &[]).unwrap())
                .build()
                .unwrap();
            let body = crate::CheckedBody::new(route, json!({"track_id": "t-1"})).unwrap();
            let err = b
                .call::<Typed>(request, route, Some(&body))
                .await
                .unwrap_err();
            assert_eq!(err.http_status(), Some(200), "{op} {body:?}: {err}");
            assert_eq!(err.is_outcome_unknown(), money, "{op} {body:?}: {err}");
            if money {
                assert!(err.to_string().contains("track_id"), "{err}");
            } else {
                assert!(matches!(err, Error::Decode { .. }), "{err}");
            }
            assert_eq!(server.requests().len(), 1, "{op}: sent once");
        }
    }
}

/// Class 4: secrets a server echoes never reach an error's Display or Debug.
#[tokio::test(start_paused = true)]
async fn class4_echoed_secrets_are_scrubbed() {
    const API_KEY: &str = "ipg-KEY-7f3a9c21";
    const CARD: &str = "6037997599999993";
    const NATIONAL: &str = "0499370899";
    let server = FaultServer::scripted(
        vec![],
        Reply::json(
            422,
            json!({"status": 0, "errors": [
                format!("api_key {API_KEY} is not active"),
                format!("card {CARD} refused"),
                format!("national code {NATIONAL} does not match"),
            ], "echo": {"api_key": API_KEY, "card": CARD}}),
        ),
    )
    .await;
    let b = binding(config(&server).build().unwrap());
    let err = call(
        &b,
        "ipg_verify",
        Some(json!({"api_key": API_KEY, "token": "T1", "national_code": NATIONAL})),
    )
    .await
    .unwrap_err();
    let api = err.api_error().unwrap();
    for text in [
        err.to_string(),
        format!("{err:?}"),
        api.raw.to_string(),
        format!("{:?}", api.messages),
    ] {
        for secret in [API_KEY, CARD, NATIONAL] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    assert!(err.to_string().contains("603799******9993"), "{err}");
    assert!(err.to_string().contains("[redacted]"), "{err}");
    // a Sanbod-style 401 echoing the client secret of HTTP Basic auth
    static BASIC: &[Route] = &[Route {
        operation_id: "token",
        method: "POST",
        host: "https://api.sanbod.co",
        path: "/oauth/v1/token",
        segments: &[
            crate::Segment::Lit("oauth"),
            crate::Segment::Lit("v1"),
            crate::Segment::Lit("token"),
        ],
        auth: Auth::Basic("sanbod_client"),
        api_key_field: None,
        idempotent: false,
        checks: &[],
    }];
    let server = FaultServer::scripted(
        vec![],
        Reply::json(
            401,
            json!({"error": true, "message": "bad client test_sanbod:client-SECRET-42 (dGVzdF9zYW5ib2Q6Y2xpZW50LVNFQ1JFVC00Mg==)"}),
        ),
    )
    .await;
    let config = config(&server)
        .basic_auth("sanbod_client", "test_sanbod", "client-SECRET-42")
        .build()
        .unwrap();
    let b = Binding::new(Runtime::new(config).unwrap(), BASIC, &[]);
    let err = call(
        &b,
        "token",
        Some(json!({"grant_type": "client_credentials"})),
    )
    .await
    .unwrap_err();
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(
            !text.contains("client-SECRET-42") && !text.contains("dGVzdF9zYW5ib2Q6"),
            "{text}"
        );
    }
    // a base URL with user info is refused, and the refusal does not print it
    let e = Config::builder()
        .all_hosts("http://user:pa55word@127.0.0.1:9/")
        .build()
        .unwrap_err();
    assert!(!e.to_string().contains("pa55word") && !format!("{e:?}").contains("pa55word"));
    let e = Config::builder()
        .host("https://ipg.vandar.io", "http://user@127.0.0.1:9/")
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("user name or password"), "{e}");
}

/// Class 6: answers over the size cap are not read whole.
#[tokio::test(start_paused = true)]
async fn class6_answers_over_the_cap_are_refused() {
    let big = format!("{{\"status\":1,\"pad\":\"{}\"}}", "x".repeat(200_000));
    for (op, money) in [("ipg_info", false), ("ipg_verify", true)] {
        let server =
            FaultServer::scripted(vec![], Reply::text(200, "application/json", &big)).await;
        let b = binding(
            config(&server)
                .max_response_bytes(64 * 1024)
                .build()
                .unwrap(),
        );
        let err = call(&b, op, None).await.unwrap_err();
        assert_eq!(err.http_status(), Some(200), "{err}");
        if money {
            assert!(err.is_outcome_unknown(), "{err}");
        } else {
            assert!(
                matches!(err, Error::ResponseTooLarge { limit: 65536, .. }),
                "{err}"
            );
        }
        // under the cap it decodes
        let b = binding(config(&server).build().unwrap());
        call(&b, op, None).await.unwrap();
    }
    assert!(
        Config::builder().max_response_bytes(0).build().is_err(),
        "a zero cap is refused"
    );
}

/// Class 6, the server's numbers (issue 22 items 4 and 6): a `Content-Length` the server made
/// up sizes nothing (2^40 and 2^62 with a cap above them once aborted the process), and an
/// answer whose body is cut off after its status line keeps that status, on a money call and
/// on a safe one.
#[tokio::test(start_paused = true)]
async fn class6_a_declared_length_sizes_nothing_and_a_cut_off_answer_keeps_its_status() {
    for declared in [1u64 << 40, 1 << 62, 100] {
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {declared}\r\nconnection: close\r\n\r\n{{\"status\":1}}"
        );
        let server = FaultServer::scripted(vec![], Reply::Raw(answer.into_bytes())).await;
        for cap in [64 * 1024, u64::MAX] {
            for (op, money) in [("ipg_info", false), ("ipg_verify", true)] {
                let b = binding(config(&server).max_response_bytes(cap).build().unwrap());
                let err = call(&b, op, None).await.unwrap_err();
                let case = format!("{op}, declared {declared}, cap {cap}: {err}");
                assert_eq!(err.http_status(), Some(200), "{case}");
                if money {
                    assert!(err.is_outcome_unknown(), "{case}");
                } else if declared > cap {
                    assert!(matches!(err, Error::ResponseTooLarge { .. }), "{case}");
                } else {
                    assert!(matches!(err, Error::Transport(_)), "{case}");
                    assert!(err.to_string().contains("HTTP 200"), "{case}");
                }
            }
        }
    }
}

/// Class 7: the IPG's budget is per api_key, not one per process.
#[tokio::test(start_paused = true)]
async fn class7_ipg_budgets_are_per_api_key() {
    let server = FaultServer::scripted(vec![], ok()).await;
    let b = binding(config(&server).build().unwrap());
    let start = Instant::now();
    for key in ["merchant-key-A1", "merchant-key-B2"] {
        for _ in 0..30 {
            call(
                &b,
                "ipg_verify",
                Some(json!({"api_key": key, "token": "t"})),
            )
            .await
            .unwrap();
        }
    }
    assert_eq!(
        Instant::now(),
        start,
        "60 POSTs of two merchants went at once"
    );
    call(
        &b,
        "ipg_verify",
        Some(json!({"api_key": "merchant-key-A1", "token": "t"})),
    )
    .await
    .unwrap();
    let waited = Instant::now() - start;
    assert!(
        waited >= Duration::from_millis(3150),
        "the 31st POST of one key waits a window plus a margin of at least 5 %: {waited:?}"
    );
}

/// Class 8: after a refresh whose answer was lost, the used refresh token is not sent again;
/// the store is re-read first, and the error says what happened.
#[tokio::test(start_paused = true)]
async fn class8_lost_refresh_answer_is_not_resent() {
    let server = FaultServer::start(|req| match req.path_only() {
        REFRESH => Reply::Reset,
        _ if req.header("authorization") == Some(&format!("Bearer {NEW_ACCESS}")) => ok(),
        _ => Reply::json(401, json!({"status": 0, "error": "Unauthenticated"})),
    })
    .await;
    let store = Arc::new(MemoryTokenStore::new(expired_pair()));
    let b = binding(config(&server).token_store(store.clone()).build().unwrap());
    for _ in 0..3 {
        let err = call(&b, "get_balance", None).await.unwrap_err();
        assert!(
            matches!(err, Error::Auth(AuthError::RefreshOutcomeUnknown { .. })),
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.contains("set_token_pair") && text.contains("not sent again"),
            "{text}"
        );
        assert!(!text.contains(OLD_REFRESH));
    }
    assert_eq!(server.count(REFRESH), 1, "the refresh token was sent once");
    assert_eq!(server.count(BALANCE), 0);
    // another process installs a newer pair: the next call picks it up from the store
    let other = binding(config(&server).token_store(store.clone()).build().unwrap());
    other
        .runtime()
        .set_token_pair(TokenPair::issued_at(NEW_ACCESS, NEW_REFRESH, t0()))
        .await
        .unwrap();
    call(&b, "get_balance", None).await.unwrap();
    assert_eq!(server.count(REFRESH), 1);
    assert_eq!(server.count(BALANCE), 1);
}

// ---- Issue 21: the token lifecycle as a protocol, in one process (several runtimes on one
// in-memory store). The multi-process scenarios (Redis, real processes) are in
// crates/vandar-replicas; the exhaustive check of the rules is in crates/vandar-model.

/// The shared fake Vandar with single-use refresh tokens ([`RotatingVandar`]), starting from
/// `OLD_ACCESS`/`OLD_REFRESH`, with no `Date` header (the manual clock dates the pairs); each
/// of `modes` is what one refresh does, in order.
async fn rotating_vandar(modes: &[RefreshMode]) -> FaultServer {
    let fake = RotatingVandar::builder()
        .first_pair(OLD_ACCESS, OLD_REFRESH)
        .without_date_header()
        .start()
        .await;
    for mode in modes {
        fake.then(*mode);
    }
    fake.server
}

#[tokio::test(start_paused = true)]
async fn class21_two_runtimes_on_one_config_refresh_once() {
    let server = rotating_vandar(&[]).await;
    let config = config(&server).token_pair(expired_pair()).build().unwrap();
    let a = binding(config.clone());
    let b = binding(config);
    let calls: Vec<_> = (0..20)
        .map(|i| {
            let x = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { call(&x, "get_balance", None).await })
        })
        .collect();
    for c in calls {
        c.await.unwrap().unwrap();
    }
    assert_eq!(server.count(REFRESH), 1, "one refresh for both runtimes");
    assert_eq!(server.count(BALANCE), 20);
}

#[tokio::test(start_paused = true)]
async fn class21_a_lost_answer_is_never_resent_and_one_install_recovers_every_runtime() {
    let server = rotating_vandar(&[RefreshMode::RotateThenReset]).await;
    let store = Arc::new(MemoryTokenStore::new(expired_pair()));
    let a = binding(config(&server).token_store(store.clone()).build().unwrap());
    let b = binding(config(&server).token_store(store.clone()).build().unwrap());
    let err = call(&a, "get_balance", None).await.unwrap_err();
    assert!(
        matches!(err, Error::Auth(AuthError::RefreshOutcomeUnknown { .. })),
        "{err}"
    );
    for x in [&a, &b, &a, &b] {
        let err = call(x, "get_balance", None).await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("set_token_pair") && text.contains("vandar token set"),
            "{text}"
        );
        assert!(!text.contains("SECRET"), "{text}");
    }
    assert_eq!(
        server.count(REFRESH),
        1,
        "the spent refresh token was sent once, by one runtime"
    );
    // The operator installs the pair the server holds now, once, through runtime A.
    a.runtime()
        .set_token_pair(TokenPair::issued_at("acc-1-SECRET", "ref-1-SECRET", t0()))
        .await
        .unwrap();
    call(&b, "get_balance", None).await.unwrap();
    call(&a, "get_balance", None).await.unwrap();
    assert_eq!(server.count(REFRESH), 1);
}

#[tokio::test(start_paused = true)]
async fn class21_a_500_rotates_nothing_and_leaves_the_refresh_token_usable() {
    let server = rotating_vandar(&[RefreshMode::Fail(500)]).await;
    let clock = ManualClock::at(t0());
    let b = binding(
        config(&server)
            .clock(clock.clone())
            .token_pair(expired_pair())
            .build()
            .unwrap(),
    );
    let err = call(&b, "get_balance", None).await.unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Auth(AuthError::RefreshFailed {
                http_status: Some(500),
                ..
            })
        ),
        "{err:?}"
    );
    assert_eq!(err.http_status(), Some(500));
    *clock.0.lock().unwrap() += Duration::from_secs(3);
    call(&b, "get_balance", None).await.unwrap();
    assert_eq!(
        server.count(REFRESH),
        2,
        "the same refresh token, sent again after the 500"
    );
}

#[tokio::test(start_paused = true)]
async fn class21_a_store_that_lost_its_data_gets_the_newest_pair_back() {
    let server = rotating_vandar(&[]).await;
    let store = Arc::new(MemoryTokenStore::new(expired_pair()));
    let a = binding(config(&server).token_store(store.clone()).build().unwrap());
    call(&a, "get_balance", None).await.unwrap();
    assert_eq!(server.count(REFRESH), 1);
    let newest = store.record().unwrap().generation;
    // The store loses its data; a new replica starts with the dashboard pair (long spent).
    store.clear();
    let b = binding(
        config(&server)
            .token_store(store.clone())
            .token_pair(expired_pair())
            .build()
            .unwrap(),
    );
    assert_eq!(
        b.runtime()
            .token_pair()
            .await
            .unwrap()
            .unwrap()
            .access_token
            .expose(),
        OLD_ACCESS
    );
    // Replica A looks at the store (its periodic look) and writes the newest pair back.
    tokio::time::advance(Duration::from_secs(16)).await;
    call(&a, "get_balance", None).await.unwrap();
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        store.record().unwrap().generation,
        newest,
        "the newer pair won over the seed"
    );
    // Replica B adopts it instead of sending the spent dashboard refresh token.
    call(&b, "get_balance", None).await.unwrap();
    assert_eq!(server.count(REFRESH), 1);
}

#[tokio::test(start_paused = true)]
async fn class21_the_refresh_goes_through_the_pipeline() {
    // Over the size cap: not read whole, not adopted (its pair is lost: the token is spent).
    let server = rotating_vandar(&[RefreshMode::Huge]).await;
    let b = binding(
        config(&server)
            .max_response_bytes(64 * 1024)
            .token_pair(expired_pair())
            .build()
            .unwrap(),
    );
    let err = call(&b, "get_balance", None).await.unwrap_err();
    assert!(
        matches!(err, Error::Auth(AuthError::RefreshOutcomeUnknown { .. })),
        "{err}"
    );
    assert_eq!(server.count(BALANCE), 0);

    // A 429 with a long Retry-After: the status and the wait reach the caller, and no other
    // refresh goes out before the (capped) wait has passed.
    let server = rotating_vandar(&[RefreshMode::Limited(3600)]).await;
    let b = binding(config(&server).token_pair(expired_pair()).build().unwrap());
    let err = call(&b, "get_balance", None).await.unwrap_err();
    assert!(
        matches!(&err, Error::Auth(AuthError::RefreshRateLimited { retry_after }) if retry_after.as_secs() == 3600),
        "{err:?}"
    );
    assert_eq!(err.http_status(), Some(429));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
    for _ in 0..3 {
        let _ = call(&b, "get_balance", None).await.unwrap_err();
    }
    assert_eq!(server.count(REFRESH), 1);

    // The call's total timeout covers the refresh.
    let server = token_server(Duration::from_secs(30)).await;
    let b = binding(
        config(&server)
            .timeouts(
                Timeouts::default()
                    .with_per_attempt(Duration::from_secs(20))
                    .with_total(Duration::from_secs(3)),
            )
            .token_pair(expired_pair())
            .build()
            .unwrap(),
    );
    let started = Instant::now();
    let err = call(&b, "get_balance", None).await.unwrap_err();
    assert!(
        started.elapsed() <= Duration::from_millis(3100),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, Error::Auth(_)), "{err}");
}

// ---- Issue 22: interceptors and per-call overrides.

#[derive(Default)]
struct Recorder(Mutex<Vec<(String, u32, Option<u16>)>>);

struct Recording(Arc<Recorder>);

impl crate::Interceptor for Recording {
    fn before_send(&self, _: &crate::AttemptInfo<'_>, headers: &mut reqwest::header::HeaderMap) {
        headers.insert(
            "x-trace-id",
            reqwest::header::HeaderValue::from_static("t-1"),
        );
        // An interceptor cannot replace the SDK's credential.
        headers.insert(
            reqwest::header::AUTHORIZATION,
            reqwest::header::HeaderValue::from_static("Bearer forged"),
        );
    }

    fn after_attempt(&self, info: &crate::AttemptInfo<'_>, result: &crate::AttemptResult) {
        self.0
            .0
            .lock()
            .unwrap()
            .push((info.operation.to_owned(), info.attempt, result.status));
    }
}

#[tokio::test(start_paused = true)]
async fn interceptors_see_every_attempt_and_add_headers_but_not_credentials() {
    let server =
        FaultServer::scripted(vec![Reply::json(503, json!({"message": "busy"}))], ok()).await;
    let seen = Arc::new(Recorder::default());
    let b = binding(
        config(&server)
            .access_token("static-SECRET")
            .interceptor(Recording(seen.clone()))
            .build()
            .unwrap(),
    );
    call(&b, "get_balance", None).await.unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert_eq!(r.header("x-trace-id"), Some("t-1"));
        assert_eq!(r.header("authorization"), Some("Bearer static-SECRET"));
    }
    assert_eq!(
        *seen.0.lock().unwrap(),
        vec![
            ("get_balance".to_owned(), 1, Some(503)),
            ("get_balance".to_owned(), 2, Some(200)),
        ]
    );
}

/// Records every header it is shown, then tries to read the credential and to reframe the
/// request (an empty body, a chunked one, another host).
struct Meddling(Arc<Mutex<Vec<String>>>);

impl crate::Interceptor for Meddling {
    fn before_send(&self, _: &crate::AttemptInfo<'_>, headers: &mut reqwest::header::HeaderMap) {
        self.0.lock().unwrap().extend(
            headers
                .iter()
                .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v.as_bytes()))),
        );
        for (k, v) in [
            ("content-length", "0"),
            ("transfer-encoding", "chunked"),
            ("host", "evil.example"),
            ("content-type", "text/plain"),
            ("authorization", "Bearer forged"),
            ("cookie", "session=forged"),
            ("accept", "text/html"),
            ("api-version", "999"),
            ("user-agent", "evil-agent"),
            ("x-http-method-override", "DELETE"),
            ("expect", "100-continue"),
            ("content-encoding", "gzip"),
            ("x-request-tag", "kept"),
        ] {
            headers.insert(
                reqwest::header::HeaderName::from_static(k),
                reqwest::header::HeaderValue::from_static(v),
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn an_interceptor_neither_reads_the_credential_nor_reframes_a_money_call() {
    let server = FaultServer::start(|_| ok()).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let b = binding(
        config(&server)
            .access_token("static-SECRET")
            .interceptor(Meddling(seen.clone()))
            .build()
            .unwrap(),
    );
    call(
        &b,
        "store_settlement",
        Some(json!({"amount": 5000, "track_id": "t-1"})),
    )
    .await
    .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.iter()
            .all(|h| !h.contains("SECRET") && !h.starts_with("authorization")),
        "{seen:?}"
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.header("authorization"), Some("Bearer static-SECRET"));
    assert_eq!(
        r.header("x-request-tag"),
        Some("kept"),
        "its own header is sent"
    );
    assert_eq!(r.header("cookie"), None);
    assert_ne!(r.header("host"), Some("evil.example"));
    assert_ne!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    // The headers the SDK set are sent as it set them, and the ones that change how the
    // server reads the request are not sent at all.
    assert_eq!(r.header("accept"), Some("application/json"));
    assert_eq!(
        r.header("api-version"),
        None,
        "this test route sets none; 999 is dropped"
    );
    assert_ne!(r.header("user-agent"), Some("evil-agent"));
    assert!(
        r.header("user-agent")
            .is_some_and(|ua| ua.contains("vandar"))
    );
    for h in ["x-http-method-override", "expect", "content-encoding"] {
        assert_eq!(r.header(h), None, "{h}");
    }
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["track_id"], "t-1", "the whole body arrived");
    // The interceptor saw the SDK's own headers, none of the credentials.
    assert!(
        seen.iter().any(|h| h == "accept: application/json"),
        "{seen:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn call_options_override_timeouts_and_retries_for_one_client() {
    let server = FaultServer::start(|_| Reply::json(503, json!({"message": "busy"}))).await;
    let b = binding(config(&server).access_token("t").build().unwrap());
    let no_retry = b
        .clone()
        .with_call_options(crate::CallOptions::new().retry(RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }))
        .unwrap();
    let _ = call(&no_retry, "get_balance", None).await.unwrap_err();
    assert_eq!(server.count(BALANCE), 1, "no retry with the override");
    let _ = call(&b, "get_balance", None).await.unwrap_err();
    assert_eq!(
        server.count(BALANCE),
        1 + 5,
        "the configured 4 retries elsewhere"
    );

    let slow = FaultServer::start(|_| ok().after(Duration::from_secs(10))).await;
    let b = binding(config(&slow).access_token("t").build().unwrap());
    let quick = b
        .clone()
        .with_call_options(crate::CallOptions::new().total_timeout(Duration::from_secs(1)))
        .unwrap();
    let started = Instant::now();
    let _ = call(&quick, "get_balance", None).await.unwrap_err();
    assert!(
        started.elapsed() <= Duration::from_millis(1100),
        "{:?}",
        started.elapsed()
    );
    assert!(
        b.clone()
            .with_call_options(crate::CallOptions::new().total_timeout(Duration::ZERO))
            .is_err()
    );
}
