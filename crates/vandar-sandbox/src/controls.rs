//! The test controls under `/__sandbox/`.

use std::time::Duration;

use http::Method;
use serde_json::{Value, json};

use crate::http::{Body, Req, json_response, redirect};
use crate::i18n::Lang;
use crate::state::{Fault, SettlementEnd};
use crate::webhooks::{self, LoggedNotification};
use crate::world::Shared;
use http::Response;

/// The path template of the Sanbod consent page (`authorize` redirects there).
pub(crate) const CONSENT_PAGE_PATH: &str = "/__sandbox/sanbod/consent/{session}";

fn bad_request(message: &str) -> Response<Body> {
    json_response(400, &json!({"error": message}))
}

fn body_json(req: &Req) -> Value {
    serde_json::from_slice(&req.body).unwrap_or(Value::Null)
}

/// A buyer's or user's decision: a 302 for a browser form (`redirect=1`), JSON otherwise.
fn decision(req: &Req, result: Result<String, String>) -> Response<Body> {
    let form = req.form();
    let browser = form.iter().any(|(k, v)| k == "redirect" && v == "1");
    match result {
        Ok(url) if browser => redirect(&url),
        Ok(url) => json_response(200, &json!({"redirect_url": url})),
        Err(e) if browser => {
            let lang = Lang::parse(
                form.iter()
                    .find(|(k, _)| k == "lang")
                    .map(|(_, v)| v.as_str()),
            );
            crate::pages::refused_decision(lang, &e)
        }
        Err(e) => json_response(409, &json!({"error": e})),
    }
}

/// Send a logged notification again now (a webhook POST again, or the GET of a browser
/// callback); returns the entry with the new attempt.
pub(crate) async fn resend(shared: &Shared, id: u64) -> Result<LoggedNotification, String> {
    let entry = shared
        .log()
        .get(id)
        .cloned()
        .ok_or_else(|| format!("no notification {id} (GET /__sandbox/notifications)"))?;
    let method = Method::from_bytes(entry.method.as_bytes()).unwrap_or(Method::POST);
    let attempt = webhooks::deliver(&method, &entry.url, &entry.form).await;
    let mut log = shared.log();
    log.attempted(id, attempt);
    log.get(id)
        .cloned()
        .ok_or_else(|| format!("notification {id} left the log"))
}

