//! Shared helpers for the workspace tests: the specs, and the generated crate of each.
#![forbid(unsafe_code)]

use anyhow::Result;
use serde_json::Value;
pub use xtask::spec::SpecFile;

/// What a generated crate exposes for the tests.
pub struct Generated {
    /// `SPEC_FILE` of the crate.
    pub spec_file: &'static str,
    /// Component schema names.
    pub schemas: &'static [&'static str],
    /// Decode + re-encode a value as a component's Rust type.
    pub roundtrip: fn(&str, Value) -> Option<Result<Value, serde_json::Error>>,
    /// JSON Schema of a component's Rust type.
    pub json_schema: fn(&str) -> Option<Value>,
    /// The generated route table.
    pub routes: &'static [vandar_runtime::Route],
}

/// Every generated crate. Adding a spec means adding its crate here; `every_spec_is_registered`
/// fails until then.
pub fn generated() -> Vec<Generated> {
    vec![Generated {
        spec_file: vandar_ipg::SPEC_FILE,
        schemas: vandar_ipg::__spec::SCHEMAS,
        roundtrip: vandar_ipg::__spec::roundtrip,
        json_schema: vandar_ipg::__spec::json_schema,
        routes: vandar_ipg::ROUTES,
    }]
}

/// Every spec file of the workspace.
pub fn specs() -> Result<Vec<SpecFile>> {
    xtask::spec::discover(&xtask::spec::workspace_root())
}

/// The generated crate of a spec.
pub fn generated_for(spec: &SpecFile) -> Option<Generated> {
    generated()
        .into_iter()
        .find(|g| g.spec_file == spec.rel_path)
}

/// One example from a spec: where it is, which schema it must decode into, and its value.
#[derive(Debug, Clone)]
pub struct Example {
    /// `operation / request|response CODE / example name`.
    pub location: String,
    /// Operation id.
    pub operation_id: String,
    /// `None` for a request body, else the response status key (`200`, `4XX`).
    pub response: Option<String>,
    /// Component schema name.
    pub schema: String,
    /// The example value.
    pub value: Value,
}

/// Every request and response example of a spec (media-type `example` and `examples`).
pub fn examples(spec: &SpecFile) -> Vec<Example> {
    let mut out = Vec::new();
    for op in xtask::spec::operations(spec) {
        let mut media: Vec<(Option<String>, &Value)> = Vec::new();
        if let Some(c) = op.raw["requestBody"]["content"].as_object() {
            media.extend(c.values().map(|m| (None, m)));
        }
        if let Some(rs) = op.raw["responses"].as_object() {
            for (code, r) in rs {
                if let Some(c) = r["content"].as_object() {
                    media.extend(c.values().map(|m| (Some(code.clone()), m)));
                }
            }
        }
        for (response, m) in media {
            let schema = m["schema"]["$ref"]
                .as_str()
                .and_then(xtask::spec::ref_name)
                .unwrap_or("<inline>")
                .to_string();
            let place = match &response {
                None => format!("{} / request", op.id),
                Some(c) => format!("{} / response {c}", op.id),
            };
            if let Some(v) = m.get("example") {
                out.push(Example {
                    location: format!("{place} / example"),
                    operation_id: op.id.to_string(),
                    response: response.clone(),
                    schema: schema.clone(),
                    value: v.clone(),
                });
            }
            if let Some(map) = m["examples"].as_object() {
                for (name, ex) in map {
                    out.push(Example {
                        location: format!("{place} / {name}"),
                        operation_id: op.id.to_string(),
                        response: response.clone(),
                        schema: schema.clone(),
                        value: ex["value"].clone(),
                    });
                }
            }
        }
    }
    out
}
