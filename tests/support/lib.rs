//! Shared helpers for the workspace tests: the specs, and the generated crate of each.
#![forbid(unsafe_code)]

use anyhow::Result;
use serde_json::Value;
pub use xtask::spec::SpecFile;

/// `__spec::roundtrip` of a generated crate.
pub type RoundTripFn = fn(&str, Value) -> Option<Result<Value, serde_json::Error>>;
/// `__spec::decode` of a generated crate.
pub type DecodeFn = fn(&str, &[u8]) -> Option<Result<(), serde_json::Error>>;

/// What a generated crate exposes for the tests.
pub struct Generated {
    /// `SPEC_FILE` of the crate.
    pub spec_file: &'static str,
    /// Component schema names.
    pub schemas: &'static [&'static str],
    /// Decode + re-encode a value as a component's Rust type.
    pub roundtrip: RoundTripFn,
    /// Decode raw bytes as a component's Rust type (the generated client's decoding path).
    pub decode: DecodeFn,
    /// JSON Schema of a component's Rust type.
    pub json_schema: fn(&str) -> Option<Value>,
    /// The generated route table.
    pub routes: &'static [vandar_runtime::Route],
}

/// Every generated crate. Adding a spec means adding its crate here; `every_spec_is_registered`
/// fails until then.
pub fn generated() -> Vec<Generated> {
    vec![
        Generated {
            spec_file: vandar_ipg::SPEC_FILE,
            schemas: vandar_ipg::__spec::SCHEMAS,
            roundtrip: vandar_ipg::__spec::roundtrip,
            decode: vandar_ipg::__spec::decode,
            json_schema: vandar_ipg::__spec::json_schema,
            routes: vandar_ipg::ROUTES,
        },
        Generated {
            spec_file: vandar_core::SPEC_FILE,
            schemas: vandar_core::__spec::SCHEMAS,
            roundtrip: vandar_core::__spec::roundtrip,
            decode: vandar_core::__spec::decode,
            json_schema: vandar_core::__spec::json_schema,
            routes: vandar_core::ROUTES,
        },
        Generated {
            spec_file: vandar_ravand::SPEC_FILE,
            schemas: vandar_ravand::__spec::SCHEMAS,
            roundtrip: vandar_ravand::__spec::roundtrip,
            decode: vandar_ravand::__spec::decode,
            json_schema: vandar_ravand::__spec::json_schema,
            routes: vandar_ravand::ROUTES,
        },
        Generated {
            spec_file: vandar_subscription::SPEC_FILE,
            schemas: vandar_subscription::__spec::SCHEMAS,
            roundtrip: vandar_subscription::__spec::roundtrip,
            decode: vandar_subscription::__spec::decode,
            json_schema: vandar_subscription::__spec::json_schema,
            routes: vandar_subscription::ROUTES,
        },
        Generated {
            spec_file: sanbod::SPEC_FILE,
            schemas: sanbod::__spec::SCHEMAS,
            roundtrip: sanbod::__spec::roundtrip,
            decode: sanbod::__spec::decode,
            json_schema: sanbod::__spec::json_schema,
            routes: sanbod::ROUTES,
        },
    ]
}

/// Every spec file of the workspace; `VANDAR_TEST_SPECS=vandar-ipg,..` limits the set while a
/// spec is being written (never set in CI).
pub fn specs() -> Result<Vec<SpecFile>> {
    let root = xtask::spec::workspace_root();
    let Ok(only) = std::env::var("VANDAR_TEST_SPECS") else {
        return xtask::spec::discover(&root);
    };
    only.split(',')
        .map(|name| {
            xtask::spec::load(
                &root,
                &root.join("spec").join(format!("{}.yaml", name.trim())),
            )
        })
        .collect()
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

/// One spec by file stem (`vandar-ipg`), loaded directly (not affected by `VANDAR_TEST_SPECS`).
pub fn spec(name: &str) -> SpecFile {
    let root = xtask::spec::workspace_root();
    xtask::spec::load(&root, &root.join("spec").join(format!("{name}.yaml")))
        .unwrap_or_else(|e| panic!("spec/{name}.yaml: {e:#}"))
}

/// The value of a named example of an operation: `response` is `None` for the request body,
/// else the response key (`"200"`, `"4XX"`). Panics with the three names when absent.
pub fn example(spec: &SpecFile, operation: &str, response: Option<&str>, name: &str) -> Value {
    examples(spec)
        .into_iter()
        .find(|e| {
            e.operation_id == operation
                && e.response.as_deref() == response
                && e.location.ends_with(&format!("/ {name}"))
        })
        .unwrap_or_else(|| {
            panic!(
                "{}: no example `{name}` for {operation} {}",
                spec.rel_path,
                response.unwrap_or("request")
            )
        })
        .value
}

/// The access token of [`mock_config`] (its value must never reach an error or a log).
pub const MOCK_TOKEN: &str = "tok-SECRET-access-77";

/// A configuration for a local mock server at `base`: every host there, the access token
/// [`MOCK_TOKEN`] and a Sanbod client id and secret.
pub fn mock_config(base: &str) -> vandar_runtime::ConfigBuilder {
    vandar::Config::builder()
        .all_hosts(base)
        .access_token(MOCK_TOKEN)
        .basic_auth(
            vandar::sanbod::CLIENT_SCHEME,
            "client-id-1",
            "client-SECRET-99",
        )
}

/// The SDK on [`mock_config`].
pub fn mock_vandar(base: &str) -> vandar::Vandar {
    vandar::Vandar::new(mock_config(base).build().unwrap()).unwrap()
}
