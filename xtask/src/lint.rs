//! Lints for the YAML rules in `CONTRIBUTING.md`. Each rule prevents a generator failure that is
//! silent (wrong types, dropped fields) or loud (a panic deep inside progenitor). Every message
//! names the spec, the operation or schema, and the rule.

use std::collections::{BTreeMap, BTreeSet};

use heck::{ToSnakeCase, ToUpperCamelCase};
use openapiv3::{Parameter, ReferenceOr, StatusCode};
use serde_json::Value;

use crate::spec::{self, SpecFile};

/// The crate every `x-rust-type` must name: the generator only honours crates it is told about
/// and silently generates a plain type for any other.
pub const RUNTIME_CRATE: &str = "vandar-runtime";

/// Property names whose JSON type the API has been seen to vary (int vs string, "1000" vs
/// "1000.00"); in response schemas they need a type that accepts every shape (CONTRIBUTING.md rule 6).
fn is_multi_shape_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "status" | "code" | "id" | "wage" | "transid"
    ) || lower.ends_with("amount")
        || lower.ends_with("_id")
        || (name.ends_with("Id") && name.len() > 2)
}

struct Lint<'a> {
    spec: &'a SpecFile,
    out: Vec<String>,
}

impl Lint<'_> {
    fn err(&mut self, subject: impl std::fmt::Display, rule: &str, detail: impl std::fmt::Display) {
        self.out.push(format!(
            "{}: {subject}: {rule}: {detail}",
            self.spec.rel_path
        ));
    }
}

/// Lint one spec; `Err` lists every violation, one per line.
pub fn lint(spec: &SpecFile) -> Result<(), Vec<String>> {
    let mut l = Lint {
        spec,
        out: Vec::new(),
    };
    document_rules(&mut l);
    operation_rules(&mut l);
    schema_rules(&mut l);
    page_rules(&mut l);
    if l.out.is_empty() { Ok(()) } else { Err(l.out) }
}

const R1: &str = "rule 1 (OpenAPI 3.0.3, one JSON request type, no multipart/cookie/deepObject)";
const R2: &str = "rule 2 (bodies are $refs into components/schemas)";
const R3: &str = "rule 3 (one success schema, one error schema)";
const R4: &str = "rule 4 (unique ASCII operationId, one tag, ASCII names)";
const R5: &str = "rule 5 (server-owned data tolerates new values)";
const R6: &str = "rule 6 (multi-shape fields accept every observed shape)";
const R7: &str = "rule 7 (browser pages are not operations)";
const R8: &str = "rule 8 (sources and contradictions recorded)";
const R9: &str = "rule 9 (host, auth and retry safety resolvable)";
const R10: &str = "rule 10 (x-rust-type names the runtime crate)";
const R11: &str = "rule 11 (x-auto-value on a string query parameter, of a kind the runtime makes)";
const R12: &str = "rule 12 (request constraints: every amount has a minimum >= 1 and a maximum, every path parameter a minLength >= 1, every URL field format: uri)";

/// Whether a request property is an amount of money: its name ends in `amount` or its type is
/// one of the runtime's money types.
fn is_amount(schemas: &Value, name: &str, prop: &Value) -> bool {
    let money = |v: &Value| {
        v["x-rust-type"]["path"].as_str().is_some_and(|p| {
            ["::Rial", "::Toman", "::RialString", "::TomanString"]
                .iter()
                .any(|t| p.ends_with(t))
        })
    };
    name.to_ascii_lowercase().ends_with("amount")
        || spec::schema_variants(schemas, prop).into_iter().any(money)
}

