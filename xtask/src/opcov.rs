//! `cargo xtask opcov DIR`: every operation of every spec must have been answered at least once
//! with a success (2xx/3xx) and once with an error (4xx/5xx) during the test run that wrote
//! `DIR` (the runtime's `test-util` feature records each answered call there when
//! `VANDAR_OPCOV_DIR` is set).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::spec;

#[derive(Default, Clone, Copy)]
struct Seen {
    success: bool,
    error: bool,
}

/// Read the records in `dir` and check them against the specs under `root`.
pub fn run(root: &Path, dir: &Path) -> Result<()> {
    let mut seen: BTreeMap<(String, String, String), Seen> = BTreeMap::new();
    let mut lines = 0usize;
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        for line in text.lines() {
            let parts: Vec<&str> = line.split(' ').collect();
            let [op, method, path, status] = parts[..] else {
                continue;
            };
            let Ok(status) = status.parse::<u16>() else {
                continue;
            };
            lines += 1;
            let s = seen
                .entry((op.to_string(), method.to_string(), path.to_string()))
                .or_default();
            if (200..400).contains(&status) {
                s.success = true;
            } else if status >= 400 {
                s.error = true;
            }
        }
    }
    let mut total = 0;
    let mut missing = Vec::new();
    for s in spec::discover(root)? {
        for op in spec::operations(&s) {
            total += 1;
            let key = (op.id.to_string(), op.method.clone(), op.path.to_string());
            let got = seen.get(&key).copied().unwrap_or_default();
            let mut lacks = Vec::new();
            if !got.success {
                lacks.push("success");
            }
            if !got.error {
                lacks.push("error");
            }
            if !lacks.is_empty() {
                missing.push(format!(
                    "{}: {} ({} {}): no mock-server test answered it with {}",
                    s.rel_path,
                    op.id,
                    op.method,
                    op.path,
                    lacks.join(" or ")
                ));
            }
        }
    }
    for m in &missing {
        eprintln!("opcov: {m}");
    }
    println!(
        "operation coverage: {} of {total} operations exercised with a success and an error ({lines} answered calls recorded)",
        total - missing.len()
    );
    if !missing.is_empty() {
        bail!(
            "{} operation(s) lack a success or an error test",
            missing.len()
        );
    }
    Ok(())
}
