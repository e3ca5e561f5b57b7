//! End-to-end tests of the business API (`vandar::core`) against a local mock server.
//!
//! * Every one of the 68 operations is called through its generated method: the test checks
//!   the HTTP method, the host it was routed to (each host gets its own path prefix), the path,
//!   the bearer token (absent on `refresh_token`), the request body (the spec's documented
//!   example where there is one), and that every documented success and error body decodes.
//! * Pagination streams walk multi-page mocks and stop (Laravel pages, the flat v2.1
//!   settlement paginator, the statement's `has_more`/`start_after` cursor).
//! * The settlement `notify_url` parser reads the documented payload; `confirm_settlement`
//!   asks the API.
//! * Money-moving calls are sent once; limits are checked before sending.

use std::collections::BTreeMap;

use futures::TryStreamExt;
use serde_json::{Value, json};
use vandar::core::types;
use vandar::core::{Paginate, SettlementNotification};
use vandar::domain::{CardNumber, Iban, JalaliCompactDate, Rial, Toman};
use vandar::{Config, Error, Vandar};
use vandar_runtime::RateLimits;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ACCESS_TOKEN: &str = "business-access-token-SECRET";
const BUSINESS: &str = "my-shop";

/// Path parameter values used for every operation (the mock paths are built from the route
/// templates with these).
const PARAMS: &[(&str, &str)] = &[
    ("business", BUSINESS),
    ("transaction_id", "163559577615"),
    ("settlement", "8edaa0a0-a33f-11ea-838d-676dce32760e"),
    ("batch_id", "900e69c676f67008"),
    ("id", "q-17"),
    ("iban", "IR880620000000302956142002"),
    ("customer", "35e431e0-210c-11ec-9200-79b42496d8e0"),
    ("field_id", "1"),
    ("card", "6037997599999993"),
    ("track_id", "6feb8114-25d5-372e-83e0-23ae783041a9"),
    ("tracking_code", "140006310592000002"),
];

fn param(name: &str) -> &'static str {
    PARAMS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("no test value for path parameter `{name}`"))
}

/// API host at `{mock}/api`, batch host at `{mock}/batch`, anything else at `{mock}/elsewhere`.
/// Rate limits off: this test sends ~200 requests in a burst.
async fn setup() -> (MockServer, Vandar) {
    let server = MockServer::start().await;
    let config = Config::builder()
        .all_hosts(&format!("{}/elsewhere", server.uri()))
        .host("https://api.vandar.io", &format!("{}/api", server.uri()))
        .host(
            "https://batch.vandar.io",
            &format!("{}/batch", server.uri()),
        )
        .access_token(ACCESS_TOKEN)
        .rate_limits(RateLimits::unlimited())
        .build()
        .unwrap();
    (server, Vandar::new(config).unwrap())
}

fn spec() -> vandar_tests::SpecFile {
    vandar_tests::spec("vandar-core")
}

fn generated() -> vandar_tests::Generated {
    vandar_tests::generated_for(&spec()).expect("vandar-core is registered")
}

/// The first documented request example of an operation.
fn request_example_value(operation: &str) -> Value {
    vandar_tests::examples(&spec())
        .into_iter()
        .find(|e| e.operation_id == operation && e.response.is_none())
        .unwrap_or_else(|| panic!("{operation} has no request example"))
        .value
}

/// The first documented request example of an operation, decoded as its body type.
macro_rules! request_example {
    ($ty:ty, $op:expr) => {
        serde_json::from_value::<$ty>(request_example_value($op))
            .unwrap_or_else(|e| panic!("{}: {e}", $op))
    };
}

fn undocumented(v: Value) -> types::Undocumented {
    serde_json::from_value(v).unwrap()
}

fn prefix(host: &str) -> &'static str {
    match host {
        "https://api.vandar.io" => "/api",
        "https://batch.vandar.io" => "/batch",
        other => panic!("unexpected host {other}"),
    }
}

fn route(operation: &str) -> &'static vandar_runtime::Route {
    vandar::core::ROUTES
        .iter()
        .find(|r| r.operation_id == operation)
        .unwrap_or_else(|| panic!("no route {operation}"))
}

/// The mock path of an operation: host prefix + route template with the test parameters.
fn mock_path(operation: &str) -> String {
    let r = route(operation);
    let mut out = prefix(r.host).to_string();
    for seg in r.path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => out.push_str(param(name)),
            None => out.push_str(seg),
        }
    }
    out
}

