//! `cargo xtask gen` and `cargo xtask check`; see the library docs.
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use xtask::{generate, lint, spec, time_arith};

const USAGE: &str = "usage: cargo xtask <gen|check> [SPEC...]
  gen    lint spec/*.yaml and write crates/<spec>/src/generated.rs
  check  lint, regenerate in memory, fail on any drift (prints a diff); refuse time
         arithmetic that panics on a large number in crates/*/src (xtask/src/time_arith.rs)
  SPEC   limit to these specs by file stem (e.g. vandar-ipg); default: all
       cargo xtask coverage [REFERENCE_DIR]
  coverage  every endpoint of the fact sheets (default docs/reference) against
            the specs: typed / undocumented / browser page / hand-written / missing
       cargo xtask opcov DIR
  opcov     every operation was answered with a success and an error in the test run
            that recorded to DIR (VANDAR_OPCOV_DIR=DIR cargo test --workspace)";

fn main() -> ExitCode {
    let cmd = std::env::args().nth(1).unwrap_or_default();
    let only: Vec<String> = std::env::args().skip(2).collect();
    let result = match cmd.as_str() {
        "gen" => run(Mode::Gen, &only),
        "check" => run(Mode::Check, &only),
        "opcov" => match only.first() {
            Some(dir) => xtask::opcov::run(&spec::workspace_root(), std::path::Path::new(dir)),
            None => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        },
        "coverage" => xtask::coverage::run(
            &spec::workspace_root(),
            only.first().map(std::path::Path::new),
        ),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[derive(PartialEq)]
enum Mode {
    Gen,
    Check,
}

fn run(mode: Mode, only: &[String]) -> Result<()> {
    let started = Instant::now();
    let root = spec::workspace_root();
    if mode == Mode::Check {
        let found = time_arith::check(&root)?;
        if !found.is_empty() {
            for f in &found {
                eprintln!("time: {f}");
            }
            bail!(
                "{} time operation(s) that panic on a large number; use vandar_runtime::timeouts::{{system_after, instant_after, unix_secs}}, checked_add/saturating_add or Duration::try_from_secs_f64 (xtask/src/time_arith.rs)",
                found.len()
            );
        }
    }
    let mut paths = spec::spec_paths(&root)?;
    if !only.is_empty() {
        let stem = |p: &std::path::PathBuf| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_owned()
        };
        for name in only {
            if !paths.iter().any(|p| &stem(p) == name) {
                bail!("no spec/{name}.yaml");
            }
        }
        paths.retain(|p| only.contains(&stem(p)));
    }
    // `gen` skips a spec whose generated file records the same input hash and was not edited
    // (neither parsed, linted nor generated); `check` always does everything.
    let mut unchanged = Vec::new();
    let mut specs = Vec::new();
    for path in &paths {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        if mode == Mode::Gen
            && let Some((out, rel_path)) = spec::generated_path_of(&root, path)
            && generate::is_current(
                &rel_path,
                &bytes,
                &std::fs::read_to_string(&out).unwrap_or_default(),
            )
        {
            unchanged.push(rel(&root, &out));
            continue;
        }
        let shown = path.display().to_string();
        let mut clock = generate::StageClock::new(&shown);
        specs.push((spec::load(&root, path)?, bytes));
        clock.stage("load");
    }

    let mut violations = Vec::new();
    for (s, _) in &specs {
        let mut clock = generate::StageClock::new(&s.rel_path);
        let linted = lint::lint(s);
        clock.stage("lint");
        if let Err(v) = linted {
            violations.extend(v);
        }
    }
    if !violations.is_empty() {
        for v in &violations {
            eprintln!("lint: {v}");
        }
        bail!(
            "{} spec lint violation(s); see the rules in CONTRIBUTING.md",
            violations.len()
        );
    }

    let mut drifted = Vec::new();
    for name in &unchanged {
        println!("unchanged {name}");
    }
    for (s, spec_bytes) in &specs {
        let crate_dir = s.crate_dir(&root);
        if !crate_dir.join("Cargo.toml").exists() {
            bail!(
                "{} has no crate: create {}/Cargo.toml and src/lib.rs (`#[rustfmt::skip] mod generated;`)",
                s.rel_path,
                crate_dir.display()
            );
        }
        let out = s.generated_path(&root);
        let current = std::fs::read_to_string(&out).unwrap_or_default();
        let text = generate::generate(s, spec_bytes)?;
        match mode {
            Mode::Gen => {
                if current != text {
                    std::fs::write(&out, &text)
                        .with_context(|| format!("writing {}", out.display()))?;
                    println!(
                        "wrote {} ({} lines)",
                        rel(&root, &out),
                        text.lines().count()
                    );
                } else {
                    println!("unchanged {}", rel(&root, &out));
                }
            }
            Mode::Check => {
                if current != text {
                    print_diff(&rel(&root, &out), &current, &text);
                    drifted.push(rel(&root, &out));
                }
            }
        }
    }
    if !drifted.is_empty() {
        bail!(
            "generated code differs from the specs in: {} (run `cargo xtask gen`; never edit generated.rs by hand)",
            drifted.join(", ")
        );
    }
    println!(
        "{} {} spec(s) in {:.2?}",
        if mode == Mode::Gen {
            "generated"
        } else {
            "checked"
        },
        paths.len(),
        started.elapsed()
    );
    Ok(())
}

fn rel(root: &std::path::Path, p: &std::path::Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

fn print_diff(name: &str, old: &str, new: &str) {
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("{name} (on disk)"), &format!("{name} (from spec)"))
        .to_string();
    const MAX: usize = 200;
    let lines: Vec<&str> = text.lines().collect();
    for l in lines.iter().take(MAX) {
        eprintln!("{l}");
    }
    if lines.len() > MAX {
        eprintln!("... {} more diff lines", lines.len() - MAX);
    }
}
