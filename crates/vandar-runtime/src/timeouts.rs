//! Timeouts and the checked time arithmetic every deadline goes through: no configured
//! duration, `Retry-After` or `expires_in` can overflow an instant (a panic in the caller's
//! task); past the far future an instant simply stays there.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

/// Where an instant that would overflow is put: about 30 years ahead (tokio's own "far
/// future"), further than any wait this SDK can mean.
pub const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `now + d`, or `now` + [`FAR_FUTURE`] when that overflows or is further.
pub fn instant_after(now: Instant, d: Duration) -> Instant {
    now.checked_add(d.min(FAR_FUTURE))
        .or_else(|| now.checked_add(FAR_FUTURE))
        .unwrap_or(now)
}

/// `t + d` on the wall clock, saturating at [`FAR_FUTURE`] ahead of `t`.
pub fn system_after(t: SystemTime, d: Duration) -> SystemTime {
    t.checked_add(d.min(FAR_FUTURE))
        .or_else(|| t.checked_add(FAR_FUTURE))
        .unwrap_or(t)
}

/// An absolute time given as seconds since the Unix epoch by a server or a file (a JWT's
/// `exp`, a stored expiry): `None` for NaN or a negative number; a number too large for a
/// `Duration` or a `SystemTime` (where `Duration::from_secs_f64` and `UNIX_EPOCH + d` panic) is
/// `now` + [`FAR_FUTURE`], and no time is put later than that.
pub fn unix_secs(secs: f64, now: SystemTime) -> Option<SystemTime> {
    if secs.is_nan() || secs < 0.0 {
        return None;
    }
    let far = system_after(now, FAR_FUTURE);
    let at = Duration::try_from_secs_f64(secs)
        .ok()
        .and_then(|d| SystemTime::UNIX_EPOCH.checked_add(d));
    Some(at.map_or(far, |t| t.min(far)))
}

/// Timeouts applied to every request.
///
/// `per_attempt` bounds one HTTP exchange (connect, send, read the whole body) and one
/// operation of the token store; `total` bounds a whole call, everything it waits for: its
/// credential (the token store, a token refresh, a bearer source), the rate limiter (a shared
/// one included), every attempt and the pauses between retries. An attempt never runs past
/// `total`: its own timeout is cut to the time that is left. When `total` runs out before the
/// request is sent, nothing is sent: waiting for a rate-limit slot ends with
/// [`Error::Timeout`](crate::Error::Timeout), waiting for a credential with
/// [`Error::Auth`](crate::Error::Auth) carrying
/// [`AuthError::RefreshTimeout`](crate::AuthError::RefreshTimeout).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Time to establish a TCP + TLS connection.
    pub connect: Duration,
    /// Time for one attempt, from sending the request to reading the whole response.
    pub per_attempt: Duration,
    /// Time for a whole call: its credential, rate-limit waits, retries and backoff.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            per_attempt: Duration::from_secs(30),
            total: Duration::from_secs(60),
        }
    }
}

impl Timeouts {
    /// Replace the connect timeout.
    pub fn with_connect(mut self, connect: Duration) -> Self {
        self.connect = connect;
        self
    }

    /// Replace the per-attempt timeout.
    pub fn with_per_attempt(mut self, per_attempt: Duration) -> Self {
        self.per_attempt = per_attempt;
        self
    }

    /// Replace the total (whole call) timeout.
    pub fn with_total(mut self, total: Duration) -> Self {
        self.total = total;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_secs_saturates_and_refuses_nonsense() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let far = system_after(now, FAR_FUTURE);
        assert_eq!(
            unix_secs(1_700_000_300.5, now),
            Some(SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_300_500))
        );
        for huge in [1e30, f64::MAX, f64::INFINITY, u64::MAX as f64] {
            assert_eq!(unix_secs(huge, now), Some(far), "{huge}");
        }
        for bad in [f64::NAN, -1.0, f64::NEG_INFINITY] {
            assert_eq!(unix_secs(bad, now), None, "{bad}");
        }
        assert_eq!(unix_secs(0.0, now), Some(SystemTime::UNIX_EPOCH));
    }
}