/// Call one operation through its generated method; the decoded answer as JSON.
async fn call(vandar: &Vandar, op: &str) -> Result<Value, Error> {
    let c = vandar.core();
    macro_rules! run {
        ($e:expr) => {
            $e.send().await.map(|r| serde_json::to_value(r).unwrap())
        };
    }
    let b = param("business");
    let cu = param("customer");
    match op {
        // core
        "refresh_token" => run!(
            c.refresh_token()
                .body(request_example!(types::RefreshTokenRequest, op))
        ),
        "get_business" => run!(c.get_business().business(b)),
        "list_business_users" => run!(
            c.list_business_users()
                .business(b)
                .page(1u64)
                .per_page(10u64)
        ),
        "get_balance" => run!(c.get_balance().business(b)),
        "list_transactions" => run!(c.list_transactions().business(b)),
        // refund, settlement
        "refund_transaction" => run!(
            c.refund_transaction()
                .business(b)
                .transaction_id(param("transaction_id"))
                .body(request_example!(types::RefundRequest, op))
        ),
        "store_settlement" => run!(
            c.store_settlement()
                .business(b)
                .body(request_example!(types::SettlementRequest, op))
        ),
        "list_settlements" => run!(c.list_settlements().business(b).per_page(5u64).page(1u64)),
        "get_settlement" => run!(
            c.get_settlement()
                .business(b)
                .settlement(param("settlement"))
        ),
        "cancel_settlement" => run!(
            c.cancel_settlement()
                .business(b)
                .settlement(param("settlement"))
        ),
        "list_settlement_banks" => run!(c.list_settlement_banks().business(b)),
        // batch
        "store_batch_settlement" => run!(
            c.store_batch_settlement()
                .business(b)
                .body(request_example!(types::BatchSettlementRequest, op))
        ),
        "list_batches" => run!(c.list_batches().business(b)),
        "list_batch_settlements" => run!(
            c.list_batch_settlements()
                .business(b)
                .batch_id(param("batch_id"))
        ),
        // queued
        "store_queued_settlement" => run!(c.store_queued_settlement().business(b).body(
            undocumented(json!({"iban": "IR430550011480005587452001", "amount": 50000}))
        )),
        "list_queued_settlements" => run!(c.list_queued_settlements().business(b)),
        "get_queued_settlement" => run!(c.get_queued_settlement().business(b).id(param("id"))),
        "cancel_queued_settlement" => run!(
            c.cancel_queued_settlement()
                .business(b)
                .body(undocumented(json!({"id": param("id")})))
        ),
        // Avand, cash-in
        "get_account_last_balance" => {
            run!(c.get_account_last_balance().business(b).iban(param("iban")))
        }
        "get_account_statement" => run!(c.get_account_statement().business(b)),
        "get_cash_in_code" => run!(c.get_cash_in_code().business(b)),
        "list_cash_in_pic_transactions" => run!(c.list_cash_in_pic_transactions().business(b)),
        "list_suspicious_payments" => run!(c.list_suspicious_payments().business(b)),
        "post_suspicious_payment" => run!(
            c.post_suspicious_payment()
                .business(b)
                .id(param("id"))
                .body(undocumented(json!({})))
        ),
        "list_cash_in_accounts" => run!(c.list_cash_in_accounts().business(b)),
        "get_cash_in_account_balance" => run!(
            c.get_cash_in_account_balance()
                .business(b)
                .body(request_example!(types::CashInBalanceRequest, op))
        ),
        "deposit_cash_in" => run!(
            c.deposit_cash_in()
                .business(b)
                .body(request_example!(types::CashInDepositRequest, op))
        ),
        // customers
        "list_customers" => run!(c.list_customers().business(b).page(1u64)),
        "create_customer" => run!(
            c.create_customer()
                .business(b)
                .body(request_example!(types::CustomerInput, op))
        ),
        "update_customer" => run!(
            c.update_customer()
                .business(b)
                .customer(cu)
                .body(request_example!(types::CustomerInput, op))
        ),
        "delete_customer" => run!(c.delete_customer().business(b).customer(cu)),
        "get_customer" => run!(c.get_customer().business(b).customer(cu)),
        "list_customer_fields" => run!(c.list_customer_fields().business(b)),
        "create_customer_field" => run!(
            c.create_customer_field()
                .business(b)
                .body(request_example!(types::CustomFieldInput, op))
        ),
        "update_customer_field" => run!(
            c.update_customer_field()
                .business(b)
                .field_id(param("field_id"))
                .body(request_example!(types::CustomFieldInput, op))
        ),
        "delete_customer_field" => run!(
            c.delete_customer_field()
                .business(b)
                .field_id(param("field_id"))
        ),
        "get_customer_field" => run!(
            c.get_customer_field()
                .business(b)
                .field_id(param("field_id"))
        ),
        "get_customer_wallet" => run!(c.get_customer_wallet().business(b).customer(cu)),
        "deposit_customer_wallet" => run!(
            c.deposit_customer_wallet()
                .business(b)
                .customer(cu)
                .body(wallet_movement("w-deposit-1"))
        ),
        "withdraw_customer_wallet" => run!(
            c.withdraw_customer_wallet()
                .business(b)
                .customer(cu)
                .body(wallet_movement("w-withdraw-1"))
        ),
        "list_customer_transactions" => {
            run!(c.list_customer_transactions().business(b).customer(cu))
        }
        "authenticate_customer_kyc" => run!(c.authenticate_customer_kyc().business(b).customer(cu)),
        "authenticate_customer_shahkar" => {
            run!(c.authenticate_customer_shahkar().business(b).customer(cu))
        }
        "get_customer_cash_in_code" => run!(c.get_customer_cash_in_code().business(b).customer(cu)),
        "add_customer_iban" => run!(
            c.add_customer_iban().business(b).customer(cu).body(
                types::CustomerIbanInput::builder()
                    .iban(Iban::parse(param("iban")).unwrap())
                    .is_default(true)
                    .has_inquiry(true)
                    .first_name("الناز".to_string())
            )
        ),
        "list_customer_ibans" => run!(c.list_customer_ibans().business(b).customer(cu)),
        "delete_customer_iban" => run!(
            c.delete_customer_iban()
                .business(b)
                .customer(cu)
                .iban(param("iban"))
        ),
        "inquire_customer_iban" => run!(
            c.inquire_customer_iban()
                .business(b)
                .customer(cu)
                .iban(param("iban"))
                .body(types::OwnerNamesInput::builder().legal_name("تست".to_string()))
        ),
        "set_default_customer_iban" => run!(
            c.set_default_customer_iban()
                .business(b)
                .customer(cu)
                .iban(param("iban"))
        ),
        "add_customer_card" => run!(
            c.add_customer_card().business(b).customer(cu).body(
                types::CustomerCardInput::builder()
                    .card(CardNumber::parse(param("card")).unwrap())
                    .is_default(false)
                    .has_inquiry(false)
            )
        ),
        "list_customer_cards" => run!(c.list_customer_cards().business(b).customer(cu)),
        "customer_card_to_iban" => run!(
            c.customer_card_to_iban().business(b).customer(cu).body(
                types::CardToIbanInput::builder()
                    .card(CardNumber::parse(param("card")).unwrap())
                    .is_default(true)
                    .has_inquiry(true)
            )
        ),
        "delete_customer_card" => run!(
            c.delete_customer_card()
                .business(b)
                .customer(cu)
                .card(param("card"))
        ),
        "inquire_customer_card" => run!(
            c.inquire_customer_card()
                .business(b)
                .customer(cu)
                .card(param("card"))
                .body(types::OwnerNamesInput::builder())
        ),
        "set_default_customer_card" => run!(
            c.set_default_customer_card()
                .business(b)
                .customer(cu)
                .card(param("card"))
        ),
        "list_customer_logs" => run!(c.list_customer_logs().business(b).customer(cu)),
        // inquiries
        "inquiry_kyc" => run!(c.inquiry_kyc().business(b).body(inquiry_body())),
        "inquiry_shahkar" => run!(c.inquiry_shahkar().business(b).body(inquiry_body())),
        "inquiry_nid" => run!(c.inquiry_nid().business(b).body(inquiry_body())),
        "inquiry_nid_image" => run!(c.inquiry_nid_image().business(b).body(inquiry_body())),
        "inquiry_fida" => run!(c.inquiry_fida().business(b).body(inquiry_body())),
        "inquiry_postal_code" => run!(c.inquiry_postal_code().business(b).body(inquiry_body())),
        "inquiry_company_information" => run!(
            c.inquiry_company_information()
                .business(b)
                .body(inquiry_body())
        ),
        "inquiry_company_signature" => run!(
            c.inquiry_company_signature()
                .business(b)
                .body(inquiry_body())
        ),
        "inquiry_national_code_iban" => run!(
            c.inquiry_national_code_iban()
                .business(b)
                .body(inquiry_body())
        ),
        "inquiry_match_mobile_card" => run!(
            c.inquiry_match_mobile_card()
                .business(b)
                .body(inquiry_body())
        ),
        "inquiry_iban" => run!(c.inquiry_iban().business(b).body(inquiry_body())),
        "inquiry_card" => run!(c.inquiry_card().business(b).body(inquiry_body())),
        // extras beyond the seeds (docs/reference/extras.md)
        "list_settlements_v4" => run!(c.list_settlements_v4().business(b)),
        "get_settlement_by_track_id" => run!(
            c.get_settlement_by_track_id()
                .business(b)
                .track_id(param("track_id"))
        ),
        "cancel_settlement_by_track_id" => run!(
            c.cancel_settlement_by_track_id()
                .business(b)
                .track_id(param("track_id"))
        ),
        "get_account_realtime_statement" => run!(c.get_account_realtime_statement().business(b)),
        "add_account_transaction_label" => run!(
            c.add_account_transaction_label()
                .business(b)
                .iban(param("iban"))
                .tracking_code(param("tracking_code"))
                .body(undocumented(json!({"value": "x"})))
        ),
        "remove_account_transaction_label" => run!(
            c.remove_account_transaction_label()
                .business(b)
                .iban(param("iban"))
                .tracking_code(param("tracking_code"))
        ),
        "create_customer_cash_in_code" => {
            run!(c.create_customer_cash_in_code().business(b).customer(cu))
        }
        "destroy_customer_cash_in_code" => {
            run!(c.destroy_customer_cash_in_code().business(b).customer(cu))
        }
        "authenticate_person_kyc" => run!(
            c.authenticate_person_kyc()
                .business(b)
                .body(request_example!(types::KycPersonInput, op))
        ),
        "authenticate_person_shahkar" => run!(
            c.authenticate_person_shahkar()
                .business(b)
                .body(request_example!(types::ShahkarPersonInput, op))
        ),
        "inquiry_match_national_code_iban" => run!(
            c.inquiry_match_national_code_iban()
                .business(b)
                .body(inquiry_body())
        ),
        "inquiry_card_to_iban" => run!(c.inquiry_card_to_iban().business(b).body(inquiry_body())),
        "get_transaction_meta" => run!(c.get_transaction_meta().business(b).per_page(20u64)),
        "logout" => run!(c.logout()),
        other => panic!("operation {other} is not covered by this test"),
    }
}

