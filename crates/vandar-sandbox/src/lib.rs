//! A local, stateful Vandar + Sanbod sandbox built from the project's OpenAPI specs.
//!
//! The specs (`spec/*.yaml`) are embedded at build time; every operation of every spec and every
//! browser page (`x-browser-pages`) is served on ONE base URL, matched by method and path
//! template (the SDK's `Config::all_hosts` points every host there). Among several matching
//! templates the most specific one wins (a literal segment beats a parameter, compared from the
//! left); no two specs share a method and path today, and a tie would go to the spec listed first
//! (ipg, core, subscription, ravand, sanbod).
//!
//! * Requests are validated against the spec schemas (JSON Schema draft 4 semantics, OpenAPI
//!   `nullable` honoured, `x-` extensions ignored, formats not enforced) and rejected in each
//!   service's documented shape: IPG `{"status":0,"errors":[..]}` (422), Vandar Laravel
//!   `{"message":..,"errors":{"field":[..]}}` (422), Sanbod `{"error":true,"message":{..}}` (400);
//!   a missing, wrong or expired Vandar token answers 401 `{"status":0,"error":"Unauthenticated"}`.
//! * Stateful: IPG (send, pay page, callback, transaction info, verify once, 20-minute window),
//!   token refresh (5/10 days, rotation), wallet balance, statement (`start_after` cursor),
//!   settlements (store with `track_id`, list as a Laravel page, show, cancel, 30-minute cycle,
//!   `notify_url` webhook), direct debit (bank page, callback, verify, withdrawals within the
//!   mandate's limits, revoke, 20-minute lapse), Sanbod OAuth (consent page, codes, AC/CC tokens, refresh, revoke,
//!   scope checks on every service), customers with wallets (deposit, withdraw, transactions),
//!   cash-in (deposits from the seeded accounts into the wallet, split above 100,000,000 Toman),
//!   batch settlements (`INIT` → `SUBMITTED`, or `FAILED` with the money back) and queued
//!   settlements (sent in order once the wallet covers them). Every other operation answers its spec example (or a minimal
//!   answer synthesized from its success schema); every success answer is checked against its
//!   schema before it leaves.
//! * Pages modelled on the real ones (the IPG pay page, the direct-debit bank page, the Sanbod
//!   consent page): Persian and right-to-left (English with `?lang=en`), with the Vazirmatn font
//!   embedded; a reload before the decision shows the page again.
//! * Test controls under `/__sandbox/` and as methods of [`Sandbox`]: the buyer's Pay/Cancel,
//!   the customer's mandate decision, the Sanbod consent decision, a settlement done or failed
//!   now, the log of webhooks and callbacks and sending one again, faults on the next calls of
//!   an operation, the clock, the rate limit switch (POST 30 / others 100 per 3 s per
//!   credential, 429 with `Retry-After`), reset.
//!
//! With the `vandar` facade (feature `sandbox`) this crate is `vandar::sandbox`:
//!
//! ```no_run
//! # use vandar_sandbox as sandbox; // `vandar::sandbox` with the facade
//! # async fn demo() -> Result<(), sandbox::Error> {
//! let sandbox = sandbox::Sandbox::start().await?; // vandar::sandbox::Sandbox::start()
//! let creds = sandbox.credentials();
//! println!("{} {}", sandbox.base_url(), creds.ipg_api_key);
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The crate's `README.md` lists every flow, control and error shape.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod answer;
mod banks;
mod business;
mod calendar;
mod clock;
mod controls;
mod dd;
mod error;
mod http;
mod i18n;
mod ipg;
mod pager;
mod pages;
mod router;
mod sanbod;
mod server;
mod settlement;
mod spec;
mod state;
mod statement;
mod values;
mod webhooks;
mod world;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use business::{
    BATCH_FAILING_IBAN, BATCH_SUBMIT_DELAY_MS, CASH_IN_ACCOUNT_RIAL, CASH_IN_ACCOUNTS,
    CASH_IN_SPLIT_RIAL,
};
pub use dd::{INSTANT_SETTLE, MANDATE_WINDOW, PAYER_BALANCE_RIAL};
pub use error::Error;
pub use ipg::{PAY_PAGE_LIFETIME, VERIFY_WINDOW};
pub use state::{
    ACCESS_TOKEN_LIFETIME, Credentials, Fault, FaultKind, MAX_SEED_TRANSACTIONS,
    REFRESH_TOKEN_LIFETIME, SETTLEMENT_CYCLE, SeededTransactions,
};
pub use webhooks::{Attempt, LoggedNotification, MAX_LOGGED_NOTIFICATIONS, Sender};

