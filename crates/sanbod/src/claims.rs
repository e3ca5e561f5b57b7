//! Which slot (one key of one [`Tokens`](crate::Tokens) manager) of this process may send each
//! Sanbod refresh token, and whether it was sent.
//!
//! A refresh token may work only once (Sanbod may rotate it). Two managers in one process that
//! restored the same token set would each send it; a refresh whose answer was lost would be
//! sent again. So a slot claims the refresh tokens it holds, marks one spent right before
//! sending it, and clears the mark only when the outcome shows that nothing was rotated (not
//! sent, or answered without a rotation). A spent token is never sent again by anyone in this
//! process, and a token claimed by one slot is never sent by another.
//!
//! Tokens are known here only by a keyed hash (keys random per process, together with the token
//! endpoint and client id they belong to); no token is kept. This covers one process only, and
//! a token only while a manager that holds (or sent) it lives: replicas in several processes
//! cannot see each other's claims (see [`Tokens`](crate::Tokens)).

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, PoisonError};

/// A keyed hash of a refresh token and the issuer it belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Fingerprint(u64);

impl Fingerprint {
    /// The fingerprint of `token` issued by `issuer` (token endpoint and client id).
    pub(crate) fn of(issuer: &str, token: &str) -> Self {
        static KEYS: LazyLock<RandomState> = LazyLock::new(RandomState::new);
        Self(KEYS.hash_one((issuer, token)))
    }
}

/// One slot: a key of one manager.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Owner {
    manager: u64,
    slot: u64,
}

impl Owner {
    /// A new slot of `manager`.
    pub(crate) fn new_slot(manager: u64) -> Self {
        Self {
            manager,
            slot: next_id(),
        }
    }
}

/// A fresh id (managers and slots).
pub(crate) fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

struct Claim {
    owner: Owner,
    spent: bool,
}

#[derive(Default)]
struct Registry {
    claims: HashMap<Fingerprint, Claim>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Default::default);

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why a refresh token is not sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// It was sent before and no rotated set came back (the answer was lost or refused): it is
    /// probably spent.
    Spent,
    /// Another key or another `Tokens` manager of this process holds it (the same token set was
    /// restored twice); only that one may send it.
    HeldElsewhere,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Spent => {
                "its refresh token was already sent once (by this or another Tokens manager of this process) and no new token set came back for it here (the answer was lost or refused, or the set was restored after its rotation), so it is probably spent and is not sent again"
            }
            Refusal::HeldElsewhere => {
                "its refresh token is also held by another key or another Tokens manager of this process (the same token set was restored twice), and only that one may send it; keep one Tokens per process (clone it) and each user's tokens in one process"
            }
        })
    }
}

/// Claim `fp` for `owner` (a slot starts holding it). `false`: another slot holds it.
pub(crate) fn claim(fp: Fingerprint, owner: Owner) -> bool {
    let mut r = registry();
    let c = r.claims.entry(fp).or_insert(Claim {
        owner,
        spent: false,
    });
    c.owner == owner
}

/// Whether `fp` was sent and not found unspent since (by any slot).
pub(crate) fn is_spent(fp: Fingerprint) -> bool {
    registry().claims.get(&fp).is_some_and(|c| c.spent)
}

/// Whether `fp` is claimed by `owner` and spent.
pub(crate) fn is_spent_by(fp: Fingerprint, owner: Owner) -> bool {
    registry()
        .claims
        .get(&fp)
        .is_some_and(|c| c.owner == owner && c.spent)
}

/// Right before sending `fp`: mark it spent, if `owner` may send it.
pub(crate) fn begin_send(fp: Fingerprint, owner: Owner) -> Result<(), Refusal> {
    let mut r = registry();
    let c = r.claims.entry(fp).or_insert(Claim {
        owner,
        spent: false,
    });
    if c.spent {
        return Err(Refusal::Spent);
    }
    if c.owner != owner {
        return Err(Refusal::HeldElsewhere);
    }
    c.spent = true;
    Ok(())
}

/// The outcome of `owner`'s send shows `fp` was not spent (nothing sent, or answered without a
/// rotation): it may be sent again.
pub(crate) fn not_spent(fp: Fingerprint, owner: Owner) {
    if let Some(c) = registry().claims.get_mut(&fp).filter(|c| c.owner == owner) {
        c.spent = false;
    }
}

/// `owner` no longer holds `fp`.
pub(crate) fn release(fp: Fingerprint, owner: Owner) {
    let mut r = registry();
    if r.claims.get(&fp).is_some_and(|c| c.owner == owner) {
        r.claims.remove(&fp);
    }
}

/// A manager is gone: its claims end (what it sent is no longer known here; the registry
/// lives as long as the managers, so that it never grows past the tokens they hold).
pub(crate) fn release_manager(manager: u64) {
    registry().claims.retain(|_, c| c.owner.manager != manager);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_slot_sends_a_token_once() {
        let (m1, m2) = (next_id(), next_id());
        let (a, b) = (Owner::new_slot(m1), Owner::new_slot(m2));
        let fp = Fingerprint::of("https://issuer|client", "refresh-SECRET");
        assert!(fp != Fingerprint::of("https://other|client", "refresh-SECRET"));
        assert!(claim(fp, a));
        assert!(!claim(fp, b), "held by a");
        assert_eq!(begin_send(fp, b), Err(Refusal::HeldElsewhere));
        assert_eq!(begin_send(fp, a), Ok(()));
        assert!(is_spent(fp) && is_spent_by(fp, a) && !is_spent_by(fp, b));
        assert_eq!(begin_send(fp, a), Err(Refusal::Spent), "never twice");
        assert_eq!(begin_send(fp, b), Err(Refusal::Spent));
        not_spent(fp, b);
        assert!(is_spent(fp), "only the sender clears the mark");
        not_spent(fp, a);
        assert_eq!(begin_send(fp, a), Ok(()), "nothing rotated: usable again");
        release(fp, b);
        assert!(is_spent(fp), "b never held it");
        // a is gone: its claims end with it.
        release_manager(m1);
        assert!(!is_spent(fp));
        assert!(claim(fp, b));
        release_manager(m2);
        assert!(
            claim(fp, Owner::new_slot(next_id())),
            "b's claim ended with b"
        );
    }
}
