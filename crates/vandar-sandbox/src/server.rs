//! The server, on top: accepts connections, reads each request (with the HTTP layer below),
//! sends `/__sandbox/*` to the controls and browser pages to `pages`, and runs an operation
//! through faults, rate limits, auth and validation to the router's handler table (or its spec
//! example), checking every success answer against its schema.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Method, Request, Response, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub(crate) use crate::answer::{Answer, Call, failure, invalid, unauthenticated};
pub(crate) use crate::http::{Body, Reply, Req, html_response, json_response, redirect};
use crate::pages;
use crate::spec::{AuthKind, ErrorStyle, Operation, ParamIn};
use crate::state::FaultKind;
pub(crate) use crate::world::Shared;

fn field_of(err: &jsonschema::ValidationError<'_>) -> String {
    let mut parts: Vec<String> = err
        .instance_path()
        .as_str()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    if let jsonschema::error::ValidationErrorKind::Required { property } = err.kind() {
        parts.push(
            property
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| property.to_string()),
        );
    }
    parts.join(".")
}

/// Validate `instance`; returns `(field, message)` pairs, one per failing field.
pub(crate) fn check(
    validator: &jsonschema::Validator,
    instance: &Value,
    style: ErrorStyle,
    prefix: &str,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for err in validator.iter_errors(instance) {
        let mut field = field_of(&err);
        if field.is_empty() {
            field = prefix.to_owned();
        } else if !prefix.is_empty() {
            field = format!("{prefix}.{field}");
        }
        let label = if field.is_empty() {
            "body".to_owned()
        } else {
            field.clone()
        };
        let message = match (err.kind(), style) {
            (jsonschema::error::ValidationErrorKind::Required { .. }, ErrorStyle::Vandar) => {
                format!("The {} field is required.", label.replace('_', " "))
            }
            (jsonschema::error::ValidationErrorKind::Required { .. }, _) => {
                format!("{label} is required")
            }
            _ => format!("{label} is invalid: {}", err.masked()),
        };
        if !out.iter().any(|(f, _)| *f == field) {
            out.push((field, message));
        }
    }
    out
}

fn validate_request(
    op: &Operation,
    req: &Req,
    path_params: &[(String, String)],
) -> Result<Value, Vec<(String, String)>> {
    let mut errors = Vec::new();
    for p in &op.params {
        let raw = match p.location {
            ParamIn::Path => path_params
                .iter()
                .find(|(k, _)| *k == p.name)
                .map(|(_, v)| v.as_str()),
            ParamIn::Query => req.query(&p.name),
        };
        let Some(raw) = raw else {
            if p.required {
                errors.push((p.name.clone(), required_message(op.style, &p.name)));
            }
            continue;
        };
        if let Some(v) = &p.validator {
            let as_string = Value::String(raw.to_owned());
            if v.is_valid(&as_string) {
                continue;
            }
            // query strings carry numbers and booleans as text
            let parsed: Option<Value> = serde_json::from_str(raw).ok();
            if parsed.as_ref().is_some_and(|x| v.is_valid(x)) {
                continue;
            }
            errors.extend(check(
                v,
                parsed.as_ref().unwrap_or(&as_string),
                op.style,
                &p.name,
            ));
        }
    }
    let is_form = req
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let body = if req.body.is_empty() {
        Value::Null
    } else if is_form {
        // a form body (e.g. Sanbod's token revocation, RFC 7009) is validated as an object of
        // string fields
        Value::Object(
            req.form()
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        )
    } else {
        match serde_json::from_slice::<Value>(&req.body) {
            Ok(v) => v,
            Err(_) if op.body_validator.is_none() => Value::Null,
            Err(e) => {
                errors.push(("body".into(), format!("the body is not valid JSON: {e}")));
                return Err(errors);
            }
        }
    };
    if let Some(v) = &op.body_validator {
        if body.is_null() {
            if op.body_required {
                errors.push(("body".into(), "a JSON body is required".into()));
            }
        } else {
            errors.extend(check(v, &body, op.style, ""));
        }
    }
    if errors.is_empty() {
        Ok(body)
    } else {
        Err(errors)
    }
}

fn required_message(style: ErrorStyle, name: &str) -> String {
    match style {
        ErrorStyle::Vandar => format!("The {} field is required.", name.replace('_', " ")),
        _ => format!("{name} is required"),
    }
}

