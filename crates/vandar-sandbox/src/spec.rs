//! The embedded specs, turned into a route table with validators and canned answers.

use std::sync::Arc;

use jsonschema::{Draft, Validator};
use serde_json::{Map, Value, json};

use crate::error::Error;

/// The specs, embedded at build time (the only copy of their schemas).
pub(crate) const SPECS: &[(&str, &str)] = &[
    ("vandar-ipg", include_str!("../spec/vandar-ipg.yaml")),
    ("vandar-core", include_str!("../spec/vandar-core.yaml")),
    (
        "vandar-subscription",
        include_str!("../spec/vandar-subscription.yaml"),
    ),
    ("vandar-ravand", include_str!("../spec/vandar-ravand.yaml")),
    ("sanbod", include_str!("../spec/sanbod.yaml")),
];

/// How a spec's services shape their error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorStyle {
    /// IPG: `{"status":0,"errors":["..."]}`.
    Ipg,
    /// Vandar business API: Laravel `{"message":"..","errors":{"field":[".."]}}`.
    Vandar,
    /// Sanbod: `{"error":true,"message":{..},"result_number":0,"traceid":".."}`.
    Sanbod,
}

/// The credential an operation requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthKind {
    /// No header (IPG's api_key travels in the body; token refresh).
    None,
    /// A Vandar business access token.
    VandarBearer,
    /// A Sanbod AC or CC token.
    SanbodBearer,
    /// Sanbod HTTP Basic client id and secret.
    SanbodBasic,
}

/// One path segment of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Lit(String),
    Param(String),
}

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParamIn {
    Path,
    Query,
}

/// A validated parameter.
pub(crate) struct Param {
    pub name: String,
    pub location: ParamIn,
    pub required: bool,
    pub validator: Option<Validator>,
}

/// One operation of one spec.
pub(crate) struct Operation {
    pub spec: &'static str,
    pub id: String,
    pub method: http::Method,
    pub path: String,
    pub segments: Vec<Seg>,
    pub auth: AuthKind,
    pub style: ErrorStyle,
    pub params: Vec<Param>,
    pub body_validator: Option<Validator>,
    pub body_required: bool,
    /// HTTP status of the success answer (200 for `200`/`2XX`, 302 for redirects).
    pub success_status: u16,
    /// The canned answer: the first example, or one synthesized from the schema.
    pub canned: Option<Value>,
    /// Validator of the success body, if the spec gives a schema.
    pub success_validator: Option<Validator>,
    /// A schema-valid request body: the spec's first valid example, or one synthesized.
    pub example_request: Option<Value>,
    /// Values for the required query parameters (examples or synthesized).
    pub example_query: Vec<(String, String)>,
    /// Whether the canned answer is the spec's example (false: synthesized or replaced).
    pub canned_from_example: bool,
    /// Success examples of the spec that fail the spec's own success schema.
    pub rejected_examples: usize,
}

/// A browser page from an `x-browser-pages` entry.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub spec: &'static str,
    pub name: String,
    pub path: String,
    pub segments: Vec<Seg>,
}

impl Page {
    /// Whether the sandbox simulates this page (the IPG pay page, the mandate bank page); the
    /// others answer a plain page that only confirms the browser arrived.
    pub(crate) fn simulated(&self) -> bool {
        matches!(
            (self.spec, self.name.as_str()),
            ("vandar-ipg", "payment_page") | ("vandar-subscription", "authorization_page")
        )
    }
}

/// All specs, compiled.
pub(crate) struct Catalog {
    pub operations: Vec<Operation>,
    pub pages: Vec<Page>,
}

/// Path parameters as `(name, value)`.
pub(crate) type PathParams = Vec<(String, String)>;

/// A template match: the parameters and the specificity key.
pub(crate) type Matched = (PathParams, Vec<bool>);

/// Parse a path template into segments.
pub(crate) fn segments(path: &str) -> Vec<Seg> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if let Some(name) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Seg::Param(name.to_owned())
            } else {
                Seg::Lit(s.to_owned())
            }
        })
        .collect()
}