/// Rule 12 on one request schema, recursively (`path` names the field in messages).
fn request_constraints(
    schemas: &Value,
    schema: &Value,
    path: &str,
    depth: usize,
    found: &mut Vec<String>,
) {
    if depth > 5 {
        return;
    }
    for v in spec::schema_variants(schemas, schema) {
        let Some(props) = v["properties"].as_object() else {
            if v["type"].as_str() == Some("array") {
                request_constraints(schemas, &v["items"], &format!("{path}[]"), depth + 1, found);
            }
            continue;
        };
        for (name, prop) in props {
            let field = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            let vs = spec::schema_variants(schemas, prop);
            let first = |key: &str| vs.iter().find_map(|x| x[key].as_f64());
            if is_amount(schemas, name, prop) {
                match (first("minimum"), first("maximum")) {
                    (Some(min), Some(_)) if min >= 1.0 => {}
                    (min, max) => found.push(format!(
                        "amount `{field}` needs minimum >= 1 and a maximum (has minimum {min:?}, maximum {max:?})"
                    )),
                }
            }
            // Required strings need no minLength here: the generator checks them non-empty
            // (see `generate::field_checks`).
            let is_string = vs.iter().any(|x| x["type"].as_str() == Some("string"));
            let lower = name.to_ascii_lowercase();
            if is_string
                && (lower.ends_with("_url") || lower.ends_with("_uri") || lower == "url")
                && !vs.iter().any(|x| x["format"].as_str() == Some("uri"))
            {
                found.push(format!("URL field `{field}` needs format: uri"));
            }
            for x in vs {
                if x["properties"].is_object() {
                    request_constraints(schemas, x, &field, depth + 1, found);
                }
                if x["type"].as_str() == Some("array") {
                    request_constraints(
                        schemas,
                        &x["items"],
                        &format!("{field}[]"),
                        depth + 1,
                        found,
                    );
                }
            }
        }
    }
}

fn document_rules(l: &mut Lint) {
    let version = l.spec.api.openapi.clone();
    if version != "3.0.3" {
        l.err(
            "document",
            R1,
            format!("`openapi` is `{version}`, expected `3.0.3`"),
        );
    }
    if l.spec.api.servers.is_empty() {
        l.err("document", R9, "no `servers` entry (the default host)");
    }
    if l.spec
        .raw
        .get("x-source")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        l.err(
            "document",
            R8,
            "no `x-source` at the top level (where the facts come from)",
        );
    }
}

fn is_success(code: &StatusCode) -> bool {
    match code {
        StatusCode::Code(c) => (200..400).contains(c),
        StatusCode::Range(r) => *r == 2 || *r == 3,
    }
}