/// The credential a call is counted against for rate limiting.
fn credential_key(req: &Req, body_hint: Option<&Value>) -> String {
    if let Some(v) = req
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return v.to_owned();
    }
    if let Some(k) = body_hint
        .and_then(|b| b.get("api_key"))
        .and_then(Value::as_str)
    {
        return format!("api_key:{k}");
    }
    "anonymous".into()
}

fn fault_response(style: ErrorStyle, kind: &FaultKind) -> Option<Response<Body>> {
    match kind {
        FaultKind::Drop | FaultKind::DropAnswer | FaultKind::Delay { .. } => None,
        FaultKind::Status { status } => Some(match style {
            ErrorStyle::Ipg => json_response(*status, &json!({"status": 0, "errors": ["sandbox: injected server error"]})),
            ErrorStyle::Vandar => json_response(*status, &json!({"status": 0, "errors": {"error": "sandbox: injected server error"}})),
            ErrorStyle::Sanbod => json_response(*status, &json!({"error": true, "message": "sandbox: injected server error", "result_number": 0})),
        }),
        FaultKind::RateLimit { retry_after } => Some(too_many(style, *retry_after)),
        FaultKind::Html { status } => Some(html_response(
            *status,
            "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>".into(),
        )),
    }
}

fn too_many(style: ErrorStyle, retry_after: u64) -> Response<Body> {
    let mut r = failure(style, 429, "Too Many Attempts.", None);
    if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Reply {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let query = parts
        .uri
        .query()
        .map(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default())
        .unwrap_or_default();
    let req = Req {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query,
        headers: parts.headers,
        body,
    };
    // The concrete path can carry a card number or an IBAN (core's customer card and IBAN
    // calls): the log names the operation, or the path with those shapes masked.
    if tracing::enabled!(tracing::Level::DEBUG) {
        let op = shared
            .catalog
            .route(&req.method, &req.path)
            .map(|(op, _)| op.id.clone());
        match op {
            Some(op) => tracing::debug!(method = %req.method, operation = %op, "request"),
            None => tracing::debug!(
                method = %req.method,
                path = %crate::values::log_safe(&req.path),
                "request"
            ),
        }
    }
    let reply = dispatch(&shared, &req).await;
    shared.flush();
    reply
}

async fn dispatch(shared: &Shared, req: &Req) -> Reply {
    if let Some(rest) = req.path.strip_prefix("/__sandbox") {
        return Ok(crate::controls::handle(shared, req, rest).await);
    }
    if req.method == Method::GET
        && let Some((page, params)) = shared.catalog.page(&req.path)
    {
        return Ok(pages::serve(shared, req, page, &params));
    }
    if req.method == Method::GET && (req.path == "/" || req.path.is_empty()) {
        return Ok(pages::index(shared, req));
    }
    let Some((op, params)) = shared.catalog.route(&req.method, &req.path) else {
        return Ok(json_response(
            404,
            &json!({"status": 0, "message": format!("sandbox: no operation for {} {}", req.method, req.path)}),
        ));
    };
    let body_hint: Option<Value> = serde_json::from_slice(&req.body).ok();
    // faults and rate limits come first, like a proxy in front of the API
    let (fault, limited) = {
        let mut st = shared.lock();
        st.tick();
        let fault = st.take_fault(op.spec, &op.id);
        let limited = if fault.is_none() {
            let key = credential_key(req, body_hint.as_ref());
            st.rate_check(&key, req.method == Method::POST)
        } else {
            None
        };
        (fault, limited)
    };
    let mut drop_answer = false;
    if let Some(kind) = &fault {
        tracing::info!(operation = %op.id, ?kind, "injecting fault");
        match kind {
            FaultKind::DropAnswer => drop_answer = true,
            FaultKind::Drop => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "sandbox: injected connection drop",
                ));
            }
            FaultKind::Delay { ms } => tokio::time::sleep(Duration::from_millis(*ms)).await,
            other => {
                if let Some(r) = fault_response(op.style, other) {
                    return Ok(r);
                }
            }
        }
    }
    if let Some(retry_after) = limited {
        return Ok(too_many(op.style, retry_after));
    }
    let reply = answer(shared, req, op, params);
    if drop_answer {
        // the operation ran (its effects stay); the client never hears the answer
        return Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox: injected loss of the answer",
        ));
    }
    Ok(reply)
}

