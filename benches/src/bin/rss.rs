//! Item 6: peak RSS of a process making 10,000 SDK calls (`send_payment`, plus one
//! 100-item `list_transactions` page every 10th call) against the local server (in its own
//! process), and the RSS after each thousand calls: the last thousand must not grow over the
//! first. Run it under `/usr/bin/time -v` (`benches/scripts/rss.sh`) for the kernel's view of
//! the peak as well.
//!
//! `rss [CALLS] [--raw]` (`--raw`: the same calls with hand-written reqwest, for comparison).
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use vandar_benches::stats::rss_kib;
use vandar_benches::{handwritten, sdk, server};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let calls: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(10_000);
    let raw = args.iter().any(|a| a == "--raw");
    let exe = std::env::current_exe()
        .expect("own path")
        .with_file_name("bench-server");
    let srv = server::spawn(
        exe.to_str().expect("a UTF-8 path"),
        None,
        Duration::from_secs(600),
    );
    let uri = srv.uri();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let (rss0, _) = rss_kib();
    let side = if raw { "raw reqwest" } else { "SDK" };
    println!("rss: {calls} {side} calls against {uri}; RSS before the first call {rss0} KiB");
    let started = Instant::now();
    let per_thousand = rt.block_on(async {
        let vandar = sdk::vandar(&uri, None);
        let ipg = vandar.ipg();
        let core = vandar.core();
        let key = sdk::api_key();
        let client = handwritten::client();
        let mut marks = Vec::new();
        for i in 0..calls {
            if i % 10 == 9 {
                if raw {
                    handwritten::list_transactions(&client, &uri)
                        .await
                        .expect("list");
                } else {
                    sdk::list_transactions(&core).await.expect("list");
                }
            } else if raw {
                handwritten::send_payment(&client, &uri, i as u64)
                    .await
                    .expect("send");
            } else {
                sdk::send_payment(&ipg, &key, i as u64).await.expect("send");
            }
            if (i + 1).is_multiple_of(1000) {
                marks.push(rss_kib().0);
            }
        }
        marks
    });
    let (rss, hwm) = rss_kib();
    println!(
        "RSS after each 1000 calls (KiB): {}",
        per_thousand
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    );
    // Least-squares slope of RSS over the thousands (KiB per 1000 calls): a leak shows as a
    // steady positive slope, allocator noise as a few pages up and down.
    let n = per_thousand.len() as f64;
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = per_thousand.iter().sum::<u64>() as f64 / n.max(1.0);
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, y) in per_thousand.iter().enumerate() {
        sxy += (i as f64 - mean_x) * (*y as f64 - mean_y);
        sxx += (i as f64 - mean_x).powi(2);
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let first = per_thousand.first().copied().unwrap_or(0);
    let last = per_thousand.last().copied().unwrap_or(0);
    println!(
        "RESULT rss [{side}] {calls} calls in {:.1?}: peak (VmHWM) {hwm} KiB, final {rss} KiB, after first 1000 {first} KiB, after last 1000 {last} KiB, growth {} KiB, trend {slope:+.1} KiB per 1000 calls",
        started.elapsed(),
        last as i64 - first as i64
    );
}