/// Match `path` against a template; returns the path parameters and a specificity key
/// (one bit per segment, literal = 1, earlier segments weigh more).
pub(crate) fn match_path(template: &[Seg], path: &str) -> Option<Matched> {
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if parts.len() != template.len() {
        return None;
    }
    let mut params = Vec::new();
    let mut key = Vec::with_capacity(parts.len());
    for (seg, part) in template.iter().zip(parts) {
        match seg {
            Seg::Lit(lit) => {
                if lit != part {
                    return None;
                }
                key.push(true);
            }
            Seg::Param(name) => {
                let decoded = url::form_urlencoded::parse(format!("x={part}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_else(|| part.to_owned());
                params.push((name.clone(), decoded));
                key.push(false);
            }
        }
    }
    Some((params, key))
}

/// Turn OpenAPI 3.0 schema objects into JSON Schema (draft 4): `nullable: true` becomes a
/// `null` type (or an `anyOf` with `null` around a `$ref`/composition).
pub(crate) fn normalize(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(normalize),
        Value::Object(map) => {
            for (_, v) in map.iter_mut() {
                normalize(v);
            }
            if map.get("nullable") == Some(&Value::Bool(true)) {
                map.remove("nullable");
                if let Some(Value::Array(values)) = map.get_mut("enum")
                    && !values.contains(&Value::Null)
                {
                    values.push(Value::Null);
                }
                match map.get("type").cloned() {
                    Some(Value::String(t)) => {
                        map.insert("type".into(), json!([t, "null"]));
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(map));
                        map.insert("anyOf".into(), json!([{"type": "null"}, inner]));
                    }
                }
            }
        }
        _ => {}
    }
}

/// Follow a local `$ref` (`#/components/schemas/X`) in `doc`.
pub(crate) fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    let mut cur = schema;
    for _ in 0..16 {
        let Some(r) = cur.get("$ref").and_then(Value::as_str) else {
            return cur;
        };
        let Some(pointer) = r.strip_prefix('#') else {
            return cur;
        };
        match doc.pointer(pointer) {
            Some(next) => cur = next,
            None => return cur,
        }
    }
    cur
}

fn compile(components: &Value, schema: &Value) -> Result<Validator, Error> {
    let root = json!({
        "allOf": [schema],
        "components": components,
    });
    jsonschema::options()
        .with_draft(Draft::Draft4)
        .should_validate_formats(false)
        .build(&root)
        .map_err(|e| Error::Spec(format!("schema does not compile: {e}")))
}

fn examples_of(media: &Value) -> Vec<Value> {
    let mut all: Vec<Value> = media.get("example").cloned().into_iter().collect();
    if let Some(ex) = media.get("examples").and_then(Value::as_object) {
        all.extend(ex.values().filter_map(|e| e.get("value").cloned()));
    }
    all
}

/// Build a minimal value that satisfies `schema` (required properties only).
pub(crate) fn synthesize(doc: &Value, schema: &Value, depth: usize) -> Value {
    let schema = resolve(doc, schema);
    if depth > 12 {
        return Value::Null;
    }
    if let Some(v) = schema.get("default") {
        return v.clone();
    }
    if let Some(Value::Array(values)) = schema.get("enum")
        && let Some(v) = values.first()
    {
        return v.clone();
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(parts)) = schema.get(key) {
            if key == "allOf" {
                let mut out = Map::new();
                for part in parts {
                    if let Value::Object(m) = synthesize(doc, part, depth + 1) {
                        out.extend(m);
                    }
                }
                return Value::Object(out);
            }
            if let Some(part) = parts
                .iter()
                .find(|p| resolve(doc, p).get("type") != Some(&json!("null")))
            {
                return synthesize(doc, part, depth + 1);
            }
        }
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "object",
    };
    match ty {
        "object" => {
            let mut out = Map::new();
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if let Some(Value::Object(props)) = schema.get("properties") {
                for (name, prop) in props {
                    if required.contains(&name.as_str()) || name == "status" {
                        out.insert(name.clone(), synthesize(doc, prop, depth + 1));
                    }
                }
            }
            Value::Object(out)
        }
        "array" => {
            let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            let items = schema.get("items").cloned().unwrap_or(json!({}));
            Value::Array(
                (0..min)
                    .map(|_| synthesize(doc, &items, depth + 1))
                    .collect(),
            )
        }
        "integer" | "number" => {
            let min = schema.get("minimum").and_then(Value::as_i64).unwrap_or(1);
            json!(min.max(1))
        }
        "boolean" => json!(true),
        "string" => {
            let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
            Value::String("x".repeat(min.max(1)))
        }
        _ => Value::Null,
    }
}

