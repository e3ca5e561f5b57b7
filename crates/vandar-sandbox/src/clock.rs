//! The sandbox clock: wall time plus an offset that tests advance; it can be frozen. Every
//! expiry, cycle and rate window reads it.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The sandbox clock: wall time plus an offset that tests advance; it can be frozen.
#[derive(Debug)]
pub struct Clock {
    start_unix_ms: i64,
    started: Instant,
    offset_ms: i64,
    frozen_at_ms: Option<i64>,
}

impl Clock {
    /// A clock at wall time now, frozen or running.
    pub fn new(frozen: bool) -> Self {
        let start_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Clock {
            start_unix_ms,
            started: Instant::now(),
            offset_ms: 0,
            frozen_at_ms: frozen.then_some(0),
        }
    }
    /// Sandbox time, Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        let elapsed = self
            .frozen_at_ms
            .unwrap_or_else(|| self.started.elapsed().as_millis() as i64);
        self.start_unix_ms + elapsed + self.offset_ms
    }
    /// Move sandbox time forward.
    pub fn advance(&mut self, by: Duration) {
        self.offset_ms += by.as_millis() as i64;
    }
    /// Stop (or restart) the flow of wall time; advancing still works.
    pub fn set_frozen(&mut self, frozen: bool) {
        match (frozen, self.frozen_at_ms) {
            (true, None) => self.frozen_at_ms = Some(self.started.elapsed().as_millis() as i64),
            (false, Some(at)) => {
                // keep the sandbox time continuous when time flows again
                self.offset_ms -= self.started.elapsed().as_millis() as i64 - at;
                self.frozen_at_ms = None;
            }
            _ => {}
        }
    }
}

impl Clock {
    /// Whether wall time is stopped.
    pub fn is_frozen(&self) -> bool {
        self.frozen_at_ms.is_some()
    }
}
