//! The send pipeline's decisions as pure functions: given what a call is and what one attempt
//! observed, what happens next. The attempt loop (the runtime's `pipeline`) only carries them out
//! (waits, sends, refreshes, decodes), so every rule of the reliability contract is one row of
//! the table test below.
//!
//! | observed | idempotent call | non-idempotent call (money) |
//! |---|---|---|
//! | connect failed (nothing sent) | retry with backoff | fail: transport error, nothing sent |
//! | sent, then reset / timeout | retry with backoff | **outcome unknown** |
//! | 401, a token source can refresh, not yet replayed | refresh and replay once | refresh, then fail with the 401: **never resent** (the next call uses the new token) |
//! | 429 with `Retry-After` above the cap | fail: rate limited, with the server's value | same |
//! | 429 within the cap (or none) | wait `Retry-After` (or backoff), retry | fail: API error 429 (retryable by the caller) |
//! | 502, 503, 504 | retry with backoff | 503: API error; 502/504: **outcome unknown** |
//! | 500, and any other status from 500 up but 501, 503, 505, 511 (a CDN's 520-527, a proxy's 598/599) | API error | **outcome unknown** |
//! | body over the size cap | fail: too large | 2xx, or a status above: **outcome unknown**; else too large |
//! | anything else | finish: decode the answer | finish |
//!
//! A retry also needs a copy of the request (a streamed body has none), a delay left in the
//! retry policy, and the delay to end before the total deadline; otherwise the last answer is
//! final. After the loop, [`on_undecodable`] decides what a 2xx body that does not decode is.
//!
//! Why 5xx are "outcome unknown" for money calls: a gateway in front of Vandar answers 502/504
//! (a CDN 520-527, another proxy 598/599) when the application did not answer in time, which
//! may be after it processed the request; Laravel answers 500 for an exception, which may come
//! after a database commit. The exceptions say the request was not taken: 503 is Vandar's
//! maintenance mode or an overloaded front door, 501 and 505 refuse the method or the HTTP
//! version, 511 is a network's login page.
//!
//! Why a money call is not replayed after a 401 although the server refused it: the SDK never
//! sends a call that may move money twice, whatever answered (a proxy may answer 401 after it
//! forwarded the request). The token is still refreshed, so the caller's next call, or a
//! deliberate resend, carries the new one.

use std::time::Duration;

/// What the pipeline knows about a call before deciding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Facts {
    /// The route may be repeated without repeating a side effect.
    pub idempotent: bool,
    /// A token source can supply a fresh token after a 401, and the call was not replayed yet.
    pub can_refresh: bool,
    /// The request can be sent again (its body could be copied).
    pub can_resend: bool,
    /// The next backoff delay of the retry policy (`None` when the retries are used up).
    pub next_backoff: Option<Duration>,
    /// Time left before the call's total deadline.
    pub remaining: Duration,
    /// The longest `Retry-After` honoured.
    pub max_retry_after: Duration,
}

/// What one attempt observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observed {
    /// An answer whose body was read whole.
    Answer {
        /// HTTP status.
        status: u16,
        /// Its `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// An answer whose body is larger than the cap (not read).
    TooLarge {
        /// HTTP status.
        status: u16,
    },
    /// No answer: the transport failed.
    Transport {
        /// The failure came before anything was sent (connect, TLS handshake, request build).
        nothing_sent: bool,
    },
}

/// What the pipeline does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Hand the answer to the decoder (a success, or an API error).
    Finish,
    /// Wait, then send the same request again.
    Retry {
        /// How long to wait first.
        after: Duration,
    },
    /// Get a fresh token and send the request again, once.
    RefreshAndReplay,
    /// Get a fresh token for the calls that follow, then finish with this answer (a call that
    /// may move money, or one whose body cannot be sent again, is not resent).
    RefreshThenFinish,
    /// Fail with "outcome unknown": the request may have taken effect.
    OutcomeUnknown,
    /// Fail with "rate limited": the server asked for a longer wait than the cap.
    RateLimited {
        /// The server's `Retry-After`.
        retry_after: Duration,
    },
    /// Fail with the attempt's own error (transport error, or body too large).
    Fail,
}

