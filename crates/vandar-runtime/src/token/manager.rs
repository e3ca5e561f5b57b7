//! The token manager: carries out [`protocol`](crate::token::protocol) against the configured
//! [`TokenStore`], and sends the refresh itself through the send pipeline like every other
//! operation (rate limiter, size cap, the call's total timeout, pure decisions).
//!
//! * A caller whose access token is valid never waits on a refresh: a refresh ahead of expiry
//!   runs in the background (one per process at a time), and the caller goes on with the
//!   token it has.
//! * A caller with no valid access token (expired, or refused with a 401) waits for the
//!   refresh, within its call's total timeout.
//! * A replica that cannot refresh (the refresh token was refused, or may have been spent)
//!   keeps using a still-valid access token and looks at the store again at most every
//!   [`RECHECK`]: one install of a new pair anywhere brings it back.
//! * Every wait ends. A caller waits for the first load of the store and for a refresh at
//!   most until its call's deadline (then [`AuthError::RefreshTimeout`], nothing sent); both
//!   run on their own tasks, so a caller that gives up never cuts them short (a refresh cut
//!   short after sending would lose the rotated pair) and the next caller joins them. Each
//!   store operation is bounded by the attempt timeout (`store_op`): a store
//!   that does not answer is a failing store (the configured pair is used meanwhile, a refresh
//!   ends, a rotated pair is written in the background), never a lock, load or refresh held
//!   forever.
//! * No future or timer outlives the tokio runtime it was made on. A load or refresh runs on a
//!   task of the caller's runtime and hands its result to a slot (a `watch` channel); callers
//!   wait on the slot with their own timers. A task dropped with its runtime empties the slot
//!   on its way out ([`Pilot`]), so a caller on another runtime starts a new flight instead of
//!   polling a dead runtime's timers. Every task the manager spawns ends by itself: a load, a
//!   refresh and a look at the store within their deadlines, the background write of a
//!   rotated pair once the manager is dropped or after [`SETTLE_GIVE_UP`].
//! * A runtime only adopts a record of its own environment (the token endpoint it talks to,
//!   [`environment_of`]): a store that holds another environment's pair fails every call with
//!   [`AuthError::EnvironmentMismatch`] and nothing is sent with that pair.
//! * Expiry times of a rotated pair are measured from the moment the refresh was let go, on
//!   the store's clock: the server's `Date` is never trusted (one answer with a wrong `Date`
//!   would date the pair for every replica).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder as _, ExponentialBuilder};
use futures::future::BoxFuture;
use reqwest::header::{ACCEPT, DATE, HeaderValue};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::Instrument;

use crate::auth::{Clock, RefreshHook, TokenPair, TokenRefresh};
use crate::credentials::Credential;
use crate::decide::{self, RefreshSeen};
use crate::error::{AuthError, Error};
use crate::pipeline::{self, CallContext, Gate};
use crate::ratelimit::LimiterKey;
use crate::route::{Auth, Route};
use crate::runtime::RuntimeInner;
use crate::secret::Secret;
use crate::timeouts::{instant_after, system_after};
use crate::token::protocol::{self, First, Lock, Me, Outcome, Step, Timing, Write, WriteKind};
use crate::token::record::{TokenRecord, environment_of, fresh_revision};
use crate::token::store::{Snapshot, Swap, TokenStore};

/// How often a replica that cannot refresh, or whose store is behind, looks at the store again.
pub const RECHECK: Duration = Duration::from_secs(1);
/// How often a healthy replica looks at the store (to pick up an install, or to write its pair
/// back into a store that lost it).
pub const SYNC_EVERY: Duration = Duration::from_secs(15);
/// How long the background write of a rotated pair into a failing store goes on (while the
/// manager lives). After that the held pair is still written back by the next look at the
/// store ([`SYNC_EVERY`], on a call).
pub const SETTLE_GIVE_UP: Duration = Duration::from_secs(300);
/// The longest pause between two background writes of a rotated pair: well under a send
/// deadline, so that the pair lands soon after the store is back (a replica that writes its
/// own older record back holds refreshes off for one send deadline only).
const SETTLE_MAX_DELAY: Duration = Duration::from_secs(1);
/// How far the server's `Date` may be from the store's clock before it is logged.
const DATE_SKEW_WARN: Duration = Duration::from_secs(300);
/// Flights in a row a caller starts again after they stopped without a result (their tokio
/// runtime shut down) before it gives up.
const RESTARTS: usize = 3;

/// The refresh operation, routed like every other one.
pub(crate) static REFRESH_ROUTE: Route = Route {
    operation_id: "refresh_token",
    method: "POST",
    host: crate::auth::REFRESH_HOST,
    path: crate::auth::REFRESH_PATH,
    segments: &[
        crate::path::Segment::Lit("v3"),
        crate::path::Segment::Lit("refreshtoken"),
    ],
    auth: Auth::None,
    api_key_field: None,
    idempotent: false,
    checks: &[],
};

/// Token-pair settings captured by the configuration.
#[derive(Clone)]
pub(crate) struct TokenAuth {
    pub(crate) store: Arc<dyn TokenStore>,
    /// The pair to seed into an empty store.
    pub(crate) seed: Option<TokenPair>,
    pub(crate) settings: TokenRefresh,
    pub(crate) on_refresh: Option<RefreshHook>,
}

struct Local {
    loaded: bool,
    record: Option<TokenRecord>,
    /// Store clock minus this replica's clock, in milliseconds.
    offset_ms: i64,
    /// The last generation whose refresh token this replica sent.
    sent: Option<u64>,
    /// Why this replica cannot refresh (until a newer generation appears).
    lock: Option<AuthError>,
    /// When the store was last read.
    last_look: Option<Instant>,
    /// No background refresh before this instant (after one that could not refresh).
    quiet_until: Option<Instant>,
    /// The held record was never confirmed by the store (it was out of reach at start).
    unsynced: bool,
}

