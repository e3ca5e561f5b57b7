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

/// A type decoded from JSON: its `Debug` (`debug_of::<T>`), the value, the secrets in it and
/// a value of another field that must still show.
type Case = (
    fn(Value) -> String,
    Value,
    &'static [&'static str],
    &'static str,
);

const NATIONAL_CODE: &str = "0499370899";
const CARD: &str = "6037997599999993";
const IBAN: &str = "IR820540102680020817909002";
/// The IBAN without its country code: found in any printing of it that is not masked.
const IBAN_DIGITS: &str = "820540102680020817909002";

#[test]
fn decoded_types() {
    let cases: Vec<Case> = vec![
        (
            debug_of::<core_types::IssuedTokens>,
            json!({
                "access_token": "access-SECRET-111",
                "refresh_token": "refresh-SECRET-222",
                "token_type": "Bearer-visible",
                "expires_in": 3600,
            }),
            &["access-SECRET-111", "refresh-SECRET-222"],
            "Bearer-visible",
        ),
        (
            debug_of::<core_types::RefreshTokenRequest>,
            json!({"refreshtoken": "refresh-SECRET-333"}),
            &["refresh-SECRET-333"],
            "RefreshTokenRequest",
        ),
        (
            debug_of::<core_types::Customer>,
            json!({
                "first_name": "Visible-Name",
                "individual_national_code": NATIONAL_CODE,
                "legal_national_code": "14000000001",
            }),
            &[NATIONAL_CODE, "14000000001"],
            "Visible-Name",
        ),
        (
            debug_of::<core_types::CustomerInput>,
            json!({
                "first_name": "Visible-Input",
                "individual_national_code": NATIONAL_CODE,
                "type": "INDIVIDUAL",
            }),
            &[NATIONAL_CODE],
            "Visible-Input",
        ),
        (
            debug_of::<core_types::CustomerIban>,
            json!({"iban": IBAN, "iban_compatibility": "MATCHED"}),
            &[IBAN_DIGITS],
            "MATCHED",
        ),
        (
            debug_of::<subscription_types::Authorization>,
            json!({"name": "Visible-Payer", "national_code": NATIONAL_CODE}),
            &[NATIONAL_CODE],
            "Visible-Payer",
        ),
        (
            debug_of::<sanbod_types::PersonalInquiryRequest>,
            json!({"birthDate": "1370/01/01", "nationalId": NATIONAL_CODE}),
            &[NATIONAL_CODE],
            "1370/01/01",
        ),
        (
            debug_of::<sanbod_types::CardIban>,
            json!({"cardNumber": CARD, "iban": IBAN}),
            &[CARD, IBAN_DIGITS],
            "CardIban",
        ),
        (
            debug_of::<sanbod_types::CardNationalIdRequest>,
            json!({"cardNumber": CARD, "mobileNumber": "09120000000", "nationalId": NATIONAL_CODE}),
            &[CARD, NATIONAL_CODE],
            "09120000000",
        ),
        (
            debug_of::<sanbod_types::MobileNationalIdRequest>,
            json!({"mobileNumber": "09120000000", "nationalId": NATIONAL_CODE}),
            &[NATIONAL_CODE],
            "09120000000",
        ),
        (
            debug_of::<sanbod_types::BillsInquiryRequestExtraParameter>,
            json!({"mobileNumber": "09120000000", "nationalId": NATIONAL_CODE}),
            &[NATIONAL_CODE],
            "09120000000",
        ),
        (
            debug_of::<sanbod_types::CardDeposit>,
            json!({"cardNumber": CARD, "depositNumber": "visible-0101"}),
            &[CARD],
            "visible-0101",
        ),
        (
            debug_of::<sanbod_types::DepositIban>,
            json!({"depositNumber": "visible-0202", "iban": IBAN}),
            &[IBAN_DIGITS],
            "visible-0202",
        ),
    ];
    for (debug, value, secrets, visible) in cases {
        assert_redacted(&debug(value), secrets, visible);
    }
}

#[test]
fn builders_hold_secrets_redacted() {
    // The constrained string that holds the refresh token prints nothing of it either.
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
    let builder = sanbod_types::PersonalInquiryRequest::builder()
        .birth_date("1370/01/01")
        .national_id(NATIONAL_CODE);
    assert_redacted(&format!("{builder:?}"), &[NATIONAL_CODE], "1370/01/01");

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
    // An operation builder with a sensitive path parameter.
    let call = core
        .delete_customer_iban()
        .business("visible-shop")
        .iban(IBAN);
    assert_redacted(&format!("{call:?}"), &[IBAN_DIGITS], "visible-shop");

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
        .body_map(|b| b.birth_date("1370/01/01").national_id(NATIONAL_CODE));
    assert_redacted(&format!("{call:?}"), &[NATIONAL_CODE], "visible-trace");
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

/// The generator's list of sensitive names covers every field the runtime scrubs from error
/// text (the two lists live in two workspaces; this keeps them from drifting apart).
#[test]
fn the_generator_knows_every_name_the_runtime_scrubs() {
    for name in vandar_runtime::redact::SENSITIVE_FIELDS {
        assert!(
            xtask::redact_debug::SENSITIVE_NAMES.contains(name),
            "`{name}` is in vandar_runtime::redact::SENSITIVE_FIELDS but not in xtask's SENSITIVE_NAMES"
        );
    }
}

/// `Debug` hides the same names in a typed field (the generator's rule) and in a free-form
/// JSON key (the runtime's `RedactedJson`): the lists and the rules are the same.
#[test]
fn typed_and_free_form_debug_hide_the_same_names() {
    use vandar_runtime::redact as runtime;
    use xtask::redact_debug as generator;
    let mut a: Vec<&str> = runtime::SENSITIVE_FIELDS.to_vec();
    let mut b: Vec<&str> = generator::SENSITIVE_NAMES.to_vec();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b, "SENSITIVE_FIELDS and SENSITIVE_NAMES differ");
    assert_eq!(runtime::WHOLE_NAME_ONLY, generator::WHOLE_NAME_ONLY);
    assert_eq!(runtime::LAST_WORD_ONLY, generator::LAST_WORD_ONLY);
    let mut names: Vec<String> = Vec::new();
    for entry in generator::SENSITIVE_NAMES {
        let camel: String = entry
            .split('_')
            .enumerate()
            .map(|(i, w)| match i {
                0 => w.to_owned(),
                _ => w[..1].to_uppercase() + &w[1..],
            })
            .collect();
        for form in [
            entry.to_string(),
            entry.to_uppercase(),
            entry.replace('_', "-"),
            camel.clone(),
            format!("new_{entry}"),
            format!("new{}", camel[..1].to_uppercase() + &camel[1..]),
            format!("x{entry}"),
            format!("{entry}_x"),
            format!("{entry}s"),
            format!("r#{entry}"),
        ] {
            names.push(form);
        }
    }
    names.extend(
        [
            "span",
            "time_span",
            "japan",
            "company",
            "shipping",
            "laptop",
            "iban_compatibility",
            "token",
            "card",
            "amount",
            "",
        ]
        .map(String::from),
    );
    for name in &names {
        assert_eq!(
            runtime::is_sensitive_name(name),
            generator::is_sensitive_name(name),
            "the two rules disagree on `{name}`"
        );
    }
}
