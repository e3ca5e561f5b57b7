//! A fake Vandar that rotates single-use refresh tokens, on [`FaultServer`].
//!
//! Generation `n` (from 1) is the pair [`access`]`(n)` / [`refresh`]`(n)`; generation 0 is the
//! pair the fake starts with ([`RotatingVandarBuilder::first_pair`], by default `access(0)` /
//! `refresh(0)`). A refresh ([`REFRESH_PATH`](crate::REFRESH_PATH)) with the current refresh
//! token spends it on arrival and rotates to the next generation; a spent or unknown one gets
//! 401. Any other request is a business call: it needs the current access token, or the one
//! the last rotation replaced (an access token lives until its expiry, so a client that sent a
//! refresh may use it until the answer is in); anything else gets 401. A pair issued in the
//! dashboard ([`RotatingVandar::issue`]) ends every older one.
//!
//! What each refresh does is queued with [`RotatingVandar::then`] ([`RefreshMode`]); once the
//! queue is empty, refreshes rotate and answer at once.
//!
//! ```no_run
//! # async fn demo() {
//! use vandar_runtime::test_util::{RefreshMode, RotatingVandar};
//! let fake = RotatingVandar::start().await;
//! fake.then(RefreshMode::RotateThenClose); // the next refresh rotates; its answer is lost
//! // point a Config at fake.server.uri() with the pair (access(0), refresh(0)), make calls, then:
//! fake.assert_each_token_at_most_once(&[]);
//! # }
//! ```

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use serde_json::json;

use super::{FaultServer, RecordedRequest, Reply};

/// Seconds an access token issued by the fake lives (`expires_in` of every refresh answer).
pub const EXPIRES_IN: u64 = 432_000;

/// The access token of generation `n`.
pub fn access(n: u64) -> String {
    format!("acc-{n}-SECRET")
}

/// The refresh token of generation `n`.
pub fn refresh(n: u64) -> String {
    format!("ref-{n}-SECRET")
}

/// What one refresh with the current refresh token does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshMode {
    /// Rotate and answer at once.
    Rotate,
    /// Rotate and answer after this delay (tokio time).
    Delay(Duration),
    /// Rotate nothing; answer this status (e.g. 500).
    Fail(u16),
    /// Rotate nothing; answer 429 with this `Retry-After` (seconds).
    Limited(u64),
    /// Rotate, then close the connection without an answer.
    RotateThenClose,
    /// Rotate, then reset the connection (TCP RST) without an answer.
    RotateThenReset,
    /// Rotate and answer 200 with a body of over 9 MiB (over any sensible size cap).
    Huge,
}

#[derive(Default)]
struct State {
    /// The current pair (access, refresh).
    current: (String, String),
    /// The access token the last rotation replaced (still accepted).
    previous: Option<String>,
    generation: u64,
    modes: VecDeque<RefreshMode>,
    /// Refreshes received, per refresh token.
    sent: HashMap<String, usize>,
    /// Refreshes answered 401 (spent or unknown token).
    refused: usize,
    /// Business calls answered 401.
    unauthorized: usize,
}

/// How to start a [`RotatingVandar`] (no `Debug`: it holds the first pair).
#[derive(Clone)]
pub struct RotatingVandarBuilder {
    first: (String, String),
    date_header: bool,
}

impl RotatingVandarBuilder {
    /// Generation 0 is this pair instead of `access(0)` / `refresh(0)`.
    pub fn first_pair(mut self, access: &str, refresh: &str) -> Self {
        self.first = (access.to_owned(), refresh.to_owned());
        self
    }

    /// Refresh answers carry no `Date` header. By default they carry the wall clock's date, as
    /// Vandar's do (the client never dates a pair by it: it measures `expires_in` from when it
    /// sent the refresh, on its store's clock; a `Date` far from that clock is only logged).
    pub fn without_date_header(mut self) -> Self {
        self.date_header = false;
        self
    }