fn wallet_movement(track_id: &str) -> types::builder::WalletMovementRequestBuilder {
    types::WalletMovementRequest::builder()
        .amount(Rial::new(1000))
        .track_id(track_id)
        .comment("comment".to_string())
}

fn inquiry_body() -> types::Undocumented {
    undocumented(json!({"track_id": "inq-1", "value": "x"}))
}

/// The request body the test sends for operations without a documented request example.
fn expected_body(op: &str) -> Option<Value> {
    Some(match op {
        "store_queued_settlement" => json!({"iban": "IR430550011480005587452001", "amount": 50000}),
        "cancel_queued_settlement" => json!({"id": param("id")}),
        "post_suspicious_payment" => json!({}),
        "deposit_customer_wallet" => {
            json!({"amount": 1000, "track_id": "w-deposit-1", "comment": "comment"})
        }
        "withdraw_customer_wallet" => {
            json!({"amount": 1000, "track_id": "w-withdraw-1", "comment": "comment"})
        }
        "add_customer_iban" => {
            json!({"iban": param("iban"), "is_default": true, "has_inquiry": true, "first_name": "الناز"})
        }
        "inquire_customer_iban" => json!({"legal_name": "تست"}),
        "add_customer_card" => {
            json!({"card": param("card"), "is_default": false, "has_inquiry": false})
        }
        "customer_card_to_iban" => {
            json!({"card": param("card"), "is_default": true, "has_inquiry": true})
        }
        "inquire_customer_card" => json!({}),
        // the optional identity body, unset, is sent as an empty object
        "authenticate_customer_kyc" | "authenticate_customer_shahkar" => json!({}),
        "add_account_transaction_label" => json!({"value": "x"}),
        op if op.starts_with("inquiry_") => json!({"track_id": "inq-1", "value": "x"}),
        _ => return None,
    })
}

