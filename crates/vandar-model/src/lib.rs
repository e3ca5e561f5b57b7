//! An exhaustive model check of the Vandar token-refresh protocol
//! ([`vandar_runtime::token::protocol`]), with [stateright](https://docs.rs/stateright).
//!
//! The model calls the runtime's own pure rules — [`first_load`], [`plan`], [`settle`],
//! [`due`], [`TokenRecord::install`] (and through `plan`, `restored`) — so the logic checked
//! is the logic shipped. Only the surroundings are modelled: three replicas that carry the
//! steps out the way the token manager does, one store, one Vandar server, an operator and a
//! clock.
//!
//! # The model
//!
//! * **Clock.** Discrete: one tick is one second of the store's clock (Redis `TIME`), which
//!   the model also uses as Vandar's clock (its pairs expire on it). Every rule is given the
//!   store's clock. A holder dates a rotated pair as the token manager does: the answer's
//!   lifetimes measured from the tick it let the refresh go ([`Action::Check`]; from its
//!   arrival if that is past the access lifetime, which the explored clock never reaches),
//!   never by the server's `Date`; Vandar
//!   issues the pair when the request reaches it ([`Action::Transmit`], possibly later), so
//!   the stored expiry may be earlier than Vandar's, never later. A replica's *local* clock may be skewed ([`Action::Skew`]); the shipped
//!   protocol uses it only for the holder's own send deadline, measured on its monotonic
//!   clock from the moment it wrote the marker (so the skew cancels out). Time passes only by
//!   [`Action::Tick`], so every replica can be *paused* for any number of ticks at any point
//!   (a SIGSTOP past its lease or its send deadline) simply by not being scheduled.
//! * **Store.** A compare-and-swap register on the record's revision, which can lose its data
//!   ([`Action::WipeStore`]). One load-plan-write of a replica is one atomic step: a write
//!   whose expected revision is stale fails and the replica plans again on what the store
//!   returns, which is the same as planning on the newer record in the first place (the
//!   store's revisions are never reused, so a stale write always fails); the only
//!   difference, time passing between the load and the write, only makes a written `until`
//!   earlier. So in the model a write never meets a stale revision, and the revision's value
//!   changes no transition: every record is written with the one deterministic revision
//!   [`REVISION`] (a counter would only split states by how many writes led to them).
//!   Each write still checks that the rules expected *a* record (`Some`) exactly when one is
//!   stored.
//! * **Replicas.** Each one boots ([`first_load`] with the configured dashboard pair), and
//!   when its pair is [`due`] on the store's clock it follows [`plan`]: adopt, write
//!   (restore, lease, take over, mark uncertain, clear), or write the `Sending` marker. A
//!   holder then checks its send deadline ([`Action::Check`]; it records that it sent before
//!   it sends), sends ([`Action::Transmit`]; time may pass between the check and the send),
//!   receives the answer, and writes [`settle`]'s record. The replica *holds* the record it
//!   last adopted or wrote. A crash ([`Action::Crash`]) may happen at any point — before the
//!   marker, after the marker and before the send, after the send — and restarts the
//!   process with an empty memory and a new id (ids are unique per token manager).
//! * **Vandar.** Rotates single-use refresh tokens: a refresh with the current refresh
//!   token spends it and issues a new pair (expiry on its own clock); any other token is
//!   refused (401). It may answer a refresh with a 500 that rotated nothing
//!   ([`Action::Transmit500`]), and any answer may be lost ([`Action::LoseAnswer`]). An access
//!   token is accepted until it expires.
//! * **Operator.** May install a new pair ([`Action::Install`], `vandar token set`): Vandar's
//!   current pair becomes the new one, and the record written is [`TokenRecord::install`]'s.
//!
//! Fault budgets ([`Bounds`]) keep the state space finite; [`Bounds::max_time`] bounds the
//! clock of the explored part.
//!
//! # Invariants
//!
//! Checked on every reachable state (`Property::always`) unless noted:
//!
//! * [`NO_SPENT_TOKEN_SENT`]: while the store keeps its data, no refresh token is sent after
//!   Vandar spent it (what locks a merchant out). Vandar spends only the token it holds as
//!   current, so each refresh token is spent at most once. A token *is* sent again after a
//!   500 that rotated nothing (that is the design: the token stays usable), and a token an
//!   install revoked may still leave a holder that checked its deadline before the install
//!   (Vandar refuses it; the holder then adopts the installed pair); neither is a spent
//!   token. After a store data loss a spent token *can* be sent (finding 3, below:
//!   [`RESEND_AFTER_LOSS`] shows it happens); what holds then is [`NO_SDK_LOCKOUT`].
//! * [`NO_SDK_LOCKOUT`]: whenever the stored generation's refresh token is spent, Vandar's
//!   current pair is held somewhere (the store, a replica's memory, or an answer on its
//!   way), and the replicas do not all reach a usable pair once faults stop, then the send
//!   that spent the stored token had no answer (it was lost, or its holder crashed before
//!   writing it), or the current pair's own send is unknowable (the lock by design, as in
//!   [`VALID_PAIR_REACHABLE`]). So a spent token sent again (after a data loss) is refused
//!   and never locks anyone out: the holder of the rotated pair writes the next generation over any
//!   lock of its own, or a replica that holds it writes it back. If no valid pair is held
//!   anywhere (the holder of the only copy crashed and the store lost it), nothing but an
//!   install can help, and [`INSTALL_RECOVERS`] covers that.
//! * [`ONE_ROTATION_PER_GENERATION`]: Vandar rotates at most once per generation, and a
//!   generation never names two different pairs.
//! * [`GENERATION_NEVER_DOWN`]: while the store keeps its data, the stored generation never
//!   goes down. After a loss the store may hold a lower generation for a while (a restarted
//!   replica seeds the dashboard pair, or a replica restores the record it holds) —
//!   [`LOWER_AFTER_LOSS`] shows this is reachable — and the next replica that holds a
//!   higher generation and looks writes it back (a `Restore`).
//! * [`ONE_CLOCK`]: a pair is only refreshed when it is due on the store's clock (by the
//!   expiry of the record it holds), and no pair is stored with an expiry later than the one
//!   Vandar gave it.
//! * [`VALID_PAIR_REACHABLE`]: whenever Vandar's current pair is held somewhere (the store,
//!   a replica's memory, or an answer on its way) and faults stop, every replica gets a
//!   usable pair that is not due — *unless* the send of that pair's refresh token became
//!   unknowable (its holder crashed between the marker and writing the outcome, or the answer
//!   was lost): then nobody can tell whether the token is spent, and the protocol locks by
//!   design ([`UNKNOWABLE_LOCKS`] shows it happens) until an install.
//! * [`INSTALL_RECOVERS`]: from every reachable state, one install of a new pair followed by
//!   fault-free steps brings every replica to a usable pair that is not due.
//!
//! The three liveness properties are `always` properties whose condition runs a *fair,
//! fault-free continuation* from the state (each replica in turn takes its next protocol
//! step; time passes only when no replica can step) and asks whether it reaches the goal.
//! stateright's own `eventually` is unsound on paths that end in a cycle (its docs say so),
//! and the bounded exploration cuts every path at the depth bound, so a "can still reach"
//! (from every state, a fair fault-free path to the goal exists, and this one is it) is
//! the sound check it supports.
//!
//! Every invariant can fail: [`Rules`] has one deliberately broken variant per invariant,
//! and the tests check that each gives a counterexample.
//!
//! # What is proved, and the findings
//!
//! Within the bound of the CI tests — 3 replicas, the store's clock up to tick 2, at most two
//! faults per behaviour among one crash at any point, one store data loss, one 500, one lost
//! answer, one clock skew, one operator install (a pause is not a fault: any replica may
//! wait any number of ticks between any two of its steps):
//!
//! * without the data loss, **every invariant above holds** for the shipped rules;
//! * with the data loss, [`NO_SPENT_TOKEN_SENT`], [`NO_SDK_LOCKOUT`],
//!   [`ONE_ROTATION_PER_GENERATION`], [`GENERATION_NEVER_DOWN`], [`ONE_CLOCK`] and
//!   [`INSTALL_RECOVERS`] hold; [`VALID_PAIR_REACHABLE`] does not (finding 2);
//! * with the data loss and the clock one tick further (the ignored deeper test), the same.
//!   (A stale `Sending` copy restored as a lock once broke [`NO_SDK_LOCKOUT`] there, finding
//!   3 continued; `restored` now brings a `Sending` copy back `Ready` behind the hold-off.)
//!
//! Measured on the shared 2-core machine (debug build with `opt-level = 3` for this crate and
//! stateright, one checker thread, the CI tests running side by side): without the data
//! loss 109,368 unique states (286,408 visited), depth 20, about 5 s; with it 289,057 unique
//! states (655,830 visited), depth 26, about 9 s; the whole crate's default tests about 12 s.
//! The clock to tick 3 with the data loss (`cargo test -p vandar-model -- --ignored`):
//! 2,572,519 unique states (6,331,188 visited), depth 32, about 65 s, 350 MB. (Dating a
//! rotated pair from the send rather than from Vandar's issue, as the token manager does since
//! review r9, added the send's tick to a holder's state: about a fifth more states at tick 2,
//! twice as many at tick 3.) The tests print the counts on every run (`--nocapture`).
//!
//! The findings (traces in `/work/notes/model-findings.md`; the tests replay them):
//!
//! * **Finding 1**, fixed: the store lost its data while a refresh was in flight, another
//!   replica restored the `Ready` record it held, and a third leased it at once and sent the
//!   token Vandar had just spent. `restored` now writes a `Ready` record or a lease back
//!   with a hold-off of one send deadline, so the in-flight holder settles first.
//! * **Finding 2**, the lease form fixed, the lock form not: a replica restored a stale lease
//!   of a holder that had since restarted as `Uncertain`, a lock nobody could clear; a lease
//!   now comes back `Ready`. But `restored` still copies a lock (`Uncertain`) it holds, and
//!   that copy can be stale too: holder r1 lets its send deadline pass without sending, r0
//!   marks it `Uncertain{r1}` (and holds that), r1 clears it (it never sent), restarts, the
//!   store loses its data, and r0 restores `Uncertain{r1}`: the never-sent, valid token is
//!   locked until an install (crash + data loss). One tick deeper the same happened with a
//!   copy of a `Sending` marker and no crash: the holder's send got a 500 and it put the
//!   record back `Ready`, a replica still holding its `Sending` copy restored it as
//!   `Uncertain` after the loss, and the holder, which did send, could not clear it (500 +
//!   data loss); fixed: a `Sending` copy comes back `Ready` behind the hold-off.
//! * **Finding 3**: after a data loss a spent refresh token can still be sent, in more ways
//!   than the holder paused between its deadline check and its send: (a) a replica that
//!   restarts seeds the configured pair into the emptied store with no hold-off
//!   (`first_load`); (b) with the data loss as the only fault, a lock copied from an older
//!   round of the generation is restored and its holder, which truly never sent in that
//!   round, clears it with no hold-off and sends the token another replica spent since;
//!   (c) a replica that never looked since the last rotation restores its older `Ready`
//!   generation and, after the hold-off, sends its spent token. Every such send is refused
//!   (401) and none locks anyone out ([`NO_SDK_LOCKOUT`] holds).

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use stateright::{Model, Property};
use vandar_runtime::TokenPair;
use vandar_runtime::token::protocol::{
    self, First, Me, Outcome, Step, Timing, Write, WriteKind, due, first_load, plan, settle,
};
use vandar_runtime::token::{Phase, TokenRecord};