fn operation_rules(l: &mut Lint) {
    let spec = l.spec;
    let components: BTreeSet<String> = spec
        .api
        .components
        .as_ref()
        .map(|c| c.schemas.keys().cloned().collect())
        .unwrap_or_default();
    let mut seen_ids: BTreeMap<String, String> = BTreeMap::new();
    for op in spec::operations(spec) {
        let who = format!("operation {}", op.label());
        // rule 4
        if op.id.is_empty() {
            l.err(&who, R4, "no operationId");
        } else if !op.id.is_ascii() {
            l.err(&who, R4, "operationId is not ASCII");
        } else {
            let snake = op.id.to_snake_case();
            if snake != op.id {
                l.err(
                    &who,
                    R4,
                    format!("write the operationId in snake_case (`{snake}`)"),
                );
            }
            if let Some(other) = seen_ids.insert(snake.clone(), op.label()) {
                l.err(
                    &who,
                    R4,
                    format!("operationId `{snake}` is also used by {other}"),
                );
            }
            for suffix in ["Response", "Body"] {
                let clash = format!("{}{suffix}", op.id.to_upper_camel_case());
                if components.contains(&clash) {
                    l.err(
                        &who,
                        R2,
                        format!("component `{clash}` collides with the name progenitor gives this operation's {suffix} type and silently replaces it; rename the component"),
                    );
                }
            }
        }
        if op.op.tags.len() != 1 {
            l.err(
                &who,
                R4,
                format!("has {} tags, expected exactly one", op.op.tags.len()),
            );
        }
        // rule 8
        if op
            .raw
            .get("x-source")
            .and_then(Value::as_str)
            .is_none_or(|s| s.trim().is_empty())
        {
            l.err(&who, R8, "no `x-source` (where its facts come from)");
        }
        if let Some(c) = op.raw.get("x-contradictions") {
            match c.as_array() {
                Some(items) => {
                    for item in items {
                        match item.as_str() {
                            Some(s) if !s.trim().is_empty() && !s.contains('\n') => {}
                            _ => l.err(
                                &who,
                                R8,
                                "each `x-contradictions` entry is one non-empty line",
                            ),
                        }
                    }
                }
                None => l.err(
                    &who,
                    R8,
                    "`x-contradictions` must be a list of one-line notes",
                ),
            }
        }
        // rule 9
        match op.host(&spec.api) {
            Some(h) if h.starts_with("https://") => {}
            Some(h) => l.err(&who, R9, format!("host `{h}` is not an absolute https URL")),
            None => l.err(&who, R9, "no host (operation, path or document `servers`)"),
        }
        if op.op.servers.len() > 1 {
            l.err(
                &who,
                R9,
                "more than one operation-level server; the router needs exactly one",
            );
        }
        if let Err(e) = op.auth(&spec.api) {
            l.err(&who, R9, e);
        }
        if op.method != "GET"
            && op
                .raw
                .get("x-idempotent")
                .and_then(Value::as_bool)
                .is_none()
        {
            l.err(
                &who,
                R9,
                "non-GET operation must say `x-idempotent: true|false` (retry safety)",
            );
        }
        // rule 1: parameters
        for p in op.item.parameters.iter().chain(op.op.parameters.iter()) {
            match p {
                ReferenceOr::Reference { reference } => l.err(
                    &who,
                    R1,
                    format!("parameter `$ref` {reference} is not supported; inline it"),
                ),
                ReferenceOr::Item(Parameter::Cookie { parameter_data, .. }) => l.err(
                    &who,
                    R1,
                    format!("cookie parameter `{}`", parameter_data.name),
                ),
                ReferenceOr::Item(Parameter::Query {
                    parameter_data,
                    style,
                    ..
                }) => {
                    if matches!(style, openapiv3::QueryStyle::DeepObject) {
                        l.err(
                            &who,
                            R1,
                            format!("deepObject parameter `{}`", parameter_data.name),
                        )
                    }
                    if !parameter_data.name.is_ascii() {
                        l.err(
                            &who,
                            R4,
                            format!("parameter name `{}` is not ASCII", parameter_data.name),
                        )
                    }
                }
                ReferenceOr::Item(_) => {}
            }
        }
        // rule 12: request constraints (path parameters, amounts, required strings, URLs)
        for p in op.item.parameters.iter().chain(op.op.parameters.iter()) {
            let ReferenceOr::Item(Parameter::Path { parameter_data, .. }) = p else {
                continue;
            };
            let schema = serde_json::to_value(&parameter_data.format).unwrap_or_default();
            let schema = &schema["schema"];
            let ok = match schema["type"].as_str() {
                Some("integer") | Some("number") => schema["minimum"].is_number(),
                _ => schema["minLength"].as_u64().is_some_and(|m| m >= 1),
            };
            if !ok {
                l.err(
                    &who,
                    R12,
                    format!(
                        "path parameter `{}` needs minLength >= 1 (or a minimum for a number)",
                        parameter_data.name
                    ),
                );
            }
        }
        if let Some(content) = op.raw["requestBody"]["content"].as_object() {
            let schemas = &l.spec.raw["components"]["schemas"];
            let mut found = Vec::new();
            for media in content.values() {
                request_constraints(schemas, &media["schema"], "", 0, &mut found);
            }
            for f in found {
                l.err(&who, R12, f);
            }
        }
        // rule 11: parameters the runtime fills
        for p in op.item.parameters.iter().chain(op.op.parameters.iter()) {
            let ReferenceOr::Item(p) = p else {
                continue;
            };
            let data = p.parameter_data_ref();
            let Some(kind) = data.extensions.get(crate::generate::AUTO_VALUE) else {
                continue;
            };
            let name = &data.name;
            if !matches!(p, Parameter::Query { .. }) {
                l.err(
                    &who,
                    R11,
                    format!("`{name}`: x-auto-value is only for query parameters"),
                );
            }
            if kind.as_str() != Some("uuid") {
                l.err(
                    &who,
                    R11,
                    format!("`{name}`: x-auto-value {kind} is not a kind the runtime makes (uuid)"),
                );
            }
            let is_string = matches!(
                &data.format,
                openapiv3::ParameterSchemaOrContent::Schema(ReferenceOr::Item(s))
                    if matches!(s.schema_kind, openapiv3::SchemaKind::Type(openapiv3::Type::String(_)))
            );
            if !is_string {
                l.err(
                    &who,
                    R11,
                    format!(
                        "`{name}`: an x-auto-value parameter has an inline `type: string` schema"
                    ),
                );
            }
        }
        // rules 1, 2: request body
        if let Some(body) = &op.op.request_body {
            match body {
                ReferenceOr::Reference { .. } => l.err(
                    &who,
                    R2,
                    "requestBody is a $ref; write it inline with a schema $ref",
                ),
                ReferenceOr::Item(b) => {
                    if b.content.len() != 1 {
                        l.err(
                            &who,
                            R1,
                            format!(
                                "requestBody has {} content types, expected one",
                                b.content.len()
                            ),
                        );
                    }
                    for (ct, media) in &b.content {
                        if ct.starts_with("multipart/") && !op.hand_written {
                            l.err(
                                &who,
                                R1,
                                format!(
                                    "multipart request body `{ct}` (allowed only on an operation marked `{}: true`)",
                                    spec::HAND_WRITTEN
                                ),
                            );
                        }
                        check_body_ref(l, &who, "request body", media.schema.as_ref(), &components);
                    }
                }
            }
        }
        // rules 2, 3: responses
        let mut success = BTreeSet::new();
        let mut error = BTreeSet::new();
        let mut n_success = 0;
        let responses = op
            .op
            .responses
            .responses
            .iter()
            .map(|(c, r)| (Some(c), r))
            .chain(op.op.responses.default.iter().map(|r| (None, r)));
        for (code, resp) in responses {
            let label = code.map_or("default".to_string(), |c| c.to_string());
            let ReferenceOr::Item(resp) = resp else {
                l.err(
                    &who,
                    R2,
                    format!("response {label} is a $ref; write it inline"),
                );
                continue;
            };
            let ok = code.is_some_and(is_success);
            if ok {
                n_success += 1;
            }
            if resp.content.len() > 1 {
                l.err(
                    &who,
                    R3,
                    format!("response {label} has {} content types", resp.content.len()),
                );
            }
            for media in resp.content.values() {
                let name = check_body_ref(
                    l,
                    &who,
                    &format!("response {label}"),
                    media.schema.as_ref(),
                    &components,
                );
                if let Some(n) = name {
                    if ok {
                        success.insert(n)
                    } else {
                        error.insert(n)
                    };
                }
            }
        }
        if n_success == 0 {
            l.err(&who, R3, "no success (2xx/3xx) response");
        }
        if success.len() > 1 {
            l.err(
                &who,
                R3,
                format!("several success schemas {success:?}; progenitor panics"),
            );
        }
        if error.len() != 1 {
            l.err(
                &who,
                R3,
                format!("expected exactly one error schema (4XX/default), found {error:?}"),
            );
        }
    }
}

