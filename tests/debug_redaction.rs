//! Secrets never appear in `Debug` (CONTRIBUTING.md, Standards): the generated types, their
//! body builders, the operation builders and `Answer<T>` print a sensitive field (token, api
//! key, card number, national code, IBAN) as `[redacted]`, and every other field as before.
//!
//! * each type named in the report of the leak, built or decoded with a recognisable secret;
//! * `Answer<IssuedTokens>` from a local mock server;
//! * every `generated.rs` of the workspace, parsed and checked with the generator's own rule
//!   (`xtask::redact_debug`): no type with a sensitive field still derives `Debug`.

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use vandar::core::types as core_types;
use vandar::sanbod::types as sanbod_types;
use vandar::subscription::types as subscription_types;
use vandar::{Config, Vandar};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REDACTED: &str = "[redacted]";

/// `value` decoded as `T`, and its `Debug` text.
fn debug_of<T: DeserializeOwned + Debug>(value: Value) -> String {
    let decoded: T = serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("{value} does not decode: {e}"));
    format!("{decoded:?}")
}

/// The `Debug` text shows none of `secrets`, shows `[redacted]`, and still shows `visible`.
#[track_caller]
fn assert_redacted(text: &str, secrets: &[&str], visible: &str) {
    for secret in secrets {
        assert!(!text.contains(secret), "`{secret}` leaks: {text}");
    }
    assert!(text.contains(REDACTED), "nothing redacted: {text}");
    assert!(
        !text.contains("\"[redacted]\""),
        "redacted as a string: {text}"
    );
    assert!(text.contains(visible), "`{visible}` is missing: {text}");
}

fn vandar(config: vandar::ConfigBuilder) -> Vandar {
    Vandar::new(config.build().unwrap()).unwrap()
}

fn offline() -> Vandar {
    vandar(Config::builder().access_token("business-access-token-SECRET"))
}

#[test]
fn core_tokens_and_refresh_request() {
    let text = debug_of::<core_types::IssuedTokens>(json!({
        "access_token": "access-SECRET-111",
        "refresh_token": "refresh-SECRET-222",
        "token_type": "Bearer-visible",
        "expires_in": 3600,
    }));
    assert_redacted(
        &text,
        &["access-SECRET-111", "refresh-SECRET-222"],
        "Bearer-visible",
    );

    let request = debug_of::<core_types::RefreshTokenRequest>(json!({
        "refreshtoken": "refresh-SECRET-333",
    }));
    assert_redacted(&request, &["refresh-SECRET-333"], "RefreshTokenRequest");
    // The constrained string that holds the token prints nothing of it either.
    let token: core_types::RefreshTokenRequestRefreshtoken = "refresh-SECRET-333".parse().unwrap();
    assert_redacted(
        &format!("{token:?}"),
        &["refresh-SECRET-333"],
        "Refreshtoken",
    );

    let builder = core_types::RefreshTokenRequest::builder().refreshtoken("refresh-SECRET-444");
    assert_redacted(
        &format!("{builder:?}"),
        &["refresh-SECRET-444"],
        "RefreshTokenRequestBuilder",
    );

    let core = offline().core();
    // The operation builder holds the body as given (typed) ...
    let typed = core.refresh_token().body(
        core_types::RefreshTokenRequest::builder()
            .refreshtoken("refresh-SECRET-555")
            .build()
            .unwrap(),
    );
    assert_redacted(
        &format!("{typed:?}"),
        &["refresh-SECRET-555"],
        "body: Typed(RefreshTokenRequest { refreshtoken: [redacted] })",
    );
    // ... or as its body builder.
    let building = core
        .refresh_token()
        .body_map(|b| b.refreshtoken("refresh-SECRET-666"));
    assert_redacted(
        &format!("{building:?}"),
        &["refresh-SECRET-666"],
        "body: Building(RefreshTokenRequestBuilder { refreshtoken: [redacted] })",
    );
}

#[test]
fn core_customers() {
    let customer = debug_of::<core_types::Customer>(json!({
        "first_name": "Visible-Name",
        "individual_national_code": "0499370899",
        "legal_national_code": "14000000001",
    }));
    assert_redacted(&customer, &["0499370899", "14000000001"], "Visible-Name");

    let input = debug_of::<core_types::CustomerInput>(json!({
        "first_name": "Visible-Input",
        "individual_national_code": "0499370899",
        "type": "INDIVIDUAL",
    }));
    assert_redacted(&input, &["0499370899"], "Visible-Input");

    let iban = debug_of::<core_types::CustomerIban>(json!({
        "bank_name": "Visible-Bank",
        "iban": "IR820540102680020817909002",
        "iban_compatibility": "MATCHED",
    }));
    assert_redacted(&iban, &["820540102680020817909002"], "MATCHED");

    // An operation builder with a sensitive path parameter.
    let core = offline().core();
    let call = core
        .delete_customer_iban()
        .business("visible-shop")
        .iban("IR820540102680020817909002");
    assert_redacted(
        &format!("{call:?}"),
        &["820540102680020817909002"],
        "visible-shop",
    );
}