/// Statuses an idempotent call retries.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// Statuses after which a non-idempotent call may have taken effect (see the module docs):
/// every status from 500 up except the few that say the request was not taken.
pub fn may_have_taken_effect(status: u16) -> bool {
    status >= 500 && !matches!(status, 501 | 503 | 505 | 511)
}

/// The decision after one attempt.
pub fn after_attempt(facts: &Facts, observed: Observed) -> Decision {
    let retry = |after: Duration| -> Option<Decision> {
        (facts.idempotent && facts.can_resend && after < facts.remaining)
            .then_some(Decision::Retry { after })
    };
    match observed {
        Observed::Transport { nothing_sent } => {
            if !facts.idempotent && !nothing_sent {
                return Decision::OutcomeUnknown;
            }
            facts.next_backoff.and_then(retry).unwrap_or(Decision::Fail)
        }
        Observed::TooLarge { status } => {
            if !facts.idempotent && ((200..300).contains(&status) || may_have_taken_effect(status))
            {
                Decision::OutcomeUnknown
            } else {
                Decision::Fail
            }
        }
        Observed::Answer {
            status,
            retry_after,
        } => {
            if status == 401 && facts.can_refresh {
                return if facts.idempotent && facts.can_resend {
                    Decision::RefreshAndReplay
                } else {
                    Decision::RefreshThenFinish
                };
            }
            if status == 429 {
                if let Some(ra) = retry_after.filter(|ra| *ra > facts.max_retry_after) {
                    return Decision::RateLimited { retry_after: ra };
                }
                let wait = match (retry_after, facts.next_backoff) {
                    (_, None) => return Decision::Finish,
                    (Some(ra), Some(backoff)) => ra.max(backoff),
                    (None, Some(backoff)) => backoff,
                };
                return retry(wait).unwrap_or(Decision::Finish);
            }
            if !facts.idempotent {
                return if may_have_taken_effect(status) {
                    Decision::OutcomeUnknown
                } else {
                    Decision::Finish
                };
            }
            if is_retryable_status(status) {
                return facts
                    .next_backoff
                    .and_then(retry)
                    .unwrap_or(Decision::Finish);
            }
            Decision::Finish
        }
    }
}

/// What a 2xx answer whose body does not decode (not JSON, truncated, another shape) is: for
/// a non-idempotent call the server processed the request and its result is lost
/// (`true`: outcome unknown); for an idempotent call a decode error.
pub fn on_undecodable(idempotent: bool) -> bool {
    !idempotent
}

/// How long a 429 holds back every caller of the credential: the server's `Retry-After`, at
/// most the cap; without one, the method's window.
pub fn pause_after_429(retry_after: Option<Duration>, cap: Duration, window: Duration) -> Duration {
    retry_after.unwrap_or(window).min(cap)
}

/// What the token refresh's exchange produced, as the refresh decision needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshSeen {
    /// The request never left (the marker could not be written, the deadline passed, the
    /// connection failed before sending, the rate limiter had no slot in time).
    NotSent,
    /// An answer was read whole.
    Answer {
        /// HTTP status.
        status: u16,
        /// Its `Retry-After`, if any.
        retry_after: Option<Duration>,
        /// It carries a non-empty access token and refresh token.
        tokens: bool,
        /// Its body is a Vandar failure envelope (`status: 0`, `error: true`).
        failure_body: bool,
    },
    /// The server asked for a longer wait than the cap (a 429).
    RateLimited {
        /// The server's `Retry-After`.
        retry_after: Duration,
    },
    /// The request was sent and no readable answer came back (lost, cut off, over the size
    /// cap, or a status the pipeline calls "outcome unknown").
    Unknown {
        /// The status, if one arrived.
        status: Option<u16>,
    },
}