/// Handle `/__sandbox{rest}`.
pub(crate) async fn handle(shared: &Shared, req: &Req, rest: &str) -> Response<Body> {
    let parts: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let m = &req.method;
    match (m, parts.as_slice()) {
        (&Method::GET, ["credentials"]) => json_response(
            200,
            &serde_json::to_value(&shared.lock().creds).unwrap_or_default(),
        ),
        (&Method::GET, ["operations"]) => {
            let ops: Vec<Value> = shared
                .catalog
                .operations
                .iter()
                .map(|o| {
                    json!({
                        "spec": o.spec,
                        "operation": o.id,
                        "method": o.method.as_str(),
                        "path": o.path,
                        "stateful": crate::router::is_stateful(o.spec, &o.id),
                        "auth": format!("{:?}", o.auth),
                        "success_status": o.success_status,
                        "answer_from_example": o.canned_from_example,
                        "rejected_examples": o.rejected_examples,
                        "example_request": o.example_request,
                        "example_query": o.example_query.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let mut pages: Vec<Value> = shared
                .catalog
                .pages
                .iter()
                .map(|p| json!({"spec": p.spec, "name": p.name, "path": p.path, "simulated": p.simulated()}))
                .collect();
            // Sanbod's consent page is the bank's login page, not in the spec's `x-browser-pages`
            // (`authorize` answers 302 to it); the sandbox serves its own under `/__sandbox/`.
            pages.push(json!({"spec": "sanbod", "name": "consent_page", "path": CONSENT_PAGE_PATH, "simulated": true}));
            json_response(200, &json!({"operations": ops, "pages": pages}))
        }
        (&Method::POST, ["ipg", token, action @ ("pay" | "fail")]) => {
            let card = req
                .form()
                .into_iter()
                .find(|(k, _)| k == "card")
                .map(|(_, v)| v)
                .or_else(|| body_json(req)["card"].as_str().map(str::to_owned));
            let result = {
                let mut world = shared.lock();
                let world = &mut *world;
                world
                    .ipg
                    .decide(&mut world.core, token, *action == "pay", card.as_deref())
            };
            decision(req, result)
        }
        (&Method::POST, ["mandates", token, action @ ("approve" | "fail")]) => {
            let code = req
                .form()
                .into_iter()
                .find(|(k, _)| k == "error_code")
                .map(|(_, v)| v)
                .or_else(|| body_json(req)["error_code"].as_str().map(str::to_owned));
            let mut world = shared.lock();
            let world = &mut *world;
            let result = crate::dd::decide(
                &mut world.core,
                &mut world.dd,
                token,
                *action == "approve",
                code.as_deref(),
            );
            decision(req, result)
        }
        (&Method::GET, ["sanbod", "consent", session]) => {
            crate::pages::consent_page(shared, req, session)
        }
        (&Method::GET, ["assets", name]) => crate::pages::asset(name)
            .unwrap_or_else(|| json_response(404, &json!({"error": "unknown asset"}))),
        (&Method::POST, ["sanbod", "consent", session, action @ ("allow" | "deny")]) => {
            let result = {
                let mut st = shared.lock();
                let now = st.now();
                st.sanbod.decide(session, *action == "allow", now)
            };
            decision(req, result)
        }
        (&Method::GET, ["clock"]) => {
            let now = shared.lock().now();
            json_response(200, &json!({"now_ms": now}))
        }
        (&Method::POST, ["clock", "advance"]) => {
            let Some(secs) = body_json(req)["seconds"].as_u64() else {
                return bad_request("body must be {\"seconds\": N}");
            };
            let now = {
                let mut st = shared.lock();
                st.clock.advance(Duration::from_secs(secs));
                st.tick();
                st.now()
            };
            shared.flush();
            json_response(200, &json!({"now_ms": now}))
        }
        (&Method::POST, ["clock", "freeze"]) => {
            let Some(frozen) = body_json(req)["frozen"].as_bool() else {
                return bad_request("body must be {\"frozen\": true|false}");
            };
            shared.lock().clock.set_frozen(frozen);
            json_response(200, &json!({"frozen": frozen}))
        }
        (&Method::POST, ["faults"]) => match serde_json::from_slice::<Fault>(&req.body) {
            Ok(f) => {
                if shared
                    .catalog
                    .find(f.spec.as_deref(), &f.operation)
                    .is_empty()
                {
                    return bad_request("unknown operation (or spec)");
                }
                shared.lock().faults.push(f);
                json_response(200, &json!({"ok": true}))
            }
            Err(e) => bad_request(&format!("invalid fault: {e}")),
        },
        (&Method::DELETE, ["faults"]) => {
            shared.lock().faults.clear();
            json_response(200, &json!({"ok": true}))
        }
        (&Method::POST, ["rate-limit"]) => {
            let Some(enabled) = body_json(req)["enabled"].as_bool() else {
                return bad_request("body must be {\"enabled\": true|false}");
            };
            let mut st = shared.lock();
            st.rate_limit = enabled;
            st.rate.clear();
            json_response(200, &json!({"enabled": enabled}))
        }
        (&Method::POST, ["seed", "transactions"]) => {
            let Some(count) = body_json(req)["count"].as_u64() else {
                return bad_request("body must be {\"count\": N}");
            };
            let seeded = shared
                .lock()
                .seed_transactions(usize::try_from(count).unwrap_or(usize::MAX));
            match seeded {
                Ok(s) => json_response(200, &serde_json::to_value(s).unwrap_or_default()),
                Err(e) => bad_request(&e),
            }
        }
        (&Method::POST, ["reset"]) => {
            shared.lock().reset();
            shared.log().clear();
            json_response(200, &json!({"ok": true}))
        }
        (&Method::POST, ["settlements", id, action @ ("done" | "failed")]) => {
            let end = if *action == "done" {
                SettlementEnd::Done
            } else {
                SettlementEnd::Failed
            };
            let result = shared.lock().end_settlement(id, end);
            match result {
                Ok(s) => json_response(
                    200,
                    &json!({"id": s.id, "transaction_id": s.transaction_id, "track_id": s.track_id,
                            "status": s.status, "ref_code": s.ref_code,
                            "revised_transaction_id": s.revised_transaction_id,
                            "notify_url": s.notify_url}),
                ),
                Err(e) if e.starts_with("no settlement") => {
                    json_response(404, &json!({"error": e}))
                }
                Err(e) => json_response(409, &json!({"error": e})),
            }
        }
        (&Method::GET, ["notifications"]) => {
            json_response(200, &json!({"notifications": shared.log().newest_first()}))
        }
        (&Method::POST, ["notifications", id, "resend"]) => {
            match resend(shared, id.parse().unwrap_or(0)).await {
                Ok(n) => json_response(200, &serde_json::to_value(n).unwrap_or_default()),
                Err(e) => json_response(404, &json!({"error": e})),
            }
        }
        _ => json_response(404, &json!({"error": "unknown sandbox control"})),
    }
}
