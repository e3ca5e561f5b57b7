//! Shared pieces of the benchmark suite (issue 10, see `BENCHMARKS.md` at the workspace root):
//!
//! * [`fixtures`]: the JSON the local server answers (a 100-item statement page shaped like the
//!   documented `GET /v3/business/{business}/transaction` item, an IPG payment token);
//! * [`handwritten`]: plain serde structs equivalent to the generated types, and the
//!   hand-written `reqwest` calls the SDK is compared with;
//! * [`server`]: a keep-alive HTTP/1.1 server on 127.0.0.1 (run in its own process by the
//!   `bench-server` binary, so the client's CPU time can be measured alone), optionally
//!   enforcing the documented rate limits as a strict sliding window;
//! * [`stats`]: medians, interleaved pairs, process CPU time and RSS.
#![forbid(unsafe_code)]
#![recursion_limit = "256"]

pub mod fixtures;
pub mod handwritten;
pub mod sdk;
pub mod server;
pub mod stats;
