//! Scrubbing end to end, against a local mock server on 127.0.0.1: a redirect whose `Location`
//! echoes the call's token percent-encoded and carries OAuth parameters under any spelling
//! (`code`, `id_token`, `accessToken`) shows none of them in `Error::Redirect`; an error body
//! echoing the token percent-, form- or JSON-encoded, or card numbers, national codes and IBANs
//! in print formats and Persian digits, shows none of them in `Error::Api`; and Sanbod's
//! `authorize_url` returns the consent page exactly as the bank sent it (it is the caller's own
//! data) while the same 302 as an error is scrubbed and nothing reaches the logs.

use serde_json::{Value, json};
use vandar::sanbod::types::AuthorizeRequest;
use vandar::sanbod::{CLIENT_SCHEME, Client};
use vandar::{Config, Error, Vandar};
use vandar_runtime::test_util::CapturedTraces;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A token with the characters that percent-, form- and JSON-encoding change.
const TOKEN: &str = "tok+SECRET/abc==";
const BALANCE: &str = "/api/v2/business/shop/balance";

async fn core(server: &MockServer) -> vandar::core::Client {
    let config = Config::builder()
        .all_hosts(&format!("{}/api", server.uri()))
        .access_token(TOKEN)
        .build()
        .unwrap();
    Vandar::new(config).unwrap().core()
}

async fn balance_error(server: &MockServer, answer: ResponseTemplate) -> Error {
    Mock::given(method("GET"))
        .and(path(BALANCE))
        .respond_with(answer)
        .mount(server)
        .await;
    core(server)
        .await
        .get_balance()
        .business("shop")
        .send()
        .await
        .unwrap_err()
}

/// Every way an error can be shown.
fn shown(e: &Error) -> Vec<String> {
    let mut out = vec![e.to_string(), format!("{e:?}"), format!("{e:#?}")];
    if let Some(api) = e.api_error() {
        out.push(api.raw.to_string());
        out.push(format!("{:?}", api.messages));
        out.push(format!("{:?}", api.field_errors));
    }
    out
}

/// The text with Persian and Arabic-Indic digits read as ASCII and separators dropped, so that
/// a number shows as its digits in a row whatever format it was echoed in.
fn digits_in_a_row(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '.' | '_' | '+' | '\u{200c}' | '\\'))
        .map(|c| match u32::from(c) {
            d @ 0x06F0..=0x06F9 => char::from_digit(d - 0x06F0, 10).unwrap(),
            d @ 0x0660..=0x0669 => char::from_digit(d - 0x0660, 10).unwrap(),
            _ => c,
        })
        .collect()
}

