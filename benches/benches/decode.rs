//! Item 4: decoding a 100-item statement page (`list_transactions`) into the generated types
//! vs plain serde_json into an equivalent hand-written struct. Target: generated throughput
//! ≥ 0.9 × hand-written (time ratio hand-written / generated ≥ 0.9).
//!
//! `cargo bench -p vandar-benches --bench decode` prints divan's table, then an interleaved
//! paired run (the number quoted in BENCHMARKS.md).

use std::hint::black_box;
use std::time::Duration;

use vandar_benches::fixtures::{PAGE_ITEMS, transaction_page};
use vandar_benches::handwritten;
use vandar_benches::stats::{load_average, paired_sync};

type Generated = vandar::core::types::TransactionPage;

fn page() -> &'static [u8] {
    static PAGE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    PAGE.get_or_init(|| transaction_page(PAGE_ITEMS))
}

/// The generated `TransactionPage` (typed money, ids, Jalali dates, card hash, lenient flags).
#[divan::bench]
fn generated(b: divan::Bencher) {
    let bytes = page();
    b.counter(divan::counter::BytesCount::new(bytes.len()))
        .bench(|| serde_json::from_slice::<Generated>(black_box(bytes)).unwrap());
}

/// Plain serde structs with `i64` / `String` / `Option` fields.
#[divan::bench]
fn handwritten(b: divan::Bencher) {
    let bytes = page();
    b.counter(divan::counter::BytesCount::new(bytes.len()))
        .bench(|| {
            serde_json::from_slice::<handwritten::TransactionPage>(black_box(bytes)).unwrap()
        });
}

/// Reference, how it was before: `data` as the `#[serde(untagged)]` enum that typify generates
/// for the spec's `oneOf: [list, item]` without an `x-rust-type`. serde first copies the whole
/// list into its internal buffer, then decodes the copy. The SDK now uses
/// `vandar_runtime::domain::OneOrMany`, which decides on the first token.
mod before {
    use serde::Deserialize;

    /// What typify generated for `TransactionPage.data`.
    #[derive(Deserialize)]
    #[serde(untagged)]
    #[allow(dead_code, clippy::large_enum_variant)]
    pub enum Data {
        Array(Vec<vandar::core::types::Transaction>),
        Transaction(vandar::core::types::Transaction),
    }

    /// The generated `TransactionPage` as it was.
    #[derive(Deserialize)]
    #[allow(dead_code)]
    pub struct Page {
        pub status: Option<vandar::domain::LenientInt>,
        pub has_more: Option<vandar::domain::LenientBool>,
        pub data: Option<Data>,
    }
}

/// Reference: the page through the untagged union the generator used to emit.
#[divan::bench]
fn generated_before_untagged(b: divan::Bencher) {
    let bytes = page();
    b.counter(divan::counter::BytesCount::new(bytes.len()))
        .bench(|| serde_json::from_slice::<before::Page>(black_box(bytes)).unwrap());
}

/// Breakdown: one statement date (`created_at`) as the generated `ApiDateTime`.
#[divan::bench]
fn field_api_datetime() -> vandar::domain::ApiDateTime {
    serde_json::from_str(black_box("\"17:46:57 - 1401/3/7\"")).unwrap()
}

/// Breakdown: one PSP log date as the generated `ApiDateTime`.
#[divan::bench]
fn field_api_datetime_log() -> vandar::domain::ApiDateTime {
    serde_json::from_str(black_box("\"1401-03-07 18:20:48\"")).unwrap()
}

/// Breakdown: the same date as a plain `String`.
#[divan::bench]
fn field_string() -> String {
    serde_json::from_str(black_box("\"17:46:57 - 1401/3/7\"")).unwrap()
}

/// Breakdown: one amount as the generated `Toman`.
#[divan::bench]
fn field_toman() -> vandar::domain::Toman {
    serde_json::from_str(black_box("1650000")).unwrap()
}

/// Breakdown: one card hash as the generated `CardHash`.
#[divan::bench]
fn field_card_hash() -> vandar::domain::CardHash {
    serde_json::from_str(black_box(
        "\"9e3779b97f4a7c15f39cc0605cedc8359e3779b97f4a7c15f39cc0605cedc835\"",
    ))
    .unwrap()
}

/// Reference: skimming the page without building anything (`serde::de::IgnoredAny`), the cost
/// of the runtime's 2xx failure check (`status: 0` / `error: true` at the top level).
#[divan::bench]
fn skim(b: divan::Bencher) {
    let bytes = page();
    b.counter(divan::counter::BytesCount::new(bytes.len()))
        .bench(|| serde_json::from_slice::<serde::de::IgnoredAny>(black_box(bytes)).unwrap());
}

/// Reference: the same bytes into an untyped `serde_json::Value`.
#[divan::bench]
fn value(b: divan::Bencher) {
    let bytes = page();
    b.counter(divan::counter::BytesCount::new(bytes.len()))
        .bench(|| serde_json::from_slice::<serde_json::Value>(black_box(bytes)).unwrap());
}

fn main() {
    divan::Divan::default()
        .min_time(Duration::from_millis(500))
        .max_time(Duration::from_secs(3))
        .config_with_args()
        .main();

    // Interleaved pairs: 40 rounds of 200 decodes each side, at most 30 s. Skipped when a
    // benchmark filter is given (`-- generated`), e.g. to profile one benchmark.
    if std::env::args().skip(1).any(|a| !a.starts_with('-')) {
        return;
    }
    let bytes = page();
    let p = paired_sync(
        40,
        200,
        Duration::from_secs(30),
        || {
            black_box(
                serde_json::from_slice::<handwritten::TransactionPage>(black_box(bytes)).unwrap(),
            );
        },
        || {
            black_box(serde_json::from_slice::<Generated>(black_box(bytes)).unwrap());
        },
    );
    let (lo, hi) = p.ratio_iqr();
    println!();
    println!(
        "decode pairs ({} rounds, {} bytes, load {}): hand-written median {:.1} µs, generated median {:.1} µs",
        p.ratios.len(),
        bytes.len(),
        load_average(),
        p.median_a() / 1e3,
        p.median_b() / 1e3,
    );
    println!(
        "RESULT decode throughput ratio generated/hand-written = {:.3} (IQR {:.3}..{:.3}; target >= 0.9)",
        p.ratio(),
        lo,
        hi
    );

    // The same pairs with `data` as the untagged union the generator used to emit (before).
    let q = paired_sync(
        40,
        200,
        Duration::from_secs(30),
        || {
            black_box(
                serde_json::from_slice::<handwritten::TransactionPage>(black_box(bytes)).unwrap(),
            );
        },
        || {
            black_box(serde_json::from_slice::<before::Page>(black_box(bytes)).unwrap());
        },
    );
    let (lo, hi) = q.ratio_iqr();
    println!(
        "RESULT decode throughput ratio before (untagged data)/hand-written = {:.3} (IQR {:.3}..{:.3}; median {:.1} µs)",
        q.ratio(),
        lo,
        hi,
        q.median_b() / 1e3
    );
}