    /// Start the fake on an ephemeral port of 127.0.0.1.
    pub async fn start(self) -> RotatingVandar {
        let Self { first, date_header } = self;
        let state = Arc::new(Mutex::new(State {
            current: first,
            ..State::default()
        }));
        let s = state.clone();
        let server = FaultServer::start(move |req| {
            answer(
                &mut s.lock().unwrap_or_else(PoisonError::into_inner),
                req,
                date_header,
            )
        })
        .await;
        RotatingVandar { server, state }
    }
}

/// The fake's answer to one request.
fn answer(st: &mut State, req: &RecordedRequest, date_header: bool) -> Reply {
    if req.path_only() != crate::REFRESH_PATH {
        let bearer = req
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "));
        if bearer.is_some_and(|b| b == st.current.0 || st.previous.as_deref() == Some(b)) {
            return Reply::json(200, json!({"status": 1, "data": {"wallet": 1000}}));
        }
        st.unauthorized += 1;
        return Reply::json(401, json!({"status": 0, "error": "Unauthenticated"}));
    }
    let sent = req
        .json()
        .and_then(|b| b["refreshtoken"].as_str().map(str::to_owned))
        .unwrap_or_default();
    *st.sent.entry(sent.clone()).or_default() += 1;
    if sent != st.current.1 {
        st.refused += 1;
        return Reply::json(401, json!({"status": 0, "error": "invalid refresh token"}));
    }
    let mode = st.modes.pop_front().unwrap_or(RefreshMode::Rotate);
    match mode {
        RefreshMode::Fail(status) => {
            return Reply::json(status, json!({"status": 0, "error": "server error"}));
        }
        RefreshMode::Limited(secs) => {
            return Reply::json(429, json!({"status": 0, "error": "slow down"}))
                .with_header("retry-after", &secs.to_string());
        }
        _ => {}
    }
    st.generation += 1;
    let n = st.generation;
    st.previous = Some(std::mem::replace(&mut st.current, (access(n), refresh(n))).0);
    let body = json!({"token_type": "Bearer", "expires_in": EXPIRES_IN,
                      "access_token": access(n), "refresh_token": refresh(n)});
    let mut reply = match mode {
        RefreshMode::RotateThenClose => return Reply::Close,
        RefreshMode::RotateThenReset => return Reply::Reset,
        RefreshMode::Huge => {
            let mut big = body.to_string();
            big.push_str(&" ".repeat(9 * 1024 * 1024));
            Reply::text(200, "application/json", &big)
        }
        _ => Reply::json(200, body),
    };
    if date_header {
        reply = reply.with_header("date", &httpdate::fmt_http_date(SystemTime::now()));
    }
    match mode {
        RefreshMode::Delay(d) => reply.after(d),
        _ => reply,
    }
}

/// The fake Vandar (see the module docs). Stops when dropped.
pub struct RotatingVandar {
    /// The server: its [`uri`](FaultServer::uri) is the base URL of every host, and it records
    /// every request.
    pub server: FaultServer,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for RotatingVandar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatingVandar")
            .field("server", &self.server)
            .field("generation", &self.generation())
            .finish_non_exhaustive()
    }
}

impl RotatingVandar {
    /// Start with `access(0)` / `refresh(0)` current and dated answers.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// Settings other than the defaults of [`RotatingVandar::start`].
    pub fn builder() -> RotatingVandarBuilder {
        RotatingVandarBuilder {
            first: (access(0), refresh(0)),
            date_header: true,
        }
    }

    fn st(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queue what the next refresh with the current refresh token does (after the queue: rotate
    /// at once).
    pub fn then(&self, mode: RefreshMode) {
        self.st().modes.push_back(mode);
    }

    /// A new pair issued in the dashboard (the generation jumps to `n`): the old pair stops
    /// working.
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

    /// Panic unless every refresh token was sent at most once (`except`: tokens a failed
    /// refresh left usable, which may go again).
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
