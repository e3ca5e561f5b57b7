//! Decoding robustness: for every response schema of every spec, bodies generated from the JSON
//! Schema of its Rust type, and mutations of them (missing fields, wrong types, truncation, huge
//! numbers, non-JSON, empty, deep nesting), go through the exact decoding path of the generated
//! client (`serde_json::from_slice::<T>`) and through the error-body decoder. Never a panic, only
//! errors.
//!
//! Deterministic (fixed seed). `VANDAR_DECODE_CASES` sets the total number of cases (default
//! 2,000 for CI); the long run is
//! `VANDAR_DECODE_CASES=20000 cargo test --release -p vandar-tests --test decode_robustness`.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde_json::{Map, Value, json};
use vandar_tests::{generated_for, specs};

/// Direct response schemas (success and error) of a spec.
fn response_schemas(spec: &vandar_tests::SpecFile) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for op in xtask::spec::operations(spec) {
        if let Some(rs) = op.raw["responses"].as_object() {
            for r in rs.values() {
                for m in r["content"].as_object().into_iter().flatten() {
                    if let Some(n) = m.1["schema"]["$ref"]
                        .as_str()
                        .and_then(xtask::spec::ref_name)
                    {
                        out.insert(n.to_string());
                    }
                }
            }
        }
    }
    out
}

struct Gen {
    rng: fastrand::Rng,
}

impl Gen {
    fn resolve<'a>(&self, root: &'a Value, s: &'a Value) -> &'a Value {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap_or("");
                root["$defs"].get(name).unwrap_or(&Value::Bool(true))
            }
            None => s,
        }
    }

    /// A value that follows the schema where the schema is simple enough to follow.
    fn conforming(&mut self, root: &Value, s: &Value, depth: u32) -> Value {
        let s = self.resolve(root, s);
        if depth > 6 {
            return Value::Null;
        }
        if let Some(values) = s.get("enum").and_then(Value::as_array)
            && !values.is_empty()
        {
            return values[self.rng.usize(..values.len())].clone();
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(list) = s.get(key).and_then(Value::as_array)
                && !list.is_empty()
            {
                let pick = &list[self.rng.usize(..list.len())];
                return self.conforming(root, pick, depth + 1);
            }
        }
        if let Some(examples) = s.get("examples").and_then(Value::as_array)
            && !examples.is_empty()
            && self.rng.bool()
        {
            return examples[self.rng.usize(..examples.len())].clone();
        }
        let ty = match s.get("type") {
            Some(Value::String(t)) => t.clone(),
            Some(Value::Array(ts)) if !ts.is_empty() => ts[self.rng.usize(..ts.len())]
                .as_str()
                .unwrap_or("null")
                .to_string(),
            _ if s.get("properties").is_some() => "object".into(),
            _ => return self.any(depth),
        };
        match ty.as_str() {
            "object" => {
                let required: BTreeSet<&str> = s["required"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let mut m = Map::new();
                for (k, p) in s["properties"].as_object().into_iter().flatten() {
                    if required.contains(k.as_str()) || self.rng.u8(..4) != 0 {
                        let v = self.conforming(root, p, depth + 1);
                        m.insert(k.clone(), v);
                    }
                }
                Value::Object(m)
            }
            "array" => {
                let n = self.rng.usize(..4);
                let items = s.get("items").cloned().unwrap_or(Value::Bool(true));
                Value::Array(
                    (0..n)
                        .map(|_| self.conforming(root, &items, depth + 1))
                        .collect(),
                )
            }
            "string" => Value::String(self.string()),
            "integer" => json!(self.rng.i64(-5..100_000_000_000_000)),
            "number" => json!(self.rng.f64() * 1e6),
            "boolean" => json!(self.rng.bool()),
            _ => Value::Null,
        }
    }

    fn string(&mut self) -> String {
        const SAMPLES: &[&str] = &[
            "",
            "1",
            "1000",
            "1000.00",
            "-7",
            "OK",
            "FAILED",
            "09123456789",
            "۰۹۱۲۳۴۵۶۷۸۹",
            "603799******6299",
            "1399/03/13",
            "1401/3/7",
            "17:46:57 - 1401/3/7",
            "2019-02-19 18:19:55",
            "14000102",
            "1591000000000",
            "IR062960000000100324200001",
            "0bbc76c0-9489-11ed-b643-ed25e49760ca",
            "نامعتبر",
            "\u{0}",
            "null",
        ];
        if self.rng.bool() {
            SAMPLES[self.rng.usize(..SAMPLES.len())].to_string()
        } else {
            (0..self.rng.usize(..12))
                .map(|_| self.rng.char(..))
                .collect()
        }
    }

    fn any(&mut self, depth: u32) -> Value {
        match self.rng.u8(..7) {
            0 => Value::Null,
            1 => json!(self.rng.bool()),
            2 => json!(self.rng.i64(..)),
            3 => json!(self.rng.f64()),
            4 => Value::String(self.string()),
            5 if depth < 4 => Value::Array(
                (0..self.rng.usize(..3))
                    .map(|_| self.any(depth + 1))
                    .collect(),
            ),
            _ if depth < 4 => {
                let mut m = Map::new();
                for _ in 0..self.rng.usize(..3) {
                    m.insert(self.string(), self.any(depth + 1));
                }
                Value::Object(m)
            }
            _ => Value::Null,
        }
    }

    /// A mutation of a serialized body.
    fn mutate(&mut self, v: &Value) -> Vec<u8> {
        match self.rng.u8(..10) {
            0 => serde_json::to_vec(v).unwrap(),
            1 => {
                // drop a field
                let mut v = v.clone();
                if let Some(m) = v.as_object_mut()
                    && let Some(k) = m.keys().nth(self.rng.usize(..m.len().max(1))).cloned()
                {
                    m.remove(&k);
                }
                serde_json::to_vec(&v).unwrap()
            }
            2 => {
                // a field with a wrong type
                let mut v = v.clone();
                let wrong = self.any(0);
                if let Some(m) = v.as_object_mut() {
                    if let Some(k) = m.keys().nth(self.rng.usize(..m.len().max(1))).cloned() {
                        m.insert(k, wrong);
                    }
                } else {
                    v = wrong;
                }
                serde_json::to_vec(&v).unwrap()
            }
            3 => {
                let bytes = serde_json::to_vec(v).unwrap();
                let cut = self.rng.usize(..bytes.len().max(1));
                bytes[..cut].to_vec()
            }
            4 => {
                // huge numbers spliced in as raw text
                let huge = [
                    "1e400",
                    "18446744073709551616",
                    "-9223372036854775809",
                    "1.5",
                    "-0",
                ];
                let h = huge[self.rng.usize(..huge.len())];
                let mut text = serde_json::to_string(v).unwrap();
                if let Some(pos) = text.find(|c: char| c.is_ascii_digit()) {
                    let end = text[pos..]
                        .find(|c: char| !c.is_ascii_digit())
                        .map_or(text.len(), |e| pos + e);
                    text.replace_range(pos..end, h);
                } else {
                    text = format!("{{\"status\":{h},\"amount\":{h}}}");
                }
                text.into_bytes()
            }
            5 => b"<html><body>502 Bad Gateway</body></html>".to_vec(),
            6 => Vec::new(),
            7 => {
                let depth = 200 + self.rng.usize(..5000);
                let mut s = "[".repeat(depth);
                s.push_str(&"]".repeat(depth));
                s.into_bytes()
            }
            8 => {
                let mut bytes = serde_json::to_vec(v).unwrap();
                if !bytes.is_empty() {
                    let i = self.rng.usize(..bytes.len());
                    bytes[i] = self.rng.u8(..);
                }
                bytes
            }
            _ => serde_json::to_vec(&self.any(0)).unwrap(),
        }
    }
}