/// Seconds since the epoch of tick 0 (a realistic clock, so an install's generation, derived
/// from the clock, is realistic too).
pub const BASE_SECS: u64 = 1_700_000_000;
/// The revision of every record the model writes (see the module docs).
pub const REVISION: u64 = 1;
/// Ticks an access token lives.
pub const ACCESS_TICKS: u8 = 4;
/// Ticks a refresh token lives.
pub const REFRESH_TICKS: u8 = 8;
/// A pair is due this many ticks before it expires.
pub const MARGIN_TICKS: u8 = 1;
/// How far ahead a skewed replica's clock runs.
pub const SKEW_TICKS: u8 = 2;
/// The protocol's timing, in ticks: a lease lasts 1, a send 2; a 500 asks for 1 tick.
pub const TIMING: Timing = Timing {
    lease: Duration::from_secs(1),
    send: Duration::from_secs(2),
};
const SEND_TICKS: u8 = 2;
const RETRY_TICKS: u8 = 1;

/// The store's clock at tick `t`.
pub fn at(t: u8) -> SystemTime {
    // BASE_SECS + 255 s is far inside what a SystemTime holds: the fallback is never taken.
    UNIX_EPOCH
        .checked_add(Duration::from_secs(BASE_SECS + u64::from(t)))
        .unwrap_or(UNIX_EPOCH)
}

