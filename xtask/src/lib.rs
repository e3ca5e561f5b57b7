//! Workspace automation: turn `spec/*.yaml` into generated client crates and keep them honest.
//!
//! * `cargo xtask gen`: lint every spec and write `crates/<spec>/src/generated.rs`.
//! * `cargo xtask check`: lint every spec, regenerate in memory, and fail on any difference.
//!
//! The library half is also used by the workspace tests (surface snapshots).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod generate;
pub mod lint;
pub mod spec;
pub mod surface;
