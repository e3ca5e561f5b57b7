//! Every example in every spec decodes into the generated type its operation names, and the
//! decoded value encodes to a stable form (decode → encode → decode → encode is a fixed point).

use vandar_tests::{examples, generated_for, specs};

#[test]
fn every_example_round_trips() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for spec in specs().unwrap() {
        let g = generated_for(&spec).unwrap();
        for ex in examples(&spec) {
            let Some(first) = (g.roundtrip)(&ex.schema, ex.value.clone()) else {
                failures.push(format!(
                    "{}: {}: unknown schema `{}`",
                    spec.rel_path, ex.location, ex.schema
                ));
                continue;
            };
            match first {
                Err(e) => failures.push(format!(
                    "{}: {}: does not decode as `{}`: {e}",
                    spec.rel_path, ex.location, ex.schema
                )),
                Ok(encoded) => {
                    let again = (g.roundtrip)(&ex.schema, encoded.clone()).unwrap();
                    match again {
                        Ok(v) if v == encoded => checked += 1,
                        Ok(v) => failures.push(format!(
                            "{}: {}: not stable: {encoded} then {v}",
                            spec.rel_path, ex.location
                        )),
                        Err(e) => failures.push(format!(
                            "{}: {}: re-encoded form does not decode: {e}",
                            spec.rel_path, ex.location
                        )),
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        checked >= 10,
        "only {checked} examples found; the spec walker lost some"
    );
}

/// Each operation documents at least one success and one error example.
#[test]
fn ipg_operations_have_success_and_error_examples() {
    let spec = specs()
        .unwrap()
        .into_iter()
        .find(|s| s.name == "vandar-ipg")
        .unwrap();
    let exs = examples(&spec);
    for op in xtask::spec::operations(&spec) {
        let ok = exs
            .iter()
            .any(|e| e.operation_id == op.id && e.response.as_deref() == Some("200"));
        let err = exs
            .iter()
            .any(|e| e.operation_id == op.id && e.response.as_deref() == Some("4XX"));
        assert!(ok && err, "{} lacks a success or error example", op.id);
    }
}
