//! `cargo bench -p vandar-cli --bench reconcile [-- N] [wide]`: `vandar reconcile` (the release
//! binary) against a sandbox on 127.0.0.1 seeded with N statement lines (default 100,000; 90%
//! IPG payments with factor numbers, one every 30 s up to now), and an orders CSV of the N×0.9
//! payments plus 1% unknown orders and 1% wrong amounts, each order dated on its payment's
//! Tehran day. The period is the one the lines cover, a day more at each end (a month-end run's
//! shape: 100,000 lines span 35 days); with `wide` it is 2020-01-01 to 2099-12-31, as in the
//! first figures (all lines then fall in one of reconcile's day windows). Prints orders/s
//! (orders ÷ wall time of the whole command, fetching the Vandar side included) and the peak
//! RSS (from `/usr/bin/time`, when present).

use std::io::Write as _;
use std::process::Command;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_vandar");

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let wide = std::env::args().skip(1).any(|a| a == "wide");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sb = rt.block_on(async {
        vandar_sandbox::Sandbox::builder()
            .rate_limit(false)
            .start()
            .await
            .expect("sandbox")
    });
    rt.block_on(sb.seed_transactions(n)).expect("seeded");
    // the sandbox dates line i at now - (n - 1 - i) × 30 s; Tehran is UTC+03:30
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64;
    let tehran_day = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms + 3 * 3_600_000 + 1_800_000)
            .expect("a date")
            .date_naive()
    };
    let line_day = |i: usize| tehran_day(now_ms - (n - 1 - i) as i64 * 30_000);
    let dir = tempfile::tempdir().expect("tmp");
    let c = sb.credentials();
    let secrets = dir.path().join("secrets.json");
    std::fs::write(
        &secrets,
        serde_json::json!({"access_token": c.access_token, "refresh_token": c.refresh_token})
            .to_string(),
    )
    .expect("secrets");
    set_private(&secrets);
    // the orders: every seeded payment (the sandbox's formula), 1% with a wrong amount, and 1%
    // more orders Vandar never saw
    let orders = dir.path().join("orders.csv");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&orders).expect("orders"));
    writeln!(w, "factor_number,amount,date").expect("write");
    let mut count = 0u64;
    for i in 0..n {
        if i % 10 == 9 {
            continue; // a refund line, not an order
        }
        let toman = 1_000 + (i as i64 * 7_919) % 99_000;
        let amount = if i % 100 == 0 { toman + 1 } else { toman };
        let day = line_day(i);
        writeln!(w, "SEED-{i},{amount},{day}").expect("write");
        count += 1;
        if i % 100 == 1 {
            writeln!(w, "LOST-{i},{toman},{day}").expect("write");
            count += 1;
        }
    }
    drop(w);
    let timer = std::path::Path::new("/usr/bin/time").exists();
    let mut cmd = if timer {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "peak_rss_kb=%M"]).arg(BIN);
        c
    } else {
        Command::new(BIN)
    };
    cmd.env_clear()
        .env("HOME", dir.path())
        .args([
            "--base-url",
            sb.base_url(),
            "--business",
            "sandbox",
            "--no-rate-limit",
        ])
        .arg("--secrets-file")
        .arg(&secrets)
        .args(["reconcile", "--format", "csv"]);
    let (from, to) = if wide {
        ("2020-01-01".to_owned(), "2099-12-31".to_owned())
    } else {
        let first = line_day(0).pred_opt().expect("a day");
        let last = tehran_day(now_ms).succ_opt().expect("a day");
        (first.to_string(), last.to_string())
    };
    cmd.args(["--from", &from, "--to", &to])
        .arg("--orders")
        .arg(&orders)
        .arg("--output")
        .arg(dir.path().join("report.csv"));
    let start = Instant::now();
    let out = cmd.output().expect("runs");
    let secs = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(6),
        "differences were seeded: {stderr}"
    );
    let rss = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_kb="))
        .unwrap_or("n/a");
    println!(
        "reconcile {from}..{to}: {count} orders against {} Vandar IPG lines in {secs:.2} s = {:.0} orders/s; peak RSS {rss} KiB",
        n - n / 10,
        count as f64 / secs
    );
    let summary = stderr
        .lines()
        .find(|l| l.starts_with("reconciled"))
        .unwrap_or("");
    println!("{summary}");
    // exactly the seeded differences, whatever the speed
    let seeded = n.div_ceil(100);
    for kind in [
        format!("amount_mismatch {seeded}"),
        format!("missing_at_vandar {}", (n + 98) / 100),
        "unknown_to_shop 0".to_owned(),
        "duplicate_order 0".to_owned(),
        "duplicate_at_vandar 0".to_owned(),
    ] {
        // the counts are joined by ", ": the separator makes `1000` not match `10000`
        assert!(
            format!("{summary}, ").contains(&format!(" {kind}, ")),
            "{kind}: {summary}"
        );
    }
    rt.block_on(sb.shutdown());
}

#[cfg(unix)]
fn set_private(p: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

#[cfg(not(unix))]
fn set_private(_: &std::path::Path) {}
