//! Item 3: per-call overhead. The SDK call vs a hand-written `reqwest` call sending the same
//! JSON (same headers, same client settings, so the same connection reuse) to the same local
//! keep-alive server, which runs in its own process (`bench-server`) so this process's CPU
//! time is the client's alone.
//!
//! * latency: interleaved rounds of sequential calls, SDK then raw then raw then SDK ...;
//!   per-call wall time, and client CPU time per call; the ratio is the median of the
//!   per-round ratios of medians (target ≤ 1.05 for `send_payment` and for the IPG's
//!   `send_payment` + `verify_payment`);
//! * throughput: 1, 16 and 64 concurrent callers, interleaved rounds, calls per second;
//! * controls, in the same interleaved rounds: the hand-written `send_payment` against itself
//!   on a second `reqwest::Client` (its own connection: the harness's own bias, an A/A
//!   control); then against itself with the second side also doing, per call, what the SDK's
//!   call does beyond the hand-written one's besides its instructions: touching
//!   [`EXTRA_DATA_LINES`] more lines of data, or running [`SPREAD`] small functions that are
//!   all different (about the SDK's extra lines of code) against the same number of calls of
//!   one function (the same instructions in one line of code). Instructions per call are at
//!   parity (callgrind); these say what the footprint alone costs on this machine.
//!
//! The SDK runs with the client-side rate limiter off (`RateLimits::unlimited()`): with the
//! documented limits the SDK would (correctly) hold `send_payment` to 30 per 3 s. The limiter
//! has its own benchmark (`ratelimit`).
//!
//! `cargo bench -p vandar-benches --bench overhead` (about 1-2 minutes).
//! `VANDAR_BENCH_QUICK=1` runs a few rounds only (a smoke test).
//! `VANDAR_BENCH_PROFILE=sdk|raw` makes only that side's `send_payment` calls for 20 s, for a
//! profiler (`perf record --call-graph dwarf …/overhead-*`); with
//! `VANDAR_BENCH_PROFILE_CALLS=N` it makes exactly N (for `valgrind --tool=callgrind`: the
//! difference of two runs with different N is the instructions of the calls alone) and prints
//! the client CPU per call; `VANDAR_BENCH_PROFILE=both` runs long batches of each side in turn;
//! `VANDAR_BENCH_PROFILE_OP=verify` profiles send + verify pairs instead of sends, `=list` the
//! 100-item `list_transactions` page.

use std::sync::Arc;
use std::time::{Duration, Instant};

use vandar::ApiKey;
use vandar_benches::stats::{load_average, median, median_ci95, quantile, self_cpu_time};
use vandar_benches::{handwritten, sdk, server};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Side {
    Sdk,
    Raw,
    /// The A/A control: the hand-written call on a second client.
    Raw2,
    /// [`Side::Raw2`], and [`Extra`] per call.
    Raw2With(Extra),
}

/// What a control side does per call on top of the hand-written call.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Extra {
    /// Touch [`EXTRA_DATA_LINES`] lines of data.
    Data,
    /// Call one small function [`SPREAD`] times.
    CodeInOneLine,
    /// Call [`SPREAD`] different small functions once each.
    CodeSpread,
}

/// The extra 64-byte lines of data the SDK's `send_payment` touches per call, against the
/// hand-written one's (`benches/scripts/footprint.sh`: distinct lines per window of 80,000
/// instructions of steady-state calls, 1,089 vs 892).
const EXTRA_DATA_LINES: usize = 200;

/// About the extra lines of code the SDK's `send_payment` runs per call (the same script:
/// 3,041 vs 2,571): each [`step`] is about 50 bytes, one line.
const SPREAD: usize = 480;

/// Data the control side reads and writes: one word per line, the same lines on every call
/// (a working set, as the SDK's own data is).
static EXTRA_DATA: std::sync::LazyLock<Vec<std::sync::atomic::AtomicU64>> =
    std::sync::LazyLock::new(|| {
        (0..EXTRA_DATA_LINES * 8)
            .map(|_| std::sync::atomic::AtomicU64::new(0))
            .collect()
    });