/// HTTP status to answer a documented error example with.
fn error_status(response: &str, name: &str) -> u16 {
    if response == "5XX" {
        500
    } else if name.starts_with("unauth") {
        401
    } else if name.contains("not_found") && !name.contains("iban") || name == "generic_404" {
        404
    } else {
        422
    }
}

/// Every string of an error body except its `status`.
fn leaf_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| leaf_strings(x, out)),
        Value::Object(m) => m
            .iter()
            .filter(|(k, _)| k.as_str() != "status")
            .for_each(|(_, x)| leaf_strings(x, out)),
        _ => {}
    }
}

/// The table-driven test: every operation, every documented body.
#[tokio::test]
async fn every_operation_routes_authenticates_and_decodes() {
    let spec = spec();
    let g = generated();
    let examples = vandar_tests::examples(&spec);
    let ops = xtask::spec::operations(&spec);
    assert_eq!(
        ops.len(),
        82,
        "the business API has 82 operations (68 of the seeds, 14 extras)"
    );
    let (server, vandar) = setup().await;
    let mut error_bodies = 0;
    let mut success_bodies = 0;
    for op in &ops {
        let id = op.id;
        let r = route(id);
        let mock = mock_path(id);
        let success: Vec<_> = examples
            .iter()
            .filter(|e| e.operation_id == id && e.response.as_deref() == Some("200"))
            .collect();
        let schema = op.raw["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .and_then(xtask::spec::ref_name)
            .unwrap()
            .to_string();
        // undocumented answers: any object must come back as sent
        let bodies: Vec<(String, Value)> = if success.is_empty() {
            vec![(
                "free-form".into(),
                json!({"whatever": [1, "two", {"three": null}]}),
            )]
        } else {
            success
                .iter()
                .map(|e| (e.location.clone(), e.value.clone()))
                .collect()
        };
        for (location, body) in bodies {
            server.reset().await;
            Mock::given(method(r.method))
                .and(path(mock.as_str()))
                .respond_with(ResponseTemplate::new(200).set_body_json(&body))
                .expect(1)
                .mount(&server)
                .await;
            let got = call(&vandar, id)
                .await
                .unwrap_or_else(|e| panic!("{location}: {e}"));
            let want = (g.roundtrip)(&schema, body).unwrap().unwrap();
            assert_eq!(got, want, "{location}: decoded answer");
            success_bodies += 1;

            let reqs = server.received_requests().await.unwrap();
            assert_eq!(reqs.len(), 1, "{id}: exactly one request (no retry)");
            let req = &reqs[0];
            assert_eq!(req.method.as_str(), r.method, "{id}");
            assert_eq!(req.url.path(), mock, "{id}: host and path");
            let auth = req
                .headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_string());
            if id == "refresh_token" {
                assert_eq!(auth, None, "refresh_token must not send the access token");
            } else {
                assert_eq!(
                    auth,
                    Some(format!("Bearer {ACCESS_TOKEN}")),
                    "{id}: bearer token"
                );
            }
            // the request body: the documented example, or what this test built
            let sent: Option<Value> =
                (!req.body.is_empty()).then(|| serde_json::from_slice(&req.body).unwrap());
            let documented = examples
                .iter()
                .find(|e| e.operation_id == id && e.response.is_none());
            match (documented, expected_body(id)) {
                (Some(ex), _) => {
                    let want = (g.roundtrip)(&ex.schema, ex.value.clone())
                        .unwrap()
                        .unwrap();
                    assert_eq!(sent.as_ref(), Some(&want), "{id}: request body");
                }
                (None, Some(want)) => assert_eq!(sent.as_ref(), Some(&want), "{id}: request body"),
                (None, None) => {
                    assert!(op.op.request_body.is_none(), "{id}: body not checked");
                    assert_eq!(sent, None, "{id}: no body");
                }
            }
        }
        // every documented error body decodes into Error::Api with its messages
        let errors: Vec<_> = examples
            .iter()
            .filter(|e| {
                e.operation_id == id
                    && e.response
                        .as_deref()
                        .is_some_and(|c| c == "4XX" || c == "5XX")
            })
            .collect();
        assert!(!errors.is_empty(), "{id}: no documented error example");
        for ex in errors {
            let name = ex.location.rsplit(" / ").next().unwrap();
            let status = error_status(ex.response.as_deref().unwrap(), name);
            server.reset().await;
            Mock::given(method(r.method))
                .and(path(mock.as_str()))
                .respond_with(ResponseTemplate::new(status).set_body_json(&ex.value))
                .expect(1)
                .mount(&server)
                .await;
            let err = call(&vandar, id).await.expect_err(&ex.location);
            if !r.idempotent && matches!(status, 500 | 502 | 504) {
                // a money call's 500/502/504 may come after it was processed
                assert!(err.is_outcome_unknown(), "{}: {err}", ex.location);
                assert_eq!(err.http_status(), Some(status), "{}", ex.location);
                continue;
            }
            let api = err
                .api_error()
                .unwrap_or_else(|| panic!("{}: not an API error: {err}", ex.location));
            assert_eq!(api.http_status, status, "{}", ex.location);
            assert_eq!(
                api.upstream_status,
                ex.value.get("status").and_then(Value::as_i64),
                "{}",
                ex.location
            );
            let mut strings = Vec::new();
            leaf_strings(&ex.value, &mut strings);
            assert!(!strings.is_empty(), "{}", ex.location);
            for s in strings {
                let found =
                    api.messages.contains(&s) || api.field_errors.values().any(|v| v.contains(&s));
                assert!(found, "{}: `{s}` not exposed by {api:?}", ex.location);
            }
            assert!(!err.to_string().contains(ACCESS_TOKEN));
            error_bodies += 1;
        }
    }
    assert!(success_bodies >= 68, "{success_bodies} success bodies");
    assert!(error_bodies >= 68, "{error_bodies} error bodies");
}

