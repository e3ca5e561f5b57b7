//! Which failures are retried, and how long to wait between attempts.
//!
//! Only operations whose route is idempotent (GET, or `x-idempotent: true` in the spec) are
//! retried, and only after a transport error or HTTP 429/502/503/504. Money-moving calls (IPG
//! send and verify, settlements, withdrawals, refunds, transfers) are never repeated by the SDK.
//! The delays come from [`backon`]'s exponential backoff (maintained, no runtime coupling: its
//! policy is a plain iterator of delays, so the runtime's own loop sleeps on tokio time and can
//! honour `Retry-After`, the rate limiter and the total timeout between attempts).

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

use crate::error::ConfigError;

/// How idempotent operations are retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retries).
    pub max_retries: u32,
    /// Delay before the first retry; each later one doubles.
    pub initial_backoff: Duration,
    /// Cap on any one delay (jitter included).
    pub max_backoff: Duration,
    /// Add up to 100% random jitter to each delay (then cap it), so that clients that failed
    /// together do not retry together.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.max_retries > 0
            && (self.initial_backoff.is_zero() || self.max_backoff < self.initial_backoff)
        {
            return Err(ConfigError::Invalid(
                "retry backoff needs 0 < initial_backoff <= max_backoff".into(),
            ));
        }
        Ok(())
    }

    /// The delays before each retry; ends when the retries are used up.
    pub(crate) fn delays(&self) -> impl Iterator<Item = Duration> + Send + use<> {
        let mut builder = ExponentialBuilder::new()
            .with_min_delay(self.initial_backoff)
            .with_max_delay(self.max_backoff)
            .with_factor(2.0)
            .with_max_times(self.max_retries as usize);
        if self.jitter {
            builder = builder.with_jitter();
        }
        let cap = self.max_backoff;
        builder.build().map(move |d| d.min(cap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_capped_and_bounded() {
        let p = RetryPolicy {
            max_retries: 6,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(700),
            jitter: false,
        };
        let d: Vec<u64> = p.delays().map(|d| d.as_millis() as u64).collect();
        assert_eq!(d, vec![100, 200, 400, 700, 700, 700]);
        assert_eq!(RetryPolicy::none().delays().count(), 0);
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let p = RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            jitter: true,
        };
        for _ in 0..50 {
            let d: Vec<Duration> = p.delays().collect();
            assert_eq!(d.len(), 5);
            let mut base = Duration::from_millis(100);
            for x in d {
                assert!(
                    x >= base.min(p.max_backoff) && x <= p.max_backoff.min(base * 2),
                    "{x:?}"
                );
                base = (base * 2).min(p.max_backoff);
            }
        }
    }

    #[test]
    fn retryable_statuses() {
        use crate::decide::is_retryable_status;
        for s in [429, 502, 503, 504] {
            assert!(is_retryable_status(s));
        }
        for s in [200, 400, 401, 404, 422, 500, 501] {
            assert!(!is_retryable_status(s));
        }
    }

    #[test]
    fn invalid_policy() {
        let p = RetryPolicy {
            initial_backoff: Duration::ZERO,
            ..RetryPolicy::default()
        };
        assert!(p.validate().is_err());
        assert!(
            RetryPolicy {
                initial_backoff: Duration::ZERO,
                ..RetryPolicy::none()
            }
            .validate()
            .is_ok()
        );
    }
}