/// What a refresh did to the refresh token (see [`crate::token::protocol::Outcome`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshVerdict {
    /// A rotated pair arrived.
    Rotated,
    /// Nothing was sent.
    NotSent,
    /// Answered, nothing rotated: the token stays usable; try again after `retry`.
    NotRotated {
        /// The earliest next try.
        retry: Duration,
    },
    /// The refresh token was refused.
    Rejected {
        /// HTTP status.
        status: u16,
    },
    /// Probably rotated, but the new pair is lost: the refresh token is probably spent.
    Lost,
}

/// The wait after a refresh answer that rotated nothing, when the server gave no
/// `Retry-After`.
pub const REFRESH_BACKOFF: Duration = Duration::from_secs(2);

/// What a refresh did, from what its exchange produced.
///
/// | seen | verdict |
/// |---|---|
/// | nothing sent (marker refused, deadline passed, connect failed, no rate-limit slot) | not sent |
/// | 2xx with both tokens | rotated |
/// | 2xx with a failure envelope, or 400, 401, 403, 422 | rejected |
/// | 2xx without the tokens, lost, cut off, too large, 502, 504, no status | lost |
/// | 429 (any `Retry-After`; the wait capped at `max_wait`) | not rotated |
/// | 500, 503 and every other status | not rotated |
///
/// Why 500 is "not rotated" here while a money call's 500 is "outcome unknown": the refresh
/// rotates and answers in one step, and a 500 that rotated nothing must leave the still-valid
/// refresh token usable (treating it as spent locks every replica out). A 502 or 504 comes from
/// a gateway that stopped waiting, possibly after the rotation: lost.
pub fn refresh_outcome(seen: RefreshSeen, max_wait: Duration) -> RefreshVerdict {
    let wait = |ra: Option<Duration>| RefreshVerdict::NotRotated {
        retry: ra.unwrap_or(REFRESH_BACKOFF).min(max_wait),
    };
    match seen {
        RefreshSeen::NotSent => RefreshVerdict::NotSent,
        RefreshSeen::RateLimited { retry_after } => wait(Some(retry_after)),
        RefreshSeen::Unknown {
            status: Some(500 | 503),
        } => wait(None),
        RefreshSeen::Unknown { .. } => RefreshVerdict::Lost,
        RefreshSeen::Answer {
            status,
            retry_after,
            tokens,
            failure_body,
        } => match status {
            200..=299 if failure_body => RefreshVerdict::Rejected { status },
            200..=299 if tokens => RefreshVerdict::Rotated,
            200..=299 => RefreshVerdict::Lost,
            400 | 401 | 403 | 422 => RefreshVerdict::Rejected { status },
            502 | 504 => RefreshVerdict::Lost,
            _ => wait(retry_after),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn facts(idempotent: bool) -> Facts {
        Facts {
            idempotent,
            can_refresh: false,
            can_resend: true,
            next_backoff: Some(Duration::from_millis(200)),
            remaining: S(60),
            max_retry_after: S(60),
        }
    }

    fn answer(status: u16) -> Observed {
        Observed::Answer {
            status,
            retry_after: None,
        }
    }

    #[test]
    fn the_decision_table() {
        use Decision::*;
        let backoff = Retry {
            after: Duration::from_millis(200),
        };
        let sent_lost = Observed::Transport {
            nothing_sent: false,
        };
        let not_sent = Observed::Transport { nothing_sent: true };
        let with_ra = |status, secs| Observed::Answer {
            status,
            retry_after: Some(S(secs)),
        };
        let no_retries = Facts {
            next_backoff: None,
            ..facts(true)
        };
        let no_copy = Facts {
            can_resend: false,
            ..facts(true)
        };
        let little_time = Facts {
            remaining: Duration::from_millis(100),
            ..facts(true)
        };
        let refresh = |idempotent| Facts {
            can_refresh: true,
            ..facts(idempotent)
        };
        let short_cap = Facts {
            max_retry_after: S(5),
            ..facts(true)
        };
        #[rustfmt::skip]
        let rows: Vec<(&str, Facts, Observed, Decision)> = vec![
            // transport
            ("safe call, response lost: retry", facts(true), sent_lost, backoff),
            ("safe call, connect failed: retry", facts(true), not_sent, backoff),
            ("safe call, retries used up: fail", no_retries, sent_lost, Fail),
            ("safe call, no copy of the body: fail", no_copy, sent_lost, Fail),
            ("safe call, backoff past the deadline: fail", little_time, sent_lost, Fail),
            ("money call, response lost: outcome unknown", facts(false), sent_lost, OutcomeUnknown),
            ("money call, nothing sent: fail", facts(false), not_sent, Fail),
            // 401
            ("401 with a refresher: refresh and replay", refresh(true), answer(401), RefreshAndReplay),
            ("money call 401 with a refresher: refresh, never resent", refresh(false), answer(401), RefreshThenFinish),
            ("safe call 401 with a refresher, no copy of the body: refresh only", Facts { can_resend: false, ..refresh(true) }, answer(401), RefreshThenFinish),
            ("401 without a refresher: finish", facts(true), answer(401), Finish),
            ("401 after the replay (no refresher left): finish", facts(false), answer(401), Finish),
            // 429
            ("429 within the cap: wait Retry-After", facts(true), with_ra(429, 7), Retry { after: S(7) }),
            ("429 without Retry-After: backoff", facts(true), answer(429), backoff),
            ("429 above the cap: rate limited", facts(true), with_ra(429, 3600), RateLimited { retry_after: S(3600) }),
            ("429 above a short cap: rate limited", short_cap, with_ra(429, 6), RateLimited { retry_after: S(6) }),
            ("429 u64::MAX seconds: rate limited", facts(true), with_ra(429, u64::MAX), RateLimited { retry_after: S(u64::MAX) }),
            ("money call 429 above the cap: rate limited", facts(false), with_ra(429, 3600), RateLimited { retry_after: S(3600) }),
            ("money call 429: finish, never resent", facts(false), with_ra(429, 1), Finish),
            ("429 wait past the deadline: finish", little_time, with_ra(429, 1), Finish),
            ("429 retries used up: finish", no_retries, with_ra(429, 1), Finish),
            // 5xx
            ("safe call 502: retry", facts(true), answer(502), backoff),
            ("safe call 503: retry", facts(true), answer(503), backoff),
            ("safe call 504: retry", facts(true), answer(504), backoff),
            ("safe call 500: finish", facts(true), answer(500), Finish),
            ("safe call 503, retries used up: finish", no_retries, answer(503), Finish),
            ("money call 500: outcome unknown", facts(false), answer(500), OutcomeUnknown),
            ("money call 502: outcome unknown", facts(false), answer(502), OutcomeUnknown),
            ("money call 504: outcome unknown", facts(false), answer(504), OutcomeUnknown),
            ("money call 503: finish (not taken)", facts(false), answer(503), Finish),
            ("money call 501: finish (not taken)", facts(false), answer(501), Finish),
            ("money call 505: finish (not taken)", facts(false), answer(505), Finish),
            ("money call 511: finish (not taken)", facts(false), answer(511), Finish),
            ("money call 520 (a CDN's): outcome unknown", facts(false), answer(520), OutcomeUnknown),
            ("money call 524 (a CDN's timeout): outcome unknown", facts(false), answer(524), OutcomeUnknown),
            ("money call 599 (a proxy's): outcome unknown", facts(false), answer(599), OutcomeUnknown),
            ("money call 999 (not HTTP): outcome unknown", facts(false), answer(999), OutcomeUnknown),
            ("safe call 524: finish", facts(true), answer(524), Finish),
            // size cap
            ("safe call too large: fail", facts(true), Observed::TooLarge { status: 200 }, Fail),
            ("money call 2xx too large: outcome unknown", facts(false), Observed::TooLarge { status: 200 }, OutcomeUnknown),
            ("money call 502 too large: outcome unknown", facts(false), Observed::TooLarge { status: 502 }, OutcomeUnknown),
            ("money call 422 too large: fail", facts(false), Observed::TooLarge { status: 422 }, Fail),
            // the rest
            ("200: finish", facts(true), answer(200), Finish),
            ("money call 200: finish", facts(false), answer(200), Finish),
            ("422: finish", facts(false), answer(422), Finish),
            ("302: finish", facts(true), answer(302), Finish),
        ];
        for (name, f, observed, want) in rows {
            assert_eq!(after_attempt(&f, observed), want, "{name}");
        }
    }

    #[test]
    fn undecodable_answers_and_pauses() {
        assert!(
            on_undecodable(false),
            "a money call's unreadable 2xx is outcome unknown"
        );
        assert!(!on_undecodable(true));
        let cap = S(60);
        assert_eq!(pause_after_429(Some(S(7)), cap, S(3)), S(7));
        assert_eq!(pause_after_429(Some(S(3600)), cap, S(3)), cap);
        assert_eq!(pause_after_429(Some(S(u64::MAX)), cap, S(3)), cap);
        assert_eq!(pause_after_429(None, cap, S(3)), S(3));
    }

    #[test]
    fn the_refresh_table() {
        use RefreshVerdict::*;
        let cap = S(60);
        let ans = |status, tokens, failure_body, ra: Option<u64>| RefreshSeen::Answer {
            status,
            retry_after: ra.map(S),
            tokens,
            failure_body,
        };
        let rows: &[(RefreshSeen, RefreshVerdict)] = &[
            (RefreshSeen::NotSent, NotSent),
            (ans(200, true, false, None), Rotated),
            (ans(201, true, false, None), Rotated),
            (ans(200, false, true, None), Rejected { status: 200 }),
            (ans(200, true, true, None), Rejected { status: 200 }),
            (ans(200, false, false, None), Lost),
            (ans(400, false, false, None), Rejected { status: 400 }),
            (ans(401, false, false, None), Rejected { status: 401 }),
            (ans(403, false, false, None), Rejected { status: 403 }),
            (ans(422, false, false, None), Rejected { status: 422 }),
            (ans(429, false, false, Some(5)), NotRotated { retry: S(5) }),
            (
                ans(429, false, false, None),
                NotRotated {
                    retry: REFRESH_BACKOFF,
                },
            ),
            (
                ans(503, false, false, Some(3600)),
                NotRotated { retry: cap },
            ),
            (
                ans(500, false, false, None),
                NotRotated {
                    retry: REFRESH_BACKOFF,
                },
            ),
            (
                ans(404, false, false, None),
                NotRotated {
                    retry: REFRESH_BACKOFF,
                },
            ),
            (ans(502, false, false, None), Lost),
            (ans(504, false, false, None), Lost),
            (
                RefreshSeen::RateLimited {
                    retry_after: S(3600),
                },
                NotRotated { retry: cap },
            ),
            (
                RefreshSeen::RateLimited { retry_after: S(7) },
                NotRotated { retry: S(7) },
            ),
            (
                RefreshSeen::Unknown { status: Some(500) },
                NotRotated {
                    retry: REFRESH_BACKOFF,
                },
            ),
            (
                RefreshSeen::Unknown { status: Some(503) },
                NotRotated {
                    retry: REFRESH_BACKOFF,
                },
            ),
            (RefreshSeen::Unknown { status: Some(502) }, Lost),
            (RefreshSeen::Unknown { status: Some(504) }, Lost),
            (RefreshSeen::Unknown { status: Some(200) }, Lost),
            (RefreshSeen::Unknown { status: None }, Lost),
        ];
        for (seen, want) in rows {
            assert_eq!(refresh_outcome(*seen, cap), *want, "{seen:?}");
        }
    }
}
