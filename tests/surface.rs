//! Snapshot tests that lock each spec's surface and the JSON Schema of every generated type.
//! A change to any YAML file shows up here as a snapshot diff: read it with
//! `cargo insta review` before accepting it.

use std::collections::BTreeMap;

use vandar_tests::{generated, generated_for, specs};

#[test]
fn every_spec_is_registered() {
    for spec in specs().unwrap() {
        assert!(
            generated_for(&spec).is_some(),
            "{} has no entry in tests/support/lib.rs `generated()`",
            spec.rel_path
        );
    }
    if std::env::var("VANDAR_TEST_SPECS").is_err() {
        assert_eq!(generated().len(), specs().unwrap().len());
    }
}

#[test]
fn surface_snapshots() {
    for spec in specs().unwrap() {
        let surface = xtask::surface::surface(&spec).unwrap();
        insta::assert_json_snapshot!(format!("surface-{}", spec.name), surface);
    }
}

#[test]
fn schema_snapshots() {
    for spec in specs().unwrap() {
        let g = generated_for(&spec).unwrap();
        let mut all = BTreeMap::new();
        for name in g.schemas {
            let schema = (g.json_schema)(name).unwrap_or_else(|| panic!("no schema for {name}"));
            all.insert(name.to_string(), schema);
        }
        assert!(
            !all.is_empty(),
            "{} has no component schemas",
            spec.rel_path
        );
        insta::assert_json_snapshot!(format!("schemas-{}", spec.name), all);
    }
}

/// The generated route table agrees with the spec surface (host, method, path, auth); the
/// operations marked `x-hand-written` are in the surface but not in the generated table.
#[test]
fn routes_match_spec() {
    for spec in specs().unwrap() {
        let g = generated_for(&spec).unwrap();
        let surface = xtask::surface::surface(&spec).unwrap();
        let hand_written: Vec<String> = xtask::spec::operations(&spec)
            .into_iter()
            .filter(|o| o.hand_written)
            .map(|o| o.id.to_string())
            .collect();
        let ops: Vec<&serde_json::Value> = surface["operations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|op| {
                !hand_written
                    .iter()
                    .any(|h| op["operation_id"] == h.as_str())
            })
            .collect();
        assert_eq!(ops.len(), g.routes.len(), "{}", spec.rel_path);
        for (op, route) in ops.iter().zip(g.routes) {
            assert_eq!(op["operation_id"], route.operation_id);
            assert_eq!(op["method"], route.method);
            assert_eq!(op["host"], route.host);
            assert_eq!(op["path"], route.path);
            assert_eq!(op["idempotent"], route.idempotent);
            let auth = match route.auth {
                vandar_runtime::Auth::None => "none".to_string(),
                vandar_runtime::Auth::Bearer(n) => format!("bearer ({n})"),
                vandar_runtime::Auth::Basic(n) => format!("basic ({n})"),
            };
            assert_eq!(op["auth"], auth.as_str());
        }
    }
}

/// Stale or unreviewed snapshots fail (the `--unreferenced=reject` semantics of cargo-insta):
/// every `.snap` belongs to a current spec (surface and schema snapshots) or names a snapshot
/// its test file still asserts, and no `.snap.new` / `.pending-snap` is left behind.
#[test]
fn no_stale_or_unreviewed_snapshots() {
    if std::env::var("VANDAR_TEST_SPECS").is_ok() {
        return; // a partial spec set cannot judge staleness
    }
    let root = xtask::spec::workspace_root();
    let dir = root.join("tests/snapshots");
    let mut expected = std::collections::BTreeSet::new();
    for spec in specs().unwrap() {
        expected.insert(format!("surface__surface-{}.snap", spec.name));
        expected.insert(format!("surface__schemas-{}.snap", spec.name));
    }
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if name.ends_with(".snap.new") || name.ends_with(".pending-snap") {
            problems.push(format!("{name}: unreviewed (run `cargo insta review`)"));
            continue;
        }
        let Some(stem) = name.strip_suffix(".snap") else {
            continue;
        };
        if expected.contains(&name) {
            continue;
        }
        // `<test file>__<snapshot name>.snap`: the test file must still assert that name.
        let referenced = stem.split_once("__").is_some_and(|(file, snap)| {
            std::fs::read_to_string(root.join("tests").join(format!("{file}.rs")))
                .is_ok_and(|src| src.contains(&format!("\"{snap}\"")))
        });
        if !referenced {
            problems.push(format!(
                "{name}: no test asserts this snapshot (stale); delete it"
            ));
        }
    }
    for name in &expected {
        if !dir.join(name).exists() {
            problems.push(format!(
                "{name}: missing; run the tests and review the new snapshot"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