fn check_body_ref(
    l: &mut Lint,
    who: &str,
    what: &str,
    schema: Option<&ReferenceOr<openapiv3::Schema>>,
    components: &BTreeSet<String>,
) -> Option<String> {
    match schema {
        None => {
            l.err(who, R2, format!("{what} has no schema"));
            None
        }
        Some(ReferenceOr::Item(_)) => {
            l.err(
                who,
                R2,
                format!("{what} schema is inline; move it to components/schemas and $ref it"),
            );
            None
        }
        Some(ReferenceOr::Reference { reference }) => match spec::ref_name(reference) {
            Some(n) if components.contains(n) => Some(n.to_string()),
            _ => {
                l.err(
                    who,
                    R2,
                    format!("{what} refers to missing schema {reference}"),
                );
                None
            }
        },
    }
}

/// Components reachable from any response body (transitively through `$ref`).
pub fn response_reachable(spec: &SpecFile) -> BTreeSet<String> {
    let schemas = &spec.raw["components"]["schemas"];
    let mut todo: Vec<String> = Vec::new();
    for op in spec::operations(spec) {
        collect_refs(&op.raw["responses"], &mut todo);
    }
    let mut seen = BTreeSet::new();
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone()) {
            collect_refs(&schemas[&name], &mut todo);
        }
    }
    seen
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    if let Some(n) = x.as_str().and_then(spec::ref_name) {
                        out.push(n.to_string());
                    }
                } else if k != "examples" && k != "example" {
                    collect_refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// Visit a schema and every schema nested in it, with a JSON-pointer-like location.
fn walk(v: &Value, at: &str, f: &mut dyn FnMut(&Value, &str)) {
    f(v, at);
    if let Some(props) = v.get("properties").and_then(Value::as_object) {
        for (k, p) in props {
            walk(p, &format!("{at}.{k}"), f);
        }
    }
    if let Some(items) = v.get("items") {
        walk(items, &format!("{at}[]"), f);
    }
    if let Some(ap) = v.get("additionalProperties").filter(|x| x.is_object()) {
        walk(ap, &format!("{at}{{*}}"), f);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(list) = v.get(key).and_then(Value::as_array) {
            for (i, s) in list.iter().enumerate() {
                walk(s, &format!("{at}.{key}[{i}]"), f);
            }
        }
    }
}

/// Whether a property schema (or the component it refers to) accepts several JSON shapes: an
/// x-rust-type (hand-written lenient type) or a oneOf/anyOf.
fn accepts_several_shapes(schemas: &Value, s: &Value) -> bool {
    let resolved = match s
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(spec::ref_name)
    {
        Some(n) => &schemas[n],
        None => s,
    };
    ["x-rust-type", "oneOf", "anyOf"]
        .iter()
        .any(|k| resolved.get(*k).is_some())
}

fn schema_rules(l: &mut Lint) {
    let schemas = l.spec.raw["components"]["schemas"].clone();
    let Some(map) = schemas.as_object() else {
        return;
    };
    let reachable = response_reachable(l.spec);
    for (name, schema) in map {
        let who = format!("schema `{name}`");
        if !name.is_ascii() || name.to_upper_camel_case() != *name {
            l.err(&who, R4, "schema names are ASCII UpperCamelCase");
        }
        let in_response = reachable.contains(name);
        let mut found: Vec<(&str, String)> = Vec::new();
        walk(schema, name, &mut |s, at| {
            if let Some(xr) = s.get("x-rust-type") {
                let krate = xr.get("crate").and_then(Value::as_str).unwrap_or("");
                let path = xr.get("path").and_then(Value::as_str).unwrap_or("");
                let version = xr.get("version").and_then(Value::as_str).unwrap_or("");
                if krate != RUNTIME_CRATE
                    || !path.starts_with("vandar_runtime::")
                    || version.is_empty()
                {
                    found.push((R10, format!("{at}: x-rust-type needs crate `{RUNTIME_CRATE}`, a `vandar_runtime::` path and a version (else the generator silently makes its own type)")));
                }
            }
            if let Some(values) = s.get("enum").and_then(Value::as_array) {
                for v in values {
                    if v.as_str().is_some_and(|t| !t.is_ascii()) {
                        found.push((R4, format!("{at}: enum value {v} is not ASCII")));
                    }
                }
                if in_response && s.get("x-rust-type").is_none() {
                    found.push((R5, format!("{at}: closed `enum` in a response schema breaks on the first new server value; use a string with `x-documented-values` or an x-rust-type with an Unknown fallback")));
                }
            }
            if in_response && s.get("additionalProperties") == Some(&Value::Bool(false)) {
                found.push((R5, format!("{at}: `additionalProperties: false` in a response schema rejects any new server field")));
            }
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                for (k, p) in props {
                    if !k.is_ascii() {
                        found.push((R4, format!("{at}.{k}: property name is not ASCII")));
                    }
                    let flexible = accepts_several_shapes(&schemas, p)
                        || p.get("x-single-shape").and_then(Value::as_str).is_some();
                    if in_response && is_multi_shape_name(k) && !flexible {
                        found.push((R6, format!("{at}.{k}: give it an x-rust-type that accepts every observed shape (or `x-single-shape: <why>`)")));
                    }
                }
            }
        });
        for (rule, detail) in found {
            l.err(&who, rule, detail);
        }
    }
}