/// The tick of a store-clock time (the model's times are whole ticks after [`BASE_SECS`]).
fn tick(t: SystemTime) -> u8 {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .expect("model time after the epoch")
        .as_secs();
    u8::try_from(secs - BASE_SECS).expect("model time within 255 ticks")
}

/// The margin the model's replicas refresh ahead of expiry.
fn margin() -> Duration {
    Duration::from_secs(u64::from(MARGIN_TICKS))
}

/// A pair as Vandar issued it: its id (the `n`-th pair Vandar issued; 0 is the dashboard
/// pair) and its expiry, in ticks of the store's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pair {
    /// Which pair.
    pub id: u8,
    /// When its access token expires.
    pub access_exp: u8,
    /// When its refresh token expires.
    pub refresh_exp: u8,
}

impl Pair {
    fn runtime(self) -> TokenPair {
        TokenPair::new(
            format!("access-{}", self.id),
            format!("refresh-{}", self.id),
            at(self.access_exp),
            at(self.refresh_exp),
        )
    }

    fn from_runtime(p: &TokenPair) -> Self {
        let id = p
            .refresh_token
            .expose()
            .strip_prefix("refresh-")
            .and_then(|n| n.parse().ok())
            .expect("a model refresh token");
        Self {
            id,
            access_exp: tick(p.access_expires_at),
            refresh_exp: tick(p.refresh_expires_at),
        }
    }
}

/// A replica incarnation: which replica, and how often it restarted (the manager's id is
/// unique per process).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Holder {
    /// The replica.
    pub replica: u8,
    /// Its restarts so far.
    pub incarnation: u8,
}

impl Holder {
    fn id(self) -> String {
        format!("r{}.{}", self.replica, self.incarnation)
    }

    fn parse(s: &str) -> Self {
        let (r, i) = s
            .strip_prefix('r')
            .and_then(|s| s.split_once('.'))
            .expect("a model holder id");
        Self {
            replica: r.parse().expect("replica number"),
            incarnation: i.parse().expect("incarnation number"),
        }
    }
}

/// [`Phase`] with ticks and [`Holder`]s (hashable, small).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ph {
    /// [`Phase::Ready`].
    Ready,
    /// [`Phase::Leased`].
    Leased {
        /// Holder.
        holder: Holder,
        /// Until (tick).
        until: u8,
    },
    /// [`Phase::Sending`].
    Sending {
        /// Holder.
        holder: Holder,
        /// Until (tick).
        until: u8,
    },
    /// [`Phase::Uncertain`].
    Uncertain {
        /// Holder.
        holder: Holder,
    },
    /// [`Phase::Rejected`].
    Rejected {
        /// HTTP status.
        status: u16,
    },
}

/// [`TokenRecord`] in the model's terms; converts both ways losslessly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rec {
    /// The generation.
    pub generation: u64,
    /// The pair.
    pub pair: Pair,
    /// The refresh phase.
    pub phase: Ph,
    /// No refresh before (tick).
    pub not_before: Option<u8>,
}

impl Rec {
    /// As the runtime's record.
    pub fn runtime(&self) -> TokenRecord {
        let phase = match self.phase {
            Ph::Ready => Phase::Ready,
            Ph::Leased { holder, until } => Phase::Leased {
                holder: holder.id(),
                until: at(until),
            },
            Ph::Sending { holder, until } => Phase::Sending {
                holder: holder.id(),
                until: at(until),
            },
            Ph::Uncertain { holder } => Phase::Uncertain {
                holder: holder.id(),
            },
            Ph::Rejected { status } => Phase::Rejected { status },
        };
        TokenRecord {
            revision: REVISION,
            generation: self.generation,
            pair: self.pair.runtime(),
            phase,
            not_before: self.not_before.map(at),
            // One environment: the runtime refuses another environment's record before any
            // rule runs, so it is no step of the protocol.
            environment: None,
        }
    }

    /// From the runtime's record.
    pub fn from_runtime(r: &TokenRecord) -> Self {
        let phase = match &r.phase {
            Phase::Ready => Ph::Ready,
            Phase::Leased { holder, until } => Ph::Leased {
                holder: Holder::parse(holder),
                until: tick(*until),
            },
            Phase::Sending { holder, until } => Ph::Sending {
                holder: Holder::parse(holder),
                until: tick(*until),
            },
            Phase::Uncertain { holder } => Ph::Uncertain {
                holder: Holder::parse(holder),
            },
            Phase::Rejected { status } => Ph::Rejected { status: *status },
        };
        Self {
            generation: r.generation,
            pair: Pair::from_runtime(&r.pair),
            phase,
            not_before: r.not_before.map(tick),
        }
    }
}

/// Vandar's answer to a refresh, on its way back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Answer {
    /// Rotated: the new pair's id.
    Rotated(u8),
    /// Refused (401).
    Refused,
    /// 500: nothing rotated.
    Error500,
}