#[tokio::test]
async fn a_redirect_echoing_the_token_and_oauth_parameters_is_scrubbed() {
    let server = MockServer::start().await;
    let location = "https://bank.example/cb?access_token=tok%2BSECRET%2Fabc%3D%3D\
        &x=tok%2BSECRET%2Fabc%3D%3D&y=tok%2bSECRET%2fabc%3d%3d&code=oauth-code-77\
        &id_token=eyJ.idt.sig&accessToken=camel-77&Access-Token=dash-77&state=st-keep\
        &ref=6037997599999993&nc=%DB%B0%DB%B4%DB%B9%DB%B9%DB%B3%DB%B7%DB%B0%DB%B8%DB%B9%DB%B9\
        #id_token=frag-77&token=t-77";
    let err = balance_error(
        &server,
        ResponseTemplate::new(302).insert_header("Location", location),
    )
    .await;
    let Error::Redirect {
        location: Some(kept),
        http_status: 302,
        ..
    } = &err
    else {
        panic!("expected a redirect, got {err:?}");
    };
    assert!(kept.contains("state=st-keep"), "{kept}");
    assert!(kept.contains("code=[redacted]"), "{kept}");
    assert!(kept.contains("ref=603799******9993"), "{kept}");
    for text in shown(&err) {
        for secret in [
            "SECRET",
            "tok%2B",
            "oauth-code-77",
            "eyJ.idt.sig",
            "camel-77",
            "dash-77",
            "frag-77",
            "t-77",
            "6037997599999993",
            "%DB%B9%DB%B3%DB%B7",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}

#[tokio::test]
async fn error_bodies_echoing_the_token_encoded_are_scrubbed() {
    let server = MockServer::start().await;
    let err = balance_error(
        &server,
        ResponseTemplate::new(401).set_body_json(json!({
            "message": "token tok%2BSECRET%2Fabc%3D%3D is not valid",
            "errors": {
                "form": ["access_token=tok%2bSECRET%2fabc%3d%3d&grant=x"],
                "json": ["{\"token\":\"tok\\u002bSECRET\\/abc==\"}"],
                "raw": [format!("Bearer {TOKEN}")],
            },
        })),
    )
    .await;
    assert_eq!(err.http_status(), Some(401));
    for text in shown(&err) {
        assert!(!text.contains("SECRET"), "{text}");
    }
    assert!(err.to_string().contains("[redacted]"), "{err}");
}

#[tokio::test]
async fn a_422_echoing_cards_national_codes_and_ibans_in_any_format_is_masked() {
    let server = MockServer::start().await;
    let card = "6037997599999993";
    let national = "0499370899";
    let iban = "820540102680020817909002";
    let err = balance_error(
        &server,
        ResponseTemplate::new(422).set_body_json(json!({
            "status": 0,
            "message": "شماره کارت ۶۰۳۷۹۹۷۵۹۹۹۹۹۹۹۳ معتبر نیست",
            "errors": {
                "national_code": [
                    "کد ملی ۰۴۹۹۳۷۰۸۹۹ با شماره موبایل مطابقت ندارد",
                    "national code 049-937089-9 does not match",
                    "code 0499370899th",
                ],
                "iban": [
                    "شبا IR82 0540 1026 8002 0817 9090 02 بسته است",
                    "sheba ir82-0540-1026-8002-0817-9090-02 closed",
                    "شبا IR۸۲۰۵۴۰۱۰۲۶۸۰۰۲۰۸۱۷۹۰۹۰۰۲",
                ],
                "card": [
                    "card 6037\u{a0}9975\u{a0}9999\u{a0}9993 refused",
                    "card 6037.9975.9999.9993 refused",
                    "card 6037  9975  9999  9993 refused",
                    "card6037997599999993",
                    "کارت ٦٠٣٧٩٩٧٥٩٩٩٩٩٩٩٣ مسدود است",
                    "card 6037_۹۹۷۵_9999_۹۹۹۳x",
                ],
            },
            "amount": 250000,
            "transaction_id": 1700000000123u64,
        })),
    )
    .await;
    let api = err.api_error().expect("an API error");
    assert_eq!(api.http_status, 422);
    for text in shown(&err) {
        let digits = digits_in_a_row(&text);
        for secret in [card, national, iban, "7599999", "9370", "010268002081790"] {
            assert!(!digits.contains(secret), "{secret} in {text}");
        }
    }
    // ordinary numbers and the masked forms stay readable
    assert_eq!(api.raw["amount"], 250000);
    assert_eq!(api.raw["transaction_id"], 1700000000123u64);
    let text = err.to_string();
    assert!(text.contains("۶۰۳۷۹۹******۹۹۹۳"), "{text}");
    let debug = format!("{err:?}");
    for masked in [
        "******0899",
        "IR82******************9002",
        "603799******9993",
    ] {
        assert!(debug.contains(masked), "{masked} in {debug}");
    }
}

// ---------------------------------------------------------------- Sanbod: the consent page

fn sanbod(server: &MockServer) -> Client {
    let config = Config::builder()
        .all_hosts(&format!("{}/elsewhere", server.uri()))
        .host("https://api.sanbod.co", &format!("{}/sanbod", server.uri()))
        .basic_auth(CLIENT_SCHEME, "test_sanbod", "client-secret-SECRET-77")
        .build()
        .unwrap();
    Vandar::new(config).unwrap().sanbod()
}

fn authorize_body() -> AuthorizeRequest {
    let body: Value = json!({
        "provider_code": "059", "scope": ["statement"], "client_id": "test_sanbod",
        "response_type": "code", "redirect_uri": "https://app.example/cb", "state": "7000",
    });
    serde_json::from_value(body).unwrap()
}

/// Runs [`authorize_url_returns_the_consent_page_as_sent_and_errors_stay_scrubbed_inner`] alone in
/// a child process of this test binary: a thread-local subscriber (`set_default`) can miss a span
/// or event whose callsite another test thread registers at the same moment (tracing caches
/// callsite interest process-wide), so the trace capture is only deterministic when no other test
/// runs in the process.
#[test]
fn authorize_url_returns_the_consent_page_as_sent_and_errors_stay_scrubbed() {
    vandar_runtime::test_util::run_in_own_process(
        "authorize_url_returns_the_consent_page_as_sent_and_errors_stay_scrubbed_inner",
    );
}

#[tokio::test]
#[ignore = "run in its own process by authorize_url_returns_the_consent_page_as_sent_and_errors_stay_scrubbed"]
async fn authorize_url_returns_the_consent_page_as_sent_and_errors_stay_scrubbed_inner() {
    let server = MockServer::start().await;
    let page = "https://bank.example/login?session=1234567890&ref=6037997599999993\
        &secret=abcd1234&code=c0de-77&token=tk-77";
    Mock::given(method("POST"))
        .and(path("/sanbod/oautht/v1/authorize"))
        .respond_with(ResponseTemplate::new(302).insert_header("Location", page))
        .mount(&server)
        .await;
    let client = sanbod(&server);
    let (captured, _guard) = CapturedTraces::start();

    // The page the user's browser opens: whole, or the login would break.
    let url = client.authorize_url(authorize_body()).await.unwrap();
    assert_eq!(url.as_str(), page);
    let url = client
        .authorize_url_with_traceid(authorize_body(), "123456")
        .await
        .unwrap();
    assert_eq!(url.as_str(), page);

    // The same 302 through the plain operation is an error, and errors are scrubbed.
    let err = client
        .authorize()
        .body(authorize_body())
        .send()
        .await
        .unwrap_err();
    let Error::Redirect {
        location: Some(kept),
        ..
    } = &err
    else {
        panic!("expected a redirect, got {err:?}");
    };
    assert_eq!(
        kept,
        "https://bank.example/login?session=[redacted]&ref=603799******9993\
         &secret=[redacted]&code=[redacted]&token=[redacted]"
    );

    // Nothing of the page reaches the logs (the calls above were traced at every level), and
    // nothing secret the error.
    let logs = captured.text();
    assert!(logs.contains("vandar.request"), "{logs}");
    assert!(!logs.contains("bank.example"), "{logs}");
    for secret in [
        "1234567890",
        "6037997599999993",
        "abcd1234",
        "c0de-77",
        "tk-77",
    ] {
        for text in [&logs, &format!("{err:?}"), &err.to_string()] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}
