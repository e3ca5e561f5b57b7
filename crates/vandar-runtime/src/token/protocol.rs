//! The token-refresh protocol as pure functions: what a replica does next, given the record it
//! holds, the record the store holds and the store's clock. The token manager carries the
//! steps out against a real [`TokenStore`](crate::TokenStore); the model check
//! (`crates/vandar-model`) runs these same functions against every order of events and
//! faults.
//!
//! # The protocol
//!
//! One record ([`TokenRecord`]) is shared by every replica: a pair, its *generation* (it only
//! grows: a rotation adds one, an install jumps above everything seen) and the *phase* of its
//! refresh. Every write is a compare-and-swap on the record's revision.
//!
//! ```text
//!            lease (CAS)            about to send (CAS)         rotated pair (CAS)
//!  Ready ───────────────▶ Leased ───────────────────▶ Sending ─────────────────▶ Ready (generation + 1)
//!    ▲                      │ until passed:               │ answered, nothing rotated (500, 429, not sent)
//!    │                      │ anyone may take it over     ├──────────────────────▶ Ready (same generation, not_before)
//!    │                      ▼ (nothing was sent)          │ refused (401/400/403/422)
//!    └────────────────── Leased (other holder)            ├──────────────────────▶ Rejected
//!                                                         │ answer lost, or until passed (by anyone)
//!                                                         └──────────────────────▶ Uncertain
//!  Rejected / Uncertain ── only a newer generation ends them: the holder's late answer, or an install
//! ```
//!
//! Who may send a refresh token, and when:
//! * Only the replica that wrote `Sending` for a generation sends that generation's refresh
//!   token, and only while its own send deadline (measured on its monotonic clock from the
//!   moment the marker was written) has not passed; it checks right before sending. A holder
//!   paused past its deadline does not send; it puts the record back to `Ready` (it knows it
//!   sent nothing) if the record is still its own.
//! * From `Sending` on, no other replica sends that refresh token, whatever happens: after the
//!   marker's `until` the others mark it `Uncertain` and wait for a newer generation.
//! * A `Leased` record whose `until` has passed may be taken over: its holder can only reach
//!   `Sending` by a compare-and-swap on the revision, which the takeover changed.
//!
//! What each failure leaves behind:
//! * crash before the marker: a `Leased` record, taken over once its short lease passes;
//! * crash after the marker: `Sending`, then `Uncertain`: the token may be spent; callers keep
//!   using a still-valid access token; recovery is one install of a new pair
//!   (`Runtime::set_token_pair` in any process, or `vandar token set`), which every replica
//!   adopts on its next look at the store;
//! * an answer that rotated nothing (500, 503, 429, a connect failure): `Ready` again with
//!   `not_before`; the token stays usable;
//! * a refusal: `Rejected`, not final: a newer generation in the store ends it;
//! * a lost answer: `Uncertain`;
//! * the store lost its data: the next replica that looks writes back the record it holds
//!   (a send of another holder as `Uncertain`, as it may have been sent; a `Ready` record or a
//!   lease with no refresh before one send deadline, so that a send whose marker was lost
//!   settles first); a seeded pair from configuration never replaces a newer generation. What
//!   no store can cover, and the model check shows: the data is lost *and* the replica that
//!   sent a refresh dies before settling (or is paused between its last deadline check and the
//!   send for longer than a send deadline); the refresh token may then be sent once more and
//!   Vandar refuses it. A rotated pair that exists still wins (its generation is higher); if
//!   none does, one install of a new pair recovers;
//! * the store unreachable after a rotation: the holder keeps the new pair in memory, uses it,
//!   and writes it until the store takes it.
//!
//! Expiry is judged on one clock, the store's (Redis `TIME`), never each replica's: a rotated
//! pair's expiry is the answer's `expires_in` measured from the moment the holder let the
//! refresh go, on the store's clock (never later than the server's own expiry; the server's
//! `Date` is not trusted: one wrong `Date` would date the pair for every replica).

use std::time::{Duration, SystemTime};

use crate::auth::TokenPair;
use crate::timeouts::system_after;
use crate::token::record::{Phase, TokenRecord};

/// How long the phases last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// How long a lease lasts before the marker must be written (short: nothing is sent under
    /// it, so an orphaned lease delays others only this long).
    pub lease: Duration,
    /// How long the holder may wait for the refresh answer after writing the marker.
    pub send: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(2),
            send: Duration::from_secs(30),
        }
    }
}

/// A compare-and-swap to perform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Write {
    /// The revision the store must hold (`None`: nothing stored).
    pub expected: Option<u64>,
    /// What to write.
    pub record: TokenRecord,
    /// Why.
    pub kind: WriteKind,
}