/// The outcome a holder settles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Out {
    /// [`Outcome::Rotated`]: the pair Vandar issued, and the tick the holder let the refresh
    /// go (it dates the pair from it).
    Rotated {
        /// The pair's id.
        pair: u8,
        /// When the holder let the refresh go.
        sent: u8,
    },
    /// [`Outcome::NotSent`].
    NotSent,
    /// [`Outcome::NotRotated`].
    NotRotated,
    /// [`Outcome::Rejected`] (401).
    Rejected,
    /// [`Outcome::Lost`].
    Lost,
}

/// Where a replica's token manager is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pc {
    /// Started; has not looked at the store yet.
    Start,
    /// Holds a record; plans when its pair is due.
    Idle,
    /// Wrote the `Sending` marker `mine`; its send deadline (monotonic, from the marker's
    /// write) ends at tick `deadline`.
    Marked {
        /// The marker it wrote.
        mine: Rec,
        /// The end of its send deadline.
        deadline: u8,
    },
    /// Checked its deadline (and recorded that it sends); about to send.
    Checked {
        /// The marker it wrote.
        mine: Rec,
        /// The tick it let the refresh go (it checked its deadline).
        sent: u8,
    },
    /// Sent; the answer is on its way.
    Awaiting {
        /// The marker it wrote.
        mine: Rec,
        /// Vandar's answer.
        answer: Answer,
        /// The tick it let the refresh go.
        sent: u8,
    },
    /// Has its outcome; writes it (retrying until the store takes it).
    Settling {
        /// The marker it wrote.
        mine: Rec,
        /// The outcome.
        outcome: Out,
    },
}

/// One replica (one process with a token manager).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Replica {
    /// Restarts so far.
    pub incarnation: u8,
    /// How far its local clock runs ahead of the store's.
    pub skew: u8,
    /// The record it holds.
    pub cache: Option<Rec>,
    /// The last generation whose refresh token it sent (the manager's memory).
    pub sent: Option<u64>,
    /// Where it is.
    pub pc: Pc,
}

/// Vandar's side.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Server {
    /// The pairs it issued, by id.
    pub issued: Vec<Pair>,
    /// The id of the pair whose refresh token it accepts now.
    pub current: u8,
    /// Refresh tokens it spent (bit per pair id).
    pub spent: u32,
}

/// Faults left to inject: at most `total` in one behaviour, each kind at most its own count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Budget {
    /// Faults of any kind.
    pub total: u8,
    /// Replica crashes.
    pub crashes: u8,
    /// Store data losses.
    pub wipes: u8,
    /// Operator installs.
    pub installs: u8,
    /// 500 answers.
    pub errors: u8,
    /// Lost answers.
    pub losses: u8,
    /// Clock skews.
    pub skews: u8,
}

/// What the checker looks at besides the system: history the invariants need.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Ghost {
    /// A refresh token was sent after Vandar spent it, and the store had not lost its data.
    pub spent_sent: bool,
    /// A refresh token was sent after Vandar spent it, after a store data loss (finding 3).
    pub spent_sent_after_loss: bool,
    /// Rotations by generation.
    pub rotations: BTreeMap<u64, u8>,
    /// The pair each generation named when first written.
    pub pair_of: BTreeMap<u64, u8>,
    /// A generation named two pairs.
    pub two_pairs: bool,
    /// The stored generation went down while the store kept its data.
    pub went_down: bool,
    /// The store held a generation below one a live replica held, after a loss.
    pub lower_after_loss: bool,
    /// A pair was refreshed before it was due on the store's clock.
    pub early: bool,
    /// A pair was stored with an expiry later than the one Vandar gave it.
    pub wrong_expiry: bool,
    /// A lapsed lease was taken over.
    pub took_over: bool,
    /// The refresh token whose send became unknowable (holder crashed between marker and
    /// settle, or the answer was lost).
    pub unknowable: Option<u8>,
}

/// The whole system.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// The store's clock (tick).
    pub now: u8,
    /// The stored record.
    pub store: Option<Rec>,
    /// The replicas.
    pub replicas: Vec<Replica>,
    /// Vandar.
    pub server: Server,
    /// Faults left.
    pub budget: Budget,
    /// History for the invariants.
    pub ghost: Ghost,
}

/// What can happen next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// A replica's first look at the store.
    Boot(u8),
    /// A replica whose pair is due plans and performs its step.
    Plan(u8),
    /// The holder checks its send deadline right before sending.
    Check(u8),
    /// The holder sends its refresh token; Vandar handles it.
    Transmit(u8),
    /// The holder sends its refresh token; Vandar answers 500 and rotates nothing (fault).
    Transmit500(u8),
    /// The answer arrives.
    Deliver(u8),
    /// The answer is lost (fault).
    LoseAnswer(u8),
    /// The holder writes its outcome.
    Settle(u8),
    /// The replica's process dies and restarts with an empty memory (fault).
    Crash(u8),
    /// The store loses its data (fault).
    WipeStore,
    /// An operator installs a new pair.
    Install,
    /// The replica's clock jumps ahead (fault).
    Skew(u8),
    /// Time passes.
    Tick,
}

/// Which rules the replicas follow: the shipped ones, or a deliberately broken variant
/// (each must be caught by one invariant).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rules {
    /// The runtime's rules, unchanged.
    Shipped,
    /// A `Sending` record whose `until` passed is taken over like a lapsed lease (caught by
    /// [`NO_SPENT_TOKEN_SENT`]).
    ResendAfterDeadline,
    /// A rotated pair keeps its generation (caught by [`ONE_ROTATION_PER_GENERATION`]).
    NoGenerationBump,
    /// A replica writes back the record it holds over a newer stored generation (caught by
    /// [`GENERATION_NEVER_DOWN`]).
    RestoreOverNewer,
    /// Due and the rotated pair's expiry are judged on the replica's own clock (caught by
    /// [`ONE_CLOCK`]).
    LocalClock,
    /// A replica that holds a refused or uncertain record never looks at the store again
    /// (caught by [`INSTALL_RECOVERS`]).
    NeverReread,
    /// A 500 is treated as a lost answer (caught by [`VALID_PAIR_REACHABLE`]).
    ErrorIsLost,
    /// A rotated pair is not written over a lock of its generation (another replica marked
    /// the send uncertain while the holder waited for its answer): the new pair is dropped
    /// (caught by [`NO_SDK_LOCKOUT`]).
    RotatedYieldsToLock,
}

