//! Free-form bodies and answers (review r9, rev-a F4, F8, F9): the parts of a request or an
//! answer the specs do not describe (`Undocumented`, `serde_json::Value` and map fields).
//!
//! * URL fields inside a free-form request body are found by name at any depth: a bad one
//!   refuses the call (nothing is sent, the error names the key, not the value), a good one is
//!   sent normalized;
//! * `Debug` of free-form bodies, answers and the builders that hold them hides sensitive keys
//!   at any depth and masks card, IBAN and national-code shapes;
//! * a card number the API sends unmasked (`PayerAccount.pan`, `MaskedCardNumber`) is never
//!   printed whole.
//!
//! Mock servers on 127.0.0.1 count what arrives.

use serde_json::{Map, Value, json};
use vandar::{Config, Error, Vandar};
use vandar_runtime::test_util::{FaultServer, Reply};
use vandar_runtime::{CheckedBody, Route};

const TOKEN: &str = "tok-SECRET-access-77";
const CARD: &str = "6037997599999993";
const NATIONAL: &str = "0499370899";
const IBAN: &str = "IR820540102680020817909002";
const IBAN_DIGITS: &str = "820540102680020817909002";
const JS: &str = "javascript:alert(document.cookie)//https://shop.example/";

fn vandar_at(base: &str) -> Vandar {
    Vandar::new(
        Config::builder()
            .all_hosts(base)
            .access_token(TOKEN)
            .build()
            .unwrap(),
    )
    .unwrap()
}

fn object(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// The error refuses the call naming `key` and `operation`, without the value.
#[track_caller]
fn assert_refused<T: std::fmt::Debug>(result: Result<T, Error>, key: &str, operation: &str) {
    let e = result.expect_err("the call must be refused");
    assert!(matches!(e, Error::InvalidRequest(_)), "{e:?}");
    let text = format!("{e} {e:?}");
    assert!(
        text.contains(&format!("`{key}`")) && text.contains(operation),
        "{text}"
    );
    assert!(
        !text.contains("javascript") && !text.contains("evil"),
        "{text}"
    );
}

/// Review F4: `notify_url`, `callback_url` and `redirect_url` in free-form bodies of core,
/// Ravand and subscription are checked: nothing is sent and each error names its key.
#[tokio::test]
async fn url_fields_in_free_form_bodies_are_checked() {
    let server = FaultServer::start(|_| Reply::json(200, json!({"status": 1}))).await;
    let v = vandar_at(&format!("{}/mock", server.uri()));
    let body = |k: &str| object(json!({"amount": 1000, k: JS}));
    let r1 = v
        .core()
        .store_queued_settlement()
        .business("shop")
        .body(body("notify_url"))
        .send()
        .await;
    let r2 = v
        .ravand()
        .create_card_activation_token()
        .business("shop")
        .provider("P")
        .cardholder_id("1")
        .body(body("callback_url"))
        .send()
        .await;
    let r3 = v
        .subscription()
        .store_refund()
        .business("shop")
        .body(body("redirect_url"))
        .send()
        .await;
    let sent: Vec<String> = server
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.path, String::from_utf8_lossy(&r.body)))
        .collect();
    assert!(
        sent.is_empty(),
        "free-form bodies with a `javascript:` URL field were sent:\n{}",
        sent.join("\n")
    );
    assert_refused(r1, "notify_url", "store_queued_settlement");
    assert_refused(r2, "callback_url", "create_card_activation_token");
    assert_refused(r3, "redirect_url", "store_refund");
}

/// A URL nested in a free-form body is refused with its path; a good one goes out normalized
/// and every other value exactly as given.
#[tokio::test]
async fn free_form_url_fields_are_sent_normalized() {
    let server = FaultServer::start(|_| Reply::json(200, json!({"status": 1}))).await;
    let v = vandar_at(&format!("{}/mock", server.uri()));
    let nested = v
        .core()
        .store_queued_settlement()
        .business("shop")
        .body(object(
            json!({"items": [{"amount": 1000, "callback": {"url": "https://a@evil.example/"}}]}),
        ))
        .send()
        .await;
    assert_refused(nested, "items[0].callback.url", "store_queued_settlement");
    assert_eq!(server.requests().len(), 0);

    v.core()
        .store_queued_settlement()
        .business("shop")
        .body(object(json!({
            "amount": 1000,
            "notify_url": "HTTPS://Shop.EXAMPLE:443/a/./b/../cb",
            "callback_method": "POST",
            "description": "javascript: is only text here",
        })))
        .send()
        .await
        .unwrap();
    let sent = server.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].json().unwrap(),
        json!({
            "amount": 1000,
            "notify_url": "https://shop.example/a/cb",
            "callback_method": "POST",
            "description": "javascript: is only text here",
        })
    );
}