/// The port the binary listens on by default (`127.0.0.1:8910`).
pub const DEFAULT_PORT: u16 = 8910;

/// Options for [`Sandbox::builder`].
#[derive(Debug, Clone)]
pub struct SandboxBuilder {
    addr: SocketAddr,
    rate_limit: bool,
    frozen_clock: bool,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        SandboxBuilder {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            rate_limit: true,
            frozen_clock: false,
        }
    }
}

impl SandboxBuilder {
    /// Listen here (default `127.0.0.1:0`, a free port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }
    /// Enforce the documented rate limits (default on).
    pub fn rate_limit(mut self, on: bool) -> Self {
        self.rate_limit = on;
        self
    }
    /// Stop the wall clock: sandbox time moves only with [`Sandbox::advance_clock`] (default off).
    pub fn frozen_clock(mut self, frozen: bool) -> Self {
        self.frozen_clock = frozen;
        self
    }
    /// Bind and start serving on the current Tokio runtime.
    pub async fn start(self) -> Result<Sandbox, Error> {
        let catalog = spec::Catalog::load()?;
        let listener = TcpListener::bind(self.addr)
            .await
            .map_err(|source| Error::Bind {
                addr: self.addr,
                source,
            })?;
        let local = listener.local_addr().map_err(|source| Error::Bind {
            addr: self.addr,
            source,
        })?;
        let base_url = format!("http://{local}");
        let shared = Arc::new(server::Shared {
            catalog,
            state: Mutex::new(world::World::new(self.frozen_clock, self.rate_limit)),
            base_url: base_url.clone(),
            notifications: Default::default(),
        });
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(server::serve(listener, shared.clone(), rx));
        tracing::info!(%base_url, "vandar-sandbox listening");
        Ok(Sandbox {
            base_url,
            addr: local,
            shared,
            stop: tx,
            task: Some(task),
        })
    }
}

/// A running sandbox. Dropping it (or [`Sandbox::shutdown`]) stops the server.
pub struct Sandbox {
    base_url: String,
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Start a sandbox on `127.0.0.1` at a free port, rate limits on, clock running.
    pub async fn start() -> Result<Sandbox, Error> {
        Self::builder().start().await
    }

    /// Options before starting.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// `http://127.0.0.1:PORT` (no trailing slash): every host's base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The current credentials (the Vandar token pair changes after a refresh).
    pub fn credentials(&self) -> Credentials {
        self.shared.lock().creds.clone()
    }

    /// The buyer clicks Pay on the IPG page of `token`: returns the callback URL
    /// (`callback_url?token=..&payment_status=OK`).
    pub async fn pay_ipg(&self, token: &str) -> Result<String, Error> {
        let decided = {
            let mut world = self.shared.lock();
            let world = &mut *world;
            world.ipg.decide(&mut world.core, token, true, None)
        };
        self.logged(decided)
    }

    /// The buyer clicks Cancel: returns the callback URL with `payment_status=FAILED`.
    pub async fn fail_ipg(&self, token: &str) -> Result<String, Error> {
        let decided = {
            let mut world = self.shared.lock();
            let world = &mut *world;
            world.ipg.decide(&mut world.core, token, false, None)
        };
        self.logged(decided)
    }

    /// A decision's callback URL, after logging the callback (the notification log).
    fn logged(&self, decided: Result<String, String>) -> Result<String, Error> {
        self.shared.flush();
        decided.map_err(Error::Control)
    }