impl Catalog {
    /// Parse and compile every embedded spec.
    pub(crate) fn load() -> Result<Arc<Catalog>, Error> {
        let mut operations = Vec::new();
        let mut pages = Vec::new();
        for (spec, text) in SPECS {
            let mut doc: Value =
                serde_yaml::from_str(text).map_err(|e| Error::Spec(format!("{spec}: {e}")))?;
            normalize(&mut doc);
            let components = doc.get("components").cloned().unwrap_or(json!({}));
            let style = match *spec {
                "vandar-ipg" => ErrorStyle::Ipg,
                "sanbod" => ErrorStyle::Sanbod,
                _ => ErrorStyle::Vandar,
            };
            let default_security = doc.get("security").cloned().unwrap_or(json!([]));
            for page in doc
                .get("x-browser-pages")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let path = page["path"].as_str().unwrap_or_default().to_owned();
                pages.push(Page {
                    spec,
                    name: page["name"].as_str().unwrap_or_default().to_owned(),
                    segments: segments(&path),
                    path,
                });
            }
            let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
                continue;
            };
            for (path, item) in paths {
                let common: Vec<Value> = item
                    .get("parameters")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for method in ["get", "post", "put", "patch", "delete"] {
                    let Some(op) = item.get(method) else { continue };
                    let id = op["operationId"].as_str().unwrap_or_default().to_owned();
                    let security = op.get("security").unwrap_or(&default_security);
                    let auth = auth_kind(security);
                    let mut params = Vec::new();
                    let mut example_query = Vec::new();
                    let op_params = op
                        .get("parameters")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    for p in common.iter().chain(op_params.iter()) {
                        let p = resolve(&doc, p);
                        let location = match p["in"].as_str() {
                            Some("path") => ParamIn::Path,
                            Some("query") => ParamIn::Query,
                            _ => continue,
                        };
                        let validator =
                            match p.get("schema") {
                                Some(s) => Some(compile(&components, s).map_err(|e| {
                                    Error::Spec(format!("{spec} {id} parameter: {e}"))
                                })?),
                                None => None,
                            };
                        if location == ParamIn::Query && p["required"].as_bool().unwrap_or(false) {
                            let v = p
                                .get("example")
                                .cloned()
                                .or_else(|| p.get("schema").map(|s| synthesize(&doc, s, 0)))
                                .unwrap_or(json!("1"));
                            let text = match v {
                                Value::String(s) => s,
                                other => other.to_string(),
                            };
                            example_query
                                .push((p["name"].as_str().unwrap_or_default().to_owned(), text));
                        }
                        params.push(Param {
                            name: p["name"].as_str().unwrap_or_default().to_owned(),
                            location,
                            required: p["required"].as_bool().unwrap_or(false),
                            validator,
                        });
                    }
                    let mut example_request = None;
                    let (body_validator, body_required) =
                        match op.get("requestBody").map(|b| resolve(&doc, b)) {
                            Some(body) => {
                                let schema = body
                                    .get("content")
                                    .and_then(Value::as_object)
                                    .and_then(|c| c.values().next())
                                    .and_then(|m| m.get("schema"));
                                let v = match schema {
                                    Some(s) => Some(compile(&components, s).map_err(|e| {
                                        Error::Spec(format!("{spec} {id} body: {e}"))
                                    })?),
                                    None => None,
                                };
                                let media = body
                                    .get("content")
                                    .and_then(Value::as_object)
                                    .and_then(|c| c.values().next());
                                let valid = |x: &Value| v.as_ref().is_none_or(|v| v.is_valid(x));
                                example_request = media
                                    .and_then(|m| examples_of(m).into_iter().find(|x| valid(x)))
                                    .or_else(|| {
                                        schema.map(|s| synthesize(&doc, s, 0)).filter(|x| valid(x))
                                    });
                                (v, body["required"].as_bool().unwrap_or(false))
                            }
                            None => (None, false),
                        };
                    let responses = op.get("responses").and_then(Value::as_object);
                    let success = responses.and_then(|r| {
                        r.iter()
                            .find(|(code, _)| code.starts_with('2') || code.starts_with('3'))
                    });
                    let mut canned_from_example = false;
                    let mut rejected_examples = 0;
                    let (success_status, canned, success_validator) = match success {
                        Some((code, resp)) => {
                            let status = code.parse::<u16>().unwrap_or(200);
                            let media = resp
                                .get("content")
                                .and_then(Value::as_object)
                                .and_then(|c| c.values().next());
                            let schema = media.and_then(|m| m.get("schema"));
                            let validator = match schema {
                                Some(s) => Some(compile(&components, s)?),
                                None => None,
                            };
                            let valid =
                                |x: &Value| validator.as_ref().is_none_or(|v| v.is_valid(x));
                            let all = media.map(examples_of).unwrap_or_default();
                            rejected_examples = all.iter().filter(|x| !valid(x)).count();
                            let example = all.into_iter().find(|x| valid(x));
                            canned_from_example = example.is_some();
                            let canned = example.or_else(|| schema.map(|s| synthesize(&doc, s, 0)));
                            (status, canned, validator)
                        }
                        None => (200, None, None),
                    };
                    operations.push(Operation {
                        spec,
                        id,
                        method: method.to_uppercase().parse().unwrap_or(http::Method::GET),
                        segments: segments(path),
                        path: path.clone(),
                        auth,
                        style,
                        params,
                        body_validator,
                        body_required,
                        success_status,
                        canned,
                        success_validator,
                        example_request,
                        example_query,
                        canned_from_example,
                        rejected_examples,
                    });
                }
            }
        }
        Ok(Arc::new(Catalog { operations, pages }))
    }

    /// Find the operation for a method and path. Among several matching templates the most
    /// specific wins (a literal segment beats a parameter, compared from the left); a tie goes to
    /// the spec listed first in [`SPECS`].
    pub(crate) fn route(
        &self,
        method: &http::Method,
        path: &str,
    ) -> Option<(&Operation, Vec<(String, String)>)> {
        let mut best: Option<(&Operation, PathParams, Vec<bool>)> = None;
        for op in self.operations.iter().filter(|o| o.method == *method) {
            if let Some((params, key)) = match_path(&op.segments, path)
                && best.as_ref().is_none_or(|(_, _, k)| key > *k)
            {
                best = Some((op, params, key));
            }
        }
        best.map(|(op, params, _)| (op, params))
    }

    /// Find a browser page for a GET path.
    pub(crate) fn page(&self, path: &str) -> Option<(&Page, Vec<(String, String)>)> {
        self.pages
            .iter()
            .find_map(|p| match_path(&p.segments, path).map(|(params, _)| (p, params)))
    }

    /// Whether an operation id is unique across specs.
    pub(crate) fn find(&self, spec: Option<&str>, id: &str) -> Vec<&Operation> {
        self.operations
            .iter()
            .filter(|o| o.id == id && spec.is_none_or(|s| s == o.spec))
            .collect()
    }
}