/// A small function that is different for every `I` (its constants), so that each instance
/// is its own machine code.
#[inline(never)]
fn step<const I: u64>(x: u64) -> u64 {
    let mut y = x ^ I.wrapping_mul(0x9E37_79B9);
    y = y.wrapping_mul(I | 1).rotate_left((I % 61 + 1) as u32);
    y = y.wrapping_add(I.wrapping_mul(7919));
    y ^= y >> (I % 29 + 3);
    y.wrapping_mul(I.wrapping_mul(48271) % 65521 + 5) ^ (y >> (I % 17 + 5))
}

/// [`SPREAD`] different instances of [`step`], each called directly once (direct calls: an
/// indirect call through a table would also mispredict its target every time).
#[inline(never)]
fn spread(mut x: u64) -> u64 {
    seq_macro::seq!(N in 1..=480 {
        #( x = step::<N>(x); )*
    });
    x
}

/// Do `extra` once.
#[inline(never)]
fn extra_work(extra: Extra) {
    use std::sync::atomic::Ordering::Relaxed;
    match extra {
        Extra::Data => {
            for word in EXTRA_DATA.iter().step_by(8) {
                word.store(word.load(Relaxed).wrapping_add(1), Relaxed);
            }
        }
        Extra::CodeInOneLine => {
            let x = std::hint::black_box(1);
            std::hint::black_box((0..SPREAD).fold(x, |x, _| step::<1>(x)));
        }
        Extra::CodeSpread => {
            std::hint::black_box(spread(std::hint::black_box(1)));
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Op {
    /// `POST /api/v4/send`: small JSON body in, small JSON out.
    SendPayment,
    /// `send_payment`, then `POST /api/v4/verify` of its token (the documented success body,
    /// every field): the IPG round trip of a real checkout.
    SendVerify,
    /// `GET /v3/business/{business}/transaction?per_page=100`: a 100-item page (~120 KB).
    ListTransactions,
}

struct Ctx {
    ipg: vandar::ipg::Client,
    core: vandar::core::Client,
    key: ApiKey,
    raw: reqwest::Client,
    /// A second hand-written client (its own pool and connection), for the A/A control.
    raw2: reqwest::Client,
    uri: String,
}

impl Ctx {
    async fn call(&self, side: Side, op: Op, i: u64) {
        match (side, op) {
            (Side::Sdk, Op::SendPayment) => {
                let t = sdk::send_payment(&self.ipg, &self.key, i)
                    .await
                    .expect("sdk send");
                assert!(!t.token.is_empty());
            }
            (Side::Raw | Side::Raw2 | Side::Raw2With(_), Op::SendPayment) => {
                let client = match side {
                    Side::Raw => &self.raw,
                    Side::Raw2With(extra) => {
                        extra_work(extra);
                        &self.raw2
                    }
                    _ => &self.raw2,
                };
                let t = handwritten::send_payment(client, &self.uri, i)
                    .await
                    .expect("raw send");
                assert!(t.token.is_some());
            }
            (Side::Raw2 | Side::Raw2With(_), _) => unreachable!("the controls send payments"),
            (Side::Sdk, Op::SendVerify) => {
                let t = sdk::send_payment(&self.ipg, &self.key, i)
                    .await
                    .expect("sdk send");
                let v = sdk::verify_payment(&self.ipg, &self.key, &t.token)
                    .await
                    .expect("sdk verify");
                assert!(v.trans_id.is_some());
            }
            (Side::Raw, Op::SendVerify) => {
                let t = handwritten::send_payment(&self.raw, &self.uri, i)
                    .await
                    .expect("raw send");
                let token = t.token.expect("a token");
                let v = handwritten::verify_payment(&self.raw, &self.uri, &token)
                    .await
                    .expect("raw verify");
                assert!(v.trans_id > 0);
            }
            (Side::Sdk, Op::ListTransactions) => {
                let p = sdk::list_transactions(&self.core).await.expect("sdk list");
                assert!(!p.data.is_empty());
            }
            (Side::Raw, Op::ListTransactions) => {
                let p = handwritten::list_transactions(&self.raw, &self.uri)
                    .await
                    .expect("raw list");
                assert_eq!(p.data.len(), vandar_benches::fixtures::PAGE_ITEMS);
            }
        }
    }
}

/// One side's batch: per-call latencies (µs) and CPU µs per call.
struct Batch {
    latencies: Vec<f64>,
    cpu_per_call: f64,
    calls_per_sec: f64,
}

/// `total` calls split over `concurrency` tasks.
fn batch(
    rt: &tokio::runtime::Runtime,
    ctx: &Arc<Ctx>,
    side: Side,
    op: Op,
    total: usize,
    concurrency: usize,
) -> Batch {
    let per_task = total / concurrency;
    let cpu0 = self_cpu_time();
    let t0 = Instant::now();
    let handles: Vec<_> = (0..concurrency)
        .map(|task| {
            let ctx = ctx.clone();
            rt.spawn(async move {
                let mut lat = Vec::with_capacity(per_task);
                for i in 0..per_task {
                    let t = Instant::now();
                    ctx.call(side, op, (task * per_task + i) as u64).await;
                    lat.push(t.elapsed().as_nanos() as f64 / 1e3);
                }
                lat
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(total);
    for h in handles {
        latencies.extend(rt.block_on(h).expect("a benchmark task"));
    }
    let elapsed = t0.elapsed();
    let cpu = self_cpu_time().saturating_sub(cpu0);
    let n = latencies.len() as f64;
    Batch {
        latencies,
        cpu_per_call: cpu.as_nanos() as f64 / 1e3 / n,
        calls_per_sec: n / elapsed.as_secs_f64(),
    }
}

struct Summary {
    sdk_lat: Vec<f64>,
    raw_lat: Vec<f64>,
    lat_ratios: Vec<f64>,
    sdk_cpu: Vec<f64>,
    raw_cpu: Vec<f64>,
    cpu_ratios: Vec<f64>,
    /// Per round: client CPU per call of the first side minus the second's, µs.
    cpu_diffs: Vec<f64>,
    sdk_tput: Vec<f64>,
    raw_tput: Vec<f64>,
    tput_ratios: Vec<f64>,
}

/// Interleaved rounds of `sides` (`[Sdk, Raw]`, or an A/A control): in the summary, `sdk_*`
/// is the first side and `raw_*` the second.
#[allow(clippy::too_many_arguments)]
fn pairs(
    rt: &tokio::runtime::Runtime,
    ctx: &Arc<Ctx>,
    sides: [Side; 2],
    op: Op,
    rounds: usize,
    per_round: usize,
    concurrency: usize,
    budget: Duration,
) -> Summary {
    let mut s = Summary {
        sdk_lat: vec![],
        raw_lat: vec![],
        lat_ratios: vec![],
        sdk_cpu: vec![],
        raw_cpu: vec![],
        cpu_ratios: vec![],
        cpu_diffs: vec![],
        sdk_tput: vec![],
        raw_tput: vec![],
        tput_ratios: vec![],
    };
    let start = Instant::now();
    for round in 0..rounds {
        if round > 1 && start.elapsed() > budget {
            break;
        }
        let order = if round % 2 == 0 {
            sides
        } else {
            [sides[1], sides[0]]
        };
        let mut got = order.map(|side| (side, batch(rt, ctx, side, op, per_round, concurrency)));
        if got[0].0 != sides[0] {
            got.swap(0, 1);
        }
        let [(_, mut sdk_b), (_, mut raw_b)] = got;
        let (ms, mr) = (median(&mut sdk_b.latencies), median(&mut raw_b.latencies));
        s.lat_ratios.push(ms / mr);
        s.cpu_ratios.push(sdk_b.cpu_per_call / raw_b.cpu_per_call);
        s.cpu_diffs.push(sdk_b.cpu_per_call - raw_b.cpu_per_call);
        s.tput_ratios
            .push(sdk_b.calls_per_sec / raw_b.calls_per_sec);
        s.sdk_cpu.push(sdk_b.cpu_per_call);
        s.raw_cpu.push(raw_b.cpu_per_call);
        s.sdk_tput.push(sdk_b.calls_per_sec);
        s.raw_tput.push(raw_b.calls_per_sec);
        s.sdk_lat.extend(sdk_b.latencies);
        s.raw_lat.extend(raw_b.latencies);
    }
    s
}

/// A profile-mode batch's client CPU and median wall time per call.
fn print_profile(label: &str, mut b: Batch) {
    println!(
        "profile: {label}client CPU {:.1} µs/call, median wall {:.1} µs",
        b.cpu_per_call,
        median(&mut b.latencies)
    );
}

fn iqr(v: &[f64]) -> (f64, f64) {
    let mut v = v.to_vec();
    (quantile(&mut v, 0.25), quantile(&mut v, 0.75))
}

/// `a` and `b` name the first and second side (`SDK` and `raw`, or the control's two sides).
fn report_latency(name: &str, [a, b]: [&str; 2], s: &mut Summary) {
    let (lo, hi) = iqr(&s.lat_ratios);
    let (clo, chi) = iqr(&s.cpu_ratios);
    println!(
        "{name}: {} rounds, load {}",
        s.lat_ratios.len(),
        load_average()
    );
    println!(
        "  wall µs/call   {a} median {:>8.1}  p90 {:>8.1}  p99 {:>8.1} | {b} median {:>8.1}  p90 {:>8.1}  p99 {:>8.1}",
        median(&mut s.sdk_lat),
        quantile(&mut s.sdk_lat, 0.9),
        quantile(&mut s.sdk_lat, 0.99),
        median(&mut s.raw_lat),
        quantile(&mut s.raw_lat, 0.9),
        quantile(&mut s.raw_lat, 0.99),
    );
    println!(
        "  client CPU µs/call  {a} {:>8.1} | {b} {:>8.1}",
        median(&mut s.sdk_cpu),
        median(&mut s.raw_cpu)
    );
    println!(
        "RESULT {name} latency ratio {a}/{b} = {:.3} (IQR {lo:.3}..{hi:.3}); client CPU ratio = {:.3} (IQR {clo:.3}..{chi:.3})",
        median(&mut s.lat_ratios),
        median(&mut s.cpu_ratios),
    );
    // The "+1 µs of client CPU" target: the per-round differences of the two interleaved
    // sides, their median and its distribution-free 95 % interval.
    let (dlo, dmid, dhi) = median_ci95(&s.cpu_diffs);
    println!(
        "RESULT {name} client CPU {a} - {b} = {dmid:+.2} µs/call (95% CI {dlo:+.2}..{dhi:+.2})"
    );
}

fn main() {
    let quick = std::env::var_os("VANDAR_BENCH_QUICK").is_some();
    let scale = |n: usize| if quick { (n / 10).max(2) } else { n };
    let server = server::spawn(
        env!("CARGO_BIN_EXE_bench-server"),
        None,
        Duration::from_secs(900),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let uri = server.uri();
    let vandar = sdk::vandar(&uri, None);
    let ctx = Arc::new(Ctx {
        ipg: vandar.ipg(),
        core: vandar.core(),
        key: sdk::api_key(),
        raw: handwritten::client(),
        raw2: handwritten::client(),
        uri: uri.clone(),
    });
    println!(
        "overhead: server pid {} at {uri}; client: tokio multi-thread, 2 workers; load {}",
        server.pid(),
        load_average()
    );
    // A future is copied whole each time it moves into the one around it: its size is a cost
    // of every call (the futures are created, measured and dropped, never polled).
    println!(
        "size of a send_payment future: SDK {} B, raw {} B",
        std::mem::size_of_val(&sdk::send_payment(&ctx.ipg, &ctx.key, 0)),
        std::mem::size_of_val(&handwritten::send_payment(&ctx.raw, &ctx.uri, 0)),
    );

    if let Some(side) = std::env::var_os("VANDAR_BENCH_PROFILE") {
        // `VANDAR_BENCH_PROFILE_OP=verify`: send + verify pairs; `=list`: 100-item pages.
        let op = match std::env::var("VANDAR_BENCH_PROFILE_OP").as_deref() {
            Ok("verify") => Op::SendVerify,
            Ok("list") => Op::ListTransactions,
            _ => Op::SendPayment,
        };
        if side == "both" {
            // Long batches of each side in turn, in one process: the per-call CPU of each
            // side once its code and data are warm.
            for _ in 0..3 {
                for side in [Side::Sdk, Side::Raw] {
                    print_profile(&format!("{side:?} "), batch(&rt, &ctx, side, op, 20_000, 1));
                }
            }
            return;
        }
        let side = if side == "raw" { Side::Raw } else { Side::Sdk };
        // A fixed number of calls (for an instruction count under callgrind: two runs with
        // different counts give the instructions of one call) or 20 s of them.
        let fixed: Option<usize> = std::env::var("VANDAR_BENCH_PROFILE_CALLS")
            .ok()
            .and_then(|n| n.parse().ok());
        let start = Instant::now();
        let mut n = 0;
        match fixed {
            Some(calls) => {
                print_profile("", batch(&rt, &ctx, side, op, calls, 1));
                n = calls;
            }
            None => {
                while start.elapsed() < Duration::from_secs(20) {
                    batch(&rt, &ctx, side, op, 1000, 1);
                    n += 1000;
                }
            }
        }
        println!("profile: {n} {side:?} {op:?} calls");
        return;
    }

    // Warm up both sides (connections, allocator, caches).
    for op in [Op::SendPayment, Op::SendVerify, Op::ListTransactions] {
        for side in [Side::Sdk, Side::Raw] {
            batch(&rt, &ctx, side, op, 200, 1);
        }
    }
    batch(&rt, &ctx, Side::Raw2, Op::SendPayment, 200, 1);
    const SDK_RAW: [Side; 2] = [Side::Sdk, Side::Raw];

    // Many short rounds: on an idle machine the scheduler moves the client and the server
    // between "same core" and "other core" every so often (about 35 vs 120 µs a call), so both
    // sides of a pair must be measured within the same few milliseconds.
    // After the SDK, the controls (see the module docs) in the same rounds: the harness's own
    // bias, then what the SDK's larger footprint alone costs.
    for (name, first, label) in [
        ("send_payment", Side::Sdk, "SDK"),
        ("A/A control, send_payment", Side::Raw2, "raw2"),
        (
            "control: + 200 lines of data per call",
            Side::Raw2With(Extra::Data),
            "raw2+data",
        ),
        (
            "control: + 480 calls of one small function per call",
            Side::Raw2With(Extra::CodeInOneLine),
            "raw2+1fn",
        ),
        (
            "control: + 480 different small functions per call",
            Side::Raw2With(Extra::CodeSpread),
            "raw2+480fn",
        ),
    ] {
        let mut s = pairs(
            &rt,
            &ctx,
            [first, Side::Raw],
            Op::SendPayment,
            scale(400),
            25,
            1,
            Duration::from_secs(60),
        );
        report_latency(name, [label, "raw"], &mut s);
    }

    let mut s = pairs(
        &rt,
        &ctx,
        SDK_RAW,
        Op::SendVerify,
        scale(300),
        15,
        1,
        Duration::from_secs(60),
    );
    report_latency("send_payment + verify_payment", ["SDK", "raw"], &mut s);

    let mut s = pairs(
        &rt,
        &ctx,
        SDK_RAW,
        Op::ListTransactions,
        scale(100),
        10,
        1,
        Duration::from_secs(60),
    );
    report_latency("list_transactions(100 items)", ["SDK", "raw"], &mut s);

    println!("throughput, send_payment (calls/s, interleaved rounds of 1920 calls per side):");
    for c in [1usize, 16, 64] {
        let mut s = pairs(
            &rt,
            &ctx,
            SDK_RAW,
            Op::SendPayment,
            scale(10),
            1920,
            c,
            Duration::from_secs(60),
        );
        let (lo, hi) = iqr(&s.tput_ratios);
        println!(
            "RESULT throughput c={c:<2} SDK {:>8.0}/s  raw {:>8.0}/s  ratio SDK/raw = {:.3} (IQR {lo:.3}..{hi:.3}; {} rounds, load {}); CPU µs/call SDK {:.1} raw {:.1}",
            median(&mut s.sdk_tput),
            median(&mut s.raw_tput),
            median(&mut s.tput_ratios),
            s.tput_ratios.len(),
            load_average(),
            median(&mut s.sdk_cpu),
            median(&mut s.raw_cpu),
        );
    }
    drop(server);
}