    /// The customer approves the mandate of `token` at the bank: returns the callback URL
    /// (`callback_url?token=..&authorization_id=..&status=SUCCEED`).
    pub async fn approve_mandate(&self, token: &str) -> Result<String, Error> {
        let decided = {
            let mut world = self.shared.lock();
            let world = &mut *world;
            dd::decide(&mut world.core, &mut world.dd, token, true, None)
        };
        self.logged(decided)
    }

    /// The mandate fails at the bank with `error_code` (default `02`, the customer refused):
    /// returns the callback URL (`..&status=FAILED&error_code=..`).
    pub async fn fail_mandate(
        &self,
        token: &str,
        error_code: Option<&str>,
    ) -> Result<String, Error> {
        let decided = {
            let mut world = self.shared.lock();
            let world = &mut *world;
            dd::decide(&mut world.core, &mut world.dd, token, false, error_code)
        };
        self.logged(decided)
    }

    /// The user allows (or denies) a Sanbod consent session (the id at the end of the
    /// `authorize` redirect): returns the `redirect_uri` with `code` (or `error`) and `state`.
    pub async fn decide_sanbod_consent(&self, session: &str, allow: bool) -> Result<String, Error> {
        let mut st = self.shared.lock();
        let now = st.now();
        st.sanbod
            .decide(session, allow, now)
            .map_err(Error::Control)
    }

    /// End a PENDING settlement (by id or transaction id) now, as the bank would: `done`
    /// pays it out, otherwise it fails and the money returns to the wallet; its `notify_url`
    /// webhook is sent. Refused when it is unknown or no longer PENDING.
    pub async fn end_settlement(&self, id: &str, done: bool) -> Result<(), Error> {
        let end = if done {
            state::SettlementEnd::Done
        } else {
            state::SettlementEnd::Failed
        };
        let ended = self.shared.lock().end_settlement(id, end);
        self.shared.flush();
        ended.map(|_| ()).map_err(Error::Control)
    }

    /// Every webhook the sandbox sent and every callback a browser was sent to (the last
    /// [`MAX_LOGGED_NOTIFICATIONS`]), newest first, with each delivery attempt.
    pub fn notifications(&self) -> Vec<LoggedNotification> {
        self.shared.log().newest_first()
    }

    /// Send a logged notification again now (the webhook POST, or the GET of a callback);
    /// returns it with the new attempt.
    pub async fn resend_notification(&self, id: u64) -> Result<LoggedNotification, Error> {
        controls::resend(&self.shared, id)
            .await
            .map_err(Error::Control)
    }

    /// Move sandbox time forward (runs due transitions and webhooks).
    pub async fn advance_clock(&self, by: Duration) {
        {
            let mut st = self.shared.lock();
            st.clock.advance(by);
            st.tick();
        }
        self.shared.flush();
    }

    /// Stop or restart the flow of wall time in the sandbox clock.
    pub async fn freeze_clock(&self, frozen: bool) {
        self.shared.lock().clock.set_frozen(frozen);
    }

    /// Inject a fault on the next `fault.count` calls of an operation.
    pub async fn inject_fault(&self, fault: Fault) -> Result<(), Error> {
        if self
            .shared
            .catalog
            .find(fault.spec.as_deref(), &fault.operation)
            .is_empty()
        {
            return Err(Error::Control(format!(
                "unknown operation {}",
                fault.operation
            )));
        }
        self.shared.lock().faults.push(fault);
        Ok(())
    }

    /// Remove every pending fault.
    pub async fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Switch the documented rate limits on or off.
    pub async fn set_rate_limit(&self, enabled: bool) {
        let mut st = self.shared.lock();
        st.rate_limit = enabled;
        st.rate.clear();
    }

    /// Append `count` synthetic lines to the business statement (`list_transactions`) for
    /// volume tests, moving the wallet by their sum (see the README's test controls).
    pub async fn seed_transactions(&self, count: usize) -> Result<SeededTransactions, Error> {
        self.shared
            .lock()
            .seed_transactions(count)
            .map_err(Error::Control)
    }

    /// Forget all payments, settlements, tokens and faults; restore the seeded credentials and
    /// wallet.
    pub async fn reset(&self) {
        self.shared.lock().reset();
        self.shared.log().clear();
    }

    /// Stop serving and wait for the accept loop to end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