/// Authenticate, validate and run one operation (after faults and rate limits).
fn answer(
    shared: &Shared,
    req: &Req,
    op: &Operation,
    params: Vec<(String, String)>,
) -> Response<Body> {
    let traceid = req.query("traceid");
    // authentication
    match op.auth {
        AuthKind::VandarBearer => {
            let ok = req.bearer().is_some_and(|t| shared.lock().access_ok(t));
            if !ok {
                return unauthenticated();
            }
        }
        AuthKind::SanbodBasic => {
            let ok = req.basic().is_some_and(|(id, secret)| {
                let st = shared.lock();
                id == st.creds.sanbod_client_id && secret == st.creds.sanbod_client_secret
            });
            if !ok {
                return json_response(
                    401,
                    &json!({"error": "invalid_client", "error_description": "client authentication failed"}),
                );
            }
        }
        AuthKind::SanbodBearer => {
            // The scope is the service name: the last path segment (`/statement`,
            // `/sanboom/v1/banksinquiry/cardtoiban`).
            let scope = req
                .path
                .split('?')
                .next()
                .unwrap_or_default()
                .rsplit('/')
                .find(|s| !s.is_empty())
                .unwrap_or_default()
                .to_owned();
            let res = match req.bearer() {
                Some(t) => {
                    let st = shared.lock();
                    st.sanbod.check(t, &scope, st.now())
                }
                None => Err((401, "missing bearer token")),
            };
            if let Err((status, message)) = res {
                return failure(ErrorStyle::Sanbod, status, message, traceid);
            }
        }
        AuthKind::None => {}
    }
    let body = match validate_request(op, req, &params) {
        Ok(b) => b,
        Err(fields) => return invalid(op.style, &fields, traceid),
    };
    if let Some((_, business)) = params.iter().find(|(k, _)| k == "business") {
        let known = shared.lock().creds.business.clone();
        if *business != known {
            return failure(
                op.style,
                404,
                &format!("business {business} not found"),
                traceid,
            );
        }
    }
    let call = Call {
        base_url: &shared.base_url,
        catalog: &shared.catalog,
        op,
        req,
        params,
        body,
    };
    // the state is locked once, for the whole flow
    let flowed = crate::router::handle(&mut shared.lock(), &call);
    let answer = match flowed {
        Some(a) => a,
        None => canned(&call),
    };
    let (status, value) = match answer {
        Answer::Raw(r) => return *r,
        Answer::Json(status, value) => (status, value),
    };
    // every success answer must match its schema; a mismatch is a sandbox bug, reported loudly
    if (200..300).contains(&status)
        && let Some(v) = &op.success_validator
    {
        let errs = check(v, &value, ErrorStyle::Ipg, "");
        if !errs.is_empty() {
            tracing::error!(operation = %op.id, ?errs, "sandbox answer breaks the spec schema");
            return json_response(
                500,
                &json!({"status": 0, "message": "sandbox: answer breaks the spec schema", "errors": errs.iter().map(|(_, m)| m).collect::<Vec<_>>()}),
            );
        }
    }
    json_response(status, &value)
}

/// The spec's example (or a synthesized answer) for an operation without a flow.
fn canned(call: &Call<'_>) -> Answer {
    let op = call.op;
    if op.success_status == 302 {
        return Answer::raw(redirect(&format!("{}/", call.base_url)));
    }
    let mut body = op.canned.clone().unwrap_or_else(|| json!({}));
    if op.style == ErrorStyle::Sanbod
        && let (Some(obj), Some(t)) = (body.as_object_mut(), call.traceid())
        && obj.contains_key("traceid")
    {
        obj.insert("traceid".into(), json!(t));
    }
    Answer::Json(op.success_status, body)
}

/// Serve until `shutdown` flips to true.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => break,
        };
        let (stream, peer): (_, SocketAddr) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        let shared = shared.clone();
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            let io = TokioIo::new(stream);
            let svc = service_fn(move |req| {
                let shared = shared.clone();
                async move { handle(shared, req).await }
            });
            let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, svc);
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(%peer, error = %e, "connection closed");
                    }
                }
                _ = stop.changed() => {}
            }
        });
    }
}
