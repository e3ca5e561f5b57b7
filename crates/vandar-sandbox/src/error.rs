//! The sandbox's error type (at the bottom: every module may use it).

use std::net::SocketAddr;

/// Errors of the sandbox.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An embedded spec could not be read or compiled.
    #[error("spec: {0}")]
    Spec(String),
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// A control was refused (unknown token, decided twice, unknown operation, ...).
    #[error("control refused: {0}")]
    Control(String),
}
