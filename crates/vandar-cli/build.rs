//! Reads the specs (`spec/*.yaml`, a link to the workspace's `spec/`) and writes a table of
//! every operation's summary and parameters to `$OUT_DIR/spec_table.rs`, so `vandar call` can
//! check parameters before sending and `vandar ops` can show a summary, without the YAML (or a
//! YAML parser) in the binary.

use std::fmt::Write as _;
use std::path::Path;

use serde_yaml::Value;

const SPECS: [(&str, &str); 5] = [
    ("ipg", "vandar-ipg.yaml"),
    ("core", "vandar-core.yaml"),
    ("subscription", "vandar-subscription.yaml"),
    ("ravand", "vandar-ravand.yaml"),
    ("sanbod", "sanbod.yaml"),
];

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec");
    println!("cargo:rerun-if-changed=build.rs");
    pack_relocations();
    let mut out = String::from("&[\n");
    for (product, file) in SPECS {
        let path = dir.join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let spec: Value =
            serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("parse {file}: {e}"));
        let Some(paths) = spec.get("paths").and_then(Value::as_mapping) else {
            panic!("{file}: no paths");
        };
        for (_, item) in paths {
            let shared = item.get("parameters");
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let id = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| panic!("{file}: an operation without operationId"));
                let summary = op.get("summary").and_then(Value::as_str).unwrap_or("");
                let mut params = String::new();
                let mut seen: Vec<String> = Vec::new();
                // the operation's own parameters override the path item's
                for list in [op.get("parameters"), shared].into_iter().flatten() {
                    for p in list.as_sequence().into_iter().flatten() {
                        let p = resolve(&spec, p);
                        let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
                        let location = p.get("in").and_then(Value::as_str).unwrap_or_default();
                        if seen.iter().any(|s| s == name) || location == "header" {
                            continue;
                        }
                        seen.push(name.to_owned());
                        let schema = p.get("schema").map(|s| resolve(&spec, s));
                        let get = |k: &str| schema.and_then(|s| s.get(k));
                        let kind = get("type").and_then(Value::as_str).unwrap_or("string");
                        let enums: Vec<String> = get("enum")
                            .and_then(Value::as_sequence)
                            .map(|v| {
                                v.iter()
                                    .filter_map(|e| match e {
                                        Value::String(s) => Some(s.clone()),
                                        Value::Number(n) => Some(n.to_string()),
                                        Value::Bool(b) => Some(b.to_string()),
                                        _ => None,
                                    })
                                    .collect()
                            })
                            .unwrap_or_default();
                        let int = |k: &str| get(k).and_then(Value::as_i64);
                        let required = p.get("required").and_then(Value::as_bool).unwrap_or(false)
                            || location == "path";
                        let auto = p.get("x-auto-value").is_some();
                        write!(
                            params,
                            "ParamSpec {{ name: {name:?}, location: {location:?}, required: {}, kind: {kind:?}, enum_values: &{enums:?}, minimum: {:?}, maximum: {:?}, min_length: {:?} }}, ",
                            required && !auto,
                            int("minimum"),
                            int("maximum"),
                            get("minLength").and_then(Value::as_u64).map(|n| n as usize),
                        )
                        .unwrap();
                    }
                }
                writeln!(
                    out,
                    "OpSpec {{ product: {product:?}, operation_id: {id:?}, summary: {summary:?}, params: &[{params}] }},"
                )
                .unwrap();
            }
        }
    }
    out.push(']');
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("spec_table.rs");
    std::fs::write(dest, out).expect("write spec_table.rs");
}

/// Follow a local `$ref` (`#/components/...`) once or more.
fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    let mut v = v;
    while let Some(r) = v.get("$ref").and_then(Value::as_str) {
        let Some(path) = r.strip_prefix("#/") else {
            return v;
        };
        let mut at = spec;
        for seg in path.split('/') {
            match at.get(seg) {
                Some(next) => at = next,
                None => return v,
            }
        }
        v = at;
    }
    v
}

/// A smaller binary (issue 23): on Linux with glibc, the position-independent executable's
/// relative relocations (one 24-byte entry per pointer in static data: vtables, panic
/// locations, string tables; about 1.3 MB here) are packed into a DT_RELR bitmap, which keeps
/// the address randomization of PIE. GNU ld (2.38 and later) and lld (15 and later) know the
/// option and only pack when the C library being linked supports it (glibc 2.36 and later);
/// an older GNU ld warns that it ignores an unknown `-z` option and links as before.
fn pack_relocations() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
