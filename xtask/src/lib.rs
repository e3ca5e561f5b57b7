//! Workspace automation: turn `spec/*.yaml` into generated client crates and keep them honest.
//!
//! * `cargo xtask gen`: lint every spec and write `crates/<spec>/src/generated.rs`.
//! * `cargo xtask check`: lint every spec, regenerate in memory, and fail on any difference;
//!   refuse time arithmetic that panics on a large number in the hand-written crates
//!   ([`time_arith`]).
//! * `cargo xtask coverage`: every upstream endpoint against the specs; fails on any missing.
//! * `cargo xtask opcov DIR`: every operation was answered with a success and an error in tests.
//!
//! The library half is also used by the workspace tests (surface snapshots).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod checks;
pub mod coverage;
pub mod ergonomic;
pub mod fingerprint;
pub mod generate;
pub mod lint;
pub mod opcov;
pub mod redact_debug;
pub mod rewrite;
pub mod spacing;
pub mod spec;
pub mod surface;
pub mod time_arith;