#[tokio::test]
async fn statement_filters_and_units() {
    let (server, vandar) = setup().await;
    let page = spec_value("list_transactions", "200", "page");
    Mock::given(method("GET"))
        .and(path(format!("/api/v3/business/{BUSINESS}/transaction")))
        .and(query_param("fromDate", "14000102"))
        .and(query_param("toDate", "14000201"))
        .and(query_param("statusKind", "settlements"))
        .and(query_param(
            "track_id",
            "6feb8114-25d5-372e-83e0-23ae783041a9",
        ))
        .and(query_param("per_page", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&page))
        .expect(1)
        .mount(&server)
        .await;
    let answer = vandar
        .core()
        .list_transactions()
        .business(BUSINESS)
        .from_date("14000102".parse::<JalaliCompactDate>().unwrap())
        .to_date("14000201".parse::<JalaliCompactDate>().unwrap())
        .status_kind("settlements")
        .track_id("6feb8114-25d5-372e-83e0-23ae783041a9")
        .per_page(100u64)
        .send()
        .await
        .unwrap();
    let vandar::domain::OneOrMany::One(t) = answer.data else {
        panic!("the documented page holds one object");
    };
    assert_eq!(
        t.amount,
        Some(Toman::new(1_650_000)),
        "statement amounts are Toman"
    );
    assert_eq!(t.status.map(i64::from), Some(-1));
    assert_eq!(t.id.unwrap().as_u64(), Some(165_374_316_188));
    assert_eq!(
        serde_json::to_value(t.created_at.unwrap()).unwrap(),
        json!("17:46:57 - 1401/3/7"),
        "kept as sent"
    );
}

