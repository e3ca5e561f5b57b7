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

/// OpenAPI 3.0 schema → JSON Schema: `#/components/schemas/X` becomes `#/$defs/X`, `nullable`
/// adds `null`, extensions are dropped.
fn to_json_schema(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, x) in m {
                if k.starts_with("x-") || k == "example" || k == "nullable" {
                    continue;
                }
                if k == "$ref" {
                    let r = x.as_str().unwrap_or("");
                    let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
                    out.insert(k.clone(), Value::String(format!("#/$defs/{name}")));
                } else if k == "properties" {
                    // property names are data, not keywords: keep every one
                    let props = x
                        .as_object()
                        .map(|p| {
                            p.iter()
                                .map(|(n, s)| (n.clone(), to_json_schema(s)))
                                .collect()
                        })
                        .unwrap_or_default();
                    out.insert(k.clone(), Value::Object(props));
                } else {
                    out.insert(k.clone(), to_json_schema(x));
                }
            }
            if m.get("nullable") == Some(&Value::Bool(true)) {
                let inner = Value::Object(out);
                return serde_json::json!({"anyOf": [inner, {"type": "null"}]});
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(to_json_schema).collect()),
        other => other.clone(),
    }
}

/// Every example validates against the schema the spec gives it (OpenAPI schema, not the Rust
/// type): catches examples and schemas that disagree, the Rust half of the Spectral
/// `oas3-valid-media-example` rule.
#[test]
fn every_example_validates_against_its_spec_schema() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for spec in specs().unwrap() {
        let defs = to_json_schema(&spec.raw["components"]["schemas"]);
        for ex in examples(&spec) {
            let schema = serde_json::json!({
                "$schema": "http://json-schema.org/draft-07/schema#",
                "$defs": defs,
                "$ref": format!("#/$defs/{}", ex.schema),
            });
            let validator = match jsonschema::draft7::new(&schema) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!(
                        "{}: {}: schema does not compile: {e}",
                        spec.rel_path, ex.location
                    ));
                    continue;
                }
            };
            let errors: Vec<String> = validator
                .iter_errors(&ex.value)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            if errors.is_empty() {
                checked += 1;
            } else {
                failures.push(format!(
                    "{}: {}: {}",
                    spec.rel_path,
                    ex.location,
                    errors.join("; ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 10, "only {checked} examples validated");
}