/// Why a [`Write`] is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteKind {
    /// Seed the configured pair into an empty store.
    Seed,
    /// Put back the record this replica holds, which the store lost or holds an older
    /// generation of.
    Restore,
    /// Take the refresh lease.
    Lease,
    /// Take over a lease whose holder let it pass (nothing was sent under it).
    TakeOver,
    /// Write "about to send"; after it succeeds the holder may send.
    Sending,
    /// Another holder's send deadline passed: its refresh token is probably spent.
    MarkUncertain,
    /// This replica's own `Uncertain` marker, of a send it never made: clear it.
    Clear,
    /// The outcome of this replica's refresh.
    Settle,
}

/// Why no refresh can be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lock {
    /// The refresh token may have been spent (a lost answer, a holder gone quiet).
    Uncertain,
    /// Vandar refused the refresh token.
    Rejected {
        /// HTTP status of the refusal.
        status: u16,
    },
}

/// What a replica that needs a refresh does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The store holds a newer generation: use it (and check again whether it needs a
    /// refresh).
    Adopt(TokenRecord),
    /// Perform this write, then plan again.
    Write(Write),
    /// This replica holds the lease: write the marker (this write), and on success send.
    Send(Write),
    /// Another replica is refreshing: look again at `until` at the latest.
    Wait {
        /// When its lease or send deadline ends (store clock).
        until: SystemTime,
    },
    /// The last answer rotated nothing: no refresh before this time (store clock).
    NotBefore(SystemTime),
    /// No refresh can be made until a newer generation appears.
    Locked(Lock),
    /// No pair anywhere.
    Empty,
}

/// What this replica knows when it plans.
#[derive(Clone, Copy, Debug)]
pub struct Me<'a> {
    /// This replica's id (unique per token manager).
    pub id: &'a str,
    /// The record this replica holds.
    pub cached: Option<&'a TokenRecord>,
    /// The generations whose refresh token this replica has sent (the last one).
    pub sent: Option<u64>,
}

/// What the first look at the store gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum First {
    /// The stored record: use it (a configured pair never replaces it).
    Stored(TokenRecord),
    /// The store is empty: seed the configured pair (this write), then use it.
    Seed(Write),
    /// Nothing stored and nothing configured.
    Empty,
}

/// The first look at the store: adopt what is stored, or seed the configured pair into an
/// empty store (never over a stored record).
pub fn first_load(
    configured: Option<&TokenPair>,
    stored: Option<&TokenRecord>,
    revision: u64,
) -> First {
    match (stored, configured) {
        (Some(s), _) => First::Stored(s.clone()),
        (None, Some(pair)) => {
            let mut record = TokenRecord::seed(pair.clone());
            record.revision = revision;
            First::Seed(Write {
                expected: None,
                record,
                kind: WriteKind::Seed,
            })
        }
        (None, None) => First::Empty,
    }
}

/// The record to write back when the store lost this replica's record (or holds an older
/// generation). A `Ready` record, a lease or a send (this replica's copy may predate the
/// holder's settle, and the marker of a later send was lost with the data) comes back `Ready`
/// with no refresh before `now + timing.send`: waiting out a send's deadline lets a holder
/// settle first (a rotated pair, or `Uncertain` after a lost answer) before anyone may lease
/// again. A lock comes back as it was.
pub fn restored(
    me: &str,
    cached: &TokenRecord,
    now: SystemTime,
    timing: Timing,
    revision: u64,
) -> TokenRecord {
    let _ = me;
    match &cached.phase {
        Phase::Ready | Phase::Leased { .. } | Phase::Sending { .. } => {
            let mut r = cached.with_phase(Phase::Ready, revision);
            let until = system_after(now, timing.send);
            r.not_before = Some(r.not_before.map_or(until, |t| t.max(until)));
            r
        }
        other => cached.with_phase(other.clone(), revision),
    }
}

