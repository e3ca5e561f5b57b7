//! Item 1, in process: what `cargo xtask gen` does for every spec (parse the YAML, lint, run
//! progenitor, format), without cargo's start-up and without writing files. The end-to-end
//! command (target ≤ 1 s warm) is timed by `benches/scripts/gen.sh`; this bench shows where
//! the time goes, per spec. Note: benches build with the release profile, `cargo xtask` with
//! the dev profile, so the script's number is the one that counts.

use std::hint::black_box;
use std::time::{Duration, Instant};

use xtask::{generate, lint, spec};

/// Parse, lint and generate every spec.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn all_specs() {
    let root = spec::workspace_root();
    for s in spec::discover(&root).unwrap() {
        lint::lint(&s).ok();
        black_box(generate::generate(&s, b"").unwrap());
    }
}

fn main() {
    divan::Divan::default()
        .max_time(Duration::from_secs(20))
        .config_with_args()
        .main();

    // Where the time goes, per spec (median of 5).
    let root = spec::workspace_root();
    let specs = spec::discover(&root).unwrap();
    println!();
    println!("per spec (release build, median of 5): parse+lint | generate | lines");
    for s in &specs {
        let mut parse = Vec::new();
        let mut gen_times = Vec::new();
        let mut lines = 0;
        for _ in 0..5 {
            let t = Instant::now();
            let again = spec::load(&root, &root.join(&s.rel_path)).unwrap();
            lint::lint(&again).ok();
            parse.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            let text = generate::generate(&again, b"").unwrap();
            gen_times.push(t.elapsed().as_secs_f64() * 1e3);
            lines = text.lines().count();
        }
        println!(
            "  {:<24} {:>7.1} ms | {:>7.1} ms | {lines}",
            s.name,
            vandar_benches::stats::median(&mut parse),
            vandar_benches::stats::median(&mut gen_times)
        );
    }
}