fn auth_kind(security: &Value) -> AuthKind {
    let Some(reqs) = security.as_array() else {
        return AuthKind::None;
    };
    for req in reqs {
        if let Some(m) = req.as_object()
            && let Some(name) = m.keys().next()
        {
            return match name.as_str() {
                "bearer" => AuthKind::VandarBearer,
                "sanbod_bearer" => AuthKind::SanbodBearer,
                "sanbod_client" => AuthKind::SanbodBasic,
                _ => AuthKind::None,
            };
        }
    }
    AuthKind::None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_loads_and_every_answer_is_schema_valid() {
        let catalog = Catalog::load().expect("specs compile");
        assert!(
            catalog.operations.len() >= 120,
            "{} operations",
            catalog.operations.len()
        );
        assert_eq!(catalog.pages.len(), 5);
        let mut synthesized = Vec::new();
        for op in &catalog.operations {
            if let (Some(v), Some(c)) = (&op.success_validator, &op.canned) {
                assert!(
                    v.is_valid(c),
                    "{} {}: canned answer invalid: {c}",
                    op.spec,
                    op.id
                );
            }
            if op.rejected_examples > 0 {
                eprintln!(
                    "{} {}: {} example(s) fail the success schema",
                    op.spec, op.id, op.rejected_examples
                );
            }
            if op.success_validator.is_some() && !op.canned_from_example {
                synthesized.push(format!("{}:{}", op.spec, op.id));
            }
            if let (Some(v), Some(b)) = (&op.body_validator, &op.example_request) {
                assert!(
                    v.is_valid(b),
                    "{} {}: example request invalid",
                    op.spec,
                    op.id
                );
            }
            if op.body_validator.is_some() {
                assert!(
                    op.example_request.is_some(),
                    "{} {}: no valid request body",
                    op.spec,
                    op.id
                );
            }
        }
        eprintln!("answers synthesized (no valid example): {synthesized:?}");
    }

    #[test]
    fn routing_prefers_literal_segments() {
        let catalog = Catalog::load().expect("specs compile");
        let (op, params) = catalog
            .route(&http::Method::GET, "/v2/business/acme/customers/fields")
            .expect("routed");
        assert_eq!(op.id, "list_customer_fields");
        assert_eq!(params, vec![("business".to_owned(), "acme".to_owned())]);
        let (op, params) = catalog
            .route(&http::Method::GET, "/v2/business/acme/customers/42")
            .expect("routed");
        assert_eq!(op.id, "get_customer");
        assert_eq!(params[1], ("customer".to_owned(), "42".to_owned()));
        assert!(catalog.route(&http::Method::GET, "/api/v4/send").is_none());
        assert!(catalog.page("/v4/ABC").is_some());
    }

    #[test]
    fn nullable_becomes_a_null_type() {
        let mut v = json!({"type": "string", "nullable": true});
        normalize(&mut v);
        assert_eq!(v, json!({"type": ["string", "null"]}));
        let mut v = json!({"$ref": "#/x", "nullable": true});
        normalize(&mut v);
        assert_eq!(v, json!({"anyOf": [{"type": "null"}, {"$ref": "#/x"}]}));
    }
}
