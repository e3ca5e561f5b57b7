//! The reviewable surface of a spec: one record per operation (id, method, host, path, auth,
//! parameters, body and response schema names) plus the browser pages. The snapshot tests lock
//! it so that any YAML change shows up as a diff a reviewer reads.

use anyhow::Result;
use openapiv3::{MediaType, Parameter, ParameterSchemaOrContent, ReferenceOr, StatusCode};
use serde_json::{Value, json};

use crate::spec::{self, AuthKind, SpecFile};

/// A short name for a schema: the component name of a `$ref`, or `type[/format]` of an inline one.
pub fn schema_label(schema: &ReferenceOr<openapiv3::Schema>, raw: &Value) -> String {
    if let Some(path) = raw.get("x-rust-type").and_then(|x| x.get("path")) {
        return format!("rust:{}", path.as_str().unwrap_or("?"));
    }
    match schema {
        ReferenceOr::Reference { reference } => {
            spec::ref_name(reference).unwrap_or(reference).to_string()
        }
        ReferenceOr::Item(s) => {
            let ty = raw
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or(if s.schema_data.nullable {
                    "null"
                } else {
                    "any"
                });
            match raw.get("format").and_then(Value::as_str) {
                Some(f) => format!("{ty}/{f}"),
                None => ty.to_string(),
            }
        }
    }
}

fn media_label(media: &MediaType, raw: &Value) -> String {
    match &media.schema {
        Some(s) => schema_label(s, &raw["schema"]),
        None => "none".into(),
    }
}

fn status_label(code: &StatusCode) -> String {
    match code {
        StatusCode::Code(c) => c.to_string(),
        StatusCode::Range(r) => format!("{r}XX"),
    }
}

/// The per-operation surface of one spec, as JSON (stable order: document order).
pub fn surface(spec: &SpecFile) -> Result<Value> {
    let mut ops = Vec::new();
    for op in spec::operations(spec) {
        let auth = match op.auth(&spec.api)? {
            AuthKind::None => "none".to_string(),
            AuthKind::Bearer(n) => format!("bearer ({n})"),
            AuthKind::Basic(n) => format!("basic ({n})"),
        };
        let mut params = Vec::new();
        let all_params = op.item.parameters.iter().chain(op.op.parameters.iter());
        for (i, p) in all_params.enumerate() {
            let ReferenceOr::Item(p) = p else {
                params.push(json!({"ref": "unsupported $ref parameter"}));
                continue;
            };
            let (loc, data) = match p {
                Parameter::Query { parameter_data, .. } => ("query", parameter_data),
                Parameter::Path { parameter_data, .. } => ("path", parameter_data),
                Parameter::Header { parameter_data, .. } => ("header", parameter_data),
                Parameter::Cookie { parameter_data, .. } => ("cookie", parameter_data),
            };
            let n_item = op.item.parameters.len();
            let raw = if i < n_item {
                &spec.raw["paths"][op.path]["parameters"][i]
            } else {
                &op.raw["parameters"][i - n_item]
            };
            let schema = match &data.format {
                ParameterSchemaOrContent::Schema(s) => schema_label(s, &raw["schema"]),
                ParameterSchemaOrContent::Content(_) => "content".into(),
            };
            let mut param = json!({
                "name": data.name, "in": loc, "required": data.required, "schema": schema,
            });
            if let Some(auto) = raw.get("x-auto-value") {
                param["auto_value"] = auto.clone();
            }
            params.push(param);
        }
        let body = op.op.request_body.as_ref().map(|b| match b {
            ReferenceOr::Item(b) => {
                let (ct, media) = b
                    .content
                    .iter()
                    .next()
                    .map_or(("none", None), |(k, v)| (k.as_str(), Some(v)));
                let schema = media.map_or("none".into(), |m| {
                    media_label(m, &op.raw["requestBody"]["content"][ct])
                });
                json!({"content_type": ct, "schema": schema, "required": b.required})
            }
            ReferenceOr::Reference { reference } => json!({"ref": reference}),
        });
        let mut responses = serde_json::Map::new();
        let all = op
            .op
            .responses
            .responses
            .iter()
            .map(|(c, r)| (status_label(c), r))
            .chain(
                op.op
                    .responses
                    .default
                    .iter()
                    .map(|r| ("default".to_string(), r)),
            );
        for (code, resp) in all {
            let label = match resp {
                ReferenceOr::Item(r) => match r.content.iter().next() {
                    Some((ct, m)) => format!(
                        "{} ({ct})",
                        media_label(m, &op.raw["responses"][&code]["content"][ct])
                    ),
                    None => "no body".into(),
                },
                ReferenceOr::Reference { reference } => reference.clone(),
            };
            responses.insert(code, Value::String(label));
        }
        ops.push(json!({
            "operation_id": op.id,
            "method": op.method,
            "host": op.host(&spec.api),
            "path": op.path,
            "auth": auth,
            "idempotent": op.idempotent(),
            "parameters": params,
            "request_body": body,
            "responses": responses,
        }));
    }
    let pages = spec::browser_pages(spec)?;
    let hand_written: Vec<Value> = spec::operations(spec)
        .into_iter()
        .filter(|op| op.hand_written)
        .map(|op| {
            json!({
                "name": op.id,
                "method": op.method,
                "host": op.host(&spec.api),
                "path": op.path,
            })
        })
        .collect();
    Ok(json!({
        "spec": spec.rel_path,
        "title": spec.api.info.title,
        "version": spec.api.info.version,
        "operations": ops,
        "browser_pages": pages,
        "hand_written_operations": hand_written,
    }))
}