#[test]
fn subscription_authorization() {
    let text = debug_of::<subscription_types::Authorization>(json!({
        "name": "Visible-Payer",
        "national_code": "0499370899",
    }));
    assert_redacted(&text, &["0499370899"], "Visible-Payer");
}

#[test]
fn sanbod_inquiries_and_answers() {
    let personal = debug_of::<sanbod_types::PersonalInquiryRequest>(json!({
        "birthDate": "1370/01/01",
        "nationalId": "0499370899",
    }));
    assert_redacted(&personal, &["0499370899"], "1370/01/01");

    let card_iban = debug_of::<sanbod_types::CardIban>(json!({
        "cardNumber": "6037997599999993",
        "iban": "IR820540102680020817909002",
    }));
    assert_redacted(
        &card_iban,
        &["6037997599999993", "820540102680020817909002"],
        "CardIban",
    );

    let card_national = debug_of::<sanbod_types::CardNationalIdRequest>(json!({
        "cardNumber": "6037997599999993",
        "mobileNumber": "09120000000",
        "nationalId": "0499370899",
    }));
    assert_redacted(
        &card_national,
        &["6037997599999993", "0499370899"],
        "09120000000",
    );

    let mobile_national = debug_of::<sanbod_types::MobileNationalIdRequest>(json!({
        "mobileNumber": "09120000000",
        "nationalId": "0499370899",
    }));
    assert_redacted(&mobile_national, &["0499370899"], "09120000000");

    let bills = debug_of::<sanbod_types::BillsInquiryRequestExtraParameter>(json!({
        "mobileNumber": "09120000000",
        "nationalId": "0499370899",
    }));
    assert_redacted(&bills, &["0499370899"], "09120000000");

    let deposit = debug_of::<sanbod_types::CardDeposit>(json!({
        "cardNumber": "6037997599999993",
        "depositNumber": "visible-0101",
    }));
    assert_redacted(&deposit, &["6037997599999993"], "visible-0101");

    let deposit_iban = debug_of::<sanbod_types::DepositIban>(json!({
        "depositNumber": "visible-0202",
        "iban": "IR820540102680020817909002",
    }));
    assert_redacted(&deposit_iban, &["820540102680020817909002"], "visible-0202");

    let builder = sanbod_types::PersonalInquiryRequest::builder()
        .birth_date("1370/01/01")
        .national_id("0499370899");
    assert_redacted(&format!("{builder:?}"), &["0499370899"], "1370/01/01");

    let vandar = vandar(
        Config::builder()
            .access_token("business-access-token-SECRET")
            .basic_auth(
                vandar::sanbod::CLIENT_SCHEME,
                "client-id",
                "client-secret-SECRET",
            ),
    );
    let sanbod = vandar.sanbod();
    let call = sanbod
        .personal_inquiry()
        .traceid("visible-trace")
        .body_map(|b| b.birth_date("1370/01/01").national_id("0499370899"));
    assert_redacted(&format!("{call:?}"), &["0499370899"], "visible-trace");
}

/// `Answer<T>` prints its body's `Debug`, which is the redacted one.
#[tokio::test]
async fn answer_of_issued_tokens() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/refreshtoken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "answer-access-SECRET",
            "refresh_token": "answer-refresh-SECRET",
            "token_type": "Bearer-visible",
            "expires_in": 3600,
        })))
        .expect(1)
        .mount(&server)
        .await;
    let vandar = vandar(
        Config::builder()
            .all_hosts(&server.uri())
            .access_token("business-access-token-SECRET"),
    );
    let answer: vandar::Answer<core_types::IssuedTokens> = vandar
        .core()
        .refresh_token()
        .body_map(|b| b.refreshtoken("sent-refresh-SECRET"))
        .send_with_response()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.body().access_token.as_deref(),
        Some("answer-access-SECRET")
    );
    assert_redacted(
        &format!("{answer:?}"),
        &["answer-access-SECRET", "answer-refresh-SECRET"],
        "Bearer-visible",
    );
}

/// Every generated crate, checked with the generator's own rule: no type with a sensitive
/// field still derives `Debug`, and the rewritten types are there.
#[test]
fn no_generated_type_with_a_secret_derives_debug() {
    let root = xtask::spec::workspace_root();
    let specs = vandar_tests::specs().unwrap();
    assert!(!specs.is_empty());
    for spec in specs {
        let file = spec.generated_path(&root);
        let text = std::fs::read_to_string(&file).unwrap();
        let leaks = xtask::redact_debug::leaks_in_source(&text).unwrap();
        assert!(
            leaks.is_empty(),
            "{}: derive(Debug) prints {} (run `cargo xtask gen`)",
            file.display(),
            leaks.join(", ")
        );
        assert!(
            text.contains("&format_args!(\"[redacted]\")"),
            "{}: no redacted field at all",
            file.display()
        );
    }
}
