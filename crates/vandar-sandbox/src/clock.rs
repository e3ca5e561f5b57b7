//! The sandbox clock: wall time plus an offset that tests advance; it can be frozen. Every
//! expiry, cycle and rate window reads it.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How far the sandbox clock can be advanced in all: 1000 years, in milliseconds.
pub const MAX_ADVANCE_MS: i64 = 1000 * 365 * 86_400_000;

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
        self.start_unix_ms
            .saturating_add(elapsed)
            .saturating_add(self.offset_ms)
    }
    /// Move sandbox time forward, by at most [`MAX_ADVANCE_MS`] in all (the seconds come from a
    /// request: a huge number stops there instead of overflowing the times built on it).
    pub fn advance(&mut self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms = self.offset_ms.saturating_add(by).min(MAX_ADVANCE_MS);
    }
    /// Stop (or restart) the flow of wall time; advancing still works.
    pub fn set_frozen(&mut self, frozen: bool) {
        match (frozen, self.frozen_at_ms) {
            (true, None) => self.frozen_at_ms = Some(self.started.elapsed().as_millis() as i64),
            (false, Some(at)) => {
                // keep the sandbox time continuous when time flows again
                let elapsed = i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX);
                self.offset_ms = self.offset_ms.saturating_sub(elapsed.saturating_sub(at));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_by_a_huge_number_stops_at_the_cap() {
        let mut c = Clock::new(true);
        let before = c.now_ms();
        c.advance(Duration::from_secs(60));
        assert_eq!(c.now_ms() - before, 60_000);
        c.advance(Duration::from_secs(u64::MAX));
        c.advance(Duration::MAX);
        assert_eq!(c.now_ms() - before, MAX_ADVANCE_MS);
        c.set_frozen(false);
        assert!(c.now_ms() - before >= MAX_ADVANCE_MS);
    }
}
