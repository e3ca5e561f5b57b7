//! The HTML pages: the IPG pay page, the Sanbod consent page, and plain pages for the others.

use crate::server::{Body, Req, Shared, html_response};
use crate::spec::Page;
use crate::state::{DEFAULT_CARD, PayState};
use http::Response;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
<style>body{{font-family:sans-serif;max-width:32rem;margin:3rem auto}}button{{font-size:1.1rem;padding:.5rem 1.5rem;margin:.3rem}}\
.amount{{font-size:1.6rem;font-weight:bold}}</style></head><body>\
<p><small>vandar-sandbox (local test server, no real money)</small></p><h1>{t}</h1>{body}</body></html>\n",
        t = escape(title)
    )
}

/// Group digits by thousands: `1,250,000`.
fn thousands(n: i64) -> String {
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Serve a browser page from the specs' `x-browser-pages`.
pub(crate) fn serve(
    shared: &Shared,
    _req: &Req,
    page: &Page,
    params: &[(String, String)],
) -> Response<Body> {
    let token = params
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    match (page.spec, page.name.as_str()) {
        ("vandar-ipg", "payment_page") => pay_page(shared, &token),
        ("vandar-subscription", "authorization_page") => bank_page(shared, &token),
        _ => html_response(
            200,
            layout(
                &format!("{} ({})", page.name.replace('_', " "), page.spec),
                &format!(
                    "<p>This page ({path}) is not simulated by the sandbox: it only confirms that the \
                     browser reached it with token <code id=\"token\">{token}</code>.</p>",
                    path = escape(&page.path),
                    token = escape(&token)
                ),
            ),
        ),
    }
}

fn pay_page(shared: &Shared, token: &str) -> Response<Body> {
    let mut st = shared.lock();
    let Some(p) = st.payments.get_mut(token) else {
        return html_response(
            404,
            layout("Payment not found", "<p>Unknown payment token.</p>"),
        );
    };
    // one-time URL: a second visit answers 404 (documented)
    if p.page_visits > 0 || p.state != PayState::Pending {
        return html_response(
            404,
            layout(
                "Payment page expired",
                "<p>This payment page was already opened.</p>",
            ),
        );
    }
    p.page_visits += 1;
    let t = escape(token);
    let details = format!(
        "<p>Amount: <span class=\"amount\" id=\"amount\" data-rial=\"{amount}\">{fmt} Rial</span></p>\
<p>Invoice: <span id=\"factor\">{factor}</span><br>Description: <span id=\"description\">{desc}</span></p>\
<form id=\"pay-form\" method=\"post\" action=\"/__sandbox/ipg/{t}/pay\">\
<input type=\"hidden\" name=\"redirect\" value=\"1\">\
<label>Card number <input id=\"card\" name=\"card\" value=\"{card}\" inputmode=\"numeric\" maxlength=\"16\"></label><br>\
<button id=\"pay\" type=\"submit\">Pay</button></form>\
<form id=\"cancel-form\" method=\"post\" action=\"/__sandbox/ipg/{t}/fail\">\
<input type=\"hidden\" name=\"redirect\" value=\"1\"><button id=\"cancel\" type=\"submit\">Cancel</button></form>",
        amount = p.amount,
        fmt = thousands(p.amount),
        factor = escape(p.factor_number.as_deref().unwrap_or("-")),
        desc = escape(p.description.as_deref().unwrap_or("-")),
        card = DEFAULT_CARD,
    );
    html_response(200, layout("Vandar payment", &details))
}

/// The direct-debit bank page: approve or refuse the mandate.
fn bank_page(shared: &Shared, token: &str) -> Response<Body> {
    let mut st = shared.lock();
    match crate::dd::page_visit(&mut st, token) {
        Err(e) => html_response(
            404,
            layout("Authorization not found", &format!("<p>{}</p>", escape(&e))),
        ),
        Ok(Some(url)) => crate::server::redirect(&url),
        Ok(None) => {
            let Some(m) = st.dd.mandates.iter().find(|m| m.token == token) else {
                return html_response(404, layout("Authorization not found", ""));
            };
            let t = escape(token);
            let body = format!(
                "<p>Bank <span id=\"bank\">{bank}</span> asks you to allow direct debit for mobile \
<span id=\"mobile\">{mobile}</span>:</p><ul><li>up to <span id=\"limit\">{limit}</span> Rial per withdrawal</li>\
<li>up to <span id=\"count\">{count}</span> withdrawals a month</li><li>until {exp}</li></ul>\
<form id=\"approve-form\" method=\"post\" action=\"/__sandbox/mandates/{t}/approve\"><input type=\"hidden\" name=\"redirect\" value=\"1\">\
<button id=\"approve\" type=\"submit\">Approve</button></form>\
<form id=\"reject-form\" method=\"post\" action=\"/__sandbox/mandates/{t}/fail\"><input type=\"hidden\" name=\"redirect\" value=\"1\">\
<input type=\"hidden\" name=\"error_code\" value=\"02\"><button id=\"reject\" type=\"submit\">Reject</button></form>",
                bank = escape(&m.bank_code),
                mobile = escape(&m.mobile),
                limit = thousands(m.limit),
                count = m.count,
                exp = escape(&m.expiration_date),
            );
            html_response(200, layout("Direct debit authorization", &body))
        }
    }
}

/// The Sanbod consent page of a session.
pub(crate) fn consent_page(shared: &Shared, session: &str) -> Response<Body> {
    let st = shared.lock();
    let Some(s) = st.sanbod.sessions.get(session) else {
        return html_response(
            404,
            layout("Consent not found", "<p>Unknown consent session.</p>"),
        );
    };
    if s.decided {
        return html_response(
            404,
            layout(
                "Consent expired",
                "<p>This consent was already decided.</p>",
            ),
        );
    }
    let id = escape(session);
    let scopes: String = s
        .scope
        .iter()
        .map(|x| format!("<li>{}</li>", escape(x)))
        .collect();
    html_response(
        200,
        layout(
            "Sanbod consent",
            &format!(
                "<p>The application asks for these services:</p><ul id=\"scopes\">{scopes}</ul>\
<form id=\"allow-form\" method=\"post\" action=\"/__sandbox/sanbod/consent/{id}/allow\"><input type=\"hidden\" name=\"redirect\" value=\"1\">\
<button id=\"allow\" type=\"submit\">Allow</button></form>\
<form id=\"deny-form\" method=\"post\" action=\"/__sandbox/sanbod/consent/{id}/deny\"><input type=\"hidden\" name=\"redirect\" value=\"1\">\
<button id=\"deny\" type=\"submit\">Deny</button></form>"
            ),
        ),
    )
}

/// `GET /`: what this sandbox is.
pub(crate) fn index(shared: &Shared) -> Response<Body> {
    let pages: String = shared
        .catalog
        .pages
        .iter()
        .map(|p| {
            format!(
                "<li>{} <code>{}</code></li>",
                escape(&p.name),
                escape(&p.path)
            )
        })
        .collect();
    html_response(
        200,
        layout(
            "vandar-sandbox",
            &format!(
                "<p>{} operations from the embedded specs. Credentials: <a href=\"/__sandbox/credentials\">/__sandbox/credentials</a>; \
operations: <a href=\"/__sandbox/operations\">/__sandbox/operations</a>.</p><p>Browser pages:</p><ul>{pages}</ul>",
                shared.catalog.operations.len()
            ),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(250_000), "250,000");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(escape("<a&\">"), "&lt;a&amp;&quot;&gt;");
    }
}
