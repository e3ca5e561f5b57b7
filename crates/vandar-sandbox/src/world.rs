//! The whole sandbox state: the books (`State`: clock, credentials, wallet, statement,
//! settlements, faults, rate limits) and each product's own state, with the clock
//! tick that runs every product's transitions; and `Shared`, what every connection holds.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::business::BizState;
use crate::dd::DdState;
use crate::ipg::IpgState;
use crate::sanbod::SanbodState;
use crate::spec::Catalog;
use crate::state::State;
use crate::webhooks::{self, Notification, NotificationLog, Sender};

/// Everything mutable in a sandbox.
#[derive(Debug)]
pub(crate) struct World {
    /// The books every product writes to.
    pub core: State,
    /// The gateway's payments.
    pub ipg: IpgState,
    /// Direct debit: mandates and withdrawals.
    pub dd: DdState,
    /// Customers, cash-in, batch and queued settlements.
    pub biz: BizState,
    /// Sanbod OAuth: consent sessions, codes, tokens.
    pub sanbod: SanbodState,
}

impl World {
    /// A fresh sandbox.
    pub(crate) fn new(frozen: bool, rate_limit: bool) -> Self {
        World {
            core: State::new(frozen, rate_limit),
            ipg: IpgState::default(),
            dd: DdState::default(),
            biz: BizState::default(),
            sanbod: SanbodState::default(),
        }
    }

    /// Seeded state again; the clock mode and the rate-limit switch stay.
    pub(crate) fn reset(&mut self) {
        self.core.reset();
        self.ipg = IpgState::default();
        self.dd = DdState::default();
        self.biz = BizState::default();
        self.sanbod = SanbodState::default();
    }

    /// Apply every time-driven transition: the books' settlement cycle, then each product's.
    pub(crate) fn tick(&mut self) {
        self.core.tick();
        crate::dd::tick(&mut self.core, &mut self.dd);
        crate::business::tick(&mut self.core, &mut self.biz);
    }
}

/// The books are the world's common part: `world.now()`, `world.wallet_rial`, ...
impl Deref for World {
    type Target = State;
    fn deref(&self) -> &State {
        &self.core
    }
}

impl DerefMut for World {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.core
    }
}

/// State shared by every connection.
pub(crate) struct Shared {
    pub catalog: Arc<Catalog>,
    pub state: Mutex<World>,
    pub base_url: String,
    /// Every webhook and callback so far (bounded), shared with the delivery tasks.
    pub notifications: Arc<Mutex<NotificationLog>>,
}

impl Shared {
    /// Lock the state (a poisoned lock is recovered: the state stays usable for tests).
    pub(crate) fn lock(&self) -> MutexGuard<'_, World> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Log the queued notifications and deliver the sandbox's own (webhooks) in the background;
    /// each delivery's result joins the log.
    pub(crate) fn flush(&self) {
        let outbox: Vec<Notification> = std::mem::take(&mut self.lock().outbox);
        for n in outbox {
            let id = self.log().record(&n);
            if n.sender != Sender::Sandbox {
                continue;
            }
            let log = self.notifications.clone();
            tokio::spawn(async move {
                let attempt = webhooks::deliver(&n.method, &n.url, &n.form).await;
                log.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .attempted(id, attempt);
            });
        }
    }

    /// Lock the notification log.
    pub(crate) fn log(&self) -> MutexGuard<'_, NotificationLog> {
        self.notifications.lock().unwrap_or_else(|e| e.into_inner())
    }
}