fn page_rules(l: &mut Lint) {
    let pages = match spec::browser_pages(l.spec) {
        Ok(p) => p,
        Err(e) => {
            l.err("x-browser-pages", R7, e);
            return;
        }
    };
    let raw_pages = l.spec.raw["x-browser-pages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ops = spec::operations(l.spec);
    for (page, raw) in pages.iter().zip(raw_pages.iter()) {
        let who = format!("browser page `{}`", page.name);
        if raw
            .get("x-source")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            l.err(&who, R8, "no `x-source`");
        }
        if !page.host.starts_with("https://") {
            l.err(
                &who,
                R7,
                format!("host `{}` is not an absolute https URL", page.host),
            );
        }
        for op in &ops {
            if op.path == page.path && op.host(&l.spec.api).as_deref() == Some(page.host.as_str()) {
                l.err(
                    &who,
                    R7,
                    format!("is also declared as operation {}", op.label()),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-operation spec whose `traceid` parameter is written as `param` (YAML flow map).
    fn spec_with(param: &str) -> SpecFile {
        let text = format!(
            r##"
openapi: 3.0.3
info: {{title: t, version: "1"}}
x-source: test
servers: [{{url: "https://api.example"}}]
paths:
  /a:
    post:
      operationId: op_a
      tags: [t]
      x-source: test
      x-idempotent: true
      parameters: [{param}]
      responses:
        '200': {{description: ok, content: {{application/json: {{schema: {{$ref: '#/components/schemas/Ok'}}}}}}}}
        4XX: {{description: no, content: {{application/json: {{schema: {{$ref: '#/components/schemas/Err'}}}}}}}}
components:
  schemas:
    Ok: {{type: object}}
    Err: {{type: object}}
"##
        );
        let raw: Value = serde_yaml::from_str(&text).unwrap();
        SpecFile {
            rel_path: "spec/test.yaml".into(),
            name: "test".into(),
            api: serde_json::from_value(raw.clone()).unwrap(),
            raw,
        }
    }

    fn r11(param: &str) -> Vec<String> {
        match lint(&spec_with(param)) {
            Ok(()) => Vec::new(),
            Err(v) => v.into_iter().filter(|m| m.contains("rule 11")).collect(),
        }
    }

    #[test]
    fn auto_values_are_linted() {
        let ok = "{name: traceid, in: query, required: true, schema: {type: string}, x-auto-value: uuid}";
        assert_eq!(lint(&spec_with(ok)), Ok(()));
        let spec = spec_with(ok);
        let op = &spec::operations(&spec)[0];
        assert_eq!(
            crate::generate::auto_values(op),
            vec![("traceid".to_string(), "uuid".to_string())]
        );
        for bad in [
            "{name: traceid, in: query, schema: {type: string}, x-auto-value: counter}",
            "{name: traceid, in: header, schema: {type: string}, x-auto-value: uuid}",
            "{name: traceid, in: query, schema: {type: integer}, x-auto-value: uuid}",
        ] {
            let found = r11(bad);
            assert_eq!(found.len(), 1, "{bad}: {found:?}");
            assert!(
                found[0].contains("`op_a`") && found[0].contains("traceid"),
                "{found:?}"
            );
        }
    }

    #[test]
    fn auto_valued_parameters_are_optional_for_progenitor_only() {
        let spec = spec_with(
            "{name: traceid, in: query, required: true, schema: {type: string}, x-auto-value: uuid}",
        );
        let text = crate::generate::generate(&spec, b"").unwrap();
        assert!(
            text.contains("pub const AUTO_VALUES"),
            "the table is emitted"
        );
        assert!(text.contains(".with_auto_values(AUTO_VALUES)"));
        assert!(
            text.contains("traceid: Ok(None)"),
            "the builder does not demand traceid"
        );
        let plain = spec_with("{name: q, in: query, required: true, schema: {type: string}}");
        let text = crate::generate::generate(&plain, b"").unwrap();
        assert!(
            !text.contains("AUTO_VALUES"),
            "no table without auto values"
        );
    }

    /// `spec_with`'s operation plus a multipart upload `op_up`, marked `x-hand-written` or not.
    fn spec_with_upload(marked: bool) -> SpecFile {
        let mut spec = spec_with("{name: q, in: query, schema: {type: string}}");
        let upload: Value = serde_json::json!({
            "post": {
                "operationId": "op_up",
                "tags": ["t"],
                "x-source": "test",
                "x-idempotent": false,
                "x-hand-written": marked,
                "requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {"$ref": "#/components/schemas/Ok"}}}},
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ok"}}}},
                    "4XX": {"description": "no", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Err"}}}}
                }
            }
        });
        spec.raw["paths"]["/up"] = upload;
        spec.api = serde_json::from_value(spec.raw.clone()).unwrap();
        spec
    }

    #[test]
    fn multipart_only_on_hand_written_operations_which_are_not_generated() {
        let unmarked = lint(&spec_with_upload(false)).unwrap_err();
        assert!(
            unmarked
                .iter()
                .any(|m| m.contains("`op_up`") && m.contains("multipart")),
            "{unmarked:?}"
        );
        let spec = spec_with_upload(true);
        assert_eq!(lint(&spec), Ok(()));
        let ops = spec::operations(&spec);
        assert_eq!(ops.len(), 2, "the hand-written operation stays in the spec");
        assert!(ops.iter().any(|o| o.id == "op_up" && o.hand_written));
        let generated: Vec<&str> = spec::generated_operations(&spec)
            .iter()
            .map(|o| o.id)
            .collect();
        assert_eq!(generated, ["op_a"]);
        let text = crate::generate::generate(&spec, b"").unwrap();
        assert!(text.contains("op_a"));
        assert!(!text.contains("op_up"), "the generator skips it");
    }
}