/// Every free-form request body of the three crates that have one (30 operations share these
/// three types) runs the URL check, whatever the route; so does an untyped `Value` body (the
/// CLI's `vandar call`).
#[test]
fn every_free_form_body_type_checks_url_fields() {
    fn route(routes: &'static [Route], op: &str) -> &'static Route {
        routes.iter().find(|r| r.operation_id == op).unwrap()
    }
    let bad = object(json!({"deep": [{"webhook": {"uri": JS}}]}));
    let core = CheckedBody::new(
        route(vandar::core::ROUTES, "inquiry_card"),
        vandar::core::types::Undocumented::from(bad.clone()),
    );
    let ravand = CheckedBody::new(
        route(vandar::ravand::ROUTES, "transfer"),
        vandar::ravand::types::Undocumented::from(bad.clone()),
    );
    let subscription = CheckedBody::new(
        route(vandar::subscription::ROUTES, "store_refund"),
        vandar::subscription::types::Undocumented::from(bad.clone()),
    );
    let value = CheckedBody::new(
        route(vandar::ipg::ROUTES, "send_payment"),
        json!({"api_key": "k", "amount": 10000, "callback_url": "https://shop.example/cb",
               "extra": bad}),
    );
    for (e, op) in [
        (core.map(|_| ()), "inquiry_card"),
        (ravand.map(|_| ()), "transfer"),
        (subscription.map(|_| ()), "store_refund"),
    ] {
        assert_refused(e, "deep[0].webhook.uri", op);
    }
    assert_refused(
        value.map(|_| ()),
        "extra.deep[0].webhook.uri",
        "send_payment",
    );
}

/// Review F8: `Debug` of free-form bodies (core), answers (every Ravand answer) and the
/// operation builder holding one hides card numbers, national codes, IBANs and passwords.
#[test]
fn undocumented_bodies_redact_sensitive_fields_in_debug() {
    let map = object(
        json!({"card_number": CARD, "national_code": NATIONAL, "password": "pw-SECRET-1",
                            "nested": {"iban": IBAN}}),
    );
    let core_body = vandar::core::types::Undocumented::from(map.clone());
    let ravand_answer = vandar::ravand::types::Undocumented::from(map.clone());
    let v = vandar_at("http://127.0.0.1:9/mock");
    let core = v.core();
    let builder = core.inquiry_card().business("shop").body(map.clone());
    for text in [
        format!("{core_body:?}"),
        format!("{ravand_answer:?}"),
        format!("{builder:?}"),
    ] {
        for secret in [CARD, NATIONAL, "pw-SECRET-1", IBAN_DIGITS] {
            assert!(!text.contains(secret), "{secret} in Debug: {text}");
        }
        assert!(text.contains("\"card_number\": [redacted]"), "{text}");
        assert!(
            text.contains("\"nested\": Object {\"iban\": [redacted]}"),
            "{text}"
        );
    }
}

/// The same for values under ordinary keys (shapes masked), the error bodies' free-form
/// fields, and a Ravand answer decoded from a server.
#[tokio::test]
async fn free_form_answers_and_error_bodies_mask_shapes_in_debug() {
    let answer = json!({"holder": {"note": format!("card {CARD}"), "ids": [NATIONAL],
                        "sheba": IBAN, "mobile": "09120000000"}});
    let server = FaultServer::start({
        let answer = answer.clone();
        move |_| Reply::json(200, answer.clone())
    })
    .await;
    let v = vandar_at(&format!("{}/mock", server.uri()));
    let got = v
        .ravand()
        .inquire_cardholder()
        .business("shop")
        .provider("P")
        .cardholder_id("1")
        .send_with_response()
        .await
        .unwrap();
    let error: vandar::core::types::VandarError = serde_json::from_value(
        json!({"message": "visible-message", "errors": {"national_code": [NATIONAL]},
               "card": CARD}),
    )
    .unwrap();
    for text in [format!("{got:?}"), format!("{error:?}")] {
        for secret in [CARD, NATIONAL, IBAN_DIGITS] {
            assert!(!text.contains(secret), "{secret} in Debug: {text}");
        }
    }
    let text = format!("{got:?}");
    assert!(
        text.contains("603799******9993") && text.contains("09120000000"),
        "{text}"
    );
    assert!(format!("{error:?}").contains("visible-message"));
    // the answer itself is the data the server sent
    assert_eq!(Value::Object(got.body().0.clone()), answer);
}

/// Review F9: a card number the API sends unmasked, in `PayerAccount.pan` or as a
/// `MaskedCardNumber`, is never printed whole; the text as received stays available.
#[test]
fn pan_fields_do_not_print_a_full_card_number() {
    let account: vandar::subscription::types::PayerAccount =
        serde_json::from_value(json!({"account_number": "0201794880100", "pan": CARD})).unwrap();
    let masked = vandar_runtime::domain::MaskedCardNumber::new(CARD);
    for text in [
        format!("{account:?}"),
        format!("{masked:?}"),
        masked.to_string(),
    ] {
        assert!(!text.contains(CARD), "full PAN in {text}");
    }
    assert!(format!("{account:?}").contains("0201794880100"));
    assert_eq!(masked.to_string(), "603799******9993");
    assert_eq!(masked.as_str(), CARD);
    assert_eq!(serde_json::to_value(&masked).unwrap(), json!(CARD));
}
