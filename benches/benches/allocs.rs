//! Heap allocations per call, SDK against hand-written reqwest 0.13, for the calls of the
//! `overhead` benchmark (issue 22: client CPU per call within +1 µs of hand-written; an
//! allocation and its free cost tens of nanoseconds each, so they are counted here, where the
//! timer's noise does not hide them).
//!
//! The counting allocator (`stats_alloc`) sees every thread of this process; the server runs
//! in its own process (`bench-server`), so what is counted is the client's alone. Each side
//! makes the same calls one after another on a current-thread runtime after a warm-up (the
//! connection is open and reused), and the figure is the mean over `CALLS` calls.
//!
//! `cargo bench -p vandar-benches --bench allocs` (a few seconds).

use std::alloc::System;
use std::time::Duration;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use vandar_benches::{handwritten, sdk, server};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const CALLS: u64 = 2_000;

/// Allocations and bytes allocated per call, over `CALLS` calls of `f`.
fn per_call<F: std::future::Future<Output = ()>>(
    rt: &tokio::runtime::Runtime,
    mut f: impl FnMut(u64) -> F,
) -> (f64, f64) {
    rt.block_on(async {
        for i in 0..50 {
            f(i).await;
        }
    });
    let region = Region::new(GLOBAL);
    rt.block_on(async {
        for i in 0..CALLS {
            f(i).await;
        }
    });
    let s = region.change();
    (
        s.allocations as f64 / CALLS as f64,
        s.bytes_allocated as f64 / CALLS as f64,
    )
}

fn main() {
    let server = server::spawn(
        env!("CARGO_BIN_EXE_bench-server"),
        None,
        Duration::from_secs(300),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let uri = server.uri();
    let vandar = sdk::vandar(&uri, None);
    let ipg = vandar.ipg();
    let core = vandar.core();
    let key = sdk::api_key();
    let raw = handwritten::client();

    let (sdk_send, sdk_send_b) = per_call(&rt, |i| {
        let (ipg, key) = (&ipg, &key);
        async move {
            let t = sdk::send_payment(ipg, key, i).await.expect("sdk send");
            assert!(!t.token.is_empty());
        }
    });
    let (raw_send, raw_send_b) = per_call(&rt, |i| {
        let (raw, uri) = (&raw, &uri);
        async move {
            let t = handwritten::send_payment(raw, uri, i)
                .await
                .expect("raw send");
            assert!(t.token.is_some());
        }
    });
    let (sdk_list, sdk_list_b) = per_call(&rt, |_| {
        let core = &core;
        async move {
            let p = sdk::list_transactions(core).await.expect("sdk list");
            assert!(!p.data.is_empty());
        }
    });
    let (raw_list, raw_list_b) = per_call(&rt, |_| {
        let (raw, uri) = (&raw, &uri);
        async move {
            let p = handwritten::list_transactions(raw, uri)
                .await
                .expect("raw list");
            assert!(!p.data.is_empty());
        }
    });
    println!("allocations per call (mean of {CALLS}; bytes allocated per call):");
    println!(
        "  send_payment       SDK {sdk_send:6.1} ({sdk_send_b:7.0} B)   raw {raw_send:6.1} ({raw_send_b:7.0} B)   SDK - raw {:+.1}",
        sdk_send - raw_send
    );
    println!(
        "  list_transactions  SDK {sdk_list:6.1} ({sdk_list_b:7.0} B)   raw {raw_list:6.1} ({raw_list_b:7.0} B)   SDK - raw {:+.1}",
        sdk_list - raw_list
    );
}