/// How much of the state space to explore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Replicas.
    pub replicas: u8,
    /// The clock of the explored part stops here.
    pub max_time: u8,
    /// The fault budget.
    pub budget: Budget,
    /// The longest fair continuation (in rounds) the liveness checks allow.
    pub continuation: u8,
}

impl Default for Bounds {
    fn default() -> Self {
        Self {
            replicas: 3,
            max_time: 4,
            budget: Budget {
                total: 2,
                crashes: 1,
                wipes: 1,
                installs: 1,
                errors: 1,
                losses: 1,
                skews: 1,
            },
            continuation: 60,
        }
    }
}

/// The model: rules and bounds.
#[derive(Clone, Debug)]
pub struct TokenModel {
    /// The rules replicas follow.
    pub rules: Rules,
    /// The bounds.
    pub bounds: Bounds,
}

/// Property names.
pub const NO_SPENT_TOKEN_SENT: &str =
    "no refresh token is sent after it was spent, while the store keeps its data";
/// Property name.
pub const ONE_ROTATION_PER_GENERATION: &str = "at most one rotation (and one pair) per generation";
/// Property name.
pub const GENERATION_NEVER_DOWN: &str =
    "the stored generation never goes down while the store keeps its data";
/// Property name.
pub const ONE_CLOCK: &str =
    "one clock: refresh only when due on the store clock, expiry never later than Vandar's";
/// Property name.
pub const VALID_PAIR_REACHABLE: &str = "a held valid pair reaches every replica once faults stop";
/// Property name.
pub const INSTALL_RECOVERS: &str = "one install brings every replica back";
/// Property name.
pub const NO_SDK_LOCKOUT: &str = "no SDK-caused lockout: a spent stored token that locks the \
     replicas while a valid pair is held was spent by a send with no answer";
/// Reachability witness: a rotation happens.
pub const ROTATES: &str = "sometimes: a rotation";
/// Reachability witness: after a loss the store holds a generation below a live replica's.
pub const LOWER_AFTER_LOSS: &str = "sometimes: the store holds a lower generation after a loss";
/// Reachability witness: an unknowable send locks the current pair.
pub const UNKNOWABLE_LOCKS: &str = "sometimes: an unknowable send locks a valid pair";
/// Reachability witness: a spent refresh token is sent after a store data loss (finding 3,
/// outside [`NO_SPENT_TOKEN_SENT`]).
pub const RESEND_AFTER_LOSS: &str = "sometimes: a spent refresh token is sent after a data loss";
/// Reachability witness: a pause past the lease is taken over.
pub const TAKEOVER: &str = "sometimes: a lapsed lease is taken over";

impl Budget {
    /// Spend one fault of a kind (`field`), if both it and the total allow.
    fn take(&mut self, field: fn(&mut Budget) -> &mut u8) -> bool {
        if self.total == 0 || *field(self) == 0 {
            return false;
        }
        self.total -= 1;
        *field(self) -= 1;
        true
    }
}

impl TokenModel {
    /// The model with these rules and the default bounds.
    pub fn new(rules: Rules) -> Self {
        Self {
            rules,
            bounds: Bounds::default(),
        }
    }

    /// The start: the dashboard pair (due now) seeded into the store, every replica booted
    /// on it. (A replica that restarts boots again, with [`first_load`].)
    fn initial(&self) -> State {
        let dashboard = Pair {
            id: 0,
            access_exp: 1,
            refresh_exp: REFRESH_TICKS,
        };
        let seeded = Rec::from_runtime(&TokenRecord::seed(dashboard.runtime()));
        let mut ghost = Ghost::default();
        ghost.pair_of.insert(seeded.generation, dashboard.id);
        State {
            now: 0,
            store: Some(seeded),
            replicas: (0..self.bounds.replicas)
                .map(|_| Replica {
                    incarnation: 0,
                    skew: 0,
                    cache: Some(seeded),
                    sent: None,
                    pc: Pc::Idle,
                })
                .collect(),
            server: Server {
                issued: vec![dashboard],
                current: 0,
                spent: 0,
            },
            budget: self.bounds.budget,
            ghost,
        }
    }

    /// Whether replica `r` judges its pair due (the shipped rule: on the store's clock).
    fn is_due(&self, s: &State, r: &Replica, pair: Pair) -> bool {
        let now = match self.rules {
            Rules::LocalClock => s.now + r.skew,
            _ => s.now,
        };
        due(&pair.runtime(), at(now), margin())
    }

    fn plan_step(&self, s: &State, i: usize) -> Step {
        let r = &s.replicas[i];
        let me = Holder {
            replica: i as u8,
            incarnation: r.incarnation,
        };
        let id = me.id();
        let cached = r.cache.map(|c| c.runtime());
        let stored = s.store.map(|c| c.runtime());
        let rev = REVISION;
        let now = at(s.now);
        match self.rules {
            Rules::ResendAfterDeadline => {
                if let (Some(c), Some(st)) = (&cached, &stored)
                    && c.generation == st.generation
                    && let Phase::Sending { until, .. } = st.phase
                    && until <= now
                {
                    return Step::Write(Write {
                        expected: Some(st.revision),
                        record: st.with_phase(
                            Phase::Leased {
                                holder: id,
                                until: now + TIMING.lease,
                            },
                            rev,
                        ),
                        kind: WriteKind::TakeOver,
                    });
                }
            }
            Rules::RestoreOverNewer => {
                if let (Some(c), Some(st)) = (&cached, &stored)
                    && st.generation > c.generation
                {
                    return Step::Write(Write {
                        expected: Some(st.revision),
                        record: protocol::restored(&id, c, now, TIMING, rev),
                        kind: WriteKind::Restore,
                    });
                }
            }
            Rules::NeverReread => {
                if let Some(c) = &cached
                    && matches!(c.phase, Phase::Rejected { .. } | Phase::Uncertain { .. })
                {
                    return Step::Locked(protocol::Lock::Uncertain);
                }
            }
            _ => {}
        }
        plan(
            Me {
                id: &id,
                cached: cached.as_ref(),
                sent: r.sent,
            },
            stored.as_ref(),
            now,
            TIMING,
            rev,
        )
    }

