//! The README's "Try it with no account" path is two commands: `cargo run -p vandar-sandbox`,
//! then `cargo run -p vandar --example checkout_axum --features ipg,sandbox`. Cargo builds a
//! dependency again in the second command whenever its features there differ from the first
//! (and so does everything that depends on it: jsonschema, hyper, tokio ... were built twice,
//! about 20 s of a cold 2-core build). `vandar-sandbox` therefore asks for the features the
//! facade's graph turns on anyway; this test fails, naming the package, when a dependency
//! change makes the two graphs differ again (issue 23, the build-cost figure).
//!
//! It runs `cargo tree` offline on the committed lockfile (no build, no network).

use std::collections::BTreeMap;
use std::process::Command;

/// `package version` → its enabled features, for one `cargo tree` graph.
fn graph(args: &[&str]) -> BTreeMap<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let out = Command::new(cargo)
        .current_dir(root)
        .args([
            "tree",
            "--locked",
            "--offline",
            "--prefix",
            "none",
            "-f",
            "{p}|{f}",
        ])
        .args(args)
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .filter_map(|l| {
            let (p, f) = l.split_once('|')?;
            // `name v1.2.3 (/path) (*)` → `name v1.2.3`
            let p: Vec<&str> = p.split_whitespace().take(2).collect();
            Some((p.join(" "), f.trim_end_matches(" (*)").trim().to_owned()))
        })
        .collect()
}

#[test]
fn the_try_it_commands_build_each_dependency_once() {
    let sandbox = graph(&["-p", "vandar-sandbox", "-e", "normal,build"]);
    let example = graph(&[
        "-p",
        "vandar",
        "--features",
        "ipg,sandbox",
        "-e",
        "normal,build,dev",
    ]);
    assert!(
        sandbox.len() > 50 && sandbox.keys().any(|p| p.starts_with("jsonschema ")),
        "the sandbox's graph looks wrong: {} packages",
        sandbox.len()
    );
    let differ: Vec<String> = sandbox
        .iter()
        .filter_map(|(p, f)| {
            let g = example.get(p)?;
            (g != f).then(|| format!("{p}: sandbox [{f}] vs example [{g}]"))
        })
        .collect();
    assert!(
        differ.is_empty(),
        "these dependencies would be built twice on the README's try-it path; add the \
         example's features to crates/vandar-sandbox/Cargo.toml:\n{}",
        differ.join("\n")
    );
}
