//! `vandar-domain` has no HTTP dependency: `cargo tree` (offline, from `Cargo.lock`) lists its
//! normal dependencies, with every feature, and none of them may be an HTTP client, server,
//! TLS stack or async runtime. A project that only validates an IBAN or a Jalali date gets
//! none of them by depending on this crate.

use std::path::Path;
use std::process::Command;

/// Crates that mean "HTTP, TLS or an async runtime" came in.
const FORBIDDEN: &[&str] = &[
    "reqwest",
    "hyper",
    "hyper-util",
    "http",
    "http-body",
    "h2",
    "tokio",
    "mio",
    "socket2",
    "rustls",
    "native-tls",
    "openssl",
    "progenitor-client",
];

#[test]
fn the_domain_types_pull_in_no_http_dependency() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "--locked",
            "--all-features",
            "-e",
            "normal",
        ])
        .args(["--prefix", "none", "--format", "{p}", "--manifest-path"])
        .arg(&manifest)
        .output()
        .expect("cargo runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names: Vec<&str> = text
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    // The tree really is this crate's: it starts with it and holds its known dependencies.
    assert_eq!(names.first(), Some(&"vandar-domain"), "{text}");
    for expected in [
        "serde",
        "schemars",
        "chrono",
        "icu_calendar",
        "iban_validate",
    ] {
        assert!(
            names.contains(&expected),
            "`{expected}` missing from:\n{text}"
        );
    }
    let found: Vec<&str> = FORBIDDEN
        .iter()
        .copied()
        .filter(|f| names.contains(f))
        .collect();
    assert!(
        found.is_empty(),
        "vandar-domain depends on {found:?} (HTTP, TLS or an async runtime):\n{text}"
    );
}
