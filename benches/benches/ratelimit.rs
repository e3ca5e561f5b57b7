//! Item 5: the client-side rate limiter against a local server that enforces the documented
//! limits (POST 30, other methods 100, per 3 s) as a strict sliding window and answers 429
//! beyond them. 16 callers saturate each lane (`send_payment` POSTs, `list_transactions`
//! GETs) for 21 s; the server records every accepted arrival.
//!
//! Reported per lane: the mean number of requests in a 3-second window (every window start in
//! the steady state, i.e. after the first window, in 1 ms steps) as a fraction of the limit,
//! its minimum and maximum, the first window (burst), and the server's 429 count.
//! Target: mean ≥ 98 % of the limit with 0 rejections.
//!
//! Two configurations run in the same process, one after the other: the default
//! (`RateLimits::vandar()`) and, for comparison, a GCRA with a third of the limit as burst
//! (`with_burst(max / 3)`, the default before issue 10).
//!
//! `cargo bench -p vandar-benches --bench ratelimit` (about 50 s).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use vandar::{RateLimit, RateLimits};
use vandar_benches::server::{self, LaneStats, Limits};
use vandar_benches::stats::load_average;
use vandar_benches::{handwritten, sdk};

const CALLERS: usize = 16;

struct Window {
    mean: f64,
    min: usize,
    max: usize,
    first: usize,
}

/// Requests per window of length `per` over every window start in `[from, to - per]`,
/// in 1 ms steps.
fn windows(times: &[f64], per: f64, from: f64, to: f64) -> Window {
    let mut t = times.to_vec();
    t.sort_by(f64::total_cmp);
    let count = |s: f64| t.iter().filter(|x| **x >= s && **x < s + per).count();
    let first = t.first().map_or(0, |f| count(*f));
    let (mut sum, mut n, mut min, mut max) = (0usize, 0usize, usize::MAX, 0usize);
    let mut s = from;
    while s + per <= to {
        let c = count(s);
        sum += c;
        n += 1;
        min = min.min(c);
        max = max.max(c);
        s += 0.001;
    }
    Window {
        mean: if n == 0 { 0.0 } else { sum as f64 / n as f64 },
        min: if n == 0 { 0 } else { min },
        max,
        first,
    }
}

fn report(config: &str, lane: &str, stats: &LaneStats, limit: usize, run: f64) {
    let per = 3.0;
    let start = stats.accepted.first().copied().unwrap_or(0.0);
    let w = windows(&stats.accepted, per, start + per, start + run);
    println!(
        "RESULT ratelimit [{config}] {lane}: {:.1} per 3 s = {:.1} % of {limit} (window min {} max {}), first window {}, server 429s {}, accepted {}",
        w.mean,
        100.0 * w.mean / limit as f64,
        w.min,
        w.max,
        w.first,
        stats.rejected,
        stats.accepted.len()
    );
}

fn main() {
    let quick = std::env::var_os("VANDAR_BENCH_QUICK").is_some();
    let run = if quick {
        Duration::from_secs(7)
    } else {
        Duration::from_secs(21)
    };
    let limits = Limits::vandar();
    let srv = server::spawn(
        env!("CARGO_BIN_EXE_bench-server"),
        Some(limits),
        Duration::from_secs(600),
    );
    let uri = srv.uri();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let control = handwritten::client();
    println!(
        "ratelimit: server enforces POST {} / other {} per {:?} (sliding); {CALLERS} callers per lane, {:?} per configuration; load {}",
        limits.post,
        limits.other,
        limits.per,
        run,
        load_average()
    );

    let three = Duration::from_secs(3);
    let configs = [
        ("default", RateLimits::vandar()),
        (
            "gcra burst max/3",
            RateLimits {
                post: Some(RateLimit::new(30, three).with_burst(10)),
                other: Some(RateLimit::new(100, three).with_burst(33)),
            },
        ),
    ];
    for (name, config) in configs {
        // A fresh runtime (fresh limiter state) per configuration; let the server's windows
        // empty first.
        rt.block_on(async { tokio::time::sleep(Duration::from_millis(3100)).await });
        let vandar = sdk::vandar(&uri, Some(config));
        let ipg = vandar.ipg();
        let core = vandar.core();
        let key = sdk::api_key();
        let errors = Arc::new(AtomicU64::new(0));
        rt.block_on(server::reset(&control, &uri));
        rt.block_on(async {
            let end = tokio::time::Instant::now() + run;
            let mut tasks = Vec::new();
            for c in 0..CALLERS {
                let (ipg, core, key) = (ipg.clone(), core.clone(), key.clone());
                let (post_errors, get_errors) = (errors.clone(), errors.clone());
                tasks.push(tokio::spawn(async move {
                    let mut i = (c as u64) << 32;
                    while tokio::time::Instant::now() < end {
                        i += 1;
                        match tokio::time::timeout_at(end, sdk::send_payment(&ipg, &key, i)).await {
                            Ok(Ok(_)) | Err(_) => {}
                            Ok(Err(_)) => {
                                post_errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                }));
                tasks.push(tokio::spawn(async move {
                    while tokio::time::Instant::now() < end {
                        match tokio::time::timeout_at(end, sdk::list_transactions(&core)).await {
                            Ok(Ok(_)) | Err(_) => {}
                            Ok(Err(_)) => {
                                get_errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                }));
            }
            for t in tasks {
                t.await.expect("a caller task");
            }
        });
        let stats = rt.block_on(server::stats(&control, &uri));
        let secs = run.as_secs_f64();
        report(name, "POST", &stats.post, limits.post, secs);
        report(name, "GET ", &stats.other, limits.other, secs);
        println!(
            "  [{name}] client-side errors: {} (load {})",
            errors.load(Ordering::Relaxed),
            load_average()
        );
    }
    drop(srv);
}
