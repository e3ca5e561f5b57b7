//! What an operation handler gets (`Call`) and gives (`Answer`), and the services' documented
//! error shapes. Below every product module; no sandbox state.

use http::Response;
use serde_json::{Value, json};

use crate::http::{Body, Req, json_response};
use crate::spec::{Catalog, ErrorStyle, Operation};

/// `{"field": ["message", ..]}`: the messages grouped by field.
fn by_field(fields: &[(String, String)]) -> serde_json::Map<String, Value> {
    let mut errors = serde_json::Map::new();
    for (f, m) in fields {
        if let Some(a) = errors
            .entry(f.clone())
            .or_insert_with(|| json!([]))
            .as_array_mut()
        {
            a.push(json!(m))
        }
    }
    errors
}

/// A validation failure in the spec's documented shape.
pub(crate) fn invalid(
    style: ErrorStyle,
    fields: &[(String, String)],
    traceid: Option<&str>,
) -> Response<Body> {
    match style {
        ErrorStyle::Ipg => json_response(
            422,
            &json!({"status": 0, "errors": fields.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>()}),
        ),
        ErrorStyle::Vandar => {
            let errors = by_field(fields);
            json_response(
                422,
                &json!({"message": "The given data was invalid.", "errors": errors}),
            )
        }
        ErrorStyle::Sanbod => {
            let errors = by_field(fields);
            json_response(
                400,
                &json!({"error": true, "message": errors, "result_number": 0, "traceid": traceid}),
            )
        }
    }
}

/// An error with a plain message in the spec's shape.
pub(crate) fn failure(
    style: ErrorStyle,
    status: u16,
    message: &str,
    traceid: Option<&str>,
) -> Response<Body> {
    match style {
        ErrorStyle::Ipg => json_response(status, &json!({"status": 0, "errors": [message]})),
        ErrorStyle::Vandar => json_response(status, &json!({"status": 0, "message": message})),
        ErrorStyle::Sanbod => json_response(
            status,
            &json!({"error": true, "message": message, "result_number": 0, "traceid": traceid}),
        ),
    }
}

/// `{"status":0,"error":"Unauthenticated"}` with 401.
pub(crate) fn unauthenticated() -> Response<Body> {
    json_response(401, &json!({"status": 0, "error": "Unauthenticated"}))
}

/// Everything one operation call needs.
pub(crate) struct Call<'a> {
    /// Every base URL of the sandbox (`http://127.0.0.1:PORT`).
    pub base_url: &'a str,
    /// The specs (the bank list of `list_active_banks`, ...).
    pub catalog: &'a Catalog,
    pub op: &'a Operation,
    pub req: &'a Req,
    pub params: Vec<(String, String)>,
    pub body: Value,
}

impl Call<'_> {
    pub(crate) fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }
    pub(crate) fn traceid(&self) -> Option<&str> {
        self.req.query("traceid")
    }
}

/// What an operation handler answers.
pub(crate) enum Answer {
    /// A JSON body (success bodies are checked against the spec).
    Json(u16, Value),
    /// A ready response (errors, redirects).
    Raw(Box<Response<Body>>),
}

impl Answer {
    /// Wrap a ready response.
    pub(crate) fn raw(r: Response<Body>) -> Answer {
        Answer::Raw(Box::new(r))
    }
}

/// A refusal of one field, in the service's validation shape.
pub(crate) fn raw_invalid(style: ErrorStyle, field: &str, message: &str) -> Answer {
    Answer::raw(invalid(
        style,
        &[(field.to_owned(), message.to_owned())],
        None,
    ))
}

/// A body field that is a string or a number, as text.
pub(crate) fn str_field(body: &Value, name: &str) -> Option<String> {
    match body.get(name) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}