fn total_cases() -> usize {
    std::env::var("VANDAR_DECODE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

#[test]
fn decoding_never_panics() {
    let mut targets = Vec::new();
    for spec in specs().unwrap() {
        let g = generated_for(&spec).unwrap();
        for name in response_schemas(&spec) {
            let schema = (g.json_schema)(&name).unwrap();
            targets.push((spec.name.clone(), name, schema, g.decode));
        }
    }
    assert!(!targets.is_empty());
    let total = total_cases();
    let per_target = total.div_ceil(targets.len());
    let mut generator = Gen {
        rng: fastrand::Rng::with_seed(0x7661_6e64_6172),
    };
    let (mut cases, mut ok, mut err) = (0usize, 0usize, 0usize);
    let mut panics = Vec::new();
    for (spec, name, schema, decode) in &targets {
        for _ in 0..per_target {
            let value = generator.conforming(schema, schema, 0);
            let body = generator.mutate(&value);
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                let typed = decode(name, &body).expect("schema is in the index");
                if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                    let e = vandar_runtime::ApiError::from_body(422, v);
                    let _ = e.to_string();
                }
                typed.is_ok()
            }));
            cases += 1;
            match outcome {
                Ok(true) => ok += 1,
                Ok(false) => err += 1,
                Err(_) => panics.push(format!(
                    "{spec} {name}: {}",
                    String::from_utf8_lossy(&body)
                        .chars()
                        .take(200)
                        .collect::<String>()
                )),
            }
        }
    }
    println!(
        "decode robustness: {cases} cases over {} response schemas: {ok} decoded, {err} rejected, {} panics",
        targets.len(),
        panics.len()
    );
    assert!(panics.is_empty(), "panics:\n{}", panics.join("\n"));
    assert!(cases >= total, "{cases} < {total}");
    assert!(
        ok > 0 && err > 0,
        "the generator must produce both valid and invalid bodies"
    );
}