/// What a flight ended with (`None` while it runs).
type Landing = Option<Result<(), AuthError>>;

/// One load or refresh under way in this process, joined by every caller that waits for it.
/// Callers never poll the task's future (its timers belong to the runtime it runs on): they
/// wait for its result in a slot, with their own timers.
#[derive(Clone)]
struct Flight {
    id: u64,
    landing: watch::Receiver<Landing>,
}

impl Flight {
    /// The flight's result; `None` when it stopped without one (its task was dropped, with
    /// its tokio runtime).
    async fn landed(mut self) -> Option<Result<(), AuthError>> {
        match self.landing.wait_for(Option::is_some).await {
            Ok(landing) => landing.clone(),
            Err(_) => None,
        }
    }
}

/// Which slot a flight lives in.
#[derive(Clone, Copy)]
enum FlightKind {
    /// The first load of the store.
    Load,
    /// A refresh.
    Refresh,
}

/// Owned by a flight's task (moved into its future before it is spawned): publishes the
/// result, and when the task ends or is dropped (its runtime shut down, even before its
/// first poll) empties the manager's slot if it still names this flight. Waiters then see
/// the flight end without a result and start a new one on their own runtime.
struct Pilot {
    manager: Weak<TokenManager>,
    kind: FlightKind,
    id: u64,
    landing: watch::Sender<Landing>,
}

impl Pilot {
    fn land(self, result: Result<(), AuthError>) {
        // The slot is emptied first (by `drop`), so a waiter that wakes and asks again starts
        // a new flight rather than reading this one's result twice.
        let landing = self.landing.clone();
        drop(self);
        landing.send_replace(Some(result));
    }
}

impl Drop for Pilot {
    fn drop(&mut self) {
        if let Some(manager) = self.manager.upgrade() {
            let mut slot = manager.slot(self.kind);
            if slot.as_ref().is_some_and(|f| f.id == self.id) {
                *slot = None;
            }
        }
    }
}

/// Owned by the task of a look at the store: lets the next look start when the task ends or
/// is dropped with its runtime.
struct Looking(Arc<TokenManager>);

impl Drop for Looking {
    fn drop(&mut self) {
        self.0.background.store(false, Ordering::Release);
    }
}

/// Keeps the current pair and refreshes it by the protocol.
pub(crate) struct TokenManager {
    id: String,
    /// The environment this runtime talks to ([`environment_of`] its token endpoint).
    environment: String,
    auth: TokenAuth,
    clock: Arc<dyn Clock>,
    timing: Timing,
    runtime: Weak<RuntimeInner>,
    /// The longest one store operation may take before it counts as failed (the attempt
    /// timeout: one exchange with the store).
    store_wait: Duration,
    local: Mutex<Local>,
    /// Serialises the first load and installs.
    flight: tokio::sync::Mutex<()>,
    /// The first load under way (one at a time); callers join it.
    loading: Mutex<Option<Flight>>,
    /// The refresh under way in this process (one at a time); callers join it.
    refreshing: Mutex<Option<Flight>>,
    /// The id of the next flight.
    flights: AtomicU64,
    /// A look at the store runs in the background.
    background: AtomicBool,
}

#[derive(Deserialize)]
struct RefreshAnswer {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<Value>,
}

impl TokenManager {
    pub(crate) fn new(
        auth: TokenAuth,
        clock: Arc<dyn Clock>,
        per_attempt: Duration,
        token_endpoint: &url::Url,
        runtime: Weak<RuntimeInner>,
    ) -> Self {
        let id = format!("r-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        Self {
            id,
            environment: environment_of(token_endpoint),
            auth,
            clock,
            timing: Timing {
                lease: Timing::default().lease,
                send: per_attempt.saturating_add(Duration::from_secs(2)),
            },
            runtime,
            store_wait: per_attempt,
            local: Mutex::new(Local {
                loaded: false,
                record: None,
                offset_ms: 0,
                sent: None,
                lock: None,
                last_look: None,
                quiet_until: None,
                unsynced: false,
            }),
            flight: tokio::sync::Mutex::new(()),
            loading: Mutex::new(None),
            refreshing: Mutex::new(None),
            flights: AtomicU64::new(0),
            background: AtomicBool::new(false),
        }
    }