    /// Whether the store has lost its data in this behaviour.
    pub fn lost(&self, s: &State) -> bool {
        s.budget.wipes < self.bounds.budget.wipes
    }

    /// Write `rec` to the store (the caller has checked the compare-and-swap), keeping the
    /// history the invariants need.
    fn write(&self, s: &mut State, rec: Rec) {
        if let Some(prev) = s.store
            && rec.generation < prev.generation
        {
            s.ghost.went_down = true;
        }
        match s.ghost.pair_of.get(&rec.generation) {
            Some(p) if *p != rec.pair.id => s.ghost.two_pairs = true,
            Some(_) => {}
            None => {
                s.ghost.pair_of.insert(rec.generation, rec.pair.id);
            }
        }
        let issued = s.server.issued[usize::from(rec.pair.id)];
        if rec.pair.access_exp > issued.access_exp || rec.pair.refresh_exp > issued.refresh_exp {
            s.ghost.wrong_expiry = true;
        }
        let highest_live = s
            .replicas
            .iter()
            .filter_map(|r| r.cache.map(|c| c.generation))
            .max();
        if s.store.is_none() && highest_live.is_some_and(|h| rec.generation < h) {
            s.ghost.lower_after_loss = true;
        }
        s.store = Some(rec);
    }

    /// Perform a planned compare-and-swap. Steps are atomic, so it succeeds.
    fn perform(&self, s: &mut State, w: &Write) -> Rec {
        assert_eq!(
            s.store.map(|_| REVISION),
            w.expected,
            "a planned write expects the stored revision"
        );
        let rec = Rec::from_runtime(&w.record);
        self.write(s, rec);
        rec
    }