#[tokio::test]
async fn settlement_units_and_query_flags() {
    let (server, vandar) = setup().await;
    let core = vandar.core();
    // store: request amount Toman, answer amount Rial + amount_toman
    Mock::given(method("POST"))
        .and(path(format!(
            "/api/v3/business/{BUSINESS}/settlement/store"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(spec_value(
            "store_settlement",
            "200",
            "registered",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let stored = core
        .store_settlement()
        .business(BUSINESS)
        .body(
            types::SettlementRequest::builder()
                .amount(Toman::new(5_000))
                .iban(Iban::parse("IR430550011480005587452001").unwrap())
                .track_id("6feb8114-25d5-372e-83e0-23ae783041a9")
                .kind(types::SettlementRequestType::A2a),
        )
        .send()
        .await
        .unwrap();
    let s = &stored.data.settlement[0];
    assert_eq!(s.amount, Some(Rial::new(50_000)));
    assert_eq!(s.amount_toman, Some(Toman::new(5_000)));
    assert_eq!(
        s.amount.unwrap(),
        s.amount_toman.unwrap().try_to_rial().unwrap(),
        "the answer's two units agree"
    );
    let reqs = server.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(body["amount"], 5000, "sent in Toman, as documented");
    assert_eq!(body["type"], "A2A");

    // below 5,000 Toman: rejected before sending
    let err: Error = core
        .store_settlement()
        .business(BUSINESS)
        .body(
            types::SettlementRequest::builder()
                .amount(Toman::new(4_999))
                .iban(Iban::parse("IR430550011480005587452001").unwrap())
                .track_id("t"),
        )
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
    assert!(err.to_string().contains("5000"), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    // bank list filters travel as query flags; limits decode as Rial
    Mock::given(method("GET"))
        .and(path(format!(
            "/api/v3/business/{BUSINESS}/settlement/banks"
        )))
        .and(query_param("has_a2a_bank_ability", "true"))
        .and(query_param("is_a2a_bank_active", "false"))
        .respond_with(ResponseTemplate::new(200).set_body_json(spec_value(
            "list_settlement_banks",
            "200",
            "banks",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let banks = core
        .list_settlement_banks()
        .business(BUSINESS)
        .has_a2a_bank_ability(true)
        .is_a2a_bank_active(false)
        .send()
        .await
        .unwrap();
    let mellat = banks
        .data
        .iter()
        .find(|b| b.code.as_ref().and_then(|c| c.as_str()) == Some("012"))
        .expect("bank 012, code kept with its leading zero");
    let limit = mellat
        .a2a
        .as_ref()
        .and_then(|a| a.limit.as_ref())
        .and_then(|l| l.amount_limit.as_ref())
        .unwrap();
    assert_eq!(limit.total, Some(Rial::new(10_000_000)));
}

#[tokio::test]
async fn money_moving_calls_are_sent_once() {
    for (op, expected_idempotent) in [
        ("store_settlement", false),
        ("store_batch_settlement", false),
        ("store_queued_settlement", false),
        ("refund_transaction", false),
        ("deposit_cash_in", false),
        ("deposit_customer_wallet", false),
        ("withdraw_customer_wallet", false),
        ("refresh_token", false),
        ("cancel_settlement", true),
        ("get_cash_in_account_balance", true),
        ("list_customer_transactions", true),
    ] {
        assert_eq!(route(op).idempotent, expected_idempotent, "{op}");
    }
    // a 503 on a settlement store is reported, not retried
    let (server, vandar) = setup().await;
    Mock::given(method("POST"))
        .and(path(mock_path("store_settlement")))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"message": "maintenance"})))
        .expect(1)
        .mount(&server)
        .await;
    let err = call(&vandar, "store_settlement").await.unwrap_err();
    assert_eq!(err.http_status(), Some(503), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn batch_request_computes_the_id_and_routes_to_the_batch_host() {
    let (server, vandar) = setup().await;
    let item = |amount: i64, track: &str| -> types::BatchSettlementItem {
        types::BatchSettlementItem::builder()
            .amount(Rial::new(amount))
            .iban(Iban::parse("IR150620000000203214109001").unwrap())
            .track_id(track)
            .payment_number(Some(vandar_runtime::domain::ApiId::from("2")))
            .try_into()
            .unwrap()
    };
    // outside 50,000..=500,000,000 Rial: refused locally
    let err = vandar::core::batch_request(vec![item(49_999, "a")]).unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");

    let items = vec![
        item(50_000, "93c7a9f3-ae4f-493a-a6e7-935a242aefa4"),
        item(500_000_000, "d18ca2e8-4204-11ec-81d3-0242ac130003"),
    ];
    let request = vandar::core::batch_request(items.clone()).unwrap();
    assert_eq!(*request.batch_id, vandar::core::batch_id(&items));
    assert_eq!(request.batch_id.len(), 128, "SHA-512 hex");
    Mock::given(method("POST"))
        .and(path(format!(
            "/batch/api/v2/business/{BUSINESS}/batches-settlement"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(spec_value(
            "store_batch_settlement",
            "200",
            "registered",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let summary = vandar.core().store_batch(BUSINESS, &request).await.unwrap();
    assert_eq!(summary.total_amount, Some(Rial::new(50_000)));
    let reqs = server.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(body["batch_id"], json!(request.batch_id.as_str()));
    assert_eq!(body["batches_settlement"][1]["amount"], 500_000_000);
    assert!(
        reqs[0]
            .headers
            .get("authorization")
            .is_some_and(|v| v.to_str().unwrap() == format!("Bearer {ACCESS_TOKEN}")),
        "the batch host takes the same bearer token"
    );
}

// ------------------------------------------------------------------ pagination streams

fn customer_page(page: u64, last: u64, ids: &[&str]) -> Value {
    json!({
        "data": ids.iter().map(|id| json!({"id": id, "name": id, "balance": "0", "created_at": "13:53 - 1400/07/07"})).collect::<Vec<_>>(),
        "links": {
            "first": "https://customer.vandar.io/v2/business/x/customers?page=1",
            "last": format!("https://customer.vandar.io/v2/business/x/customers?page={last}"),
            "prev": null,
            "next": (page < last).then(|| format!("https://customer.vandar.io/v2/business/x/customers?page={}", page + 1)),
        },
        "meta": {"current_page": page, "from": 1, "last_page": last, "path": "https://customer.vandar.io/v2/business/x/customers", "per_page": 2, "to": 2, "total": 5}
    })
}

#[tokio::test]
async fn laravel_pages_stream_walks_every_page_and_stops() {
    let (server, vandar) = setup().await;
    let p = format!("/api/v2/business/{BUSINESS}/customers");
    for (page, ids) in [(1u64, vec!["a", "b"]), (2, vec!["c", "d"]), (3, vec!["e"])] {
        Mock::given(method("GET"))
            .and(path(p.as_str()))
            .and(query_param("page", page.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(customer_page(page, 3, &ids)))
            .expect(1)
            .mount(&server)
            .await;
    }
    let core = vandar.core();
    let ids: Vec<String> = core
        .customers(BUSINESS)
        .map_ok(|c| c.id.unwrap().to_string())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, ["a", "b", "c", "d", "e"]);
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        3,
        "no 4th request"
    );

    // a server that ignores `page` (always answers page 1 of 3) ends the stream, no loop
    server.reset().await;
    Mock::given(method("GET"))
        .and(path(p.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(customer_page(1, 3, &["a"])))
        .mount(&server)
        .await;
    let pages: Vec<types::CustomerList> = core
        .list_customers()
        .business(BUSINESS)
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 2, "page 1, then page 2 answered as 1: stop");

    // an error on page 2 is yielded and ends the stream
    server.reset().await;
    Mock::given(method("GET"))
        .and(path(p.as_str()))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(customer_page(1, 3, &["a"])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(p.as_str()))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"status": 0, "error": "Unauthenticated"})),
        )
        .mount(&server)
        .await;
    let results: Vec<Result<types::CustomerSummary, Error>> =
        futures::StreamExt::collect(core.customers(BUSINESS)).await;
    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok());
    assert_eq!(results[1].as_ref().unwrap_err().http_status(), Some(401));
}

#[tokio::test]
async fn filtered_batch_items_stream() {
    let (server, vandar) = setup().await;
    let p = format!("/batch/api/v2/business/{BUSINESS}/batch-settlements/abc");
    let item =
        |id: &str| json!({"id": id, "amount": "50000", "status": "FAILED", "error_message": "x"});
    for (page, items, next) in [
        (1, vec![item("1"), item("2")], Some("n")),
        (2, vec![item("3")], None),
    ] {
        Mock::given(method("GET"))
            .and(path(p.as_str()))
            .and(query_param("status", "FAILED"))
            .and(query_param("page", page.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": items,
                // no meta: the `next` link decides
                "links": {"first": null, "last": null, "prev": null, "next": next},
            })))
            .expect(1)
            .mount(&server)
            .await;
    }
    let failed: Vec<types::BatchItem> = vandar
        .core()
        .list_batch_settlements()
        .business(BUSINESS)
        .batch_id("abc")
        .status("FAILED")
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(failed.len(), 3);
    assert_eq!(failed[2].amount, Some(Rial::new(50_000)));
}

#[tokio::test]
async fn settlement_list_stream_uses_the_nested_paginator() {
    let (server, vandar) = setup().await;
    let first = spec_value("list_settlements", "200", "first_page");
    let mut second = first.clone();
    let s = &mut second["data"]["settlements"];
    s["data"] = json!([{"id": "last-one", "amount": 7000, "status": "DONE"}]);
    s["current_page"] = json!(2);
    s["last_page"] = json!(2);
    s["next"] = Value::Null;
    let mut first = first;
    first["data"]["settlements"]["last_page"] = json!(2);
    let p = format!("/api/v2.1/business/{BUSINESS}/settlement");
    for (page, body) in [(1, first), (2, second)] {
        Mock::given(method("GET"))
            .and(path(p.as_str()))
            .and(query_param("page", page.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .expect(1)
            .mount(&server)
            .await;
    }
    let all: Vec<types::ListedSettlement> = vandar
        .core()
        .settlements(BUSINESS)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 6);
    assert_eq!(
        all[0].amount,
        Some(Toman::new(100_000)),
        "v2.1 amounts are Toman"
    );
    assert_eq!(all[5].id.as_ref().unwrap().to_string(), "last-one");
}

#[tokio::test]
async fn statement_cursor_stream_follows_start_after() {
    let (server, vandar) = setup().await;
    let p = format!("/api/v3/business/{BUSINESS}/transaction");
    let tx = |id: u64| json!({"id": id, "amount": 1000, "status": 1, "created_at": "17:46:57 - 1401/3/7"});
    // page 1 (no cursor): a list; page 2: the single-object shape of the docs; page 3: last
    Mock::given(method("GET"))
        .and(path(p.as_str()))
        .and(query_param("start_after", "11"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": 1, "has_more": true, "data": tx(12)})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(p.as_str()))
        .and(query_param("start_after", "12"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": 1, "has_more": false, "data": [tx(13)]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(p.as_str()))
        .and(query_param("status", "succeed"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": 1, "has_more": true, "data": [tx(10), tx(11)]})),
        )
        .expect(1) // the first page; the cursor mocks above match first on later pages
        .mount(&server)
        .await;
    let core = vandar.core();
    let ids: Vec<u64> = core
        .transactions(
            core.list_transactions()
                .business(BUSINESS)
                .status("succeed"),
        )
        .map_ok(|t| t.id.unwrap().as_u64().unwrap())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, [10, 11, 12, 13]);
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 3);
    assert!(!reqs[0].url.query().unwrap().contains("start_after"));
    for r in &reqs {
        assert!(
            r.url.query().unwrap().contains("status=succeed"),
            "every page keeps the filter"
        );
    }
}

#[tokio::test]
async fn cursor_that_does_not_advance_stops() {
    let (server, vandar) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v3/business/{BUSINESS}/transaction")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": 1, "has_more": true, "data": {"id": 5}})),
        )
        .mount(&server)
        .await;
    let core = vandar.core();
    let all: Vec<types::Transaction> = core
        .transactions(core.list_transactions().business(BUSINESS))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 2, "page 1, page 2 repeats the cursor: stop");
}

// ------------------------------------------------------------------ settlement callback

#[tokio::test]
async fn settlement_notification_is_parsed_and_confirmed_by_asking_the_api() {
    // the documented payload (VD settlement/refund pages), form-encoded as documented
    let form = serde_urlencoded::to_string([
        ("id", "865e9d07-2c96-41ef-8f61-30de27fb9954"),
        ("iban_id", "72a8aab1-04c9-417e-9971-2f7bfe121b53"),
        ("transaction_id", "164258101221"),
        ("amount", "2500000"),
        ("payment_number", "123456"),
        ("status", "DONE"),
        ("settlement_date", "2022-01-19"),
        ("settlement_date_jalali", "1400/10/29"),
        ("revised_transaction_id", ""),
        ("ref_code", "140010290622047785"),
    ])
    .unwrap();
    let n = SettlementNotification::parse(&form).unwrap();
    assert!(n.is_done());
    assert_eq!(
        n.id.as_deref(),
        Some("865e9d07-2c96-41ef-8f61-30de27fb9954")
    );
    assert_eq!(
        n.iban_id.as_deref(),
        Some("72a8aab1-04c9-417e-9971-2f7bfe121b53")
    );
    assert_eq!(
        n.transaction_id.as_ref().unwrap().as_u64(),
        Some(164_258_101_221)
    );
    assert_eq!(
        n.amount,
        Some(Rial::new(2_500_000)),
        "the callback's amount is Rial"
    );
    assert_eq!(n.payment_number.as_deref(), Some("123456"));
    assert_eq!(
        serde_json::to_value(&n.settlement_date).unwrap(),
        json!("2022-01-19")
    );
    assert_eq!(
        n.settlement_date.as_ref().unwrap().gregorian(),
        n.settlement_date_jalali.as_ref().unwrap().gregorian(),
        "the two dates are the same day"
    );
    assert_eq!(n.revised_transaction_id, None);
    assert_eq!(n.ref_code.as_deref(), Some("140010290622047785"));

    // confirmation asks get_settlement for the notification's id
    let (server, vandar) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/api/v2.1/business/{BUSINESS}/settlement/865e9d07-2c96-41ef-8f61-30de27fb9954"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": 1,
            "data": {"settlement": {"id": "865e9d07-2c96-41ef-8f61-30de27fb9954", "gateway_transaction_id": 164258101221u64, "amount": 250000, "status": "DONE", "settlement_date": "2022-01-19"}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let confirmed = vandar
        .core()
        .confirm_settlement(BUSINESS, &n)
        .await
        .unwrap();
    assert_eq!(confirmed.status.as_deref(), Some("DONE"));
    assert_eq!(
        confirmed.amount.unwrap().try_to_rial().unwrap(),
        n.amount.unwrap(),
        "the API's Toman and the callback's Rial agree"
    );
}

fn spec_value(operation: &str, response: &str, name: &str) -> Value {
    vandar_tests::example(&spec(), operation, Some(response), name)
}

/// Operation counts by detail level, as the crate README states them.
#[test]
fn detail_levels_match_the_readme() {
    let spec = spec();
    let mut levels: BTreeMap<String, usize> = BTreeMap::new();
    let mut extras = 0;
    for op in xtask::spec::operations(&spec) {
        let level = op.raw["x-detail-level"].as_str().unwrap().to_string();
        // the seeds' operations name their endpoint ids; the extras (docs/reference/extras.md)
        // have none and are counted apart
        if op.raw["x-covers"].as_array().is_some_and(|c| !c.is_empty()) {
            *levels.entry(level).or_default() += 1;
        } else {
            extras += 1;
            let unconfirmed = op.raw["x-unconfirmed"].as_bool() == Some(true);
            assert!(
                !unconfirmed || level == "path-only",
                "{}: an unconfirmed extra is free-form",
                op.id
            );
        }
    }
    assert_eq!(extras, 14, "extras beyond the seeds");
    assert_eq!(levels.get("full"), Some(&44));
    assert_eq!(levels.get("partial"), Some(&2));
    assert_eq!(levels.get("path-only"), Some(&22));
    let readme =
        std::fs::read_to_string(xtask::spec::workspace_root().join("crates/vandar-core/README.md"))
            .unwrap();
    for line in [
        "| typed from docs (full) | 44 |",
        "| partly documented | 2 |",
        "| undocumented (path-only) | 22 |",
    ] {
        assert!(readme.contains(line), "README lacks `{line}`");
    }
}

/// Per-call overrides on a generated client (`Client::with_options`): the retry policy of an
/// idempotent call, and invalid overrides refused before anything is sent.
#[tokio::test]
async fn with_options_overrides_the_retry_policy_of_one_client() {
    let (server, vandar) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/business/shop/balance"))
        .respond_with(
            ResponseTemplate::new(503).set_body_json(json!({"status": 0, "error": "busy"})),
        )
        .mount(&server)
        .await;
    let once = vandar
        .core()
        .with_options(
            vandar_runtime::CallOptions::new().retry(vandar_runtime::RetryPolicy {
                max_retries: 0,
                ..vandar_runtime::RetryPolicy::default()
            }),
        )
        .unwrap();
    let err = once
        .get_balance()
        .business("shop")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(503));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "no retry"
    );
    assert!(
        vandar
            .core()
            .with_options(
                vandar_runtime::CallOptions::new().total_timeout(std::time::Duration::ZERO)
            )
            .is_err()
    );
}
