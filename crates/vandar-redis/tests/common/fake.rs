//! A fake Vandar that rotates single-use refresh tokens, on [`FaultServer`]: generation `n`
//! is the pair `acc-n-SECRET` / `ref-n-SECRET`. A refresh with the current refresh token
//! spends it (at arrival) and rotates to `n + 1`; a spent or unknown one gets 401. Business
//! calls need the current access token, or the one the last rotation replaced (an access
//! token lives until its expiry: a client that sent a refresh may use it until the answer is
//! in); a pair issued in the dashboard ends every older one. Each refresh can be switched to answer 500 (nothing
//! rotated), to rotate and drop the answer, or to rotate and answer late.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use serde_json::json;
use vandar_runtime::test_util::{FaultServer, RecordedRequest, Reply};

/// `GET /v3/business/shop/balance` with the Vandar bearer token: the call the replicas make.
pub const GET_BALANCE: vandar_runtime::Route = vandar_runtime::Route {
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
};

/// The account the tests' keys derive from.
pub fn account() -> vandar_redis::Account {
    vandar_redis::Account::production("shop").unwrap()
}

/// What the next refresh does.
#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// Rotate and answer at once.
    Rotate,
    /// Rotate and answer after a delay.
    Delay(Duration),
    /// Rotate nothing, answer 500.
    Fail500,
    /// Rotate, then close the connection without an answer.
    Drop,
}

/// The access token of generation `n`.
pub fn access(n: u64) -> String {
    format!("acc-{n}-SECRET")
}

/// The refresh token of generation `n`.
pub fn refresh(n: u64) -> String {
    format!("ref-{n}-SECRET")
}

#[derive(Default)]
struct State {
    /// The current pair (access, refresh).
    current: (String, String),
    /// The access token the last rotation replaced (still accepted).
    previous: Option<String>,
    /// Business calls refused (401).
    unauthorized: usize,
    generation: u64,
    modes: VecDeque<Mode>,
    /// Refreshes received, per refresh token.
    sent: HashMap<String, usize>,
    /// Refresh tokens answered 401.
    refused: usize,
}

/// The fake.
pub struct FakeVandar {
    pub server: FaultServer,
    state: Arc<Mutex<State>>,
}

/// Seconds an access token issued by the fake lives.
pub const EXPIRES_IN: u64 = 432_000;

impl FakeVandar {
    /// Start with generation 0 current.
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State {
            current: (access(0), refresh(0)),
            ..State::default()
        }));
        let s = state.clone();
        let server = FaultServer::start(move |req: &RecordedRequest| {
            let mut st = s.lock().unwrap_or_else(PoisonError::into_inner);
            if req.path_only() == vandar_runtime::REFRESH_PATH {
                let sent = req
                    .json()
                    .and_then(|b| b["refreshtoken"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                *st.sent.entry(sent.clone()).or_default() += 1;
                if sent != st.current.1 {
                    st.refused += 1;
                    return Reply::json(401, json!({"status": 0, "error": "invalid refresh token"}));
                }
                let mode = st.modes.pop_front().unwrap_or(Mode::Rotate);
                if let Mode::Fail500 = mode {
                    return Reply::json(500, json!({"status": 0, "error": "server error"}));
                }
                st.generation += 1;
                let n = st.generation;
                st.previous = Some(st.current.0.clone());
                st.current = (access(n), refresh(n));
                let answer = Reply::json(
                    200,
                    json!({"access_token": access(n), "refresh_token": refresh(n), "expires_in": EXPIRES_IN}),
                )
                .with_header("date", &httpdate::fmt_http_date(SystemTime::now()));
                return match mode {
                    Mode::Delay(d) => answer.after(d),
                    Mode::Drop => Reply::Close,
                    _ => answer,
                };
            }
            let bearer = req.header("authorization").and_then(|h| h.strip_prefix("Bearer "));
            if bearer.is_some_and(|b| b == st.current.0 || st.previous.as_deref() == Some(b)) {
                Reply::json(200, json!({"status": 1, "data": {"ok": true}}))
            } else {
                st.unauthorized += 1;
                Reply::json(401, json!({"status": 0, "error": "Unauthenticated"}))
            }
        })
        .await;
        Self { server, state }
    }

    fn st(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What the next refreshes do (then: rotate at once).
    pub fn then(&self, mode: Mode) {
        self.st().modes.push_back(mode);
    }

    /// A new pair issued in the dashboard (generation jumps to `n`): the old pair stops working.
    pub fn issue(&self, n: u64) {
        let mut st = self.st();
        st.generation = n;
        st.previous = None;
        st.current = (access(n), refresh(n));
    }

    /// The current generation.
    pub fn generation(&self) -> u64 {
        self.st().generation
    }

    /// Refreshes received in all.
    pub fn refreshes(&self) -> usize {
        self.st().sent.values().sum()
    }

    /// Refreshes received with `token`.
    pub fn sent(&self, token: &str) -> usize {
        self.st().sent.get(token).copied().unwrap_or(0)
    }

    /// Refreshes answered 401 (spent or unknown token).
    pub fn refused(&self) -> usize {
        self.st().refused
    }

    /// Business calls answered 401.
    pub fn unauthorized(&self) -> usize {
        self.st().unauthorized
    }

    /// Panic unless every refresh token was sent at most once (`except`: tokens a 500 left
    /// usable, which may go again).
    pub fn assert_each_token_at_most_once(&self, except: &[String]) {
        let st = self.st();
        for (token, n) in &st.sent {
            if !except.contains(token) {
                assert!(
                    *n <= 1,
                    "refresh token {token} was sent {n} times: {:?}",
                    st.sent
                );
            }
        }
    }
}