    fn step(&self, s: &State, action: Action, unbounded: bool) -> Option<State> {
        let mut n = s.clone();
        match action {
            Action::Boot(i) => {
                let i = usize::from(i);
                if n.replicas[i].pc != Pc::Start {
                    return None;
                }
                let configured = s.server.issued[0].runtime();
                let stored = s.store.map(|r| r.runtime());
                match first_load(Some(&configured), stored.as_ref(), REVISION) {
                    First::Stored(r) => n.replicas[i].cache = Some(Rec::from_runtime(&r)),
                    First::Seed(w) => {
                        let rec = self.perform(&mut n, &w);
                        n.replicas[i].cache = Some(rec);
                    }
                    First::Empty => return None,
                }
                n.replicas[i].pc = Pc::Idle;
            }
            Action::Plan(i) => {
                let iu = usize::from(i);
                let r = n.replicas[iu];
                let cache = r.cache?;
                if r.pc != Pc::Idle || !self.is_due(s, &r, cache.pair) {
                    return None;
                }
                match self.plan_step(s, iu) {
                    Step::Adopt(rec) => n.replicas[iu].cache = Some(Rec::from_runtime(&rec)),
                    Step::Write(w) => {
                        n.ghost.took_over |= w.kind == WriteKind::TakeOver;
                        let rec = self.perform(&mut n, &w);
                        n.replicas[iu].cache = Some(rec);
                    }
                    Step::Send(w) => {
                        let rec = self.perform(&mut n, &w);
                        n.replicas[iu].cache = Some(rec);
                        n.replicas[iu].pc = Pc::Marked {
                            mine: rec,
                            deadline: s.now + SEND_TICKS,
                        };
                    }
                    Step::Wait { .. } | Step::NotBefore(_) | Step::Locked(_) | Step::Empty => {
                        return None;
                    }
                }
            }
            Action::Check(i) => {
                let r = &mut n.replicas[usize::from(i)];
                let Pc::Marked { mine, deadline } = r.pc else {
                    return None;
                };
                // The deadline runs on the replica's monotonic clock from the marker's write:
                // a skew of its wall clock shifts both ends alike.
                let local_now = s.now + r.skew;
                let local_deadline = deadline + r.skew;
                if local_now < local_deadline {
                    r.sent = Some(mine.generation);
                    r.pc = Pc::Checked { mine, sent: s.now };
                } else {
                    r.pc = Pc::Settling {
                        mine,
                        outcome: Out::NotSent,
                    };
                }
            }
            Action::Transmit(i) | Action::Transmit500(i) => {
                let iu = usize::from(i);
                let Pc::Checked { mine, sent } = n.replicas[iu].pc else {
                    return None;
                };
                let error = matches!(action, Action::Transmit500(_));
                if error && !n.budget.take(|b| &mut b.errors) {
                    return None;
                }
                let token = mine.pair.id;
                let bit = 1u32 << token;
                if n.server.spent & bit != 0 {
                    if self.lost(s) {
                        n.ghost.spent_sent_after_loss = true;
                    } else {
                        n.ghost.spent_sent = true;
                    }
                }
                let answer = if error {
                    Answer::Error500
                } else if token == n.server.current
                    && s.now < n.server.issued[usize::from(token)].refresh_exp
                {
                    // Due by the record the holder sent (its own, store-clock expiry).
                    if !due(&mine.pair.runtime(), at(s.now), margin()) {
                        n.ghost.early = true;
                    }
                    let new = Pair {
                        id: u8::try_from(n.server.issued.len()).expect("few pairs"),
                        access_exp: s.now + ACCESS_TICKS,
                        refresh_exp: s.now + REFRESH_TICKS,
                    };
                    n.server.issued.push(new);
                    n.server.spent |= bit;
                    n.server.current = new.id;
                    *n.ghost.rotations.entry(mine.generation).or_default() += 1;
                    Answer::Rotated(new.id)
                } else {
                    Answer::Refused
                };
                n.replicas[iu].pc = Pc::Awaiting { mine, answer, sent };
            }
            Action::Deliver(i) | Action::LoseAnswer(i) => {
                let r = &mut n.replicas[usize::from(i)];
                let Pc::Awaiting { mine, answer, sent } = r.pc else {
                    return None;
                };
                let outcome = if matches!(action, Action::LoseAnswer(_)) {
                    if !n.budget.take(|b| &mut b.losses) {
                        return None;
                    }
                    n.ghost.unknowable = Some(mine.pair.id);
                    Out::Lost
                } else {
                    match answer {
                        Answer::Rotated(p) => Out::Rotated { pair: p, sent },
                        Answer::Refused => Out::Rejected,
                        Answer::Error500 => Out::NotRotated,
                    }
                };
                r.pc = Pc::Settling { mine, outcome };
            }
            Action::Settle(i) => {
                let iu = usize::from(i);
                let r = n.replicas[iu];
                let Pc::Settling { mine, outcome } = r.pc else {
                    return None;
                };
                let me = Holder {
                    replica: i,
                    incarnation: r.incarnation,
                };
                let outcome = match outcome {
                    Out::Rotated { pair: p, sent } => {
                        // Dated as the token manager dates it: from when it let the refresh
                        // go, or from its arrival if the answer took longer than the pair's
                        // access lifetime.
                        let from = if sent + ACCESS_TICKS > s.now {
                            sent
                        } else {
                            s.now
                        };
                        let mut pair = s.server.issued[usize::from(p)];
                        pair.access_exp = from + ACCESS_TICKS;
                        pair.refresh_exp = from + REFRESH_TICKS;
                        if self.rules == Rules::LocalClock {
                            pair.access_exp = s.now + r.skew + ACCESS_TICKS;
                        }
                        Outcome::Rotated(pair.runtime())
                    }
                    Out::NotSent => Outcome::NotSent,
                    Out::NotRotated if self.rules == Rules::ErrorIsLost => Outcome::Lost,
                    Out::NotRotated => Outcome::NotRotated {
                        retry: Duration::from_secs(u64::from(RETRY_TICKS)),
                    },
                    Out::Rejected => Outcome::Rejected { status: 401 },
                    Out::Lost => Outcome::Lost,
                };
                let stored = s.store.map(|c| c.runtime());
                let mut w = settle(
                    &me.id(),
                    &mine.runtime(),
                    stored.as_ref(),
                    &outcome,
                    at(s.now),
                    REVISION,
                );
                if self.rules == Rules::RotatedYieldsToLock
                    && matches!(outcome, Outcome::Rotated(_))
                    && s.store.is_some_and(|st| {
                        st.generation == mine.generation
                            && matches!(st.phase, Ph::Uncertain { .. } | Ph::Rejected { .. })
                    })
                {
                    w = None;
                }
                if let Some(mut w) = w {
                    if self.rules == Rules::NoGenerationBump
                        && matches!(outcome, Outcome::Rotated(_))
                    {
                        w.record.generation = mine.generation;
                    }
                    let rec = self.perform(&mut n, &w);
                    n.replicas[iu].cache = Some(rec);
                }
                n.replicas[iu].pc = Pc::Idle;
            }
            Action::Crash(i) => {
                if n.replicas[usize::from(i)].pc == Pc::Start || !n.budget.take(|b| &mut b.crashes)
                {
                    return None;
                }
                let r = &mut n.replicas[usize::from(i)];
                match r.pc {
                    Pc::Marked { mine, .. }
                    | Pc::Checked { mine, .. }
                    | Pc::Awaiting { mine, .. }
                    | Pc::Settling { mine, .. } => n.ghost.unknowable = Some(mine.pair.id),
                    Pc::Start | Pc::Idle => {}
                }
                *r = Replica {
                    incarnation: r.incarnation + 1,
                    skew: r.skew,
                    cache: None,
                    sent: None,
                    pc: Pc::Start,
                };
            }
            Action::WipeStore => {
                if n.store.is_none() || !n.budget.take(|b| &mut b.wipes) {
                    return None;
                }
                n.store = None;
            }
            Action::Install => {
                if !unbounded && !n.budget.take(|b| &mut b.installs) {
                    return None;
                }
                let pair = Pair {
                    id: u8::try_from(n.server.issued.len()).expect("few pairs"),
                    access_exp: s.now + ACCESS_TICKS,
                    refresh_exp: s.now + REFRESH_TICKS,
                };
                n.server.issued.push(pair);
                n.server.current = pair.id;
                let highest = s.store.map_or(0, |r| r.generation);
                let mut record = TokenRecord::install(pair.runtime(), at(s.now), highest);
                record.revision = REVISION;
                let rec = Rec::from_runtime(&record);
                self.write(&mut n, rec);
            }
            Action::Skew(i) => {
                if !n.budget.take(|b| &mut b.skews) {
                    return None;
                }
                n.replicas[usize::from(i)].skew = SKEW_TICKS;
            }
            Action::Tick => {
                if s.now >= self.bounds.max_time && !unbounded {
                    return None;
                }
                n.now += 1;
            }
        }
        Some(n)
    }

