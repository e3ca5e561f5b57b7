//! The operation counts written in the docs come from the specs: this test counts them per
//! spec and fails when the README or a crate's docs say otherwise (issue 23: "68 operations"
//! had drifted from the README's 82).
//!
//! An operation is from the upstream lists (a "seed") when its `x-covers` names an id of
//! `docs/reference/INDEX.md` or `sanbod-appendix.md`; the others are the extras of
//! `docs/reference/extras.md` (documented by independent sources). Detail levels are the
//! operations' own `x-detail-level`.

use serde_json::Value;
use vandar_tests::spec;

/// Counts of one spec.
#[derive(Debug, Default)]
struct Counts {
    total: usize,
    seeds: usize,
    extras: usize,
    /// Detail levels of the seed operations.
    full: usize,
    partial: usize,
    path_only: usize,
}

fn counts(name: &str) -> Counts {
    let spec = spec(name);
    let mut c = Counts::default();
    for op in xtask::spec::operations(&spec) {
        c.total += 1;
        let covers = op.raw.get("x-covers").and_then(Value::as_array);
        let seed = covers.is_some_and(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .any(|id| !id.starts_with('X'))
        });
        if !seed {
            c.extras += 1;
            continue;
        }
        c.seeds += 1;
        match op.raw.get("x-detail-level").and_then(Value::as_str) {
            Some("full") => c.full += 1,
            Some("partial") => c.partial += 1,
            Some("path-only") => c.path_only += 1,
            _ => {}
        }
    }
    c
}

/// A file of this checkout (relative to the workspace root, one level above this package).
fn read(rel: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn assert_says(file: &str, text: &str, phrase: &str) {
    assert!(
        text.contains(phrase),
        "{file} must say \"{phrase}\" (counted from the spec); fix the text, not the number"
    );
}

#[test]
fn readme_and_crate_docs_count_the_operations_of_the_specs() {
    let readme = read("README.md");
    let core = counts("vandar-core");
    assert_eq!(
        core.seeds,
        core.full + core.partial + core.path_only,
        "{core:?}: a seed operation without x-detail-level"
    );
    assert_says(
        "README.md",
        &readme,
        &format!(
            "{} operations: the {} of the upstream lists, {} typed, {} partly documented, {} path-only, plus {} documented by independent sources",
            core.total, core.seeds, core.full, core.partial, core.path_only, core.extras
        ),
    );
    let core_lib = read("crates/vandar-core/src/lib.rs");
    assert_says(
        "crates/vandar-core/src/lib.rs",
        &core_lib,
        &format!(
            "{} operations ({} of the upstream lists, {} documented by independent sources)",
            core.total, core.seeds, core.extras
        ),
    );

    let sanbod = counts("sanbod");
    assert_says(
        "README.md",
        &readme,
        &format!(
            "{} operations: the {} of the upstream lists",
            sanbod.total, sanbod.seeds
        ),
    );
    assert_says(
        "README.md",
        &readme,
        &format!("plus {} from independent sources", sanbod.extras),
    );

    // The products without extras: every operation is from the upstream lists.
    for name in ["vandar-ipg", "vandar-subscription", "vandar-ravand"] {
        let c = counts(name);
        assert!(c.total > 0, "{name}: no operations");
        assert_eq!(c.total, c.seeds + c.extras, "{name}");
    }
}