/// The next step of a replica that needs a refresh (its token is due, or the server refused
/// it), given what the store holds and the store's clock.
pub fn plan(
    me: Me<'_>,
    stored: Option<&TokenRecord>,
    now: SystemTime,
    timing: Timing,
    revision: u64,
) -> Step {
    let (cached, stored) = match (me.cached, stored) {
        (None, None) => return Step::Empty,
        (Some(c), None) => {
            return Step::Write(Write {
                expected: None,
                record: restored(me.id, c, now, timing, revision),
                kind: WriteKind::Restore,
            });
        }
        (None, Some(s)) => return Step::Adopt(s.clone()),
        (Some(c), Some(s)) => (c, s),
    };
    if stored.generation > cached.generation {
        return Step::Adopt(stored.clone());
    }
    if stored.generation < cached.generation {
        return Step::Write(Write {
            expected: Some(stored.revision),
            record: restored(me.id, cached, now, timing, revision),
            kind: WriteKind::Restore,
        });
    }
    let write = |phase: Phase, kind: WriteKind| Write {
        expected: Some(stored.revision),
        record: stored.with_phase(phase, revision),
        kind,
    };
    let lease = || Phase::Leased {
        holder: me.id.to_owned(),
        until: system_after(now, timing.lease),
    };
    match &stored.phase {
        Phase::Ready => match stored.not_before {
            Some(t) if t > now => Step::NotBefore(t),
            _ => Step::Write(write(lease(), WriteKind::Lease)),
        },
        Phase::Leased { holder, .. } if holder == me.id => Step::Send(write(
            Phase::Sending {
                holder: me.id.to_owned(),
                until: system_after(now, timing.send),
            },
            WriteKind::Sending,
        )),
        Phase::Leased { until, .. } if *until > now => Step::Wait { until: *until },
        Phase::Leased { .. } => Step::Write(write(lease(), WriteKind::TakeOver)),
        Phase::Sending { until, .. } if *until > now => Step::Wait { until: *until },
        Phase::Sending { holder, .. } => Step::Write(write(
            Phase::Uncertain {
                holder: holder.clone(),
            },
            WriteKind::MarkUncertain,
        )),
        Phase::Uncertain { holder } if holder == me.id && me.sent != Some(stored.generation) => {
            Step::Write(write(Phase::Ready, WriteKind::Clear))
        }
        Phase::Uncertain { .. } => Step::Locked(Lock::Uncertain),
        Phase::Rejected { status } => Step::Locked(Lock::Rejected { status: *status }),
    }
}

/// What the holder's refresh produced (from [`crate::decide::refresh_outcome`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A rotated pair arrived.
    Rotated(TokenPair),
    /// Nothing was sent (the deadline passed first, or the connection failed before sending).
    NotSent,
    /// The server answered and rotated nothing (500, 503, 429): refresh again after `retry`.
    NotRotated {
        /// The earliest next try (the `Retry-After`, or the backoff).
        retry: Duration,
    },
    /// The server refused the refresh token.
    Rejected {
        /// HTTP status.
        status: u16,
    },
    /// The answer was lost or unreadable: the refresh token is probably spent.
    Lost,
}

/// What to do with the holder's outcome, given what the store holds now. `mine` is the
/// `Sending` record this replica wrote. `None`: nothing to write (the record moved on).
///
/// A rotated pair is always written (unless a newer generation is stored): only this replica
/// sent this generation's refresh token. A refusal or a lost answer is written over any record
/// of the same generation that is not already locked: only a store that lost its data can hold
/// another phase there, and the refresh token must not look sendable again. An answer that
/// rotated nothing (or no send) only releases this replica's own lease or marker.
pub fn settle(
    me: &str,
    mine: &TokenRecord,
    stored: Option<&TokenRecord>,
    outcome: &Outcome,
    now: SystemTime,
    revision: u64,
) -> Option<Write> {
    if let Some(s) = stored
        && s.generation > mine.generation
    {
        return None;
    }
    let expected = stored.map(|s| s.revision);
    let same_gen = stored.filter(|s| s.generation == mine.generation);
    let own = same_gen.is_none_or(|s| match &s.phase {
        Phase::Leased { holder, .. }
        | Phase::Sending { holder, .. }
        | Phase::Uncertain { holder } => holder == me,
        Phase::Ready | Phase::Rejected { .. } => false,
    });
    let locked = same_gen
        .is_some_and(|s| matches!(s.phase, Phase::Uncertain { .. } | Phase::Rejected { .. }));
    let base = same_gen.unwrap_or(mine);
    let record = match outcome {
        Outcome::Rotated(pair) => base.rotated(pair.clone(), revision),
        Outcome::Rejected { status } if !locked || own => {
            base.with_phase(Phase::Rejected { status: *status }, revision)
        }
        Outcome::Lost if !locked || own => base.with_phase(
            Phase::Uncertain {
                holder: me.to_owned(),
            },
            revision,
        ),
        Outcome::Rejected { .. } | Outcome::Lost => return None,
        _ if !own => return None,
        Outcome::NotSent => base.with_phase(Phase::Ready, revision),
        Outcome::NotRotated { retry } => {
            let mut r = base.with_phase(Phase::Ready, revision);
            r.not_before = Some(system_after(now, *retry));
            r
        }
    };
    Some(Write {
        expected,
        record,
        kind: WriteKind::Settle,
    })
}

/// Whether a pair needs a refresh at `now`: its access or refresh token expires within
/// `margin`.
pub fn due(pair: &TokenPair, now: SystemTime, margin: Duration) -> bool {
    let edge = system_after(now, margin);
    pair.access_expires_at <= edge || pair.refresh_expires_at <= edge
}

/// Whether a pair's access token can still be sent at `now`.
pub fn usable(pair: &TokenPair, now: SystemTime) -> bool {
    pair.access_expires_at > now
}