    fn slot(&self, kind: FlightKind) -> std::sync::MutexGuard<'_, Option<Flight>> {
        match kind {
            FlightKind::Load => &self.loading,
            FlightKind::Refresh => &self.refreshing,
        }
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
    }

    /// The flight of `kind` under way, or a new one running `work` on a task of the caller's
    /// runtime.
    fn flight<F, W>(self: &Arc<Self>, kind: FlightKind, work: W) -> Flight
    where
        W: FnOnce(Arc<Self>) -> F,
        F: std::future::Future<Output = Result<(), AuthError>> + Send + 'static,
    {
        let mut slot = self.slot(kind);
        if let Some(f) = slot.as_ref() {
            return f.clone();
        }
        let (tx, rx) = watch::channel(None);
        let flight = Flight {
            id: self.flights.fetch_add(1, Ordering::Relaxed),
            landing: rx,
        };
        *slot = Some(flight.clone());
        drop(slot);
        let pilot = Pilot {
            manager: Arc::downgrade(self),
            kind,
            id: flight.id,
            landing: tx,
        };
        let work = work(self.clone());
        // The pilot is moved in before the spawn, so it is dropped (and the slot emptied) even
        // if the runtime drops the task before its first poll.
        tokio::spawn(async move {
            let pilot = pilot;
            pilot.land(work.await);
        });
        flight
    }

    /// Wait (until `deadline`) for a flight of `kind`: the one under way, or a new one. A
    /// flight that stopped without a result (its runtime shut down) is started again.
    async fn join<F, W>(
        self: &Arc<Self>,
        kind: FlightKind,
        deadline: Instant,
        work: W,
    ) -> Result<(), AuthError>
    where
        W: Fn(Arc<Self>) -> F,
        F: std::future::Future<Output = Result<(), AuthError>> + Send + 'static,
    {
        for _ in 0..RESTARTS {
            let flight = self.flight(kind, &work);
            match tokio::time::timeout_at(deadline, flight.landed()).await {
                Err(_) => return Err(AuthError::RefreshTimeout),
                Ok(Some(result)) => return result,
                Ok(None) => {
                    tracing::debug!(
                        "a token task stopped with its tokio runtime; starting it again here"
                    );
                }
            }
        }
        Err(AuthError::RefreshFailed {
            reason: "the token task kept stopping (its tokio runtime was shutting down)".into(),
            http_status: None,
        })
    }

    /// A stored record of another environment is refused: never adopted, never sent.
    fn own_environment(&self, record: Option<&TokenRecord>) -> Result<(), AuthError> {
        match record.and_then(|r| r.environment.as_deref()) {
            Some(stored) if stored != self.environment => {
                let e = AuthError::EnvironmentMismatch {
                    stored: stored.to_owned(),
                    runtime: self.environment.clone(),
                };
                tracing::error!(error = %e, "the token store holds another environment's pair");
                Err(e)
            }
            _ => Ok(()),
        }
    }

    fn local(&self) -> std::sync::MutexGuard<'_, Local> {
        self.local.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Now, on the store's clock.
    fn now(&self) -> SystemTime {
        let offset = self.local().offset_ms;
        shift(self.clock.now(), offset)
    }

    fn store_error(e: impl std::fmt::Display) -> AuthError {
        AuthError::Store {
            reason: e.to_string(),
        }
    }

    /// One store operation, for at most [`store_wait`](Self::store_wait): a store that does
    /// not answer by then has failed (its late answer is dropped).
    async fn store_op<T>(
        &self,
        what: &str,
        op: crate::token::store::StoreFuture<'_, T>,
    ) -> Result<T, AuthError> {
        match tokio::time::timeout(self.store_wait, op).await {
            Ok(answer) => answer.map_err(Self::store_error),
            Err(_) => Err(AuthError::Store {
                reason: format!(
                    "the token store did not answer ({what}) within {} ms",
                    self.store_wait.as_millis()
                ),
            }),
        }
    }

    async fn load(&self) -> Result<Snapshot, AuthError> {
        let snap = self.store_op("load", self.auth.store.load()).await?;
        self.observe(snap.now);
        self.own_environment(snap.record.as_ref())?;
        Ok(snap)
    }

    /// Write `w` (naming this runtime's environment if the record names none yet).
    async fn swap(&self, w: &Write) -> Result<Swap, AuthError> {
        let mut record = w.record.clone();
        if record.environment.is_none() {
            record.environment = Some(self.environment.clone());
        }
        let swap = self
            .store_op("swap", self.auth.store.swap(w.expected, &record))
            .await?;
        match &swap {
            Swap::Done { now } => {
                self.observe(*now);
                self.hold(record);
            }
            Swap::Conflict(snap) => {
                self.observe(snap.now);
                self.own_environment(snap.record.as_ref())?;
            }
        }
        Ok(swap)
    }

    /// Note the store's clock.
    fn observe(&self, store_now: Option<SystemTime>) {
        let mut l = self.local();
        l.last_look = Some(Instant::now());
        if let Some(t) = store_now {
            l.offset_ms = offset_ms(t, self.clock.now());
        }
    }

    /// Hold `record` (a higher generation ends any lock).
    fn hold(&self, record: TokenRecord) {
        let mut l = self.local();
        let newer = l
            .record
            .as_ref()
            .is_none_or(|r| record.generation > r.generation);
        if newer {
            l.lock = None;
            l.quiet_until = None;
        }
        if newer
            || l.record
                .as_ref()
                .is_some_and(|r| r.generation == record.generation)
        {
            l.record = Some(record);
        }
    }

    fn held(&self) -> Option<TokenRecord> {
        self.local().record.clone()
    }

    /// Load the store on first use, waiting for it until `deadline` (the caller's).
    async fn ensure_loaded(self: &Arc<Self>, deadline: Instant) -> Result<(), AuthError> {
        if self.local().loaded {
            return Ok(());
        }
        // The first load under way, or a new one: on its own task, so a store that answers
        // after the first caller gave up is still read (or, past
        // [`store_wait`](Self::store_wait), given up for the configured pair) whoever waits,
        // and the lock it takes is let go by its task.
        self.join(FlightKind::Load, deadline, |this| async move {
            this.load_once().await
        })
        .await
    }

    async fn load_once(&self) -> Result<(), AuthError> {
        if self.local().loaded {
            return Ok(());
        }
        let _guard = self.flight.lock().await;
        if self.local().loaded {
            return Ok(());
        }
        let snap = match self.load().await {
            Ok(snap) => snap,
            // Another environment's record: not this runtime's store; nothing is used.
            Err(e @ AuthError::EnvironmentMismatch { .. }) => return Err(e),
            Err(e) => {
                // The store is out of reach at start: use the configured pair's access token
                // meanwhile (nothing can be refreshed without the store, so nothing is sent
                // with its refresh token); the next look at the store adopts what it holds.
                let Some(seed) = &self.auth.seed else {
                    return Err(e);
                };
                tracing::warn!(error = %e, "token store out of reach; using the configured pair until it answers");
                self.hold(TokenRecord::seed(seed.clone()));
                let mut l = self.local();
                l.loaded = true;
                l.last_look = None;
                l.unsynced = true;
                return Ok(());
            }
        };
        match protocol::first_load(
            self.auth.seed.as_ref(),
            snap.record.as_ref(),
            fresh_revision(),
        ) {
            First::Stored(r) => self.hold(r),
            First::Seed(w) => match self.swap(&w).await? {
                Swap::Done { .. } => {}
                Swap::Conflict(snap) => {
                    if let Some(r) = snap.record {
                        self.hold(r);
                    }
                }
            },
            First::Empty => {}
        }
        self.local().loaded = true;
        Ok(())
    }

    /// The current pair (loading it on first use, within the total timeout).
    pub(crate) async fn current(self: &Arc<Self>) -> Result<Option<TokenPair>, AuthError> {
        let deadline = instant_after(Instant::now(), self.total_timeout());
        self.ensure_loaded(deadline).await?;
        Ok(self.held().map(|r| r.pair))
    }

    /// Install a new pair (an operator's: `Runtime::set_token_pair`): its generation beats every
    /// one seen, so every replica adopts it on its next look at the store. Ends within the
    /// total timeout (the lock is let go when it does).
    pub(crate) async fn install(&self, pair: TokenPair) -> Result<(), AuthError> {
        let limit = self.total_timeout();
        tokio::time::timeout(limit, self.install_once(pair))
            .await
            .unwrap_or_else(|_| {
                Err(AuthError::Store {
                    reason: format!(
                        "the pair was not installed within {} ms (the token store is slow, or another install or load held it)",
                        limit.as_millis()
                    ),
                })
            })
    }

    async fn install_once(&self, pair: TokenPair) -> Result<(), AuthError> {
        let _guard = self.flight.lock().await;
        let mut snap = self.load().await?;
        self.local().loaded = true;
        for _ in 0..16 {
            let highest = snap
                .record
                .as_ref()
                .map(|r| r.generation)
                .max(self.held().map(|r| r.generation))
                .unwrap_or(0);
            let mut record = TokenRecord::install(pair.clone(), self.now(), highest);
            record.revision = fresh_revision();
            let w = Write {
                expected: snap.record.as_ref().map(|r| r.revision),
                record,
                kind: WriteKind::Restore,
            };
            match self.swap(&w).await? {
                Swap::Done { .. } => {
                    tracing::info!(
                        generation = w.record.generation,
                        "installed a new Vandar token pair"
                    );
                    return Ok(());
                }
                Swap::Conflict(s) => snap = s,
            }
        }
        Err(AuthError::Store {
            reason: "the token store kept changing while installing the pair".into(),
        })
    }

    /// Refresh now (an operator's `vandar token refresh`): the held access token counts as
    /// refused. Returns the pair held afterwards.
    pub(crate) async fn refresh_now(
        self: &Arc<Self>,
        deadline: Instant,
    ) -> Result<TokenPair, AuthError> {
        self.ensure_loaded(deadline).await?;
        let held = self.held().ok_or(AuthError::NoToken)?;
        self.access_token(Some(held.pair.access_token.expose()), deadline)
            .await?;
        self.held().map(|r| r.pair).ok_or(AuthError::NoToken)
    }

    /// An access token to send. `stale` is the token a 401 refused (it needs a refresh now);
    /// `deadline` is the end of the call's total timeout.
    pub(crate) async fn access_token(
        self: &Arc<Self>,
        stale: Option<&str>,
        deadline: Instant,
    ) -> Result<Secret, AuthError> {
        self.ensure_loaded(deadline).await?;
        let mut last_error = None;
        for _ in 0..4 {
            let Some(record) = self.held() else {
                // An empty store may be filled by an install elsewhere.
                self.sync_soon();
                return Err(AuthError::NoToken);
            };
            let pair = &record.pair;
            let now = self.now();
            let refused = stale.is_some_and(|s| s == pair.access_token.expose());
            let usable = !refused && protocol::usable(pair, now);
            let due = refused || protocol::due(pair, now, self.auth.settings.margin);
            if !due {
                self.sync_soon();
                return Ok(pair.access_token.clone());
            }
            if usable {
                self.refresh_in_background(deadline);
                return Ok(pair.access_token.clone());
            }
            if let Some(e) = last_error {
                return Err(e);
            }
            if pair.refresh_expires_at <= now {
                // Nothing to send; a pair installed elsewhere ends this.
                self.sync_soon();
                return Err(AuthError::RefreshTokenExpired);
            }
            let generation = record.generation;
            match self.refresh(generation, deadline).await {
                Ok(()) => {}
                Err(e) => {
                    // The call's time is up (whatever arrived meanwhile: there is no time
                    // left to send it).
                    if e == AuthError::RefreshTimeout && Instant::now() >= deadline {
                        return Err(e);
                    }
                    // A newer pair may have arrived while this one failed.
                    if self.held().is_some_and(|r| r.generation > generation) {
                        continue;
                    }
                    last_error = Some(e);
                }
            }
        }
        Err(last_error.unwrap_or(AuthError::RefreshFailed {
            reason: "the token pair kept changing".into(),
            http_status: None,
        }))
    }

    /// Start a refresh in the background unless one runs (or ran recently without success).
    fn refresh_in_background(self: &Arc<Self>, _caller_deadline: Instant) {
        if self.local().quiet_until.is_some_and(|t| Instant::now() < t) {
            return;
        }
        let Some(generation) = self.held().map(|r| r.generation) else {
            return;
        };
        drop(self.flight_of(generation));
    }

    /// Look at the store in the background when it is time (pick up an install; write the
    /// held pair back into a store that lost it).
    fn sync_soon(self: &Arc<Self>) {
        let (due, locked) = {
            let l = self.local();
            let every = if l.lock.is_some() {
                RECHECK
            } else {
                SYNC_EVERY
            };
            (
                l.last_look.is_none_or(|t| t.elapsed() >= every),
                l.lock.is_some(),
            )
        };
        if !due || self.background.swap(true, Ordering::AcqRel) {
            return;
        }
        self.local().last_look = Some(Instant::now());
        // Moved into the task before the spawn: the flag is let go even if the task is dropped
        // with its runtime (before or during its look).
        let looking = Looking(self.clone());
        tokio::spawn(async move {
            let looking = looking;
            if let Err(e) = looking.0.sync().await {
                tracing::debug!(error = %e, locked, "token store look failed");
            }
        });
    }

    /// One look at the store: adopt a newer generation, or write back the held record if the
    /// store lost it or holds an older generation.
    pub(crate) async fn sync(&self) -> Result<(), AuthError> {
        let snap = self.load().await?;
        self.local().unsynced = false;
        let held = self.held();
        match (held.as_ref(), snap.record) {
            (_, Some(stored))
                if held
                    .as_ref()
                    .is_none_or(|h| stored.generation > h.generation) =>
            {
                tracing::info!(
                    generation = stored.generation,
                    "adopted a newer token pair from the store"
                );
                self.hold(stored);
            }
            (Some(h), stored) if stored.as_ref().is_none_or(|s| s.generation < h.generation) => {
                let w = Write {
                    expected: stored.as_ref().map(|s| s.revision),
                    record: protocol::restored(
                        &self.id,
                        h,
                        self.now(),
                        self.timing,
                        fresh_revision(),
                    ),
                    kind: WriteKind::Restore,
                };
                if let Swap::Done { .. } = self.swap(&w).await? {
                    tracing::warn!(
                        generation = h.generation,
                        "the token store had lost the current pair; wrote it back"
                    );
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn total_timeout(&self) -> Duration {
        self.runtime
            .upgrade()
            .map(|rt| rt.config.timeouts().total)
            .unwrap_or(Duration::from_secs(60))
    }

    /// Wait (until `deadline`) for the refresh of generation `generation`: this process's
    /// refresh under way, or a new one. The refresh runs on its own task with its own deadline,
    /// so a caller that gives up (its total timeout) never cuts a refresh short: a refresh cut
    /// short after sending would leave a probably spent refresh token.
    async fn refresh(
        self: &Arc<Self>,
        generation: u64,
        deadline: Instant,
    ) -> Result<(), AuthError> {
        self.join(FlightKind::Refresh, deadline, move |this| {
            this.refresh_flight(generation)
        })
        .await
    }

    /// The refresh under way in this process, or a new one (on its own task, so it runs to
    /// its end whoever waits for it).
    fn flight_of(self: &Arc<Self>, generation: u64) -> Flight {
        self.flight(FlightKind::Refresh, move |this| {
            this.refresh_flight(generation)
        })
    }

    /// One refresh of generation `generation`, with its own deadline.
    fn refresh_flight(
        self: Arc<Self>,
        generation: u64,
    ) -> impl std::future::Future<Output = Result<(), AuthError>> + Send + 'static {
        let deadline = instant_after(Instant::now(), self.total_timeout().max(self.timing.send));
        let span = tracing::info_span!(
            "vandar.token_refresh",
            operation = REFRESH_ROUTE.operation_id,
            generation,
            status = tracing::field::Empty,
            outcome = tracing::field::Empty,
            attempt = tracing::field::Empty,
        );
        async move {
            let result = if self.held().is_some_and(|r| r.generation > generation) {
                Ok(())
            } else {
                self.run(deadline).await
            };
            if let Err(e) = &result {
                tracing::warn!(error = %e, "token refresh did not complete");
                self.local().quiet_until = Some(instant_after(Instant::now(), RECHECK));
            }
            result
        }
        .instrument(span)
    }

    async fn run(self: &Arc<Self>, deadline: Instant) -> Result<(), AuthError> {
        let mut poll = Duration::from_millis(10);
        let mut known: Option<Snapshot> = None;
        for _ in 0..10_000 {
            if Instant::now() >= deadline {
                return Err(AuthError::RefreshTimeout);
            }
            let snap = match known.take() {
                Some(s) => s,
                None => self.load().await?,
            };
            let (cached, sent) = {
                let l = self.local();
                (l.record.clone(), l.sent)
            };
            let me = Me {
                id: &self.id,
                cached: cached.as_ref(),
                sent,
            };
            let now = self.now();
            match protocol::plan(me, snap.record.as_ref(), now, self.timing, fresh_revision()) {
                Step::Adopt(r) => {
                    let fresh = !protocol::due(&r.pair, now, self.auth.settings.margin);
                    tracing::info!(
                        generation = r.generation,
                        "using the token pair another replica stored"
                    );
                    self.hold(r);
                    if fresh {
                        return Ok(());
                    }
                }
                Step::Write(w) => {
                    if let Swap::Done { .. } = self.swap(&w).await? {
                        known = Some(Snapshot {
                            record: Some(w.record),
                            now: None,
                        });
                    }
                }
                Step::Send(w) => match self.send(w, deadline).await {
                    Ok(Sent::Done) => return Ok(()),
                    // Another replica took the lease over before the marker: wait for its
                    // refresh instead.
                    Ok(Sent::TakenOver) => {}
                    Err(e) => return Err(e),
                },
                Step::Wait { until } => {
                    let left = until.duration_since(now).unwrap_or(Duration::ZERO);
                    let nap = poll.min(left).max(Duration::from_millis(1));
                    tokio::time::sleep_until(instant_after(Instant::now(), nap).min(deadline))
                        .await;
                    poll = (poll * 2).min(Duration::from_millis(200));
                }
                Step::NotBefore(t) => {
                    return Err(AuthError::RefreshFailed {
                        reason: format!(
                            "the last refresh answer rotated nothing; the next try is in {} s",
                            t.duration_since(now).unwrap_or(Duration::ZERO).as_secs()
                        ),
                        http_status: None,
                    });
                }
                Step::Locked(lock) => {
                    let e = match lock {
                        Lock::Rejected { status } => AuthError::RefreshRejected { status },
                        Lock::Uncertain => AuthError::RefreshOutcomeUnknown {
                            reason: "a refresh with this refresh token was sent and no rotated pair was stored".into(),
                        },
                    };
                    self.local().lock = Some(e.clone());
                    return Err(e);
                }
                Step::Empty => return Err(AuthError::NoToken),
            }
        }
        Err(AuthError::RefreshTimeout)
    }

    /// Hold the lease: write "about to send" right before sending (in the pipeline's gate),
    /// send the refresh, and settle its outcome in the store.
    async fn send(self: &Arc<Self>, marker: Write, deadline: Instant) -> Result<Sent, AuthError> {
        let rt = self.runtime.upgrade().ok_or(AuthError::RefreshFailed {
            reason: "the runtime was dropped".into(),
            http_status: None,
        })?;
        let pair = marker.record.pair.clone();
        let generation = marker.record.generation;
        let gate = Arc::new(MarkerGate {
            manager: self.clone(),
            marker: marker.clone(),
            deadline,
            written: Mutex::new(None),
            released: AtomicBool::new(false),
            sent_at: Mutex::new(None),
            taken_over: AtomicBool::new(false),
        });
        let base = rt.config.base_url(crate::auth::REFRESH_HOST).map_err(|e| {
            AuthError::RefreshFailed {
                reason: e.to_string(),
                http_status: None,
            }
        })?;
        let url = format!(
            "{}{}",
            base.as_str().trim_end_matches('/'),
            crate::auth::REFRESH_PATH
        );
        let body = serde_json::json!({ "refreshtoken": pair.refresh_token.expose() });
        let request = rt
            .http
            .post(url)
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .json(&body)
            .build()
            .map_err(|e| AuthError::RefreshFailed {
                reason: format!("could not build the refresh request ({})", e.without_url()),
                http_status: None,
            })?;
        let mut ctx = CallContext {
            route: &REFRESH_ROUTE,
            body: None,
            query: None,
            credential: Credential {
                header: None,
                token: None,
                refresher: None,
                key: LimiterKey::token_pair(),
                secrets: vec![pair.refresh_token.clone(), pair.access_token.clone()],
            },
            deadline,
            started: Instant::now(),
            gate: Some(gate.clone()),
            options: Default::default(),
            span: tracing::Span::current(),
        };
        let result = pipeline::attempts(&rt, request, &mut ctx).await;
        if gate.taken_over.load(Ordering::Acquire) {
            return Ok(Sent::TakenOver);
        }
        // (`Local::sent` was recorded by the gate, before the request left.)
        let sent = gate.sent();
        let seen = match &result {
            Ok(ex) => {
                let answer = serde_json::from_slice::<RefreshAnswer>(&ex.body).ok();
                let tokens = answer.as_ref().is_some_and(|a| {
                    a.access_token.as_deref().is_some_and(|t| !t.is_empty())
                        && a.refresh_token.as_deref().is_some_and(|t| !t.is_empty())
                });
                RefreshSeen::Answer {
                    status: ex.status,
                    retry_after: crate::response::retry_after(&ex.headers),
                    tokens,
                    failure_body: serde_json::from_slice::<Value>(&ex.body)
                        .ok()
                        .is_some_and(|v| crate::response::is_failure_body(&v)),
                }
            }
            Err(_) if !sent => RefreshSeen::NotSent,
            Err(Error::Transport(e)) if e.reqwest_error().is_connect() => RefreshSeen::NotSent,
            Err(Error::RateLimited { retry_after, .. }) => RefreshSeen::RateLimited {
                retry_after: *retry_after,
            },
            Err(Error::OutcomeUnknown { http_status, .. }) => RefreshSeen::Unknown {
                status: *http_status,
            },
            Err(Error::ResponseTooLarge { http_status, .. }) => RefreshSeen::Unknown {
                status: Some(*http_status),
            },
            Err(_) => RefreshSeen::Unknown { status: None },
        };
        let max_retry_after = rt.config.max_retry_after();
        let verdict = decide::refresh_outcome(seen, max_retry_after);
        let outcome = match verdict {
            decide::RefreshVerdict::Rotated => match &result {
                Ok(ex) => self.rotated_pair(ex, gate.sent_at()),
                Err(_) => Outcome::Lost,
            },
            decide::RefreshVerdict::NotSent => Outcome::NotSent,
            decide::RefreshVerdict::NotRotated { retry } => Outcome::NotRotated { retry },
            decide::RefreshVerdict::Rejected { status } => Outcome::Rejected { status },
            decide::RefreshVerdict::Lost => Outcome::Lost,
        };
        let mine = gate.marker_record();
        self.settle(&mine, &outcome).await;
        let status = result.as_ref().ok().map(|ex| ex.status).or(match &result {
            Err(e) => e.http_status(),
            Ok(_) => None,
        });
        match outcome {
            Outcome::Rotated(pair) => {
                tracing::info!(
                    generation = generation + 1,
                    expires_in_s = pair
                        .access_expires_at
                        .duration_since(self.now())
                        .unwrap_or_default()
                        .as_secs(),
                    "access token refreshed"
                );
                if let Some(hook) = &self.auth.on_refresh {
                    hook(&pair);
                }
                Ok(Sent::Done)
            }
            Outcome::NotSent => Err(match result {
                Err(Error::Auth(e)) => e,
                Err(Error::Timeout { .. }) => AuthError::RefreshTimeout,
                Err(e) => AuthError::RefreshFailed {
                    reason: e.to_string(),
                    http_status: e.http_status(),
                },
                Ok(ex) => AuthError::RefreshFailed {
                    reason: format!("HTTP {}", ex.status),
                    http_status: Some(ex.status),
                },
            }),
            Outcome::NotRotated { retry } => Err(match result {
                Err(Error::RateLimited { retry_after, .. }) => {
                    AuthError::RefreshRateLimited { retry_after }
                }
                _ if status == Some(429) => AuthError::RefreshRateLimited { retry_after: retry },
                _ => AuthError::RefreshFailed {
                    reason: format!(
                        "Vandar answered the refresh with HTTP {} and rotated nothing; the pair is unchanged and the refresh is tried again in {} s",
                        status.unwrap_or(0),
                        retry.as_secs()
                    ),
                    http_status: status,
                },
            }),
            Outcome::Rejected { status } => {
                let e = AuthError::RefreshRejected { status };
                self.local().lock = Some(e.clone());
                Err(e)
            }
            Outcome::Lost => {
                let e = AuthError::RefreshOutcomeUnknown {
                    reason: match &result {
                        Err(e) => e.to_string(),
                        Ok(ex) => format!("HTTP {} without a readable token pair", ex.status),
                    },
                };
                tracing::error!(error = %e, "token refresh outcome unknown");
                self.local().lock = Some(e.clone());
                Err(e)
            }
        }
    }

    /// The rotated pair from a refresh answer. Its expiry times are the answer's lifetimes
    /// measured from `sent_at`, when the refresh was let go (store clock): the pair cannot
    /// have been issued before, so the expiry is never later than the server's. The server's
    /// `Date` is not used (a wrong one, from a server or a proxy, would date the pair for
    /// every replica: years back, every call finds it expired); a pair is never stored
    /// already expired.
    fn rotated_pair(&self, ex: &pipeline::Exchange, sent_at: Option<SystemTime>) -> Outcome {
        let Some(RefreshAnswer {
            access_token: Some(access),
            refresh_token: Some(refresh),
            expires_in,
        }) = serde_json::from_slice::<RefreshAnswer>(&ex.body).ok()
        else {
            return Outcome::Lost;
        };
        let received = self.now();
        let sent = sent_at.map_or(received, |t| t.min(received));
        if let Some(date) = ex
            .headers
            .get(DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
        {
            let skew = offset_ms(date, received);
            if skew.unsigned_abs() > DATE_SKEW_WARN.as_millis() as u64 {
                tracing::warn!(
                    skew_s = skew / 1000,
                    "the refresh answer's Date is far from the store's clock; the pair's expiry is measured from when the refresh was sent"
                );
            }
        }
        let lifetime = expires_in
            .as_ref()
            .and_then(|v| match v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .filter(|s| *s > 0)
            .map(Duration::from_secs)
            .unwrap_or(self.auth.settings.access_lifetime);
        // An answer slower than its own lifetime would make a pair expired on arrival: date it
        // from its arrival instead.
        let issued = if system_after(sent, lifetime) > received {
            sent
        } else {
            received
        };
        Outcome::Rotated(TokenPair::new(
            access,
            refresh,
            system_after(issued, lifetime),
            system_after(issued, self.auth.settings.refresh_lifetime),
        ))
    }

    /// Write the outcome of this replica's refresh. A rotated pair is held at once and written
    /// until the store takes it (in the background if the store is down).
    async fn settle(self: &Arc<Self>, mine: &TokenRecord, outcome: &Outcome) {
        if let Outcome::Rotated(pair) = outcome {
            // Held at once: it is the only valid pair now, whatever the store does.
            self.hold(mine.rotated(pair.clone(), fresh_revision()));
        }
        let mut delay = Duration::from_millis(50);
        for attempt in 0..64u32 {
            match self.settle_once(mine, outcome).await {
                Ok(true) => return,
                Ok(false) => continue,
                Err(e) => {
                    if !matches!(outcome, Outcome::Rotated(_)) {
                        tracing::warn!(error = %e, "could not record the refresh outcome in the token store");
                        return;
                    }
                    if attempt == 0 {
                        tracing::error!(error = %e, "could not save the rotated token pair; holding it in memory and retrying");
                        tokio::spawn(Self::settle_in_background(
                            Arc::downgrade(self),
                            mine.clone(),
                            outcome.clone(),
                        ));
                        return;
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(1));
                }
            }
        }
    }

    /// Write a rotated pair the store did not take, until it does. The task holds the manager
    /// only while it tries (a weak reference otherwise), so it ends once every runtime is
    /// dropped; it also ends after [`SETTLE_GIVE_UP`] (the held pair is then written back by
    /// the next look at the store). Backoff from 50 ms up to [`SETTLE_MAX_DELAY`], with
    /// jitter (`backon`, as the retries of calls).
    async fn settle_in_background(manager: Weak<Self>, mine: TokenRecord, outcome: Outcome) {
        let started = Instant::now();
        let mut delays = ExponentialBuilder::new()
            .with_min_delay(Duration::from_millis(50))
            .with_max_delay(SETTLE_MAX_DELAY)
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .build();
        loop {
            let delay = delays
                .next()
                .unwrap_or(SETTLE_MAX_DELAY)
                .min(SETTLE_MAX_DELAY);
            tokio::time::sleep(delay).await;
            let Some(this) = manager.upgrade() else {
                tracing::error!(
                    generation = mine.generation.saturating_add(1),
                    "every runtime of this token manager was dropped before the token store took the rotated pair; it was never saved, and the refresh token the store holds is spent: install a new pair"
                );
                return;
            };
            match this.settle_once(&mine, &outcome).await {
                Ok(true) => {
                    tracing::info!("the rotated token pair is saved");
                    return;
                }
                Ok(false) => {}
                Err(e) if started.elapsed() >= SETTLE_GIVE_UP => {
                    tracing::error!(
                        error = %e,
                        "the token store still does not take the rotated pair; giving up the background write (the next look at the store writes back the pair held in memory)"
                    );
                    return;
                }
                Err(_) => {}
            }
        }
    }

    /// One try: `Ok(true)` when settled (written, or the store moved on).
    async fn settle_once(&self, mine: &TokenRecord, outcome: &Outcome) -> Result<bool, AuthError> {
        let snap = self.load().await?;
        match protocol::settle(
            &self.id,
            mine,
            snap.record.as_ref(),
            outcome,
            self.now(),
            fresh_revision(),
        ) {
            None => {
                if let Some(stored) = snap.record
                    && stored.generation > mine.generation
                {
                    self.hold(stored);
                }
                Ok(true)
            }
            Some(w) => Ok(matches!(self.swap(&w).await?, Swap::Done { .. })),
        }
    }
}

/// The pipeline's gate for the refresh: writes the "about to send" marker once the request
/// has its rate-limit slot, and refuses to send once the holder's send deadline has passed.
struct MarkerGate {
    manager: Arc<TokenManager>,
    marker: Write,
    /// The refresh's deadline: the marker is not waited for past it (nothing is sent then).
    deadline: Instant,
    /// When the marker was written.
    written: Mutex<Option<Instant>>,
    /// A request was let go (it may have reached the server).
    released: AtomicBool,
    /// When the request was let go (store clock): a rotated pair's expiry is measured from it.
    sent_at: Mutex<Option<SystemTime>>,
    /// The marker could not be written: another replica took the lease over.
    taken_over: AtomicBool,
}

/// How a holder's send ended.
enum Sent {
    /// Settled (a rotation).
    Done,
    /// Nothing sent: another replica took the lease over first.
    TakenOver,
}

impl MarkerGate {
    fn sent(&self) -> bool {
        self.released.load(Ordering::Acquire)
    }

    fn marker_record(&self) -> TokenRecord {
        self.marker.record.clone()
    }

    fn sent_at(&self) -> Option<SystemTime> {
        *self.sent_at.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Gate for MarkerGate {
    fn before_send(&self) -> BoxFuture<'_, Result<Duration, Error>> {
        Box::pin(async move {
            let written = *self.written.lock().unwrap_or_else(PoisonError::into_inner);
            let at = match written {
                Some(at) => at,
                None => {
                    match tokio::time::timeout_at(self.deadline, self.manager.swap(&self.marker))
                        .await
                        .unwrap_or(Err(AuthError::RefreshTimeout))
                        .map_err(Error::Auth)?
                    {
                        Swap::Done { .. } => {
                            let at = Instant::now();
                            *self.written.lock().unwrap_or_else(PoisonError::into_inner) = Some(at);
                            at
                        }
                        Swap::Conflict(_) => {
                            self.taken_over.store(true, Ordering::Release);
                            return Err(Error::Auth(AuthError::RefreshFailed {
                                reason: "another replica took the refresh over; nothing was sent"
                                    .into(),
                                http_status: None,
                            }));
                        }
                    }
                }
            };
            // The others give up on this send at the marker's `until`; keep a safety margin
            // so the answer is in before then.
            let window = self
                .manager
                .timing
                .send
                .saturating_sub(Duration::from_secs(1));
            let left = window.saturating_sub(at.elapsed());
            if left.is_zero() {
                tracing::warn!("refresh send deadline passed before sending; not sent");
                return Err(Error::Auth(AuthError::RefreshTimeout));
            }
            // Recorded before the request leaves: if this task is dropped while the request is
            // out (its runtime shut down), the replica still knows it may have spent this
            // refresh token and never clears its own `Uncertain` marker of it.
            self.manager.local().sent = Some(self.marker.record.generation);
            *self.sent_at.lock().unwrap_or_else(PoisonError::into_inner) = Some(self.manager.now());
            self.released.store(true, Ordering::Release);
            Ok(left)
        })
    }
}

fn offset_ms(store: SystemTime, local: SystemTime) -> i64 {
    match store.duration_since(local) {
        Ok(d) => d.as_millis().min(i64::MAX as u128) as i64,
        Err(e) => -(e.duration().as_millis().min(i64::MAX as u128) as i64),
    }
}

fn shift(t: SystemTime, ms: i64) -> SystemTime {
    if ms >= 0 {
        system_after(t, Duration::from_millis(ms as u64))
    } else {
        t.checked_sub(Duration::from_millis(ms.unsigned_abs()))
            .unwrap_or(t)
    }
}