    /// A fair, fault-free continuation from `s`: every replica in turn takes its next protocol
    /// step; time passes only when none can. Whether it reaches a state where every replica
    /// holds a usable pair that is not due.
    pub fn recovers(&self, s: &State) -> bool {
        let mut s = s.clone();
        for _ in 0..self.bounds.continuation {
            if self.recovered(&s) {
                return true;
            }
            let mut moved = false;
            for i in 0..self.bounds.replicas {
                for a in [
                    Action::Boot(i),
                    Action::Plan(i),
                    Action::Check(i),
                    Action::Transmit(i),
                    Action::Deliver(i),
                    Action::Settle(i),
                ] {
                    if let Some(n) = self.step(&s, a, true) {
                        s = n;
                        moved = true;
                        break;
                    }
                }
            }
            if !moved {
                if s.now >= u8::MAX - 16 {
                    return false;
                }
                s.now += 1;
            }
        }
        self.recovered(&s)
    }

    /// Every replica is idle with a pair Vandar accepts now and that is not due.
    pub fn recovered(&self, s: &State) -> bool {
        s.replicas.iter().all(|r| {
            r.pc == Pc::Idle
                && r.cache.is_some_and(|c| {
                    let issued = s.server.issued[usize::from(c.pair.id)];
                    issued.access_exp > s.now && !due(&issued.runtime(), at(s.now), margin())
                })
        })
    }

    /// Whether Vandar's current pair is held by the store, a replica or an answer on its way.
    pub fn current_held(&self, s: &State) -> bool {
        let cur = s.server.current;
        if s.server.issued[usize::from(cur)].refresh_exp <= s.now {
            return false;
        }
        s.store.is_some_and(|r| r.pair.id == cur)
            || s.replicas.iter().any(|r| {
                r.cache.is_some_and(|c| c.pair.id == cur)
                    || matches!(
                        r.pc,
                        Pc::Awaiting {
                            answer: Answer::Rotated(p),
                            ..
                        } | Pc::Settling {
                            outcome: Out::Rotated { pair: p, .. },
                            ..
                        } if p == cur
                    )
            })
    }
}

impl Model for TokenModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        vec![self.initial()]
    }

    fn actions(&self, s: &State, actions: &mut Vec<Action>) {
        for i in 0..self.bounds.replicas {
            let r = &s.replicas[usize::from(i)];
            match r.pc {
                Pc::Start => actions.push(Action::Boot(i)),
                Pc::Idle => actions.push(Action::Plan(i)),
                Pc::Marked { .. } => actions.push(Action::Check(i)),
                Pc::Checked { .. } => {
                    actions.push(Action::Transmit(i));
                    actions.push(Action::Transmit500(i));
                }
                Pc::Awaiting { .. } => {
                    actions.push(Action::Deliver(i));
                    actions.push(Action::LoseAnswer(i));
                }
                Pc::Settling { .. } => actions.push(Action::Settle(i)),
            }
            if r.pc != Pc::Start {
                actions.push(Action::Crash(i));
            }
            if r.skew == 0 {
                actions.push(Action::Skew(i));
            }
        }
        actions.push(Action::WipeStore);
        actions.push(Action::Install);
        actions.push(Action::Tick);
    }

    fn next_state(&self, s: &State, action: Action) -> Option<State> {
        self.step(s, action, false)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always(NO_SPENT_TOKEN_SENT, |_, s: &State| !s.ghost.spent_sent),
            Property::always(ONE_ROTATION_PER_GENERATION, |_, s: &State| {
                !s.ghost.two_pairs && s.ghost.rotations.values().all(|n| *n <= 1)
            }),
            Property::always(GENERATION_NEVER_DOWN, |_, s: &State| !s.ghost.went_down),
            Property::always(ONE_CLOCK, |_, s: &State| {
                !s.ghost.early && !s.ghost.wrong_expiry
            }),
            Property::always(VALID_PAIR_REACHABLE, |m, s: &State| {
                !m.current_held(s) || s.ghost.unknowable == Some(s.server.current) || m.recovers(s)
            }),
            Property::always(NO_SDK_LOCKOUT, |m, s: &State| {
                let Some(stored) = s.store else { return true };
                let token = stored.pair.id;
                s.server.spent & (1u32 << token) == 0
                    || s.ghost.unknowable == Some(token)
                    || s.ghost.unknowable == Some(s.server.current)
                    || !m.current_held(s)
                    || m.recovers(s)
            }),
            Property::always(INSTALL_RECOVERS, |m, s: &State| {
                m.step(s, Action::Install, true)
                    .is_some_and(|n| m.recovers(&n))
            }),
            Property::sometimes(ROTATES, |_, s: &State| {
                s.server.current > 0 && s.server.spent != 0
            }),
            Property::sometimes(LOWER_AFTER_LOSS, |_, s: &State| s.ghost.lower_after_loss),
            Property::sometimes(UNKNOWABLE_LOCKS, |m, s: &State| {
                s.ghost.unknowable == Some(s.server.current) && m.current_held(s) && !m.recovers(s)
            }),
            Property::sometimes(TAKEOVER, |_, s: &State| s.ghost.took_over),
            Property::sometimes(RESEND_AFTER_LOSS, |_, s: &State| {
                s.ghost.spent_sent_after_loss
            }),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bridge to the runtime's record is lossless for every phase, so the rules see
    /// exactly the model's state.
    #[test]
    fn records_convert_both_ways() {
        let holder = Holder {
            replica: 2,
            incarnation: 1,
        };
        let pair = Pair {
            id: 3,
            access_exp: 7,
            refresh_exp: 11,
        };
        for phase in [
            Ph::Ready,
            Ph::Leased { holder, until: 4 },
            Ph::Sending { holder, until: 5 },
            Ph::Uncertain { holder },
            Ph::Rejected { status: 401 },
        ] {
            for not_before in [None, Some(6)] {
                let rec = Rec {
                    generation: 9,
                    pair,
                    phase,
                    not_before,
                };
                let runtime = rec.runtime();
                assert_eq!(runtime.revision, REVISION);
                assert_eq!(Rec::from_runtime(&runtime), rec);
            }
        }
        // A different record converts to a different runtime record.
        let a = Rec {
            generation: 1,
            pair,
            phase: Ph::Ready,
            not_before: None,
        };
        let b = Rec { generation: 2, ..a };
        assert_ne!(a.runtime(), b.runtime());
    }
}
