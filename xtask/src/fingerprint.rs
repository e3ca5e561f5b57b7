//! What a generated file was made from, recorded in its header so that `cargo xtask gen` can
//! skip a spec whose input did not change.
//!
//! * **input**: SHA-256 of the generator's own output-shaping sources (`generate.rs`,
//!   `rewrite.rs`, `ergonomic.rs`, `redact_debug.rs`, `checks.rs`, `spec.rs`, `spacing.rs`, and `lint.rs`, since an unchanged spec is not linted again), the locked versions of progenitor, typify, syn and prettyplease,
//!   and the spec's bytes. Any change to one of them regenerates the file.
//! * **output**: SHA-256 of the file's text after the header, so a hand edit is noticed and
//!   undone by `gen` without regenerating.
//!
//! `cargo xtask check` does not trust the header: it always regenerates in memory and compares
//! the whole text (header included), so any drift fails CI.

use sha2::{Digest, Sha256};

/// The sources whose text shapes the generated output.
const SOURCES: &[&str] = &[
    include_str!("checks.rs"),
    include_str!("generate.rs"),
    include_str!("rewrite.rs"),
    include_str!("ergonomic.rs"),
    include_str!("redact_debug.rs"),
    include_str!("spec.rs"),
    include_str!("spacing.rs"),
    // `gen` skips the lint of an unchanged spec too
    include_str!("lint.rs"),
];

/// The lock file, for the versions of the code generators (only their entries are hashed).
const LOCK: &str = include_str!("../../Cargo.lock");

/// Packages whose version changes the generated text.
const GENERATORS: &[&str] = &[
    "progenitor-impl",
    "typify-impl",
    "syn",
    "prettyplease",
    "openapiv3",
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `[[package]]` entries of [`GENERATORS`] in the lock file (name and version lines).
fn generator_versions() -> String {
    let mut out = String::new();
    let mut lines = LOCK.lines();
    while let Some(line) = lines.next() {
        let Some(name) = line
            .strip_prefix("name = \"")
            .and_then(|l| l.strip_suffix('"'))
        else {
            continue;
        };
        if GENERATORS.contains(&name)
            && let Some(version) = lines.next()
        {
            out.push_str(name);
            out.push(' ');
            out.push_str(version);
            out.push('\n');
        }
    }
    out
}

/// The input hash of a spec (see the module docs).
pub fn input(spec_bytes: &[u8]) -> String {
    let mut h = Sha256::new();
    for s in SOURCES {
        h.update((s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    }
    h.update(generator_versions().as_bytes());
    h.update(spec_bytes);
    hex(&h.finalize()[..16])
}

/// The output hash of a generated file's text after its header.
pub fn output(body: &str) -> String {
    hex(&Sha256::digest(body.as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_depends_on_the_spec_and_the_generator_versions() {
        assert_ne!(input(b"a"), input(b"b"));
        assert_eq!(input(b"a"), input(b"a"));
        let v = generator_versions();
        assert!(v.contains("progenitor-impl version"), "{v}");
        assert_eq!(output("x").len(), 32);
    }
}
