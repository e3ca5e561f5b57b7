//! End-to-end direct debit against local mock servers: the whole mandate flow (banks → create
//! → bank page → callback → verify → withdraw → calculation → revoke); for every operation its
//! method, host, path, auth header, request body/query and the decoding of its documented
//! success and error bodies; the withdrawal `track_id` recovery after a lost response; and
//! validation that stops a bad request before it is sent.

use std::time::Duration;

use serde_json::{Value, json};
use vandar::domain::{Mobile, NationalCode, Rial, RialString, TrackId};
use vandar::subscription::types::{
    AuthorizationRequest, GregorianDate, Undocumented, WageType, WithdrawalRequest,
    WithdrawalRequestNotifyUrl,
};
use vandar::subscription::{Callback, CallbackStatus, MandateErrorCode, MandateStatus};
use vandar::subscription::{ROUTES, WithdrawalStatus};
use vandar::{Config, Error, Timeouts, Vandar};
use vandar_runtime::RetryPolicy;
use vandar_runtime::test_util::{FaultServer, Reply};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ACCESS_TOKEN: &str = "business-access-token-SECRET";
const BUSINESS: &str = "vandario";
const AUTH_ID: &str = "9f307e30-dc77-11ea-830e-7533ca1787c5";
const WITHDRAWAL_ID: &str = "8c6e27c0-dbbd-11ea-a2f6-e9c8bf97463f";
const TRACK_ID: &str = "d2c5bf5a-280f-4ee5-8888-3d220b63bcc0";
const REFUND_ID: &str = "refund-17";
const TOKEN: &str = "0cf235d0-d48b-11ea-86cd-298ec898a9bd";

/// A client whose API host is `{mock}/api`, whose bank-page host is `{mock}/bank`, and every
/// other host `{mock}/elsewhere`: the path prefix proves where each call was routed.
async fn setup() -> (MockServer, Vandar) {
    let server = MockServer::start().await;
    let config = Config::builder()
        .all_hosts(&format!("{}/elsewhere", server.uri()))
        .host("https://api.vandar.io", &format!("{}/api", server.uri()))
        .host(
            "https://subscription.vandar.io",
            &format!("{}/bank", server.uri()),
        )
        .host(
            "https://health.vandar.io",
            &format!("{}/health", server.uri()),
        )
        .access_token(ACCESS_TOKEN)
        .build()
        .unwrap();
    (server, Vandar::new(config).unwrap())
}

fn spec() -> vandar_tests::SpecFile {
    vandar_tests::spec("vandar-subscription")
}

/// A documented example: `response` is `None` for a request body, else `200` / `4XX`.
fn spec_example(operation: &str, response: Option<&str>, name: &str) -> Value {
    vandar_tests::example(&spec(), operation, response, name)
}

async fn requests(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap()
}

/// Method, host (path prefix), path and bearer auth of one request; its JSON body, if any.
fn assert_api_request(req: &wiremock::Request, verb: &str, expected_path: &str) -> Option<Value> {
    assert_eq!(req.method.as_str(), verb, "{expected_path}");
    assert_eq!(req.url.path(), expected_path, "routed to the API host");
    assert_eq!(
        req.headers
            .get("authorization")
            .map(|v| v.to_str().unwrap()),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str()),
        "{verb} {expected_path} carries the business access token"
    );
    assert!(
        req.headers
            .get("user-agent")
            .is_some_and(|v| v.to_str().unwrap().starts_with("vandar-rs/"))
    );
    if req.body.is_empty() {
        None
    } else {
        Some(serde_json::from_slice(&req.body).unwrap())
    }
}

fn api_path(rest: &str) -> String {
    format!("/api/v3/business/{BUSINESS}/subscription{rest}")
}

#[tokio::test]
async fn mandate_flow() {
    let (server, vandar) = setup().await;
    let dd = vandar.subscription();
    let ok = |op: &str, name: &str| {
        ResponseTemplate::new(200).set_body_json(spec_example(op, Some("200"), name))
    };
    for (verb, p, op, name) in [
        ("GET", "/banks/actives", "list_active_banks", "success"),
        (
            "POST",
            "/authorization/store",
            "store_authorization",
            "success",
        ),
        (
            "PATCH",
            "/authorization/9f307e30-dc77-11ea-830e-7533ca1787c5/verify",
            "verify_authorization",
            "verified",
        ),
        ("POST", "/withdrawal/store", "store_withdrawal", "success"),
        (
            "GET",
            "/authorization/9f307e30-dc77-11ea-830e-7533ca1787c5/calculation",
            "get_authorization_calculation",
            "success",
        ),
        (
            "DELETE",
            "/authorization/9f307e30-dc77-11ea-830e-7533ca1787c5",
            "revoke_authorization",
            "revoked",
        ),
    ] {
        Mock::given(method(verb))
            .and(path(api_path(p)))
            .respond_with(ok(op, name))
            .expect(1)
            .mount(&server)
            .await;
    }

    // 1. banks: pick a healthy one
    let banks = dd
        .list_active_banks()
        .business(BUSINESS)
        .send()
        .await
        .unwrap()
        .result
        .unwrap()
        .banks;
    assert_eq!(banks.len(), 3);
    let bank = banks
        .iter()
        .find(|b| b.is_healthy_on_direct_debit.is_some_and(|h| h.get()))
        .unwrap();
    let bank_code = bank.code.clone().unwrap();
    assert_eq!(bank_code, "062", "zero-padded code kept");
    assert!(!banks[1].has_direct_debit_ability.unwrap().get());

    // 2. the mandate request (limits in Rial, Gregorian expiry)
    let created = dd
        .store_authorization()
        .business(BUSINESS)
        .body(
            AuthorizationRequest::builder()
                .bank_code(bank_code.as_str())
                .mobile(Mobile::parse("+98 912 345 6789").unwrap())
                .callback_url("https://shop.example/dd/callback?order=7")
                .count(4)
                .daily_count(Some(1))
                .limit(Rial::new(500_000))
                .daily_limit(Some(Rial::new(1_000_000)))
                .expiration_date(GregorianDate::parse("2030-01-01").unwrap())
                .national_code(Some(NationalCode::parse("0499370899").unwrap()))
                .wage_type(Some(WageType::ApplicationUser)),
        )
        .send()
        .await
        .unwrap();
    let token = created.result.authorization.token;
    assert_eq!(token, TOKEN);
    let reqs = requests(&server).await;
    assert_api_request(&reqs[0], "GET", &api_path("/banks/actives"));
    let body = assert_api_request(&reqs[1], "POST", &api_path("/authorization/store")).unwrap();
    assert_eq!(
        body,
        json!({
            "bank_code": "062",
            "mobile": "09123456789",
            "callback_url": "https://shop.example/dd/callback?order=7",
            "count": 4,
            "daily_count": 1,
            "limit": 500000,
            "daily_limit": 1000000,
            "expiration_date": "2030-01-01",
            "national_code": "0499370899",
            "wage_type": "APPLICATION_USER"
        }),
        "Rial as integers, mobile normalised, Gregorian date, unset optionals omitted"
    );

    // 3. the bank page, on the (overridden) subscription host
    let page = dd.authorization_page_url(&token).unwrap();
    assert_eq!(
        page.as_str(),
        format!("{}/bank/authorizations/{TOKEN}", server.uri())
    );

    // 4. the customer comes back approved
    let callback = Callback::parse(&format!(
        "https://shop.example/dd/callback?order=7&token={token}&authorization_id={AUTH_ID}&status=SUCCEED"
    ))
    .unwrap();
    assert_eq!(callback.token, token);
    assert_eq!(callback.status, CallbackStatus::Succeed);
    let authorization_id = callback.approved_authorization_id().unwrap();

    // 5. verify (PATCH, no body)
    let verified = dd
        .verify_authorization()
        .business(BUSINESS)
        .authorization_id(authorization_id)
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status.map(i64::from), Some(1));
    let reqs = requests(&server).await;
    let body = assert_api_request(
        &reqs[2],
        "PATCH",
        &api_path(&format!("/authorization/{AUTH_ID}/verify")),
    );
    assert_eq!(body, None, "verify has no body");

    // 6. withdraw 100,000 Rial (sent as a string) with a track id
    let stored = dd
        .store_withdrawal()
        .business(BUSINESS)
        .body(
            WithdrawalRequest::builder()
                .authorization_id(authorization_id)
                .amount(RialString::new(100_000))
                .track_id(TrackId::parse(TRACK_ID).unwrap())
                .notify_url(Some("https://shop.example/dd/notify".try_into().unwrap())),
        )
        .send()
        .await
        .unwrap();
    let w = stored.result.unwrap().withdrawal.unwrap();
    assert_eq!(w.withdrawal_status(), Some(WithdrawalStatus::Pending));
    assert!(!w.withdrawal_status().unwrap().is_final());
    assert_eq!(w.amount, Some(Rial::new(10_000)), "\"10000\" decodes");
    assert_eq!(w.wage_amount, Some(Rial::new(200)));
    assert_eq!(
        w.gateway_transaction_id.unwrap().as_u64(),
        Some(159_714_176_734)
    );
    assert_eq!(
        w.withdrawal_date.unwrap().gregorian().to_string(),
        "2020-08-11",
        "Jalali 1399/05/21"
    );
    assert!(w.is_instant.unwrap().get());
    let reqs = requests(&server).await;
    let body = assert_api_request(&reqs[3], "POST", &api_path("/withdrawal/store")).unwrap();
    assert_eq!(
        body,
        json!({
            "authorization_id": AUTH_ID,
            "amount": "100000",
            "track_id": TRACK_ID,
            "notify_url": "https://shop.example/dd/notify"
        })
    );

    // 7. what the mandate still allows
    let usage = dd
        .get_authorization_calculation()
        .business(BUSINESS)
        .authorization_id(authorization_id)
        .send()
        .await
        .unwrap()
        .result
        .unwrap();
    assert_eq!(usage.mandate_status(), Some(MandateStatus::Active));
    assert_eq!(usage.limit, Some(Rial::new(10_000)));
    assert_eq!(
        usage.current_month_remaining_withdrawal_amount,
        Some(Rial::new(39_000))
    );
    assert_eq!(usage.current_month_remaining_count.map(i64::from), Some(3));
    assert_eq!(
        usage.created_at.unwrap().local().to_string(),
        "2023-09-23 21:40:50",
        "Jalali 1402/07/01 21:40:50, Tehran wall clock"
    );
    let left = usage.remaining_expiration.unwrap();
    let left = left.details().unwrap();
    assert_eq!(
        (
            left.years.map(i64::from),
            left.months.map(i64::from),
            left.days.map(i64::from)
        ),
        (Some(1), Some(3), Some(14))
    );

    // 8. revoke
    let revoked = dd
        .revoke_authorization()
        .business(BUSINESS)
        .authorization_id(authorization_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        revoked.revoked_id().and_then(|id| id.as_str()),
        Some(AUTH_ID)
    );
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 6);
    assert_api_request(
        &reqs[4],
        "GET",
        &api_path(&format!("/authorization/{AUTH_ID}/calculation")),
    );
    let body = assert_api_request(
        &reqs[5],
        "DELETE",
        &api_path(&format!("/authorization/{AUTH_ID}")),
    );
    assert_eq!(body, None);
}

#[tokio::test]
async fn failed_callbacks_carry_documented_codes() {
    // the docs' failure example uses code 21, which their table lacks
    let cb = Callback::parse(&format!(
        "https://yourdomain.com/callback?token={TOKEN}&status=FAILED&error_code=21"
    ))
    .unwrap();
    assert!(!cb.is_approved());
    assert_eq!(cb.approved_authorization_id(), None);
    assert_eq!(cb.error_code, Some(MandateErrorCode::Unknown("21".into())));

    let cb = Callback::parse(&format!("token={TOKEN}&status=FAILED&error_code=10")).unwrap();
    let code = cb.error_code.unwrap();
    assert_eq!(code, MandateErrorCode::ActiveMandateExists);
    assert_eq!(
        code.description(),
        "the customer already has an active mandate at this bank"
    );
    assert_eq!(code.message_fa(), Some("مشتری مجوز فعالی در این بانک دارد"));

    let cb = Callback::parse(&format!("?token={TOKEN}&status=FAILED_TO_ACCESS_BANK")).unwrap();
    assert_eq!(cb.status, CallbackStatus::FailedToAccessBank);
    assert!(!cb.is_approved());
}

/// Placeholder values for the path parameters of every operation.
fn fill(template: &str) -> String {
    template
        .replace("{business}", BUSINESS)
        .replace("{authorization_id}", AUTH_ID)
        .replace("{withdrawal_id}", WITHDRAWAL_ID)
        .replace("{track_id}", TRACK_ID)
        .replace("{refund_id}", REFUND_ID)
}

/// A free-form object, for the operations whose bodies are undocumented upstream.
fn free_form() -> Value {
    json!({"status": 1, "result": {"anything": [1, "two", {"three": null}]}})
}

/// Call an operation with the documented request example (or a free-form object); the
/// decoded success body, encoded again.
async fn call(vandar: &Vandar, op: &str) -> Result<Value, Error> {
    let dd = vandar.subscription();
    macro_rules! enc {
        ($call:expr) => {
            $call.map(|v| serde_json::to_value(v).unwrap())
        };
    }
    match op {
        "list_active_banks" => enc!(dd.list_active_banks().business(BUSINESS).send().await),
        "store_authorization" => {
            let body = spec_example(op, None, "full");
            enc!(
                dd.store_authorization()
                    .business(BUSINESS)
                    .body(serde_json::from_value::<AuthorizationRequest>(body).unwrap())
                    .send()
                    .await
            )
        }
        "verify_authorization" => enc!(
            dd.verify_authorization()
                .business(BUSINESS)
                .authorization_id(AUTH_ID)
                .send()
                .await
        ),
        "search_authorization" => enc!(
            dd.search_authorization()
                .business(BUSINESS)
                .authorization_id(AUTH_ID)
                .send()
                .await
        ),
        "list_authorizations" => enc!(
            dd.list_authorizations()
                .business(BUSINESS)
                .mobile("09129311989")
                .status("ACTIVE")
                .page(std::num::NonZeroU64::new(2).unwrap())
                .send()
                .await
        ),
        "get_authorization_calculation" => enc!(
            dd.get_authorization_calculation()
                .business(BUSINESS)
                .authorization_id(AUTH_ID)
                .send()
                .await
        ),
        "revoke_authorization" => enc!(
            dd.revoke_authorization()
                .business(BUSINESS)
                .authorization_id(AUTH_ID)
                .send()
                .await
        ),
        "store_withdrawal" => {
            let body = spec_example(op, None, "scheduled");
            enc!(
                dd.store_withdrawal()
                    .business(BUSINESS)
                    .body(serde_json::from_value::<WithdrawalRequest>(body).unwrap())
                    .send()
                    .await
            )
        }
        "get_withdrawal" => enc!(
            dd.get_withdrawal()
                .business(BUSINESS)
                .withdrawal_id(WITHDRAWAL_ID)
                .send()
                .await
        ),
        "cancel_withdrawal" => enc!(
            dd.cancel_withdrawal()
                .business(BUSINESS)
                .withdrawal_id(WITHDRAWAL_ID)
                .send()
                .await
        ),
        "get_withdrawal_by_track_id" => enc!(
            dd.get_withdrawal_by_track_id()
                .business(BUSINESS)
                .track_id(TRACK_ID)
                .send()
                .await
        ),
        "list_withdrawals" => enc!(
            dd.list_withdrawals()
                .business(BUSINESS)
                .q(AUTH_ID)
                .page(std::num::NonZeroU64::new(3).unwrap())
                .send()
                .await
        ),
        "store_refund" => {
            let Value::Object(map) = json!({"any": "free-form body", "n": 1}) else {
                unreachable!()
            };
            enc!(
                dd.store_refund()
                    .business(BUSINESS)
                    .body(Undocumented(map))
                    .send()
                    .await
            )
        }
        "get_refund" => enc!(
            dd.get_refund()
                .business(BUSINESS)
                .refund_id(REFUND_ID)
                .send()
                .await
        ),
        "list_refunds" => enc!(dd.list_refunds().business(BUSINESS).send().await),
        // extras beyond the seeds (docs/reference/extras.md)
        "get_authorization" => enc!(
            dd.get_authorization()
                .business(BUSINESS)
                .authorization_id(AUTH_ID)
                .send()
                .await
        ),
        "list_bank_health" => enc!(
            dd.list_bank_health()
                .kind(vandar::subscription::types::ListBankHealthType::Png)
                .send()
                .await
        ),
        other => panic!("operation {other} is not covered by this test"),
    }
}

/// The query string each operation must send (operations not listed send none).
fn expected_query(op: &str) -> Vec<(&'static str, &'static str)> {
    match op {
        "list_authorizations" => vec![
            ("mobile", "09129311989"),
            ("page", "2"),
            ("status", "ACTIVE"),
        ],
        "list_withdrawals" => vec![("page", "3"), ("q", AUTH_ID)],
        "list_bank_health" => vec![("type", "png")],
        _ => vec![],
    }
}

/// The request body each operation must send.
fn expected_body(op: &str) -> Option<Value> {
    match op {
        "store_authorization" => Some(spec_example(op, None, "full")),
        "store_withdrawal" => Some(spec_example(op, None, "scheduled")),
        "store_refund" => Some(json!({"any": "free-form body", "n": 1})),
        _ => None,
    }
}

/// Every operation: method, host, path, bearer auth, query, body; the documented success
/// example decodes (and re-encodes as the schema round trip does); undocumented responses keep
/// any JSON object whole.
#[tokio::test]
async fn every_operation_routes_and_decodes_its_success_example() {
    let spec = spec();
    let examples = vandar_tests::examples(&spec);
    let g = vandar_tests::generated_for(&spec).unwrap();
    assert_eq!(
        ROUTES.len(),
        17,
        "16 listed endpoints, SW4+SW5 as one operation, and 2 extras"
    );
    let mut seen = 0;
    for route in ROUTES {
        let op = route.operation_id;
        let (server, vandar) = setup().await;
        let documented = examples
            .iter()
            .find(|e| e.operation_id == op && e.response.as_deref() == Some("200"));
        let reply = documented.map_or_else(free_form, |e| e.value.clone());
        let prefix = match route.host {
            "https://api.vandar.io" => "/api",
            "https://health.vandar.io" => "/health",
            other => panic!("{op}: unexpected host {other}"),
        };
        let expected_path = format!("{prefix}{}", fill(route.path));
        Mock::given(method(route.method))
            .and(path(expected_path.as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(&reply))
            .expect(1)
            .mount(&server)
            .await;
        let got = call(&vandar, op)
            .await
            .unwrap_or_else(|e| panic!("{op}: {e}"));
        match documented {
            Some(ex) => {
                let again = (g.roundtrip)(&ex.schema, ex.value.clone())
                    .unwrap()
                    .unwrap();
                assert_eq!(got, again, "{op}");
            }
            None => assert_eq!(got, reply, "{op}: an undocumented body is kept whole"),
        }
        let reqs = requests(&server).await;
        assert_eq!(reqs.len(), 1, "{op}");
        let body = if op == "list_bank_health" {
            // the public health list: no token
            assert_eq!(
                reqs[0].url.path(),
                expected_path,
                "routed to health.vandar.io"
            );
            assert!(reqs[0].headers.get("authorization").is_none(), "{op}");
            None
        } else {
            assert_api_request(&reqs[0], route.method, &expected_path)
        };
        assert_eq!(body, expected_body(op), "{op}: request body");
        let mut query: Vec<(String, String)> = reqs[0]
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        query.sort();
        let want: Vec<(String, String)> = expected_query(op)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(query, want, "{op}: query");
        seen += 1;
    }
    assert_eq!(seen, 17);
}

fn status_of_example(name: &str) -> u16 {
    match name {
        "unauthenticated" => 401,
        "not_found" | "business_not_found" => 404,
        "bank_unavailable" => 409,
        "already_verified" | "count_exceeded" | "duplicate_track_id" | "revoked" => 422,
        other => panic!("no HTTP status known for error example {other}"),
    }
}

/// Every documented error example of every operation decodes into `Error::Api` with its HTTP
/// status, the body's `status`, and its messages or field errors; no token in the text.
#[tokio::test]
async fn every_documented_error_body_decodes() {
    let spec = spec();
    let mut seen = 0;
    for ex in vandar_tests::examples(&spec) {
        if ex.response.as_deref() != Some("4XX") {
            continue;
        }
        let name = ex.location.rsplit(" / ").next().unwrap();
        let status = status_of_example(name);
        let route = ROUTES
            .iter()
            .find(|r| r.operation_id == ex.operation_id)
            .unwrap();
        let (server, vandar) = setup().await;
        Mock::given(method(route.method))
            .and(path(format!("/api{}", fill(route.path))))
            .respond_with(ResponseTemplate::new(status).set_body_json(&ex.value))
            .expect(1)
            .mount(&server)
            .await;
        let err = call(&vandar, &ex.operation_id)
            .await
            .expect_err(&ex.location);
        assert_eq!(err.http_status(), Some(status), "{}", ex.location);
        let api = err
            .api_error()
            .unwrap_or_else(|| panic!("{}: {err}", ex.location));
        assert_eq!(
            api.upstream_status,
            ex.value["status"].as_i64(),
            "{}",
            ex.location
        );
        if let Some(fields) = ex.value["errors"].as_object() {
            // `errors.message` (the revoked mandate) is a message, not a field
            let keys: Vec<&String> = api.field_errors.keys().collect();
            let want: Vec<&String> = fields.keys().filter(|k| *k != "message").collect();
            assert_eq!(keys, want, "{}", ex.location);
            assert!(api.field_errors.values().all(|v| !v.is_empty()));
            for text in fields
                .get("message")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                assert!(
                    api.messages.iter().any(|m| m == text),
                    "{}: {:?}",
                    ex.location,
                    api.messages
                );
            }
        }
        for key in ["message", "error"] {
            if let Some(text) = ex.value[key].as_str() {
                assert!(
                    api.messages.iter().any(|m| m == text),
                    "{}: {:?}",
                    ex.location,
                    api.messages
                );
            }
        }
        assert!(!api.messages.is_empty() || !api.field_errors.is_empty());
        assert!(!format!("{err} {err:?}").contains(ACCESS_TOKEN));
        seen += 1;
    }
    assert_eq!(seen, 23, "documented error examples");
}

/// The public bank health list (an extra on health.vandar.io): no token, `type` in the query,
/// the banks decode; an unavailable health service is an error with its status.
#[tokio::test]
async fn public_bank_health_list_needs_no_token() {
    let server = MockServer::start().await;
    let vandar = Vandar::new(
        Config::builder()
            .all_hosts(&format!("{}/elsewhere", server.uri()))
            .host(
                "https://health.vandar.io",
                &format!("{}/health", server.uri()),
            )
            .retry(RetryPolicy::none())
            .build()
            .unwrap(),
    )
    .unwrap();
    let dd = vandar.subscription();
    Mock::given(method("GET"))
        .and(path("/health/subscription"))
        .and(query_param("type", "svg"))
        .respond_with(ResponseTemplate::new(200).set_body_json(spec_example(
            "list_bank_health",
            Some("200"),
            "success",
        )))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let banks = dd
        .list_bank_health()
        .kind(vandar::subscription::types::ListBankHealthType::Svg)
        .send()
        .await
        .unwrap();
    let banks = banks.result.unwrap().banks;
    assert_eq!(banks.len(), 2);
    assert_eq!(banks[0].code.as_deref(), Some("062"));
    assert_eq!(
        banks[1].is_healthy_on_direct_debit.map(bool::from),
        Some(false)
    );
    assert!(
        requests(&server).await[0]
            .headers
            .get("authorization")
            .is_none(),
        "no access token configured and none needed"
    );

    // the documented 5XX body
    Mock::given(method("GET"))
        .and(path("/health/subscription"))
        .respond_with(ResponseTemplate::new(500).set_body_json(spec_example(
            "list_bank_health",
            Some("5XX"),
            "unavailable",
        )))
        .mount(&server)
        .await;
    let err = dd.list_bank_health().send().await.unwrap_err();
    assert_eq!(err.http_status(), Some(500), "{err}");
    assert_eq!(
        err.api_error().unwrap().messages,
        vec!["Server Error".to_string()]
    );
}

#[tokio::test]
async fn list_filters_are_optional_and_pages_decode() {
    let (server, vandar) = setup().await;
    let dd = vandar.subscription();
    Mock::given(method("GET"))
        .and(path(api_path("/withdrawal")))
        .respond_with(ResponseTemplate::new(200).set_body_json(spec_example(
            "list_withdrawals",
            Some("200"),
            "success",
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api_path("/authorization")))
        .and(query_param("status", "REVOKED"))
        .respond_with(ResponseTemplate::new(200).set_body_json(spec_example(
            "list_authorizations",
            Some("200"),
            "success",
        )))
        .mount(&server)
        .await;

    // SW4: every withdrawal (no q, no page)
    let page = dd
        .list_withdrawals()
        .business(BUSINESS)
        .send()
        .await
        .unwrap();
    let reqs = requests(&server).await;
    assert_eq!(reqs[0].url.query(), None, "no filter sent when none is set");
    assert_eq!(page.data.len(), 2);
    let failed = &page.data[1];
    assert_eq!(failed.withdrawal_status(), Some(WithdrawalStatus::Failed));
    assert!(failed.withdrawal_status().unwrap().is_final());
    assert_eq!(
        failed.error_code.as_ref().and_then(|c| c.as_str()),
        Some("01"),
        "the leading zero of the error code survives"
    );
    assert!(failed.is_instant.unwrap().get(), "is_instant 1 reads true");
    assert_eq!(failed.amount, Some(Rial::new(11_000)));
    assert_eq!(failed.wage_amount, Some(Rial::new(0)), "\"0.00\"");
    assert_eq!(page.next_page().map(|n| n.get()), Some(2), "page 1 of 33");
    let meta = page.meta.unwrap();
    assert_eq!(meta.last_page.map(i64::from), Some(33));
    assert_eq!(meta.per_page.map(i64::from), Some(20));
    assert_eq!(meta.links[0].url, None);
    let links = page.links.unwrap();
    assert_eq!(
        links.next.as_deref(),
        Some("https://api.vandar.io/v3/business/vandario/subscription/withdrawal?page=2")
    );

    // SA5 with a status filter
    let mandates = dd
        .list_authorizations()
        .business(BUSINESS)
        .status("REVOKED")
        .send()
        .await
        .unwrap();
    let reqs = requests(&server).await;
    assert_eq!(reqs[1].url.query(), Some("status=REVOKED"));
    let revoked = &mandates.data[1];
    assert_eq!(revoked.mandate_status(), Some(MandateStatus::Revoked));
    assert_eq!(revoked.limit, Some(Rial::new(10_200)), "\"10200\"");
    assert_eq!(revoked.id.as_ref().unwrap().as_str(), Some(AUTH_ID));
    assert!(revoked.id.as_ref().unwrap().is_uuid());
    assert_eq!(
        revoked.revoked_at.as_ref().unwrap().local().to_string(),
        "2020-07-25 14:47:09",
        "Jalali 1399/05/04"
    );
    assert_eq!(mandates.data[0].revoked_at, None, "null revoked_at");
    let account = mandates.data[0].payer_account.as_ref().unwrap();
    assert_eq!(
        account.details().unwrap().pan.as_deref(),
        Some("6362********9805")
    );
}

#[tokio::test]
async fn undocumented_values_and_shapes_still_decode() {
    let (server, vandar) = setup().await;
    let dd = vandar.subscription();
    // a status the docs do not list, a payer account as the documented string, a string
    // remaining_expiration, integer ids, string counts
    let body = json!({
        "status": "1",
        "message": "x",
        "result": {
            "authorization_id": 42,
            "status": "SUSPENDED",
            "count": "4",
            "limit": "10000.00",
            "remaining_expiration": "1 year, 3 months",
            "created_at": "2023-09-23 21:40:50",
            "brand_new_field": {"nested": true}
        }
    });
    Mock::given(method("GET"))
        .and(path(api_path(&format!(
            "/authorization/{AUTH_ID}/calculation"
        ))))
        .respond_with(ResponseTemplate::new(200).set_body_json(&body))
        .mount(&server)
        .await;
    let usage = dd
        .get_authorization_calculation()
        .business(BUSINESS)
        .authorization_id(AUTH_ID)
        .send()
        .await
        .unwrap()
        .result
        .unwrap();
    assert_eq!(
        usage.mandate_status(),
        Some(MandateStatus::Unknown("SUSPENDED".into()))
    );
    assert_eq!(usage.authorization_id.unwrap().as_u64(), Some(42));
    assert_eq!(usage.count.map(i64::from), Some(4));
    assert_eq!(usage.limit, Some(Rial::new(10_000)));
    assert_eq!(
        usage.remaining_expiration.unwrap().text(),
        Some("1 year, 3 months")
    );
}

/// `store_withdrawal` moves money: a lost response is reported as "outcome unknown" after
/// exactly one request, and the documented recovery (look the withdrawal up by its
/// `track_id`, a GET, retried on its own) works.
#[tokio::test(start_paused = true)]
async fn lost_withdrawal_response_is_recovered_by_track_id() {
    let show = spec_example("get_withdrawal_by_track_id", Some("200"), "done");
    let track_path = format!("/v3/business/{BUSINESS}/subscription/withdrawal/track-id/{TRACK_ID}");
    let store_path = format!("/v3/business/{BUSINESS}/subscription/withdrawal/store");
    // 1st request (the store): reset after reading it; 2nd (the first lookup): reset again;
    // then every request is answered
    let server =
        FaultServer::scripted(vec![Reply::Reset, Reply::Reset], Reply::json(200, show)).await;
    let vandar = Vandar::new(
        Config::builder()
            .all_hosts(&server.uri())
            .access_token(ACCESS_TOKEN)
            .timeouts(
                Timeouts::default()
                    .with_per_attempt(Duration::from_secs(10))
                    .with_total(Duration::from_secs(120)),
            )
            .retry(RetryPolicy {
                max_retries: 3,
                initial_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(1),
                jitter: false,
            })
            .build()
            .unwrap(),
    )
    .unwrap();
    let dd = vandar.subscription();
    let err: Error = dd
        .store_withdrawal()
        .business(BUSINESS)
        .body(
            WithdrawalRequest::builder()
                .authorization_id(AUTH_ID)
                .amount(RialString::new(10_000))
                .track_id(TrackId::parse(TRACK_ID).unwrap()),
        )
        .send()
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(server.count(&store_path), 1, "never repeated by the SDK");

    let found = dd
        .get_withdrawal_by_track_id()
        .business(BUSINESS)
        .track_id(TRACK_ID)
        .send()
        .await
        .unwrap()
        .result
        .unwrap()
        .withdrawal
        .unwrap();
    assert_eq!(server.count(&track_path), 2, "the lookup is a GET: retried");
    assert_eq!(
        found.track_id.as_ref().and_then(|t| t.as_str()),
        Some(TRACK_ID)
    );
    assert_eq!(found.withdrawal_status(), Some(WithdrawalStatus::Done));
    assert_eq!(server.count(&store_path), 1);
    let reqs = server.requests();
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
    assert_eq!(reqs[0].json().unwrap()["track_id"], TRACK_ID);
}

/// Verify, revoke and cancel answer once: a lost response is "outcome unknown", not a retry
/// that would turn the first call's success into an error.
#[tokio::test(start_paused = true)]
async fn answer_once_calls_are_not_repeated() {
    let server = FaultServer::scripted(vec![], Reply::Reset).await;
    let vandar = Vandar::new(
        Config::builder()
            .all_hosts(&server.uri())
            .access_token(ACCESS_TOKEN)
            .build()
            .unwrap(),
    )
    .unwrap();
    for op in [
        "verify_authorization",
        "revoke_authorization",
        "cancel_withdrawal",
        "store_authorization",
        "store_refund",
    ] {
        let before = server.requests().len();
        let err = call(&vandar, op).await.unwrap_err();
        assert!(err.is_outcome_unknown(), "{op}: {err}");
        assert_eq!(server.requests().len(), before + 1, "{op} sent once");
        let route = ROUTES.iter().find(|r| r.operation_id == op).unwrap();
        assert!(!route.idempotent, "{op}");
    }
}

#[tokio::test]
async fn invalid_requests_are_rejected_before_sending() {
    let (server, vandar) = setup().await;
    let dd = vandar.subscription();
    let withdrawal = || {
        WithdrawalRequest::builder()
            .authorization_id(AUTH_ID)
            .amount(RialString::new(10_000))
            .track_id(TrackId::parse(TRACK_ID).unwrap())
    };
    let rejected = |err: Error, field: &str| {
        let msg = err.to_string();
        assert!(matches!(err, Error::InvalidRequest(_)), "{msg}");
        assert!(msg.contains(field), "{field}: {msg}");
    };
    // max_retry_count is 1..16
    let err = dd
        .store_withdrawal()
        .business(BUSINESS)
        .body(withdrawal().max_retry_count(Some(std::num::NonZeroU64::new(17).unwrap())))
        .send()
        .await
        .unwrap_err();
    rejected(err, "max_retry_count");
    // is_instant is 0 or 1
    let err = dd
        .store_withdrawal()
        .business(BUSINESS)
        .body(withdrawal().is_instant(Some(2)))
        .send()
        .await
        .unwrap_err();
    rejected(err, "is_instant");
    // notify_url is at most 2048 characters: the generated type refuses a longer one
    let long = format!("https://shop.example/{}", "x".repeat(2048));
    assert!(WithdrawalRequestNotifyUrl::try_from(long.as_str()).is_err());
    assert!(WithdrawalRequestNotifyUrl::try_from(&long[..2048]).is_ok());
    // required fields
    let err = dd
        .store_withdrawal()
        .business(BUSINESS)
        .body(WithdrawalRequest::builder().authorization_id(AUTH_ID))
        .send()
        .await
        .unwrap_err();
    rejected(err, "amount");
    let err = dd
        .store_authorization()
        .business(BUSINESS)
        .body(
            AuthorizationRequest::builder()
                .bank_code("062")
                .mobile(Mobile::parse("09123456789").unwrap())
                .callback_url("https://shop.example/cb")
                .count(1)
                .limit(Rial::new(1000)),
        )
        .send()
        .await
        .unwrap_err();
    rejected(err, "expiration_date");
    // an empty path parameter
    let err = dd
        .verify_authorization()
        .business(BUSINESS)
        .authorization_id("")
        .send()
        .await
        .unwrap_err();
    rejected(err, "authorization_id");
    assert!(requests(&server).await.is_empty(), "nothing may be sent");
}

#[test]
fn dates_are_sent_gregorian() {
    // Jalali input is converted: 1403/11/12 is 2025-01-31
    let d = GregorianDate::parse("۱۴۰۳/۱۱/۱۲").unwrap();
    assert_eq!(serde_json::to_value(&d).unwrap(), "2025-01-31");
    assert!(GregorianDate::parse("2025-13-01").is_err());
}

#[tokio::test]
async fn bank_page_on_the_default_host_and_no_token_no_call() {
    let vandar = Vandar::new(Config::builder().build().unwrap()).unwrap();
    let dd = vandar.subscription();
    assert_eq!(
        dd.authorization_page_url(TOKEN).unwrap().as_str(),
        format!("https://subscription.vandar.io/authorizations/{TOKEN}")
    );
    assert_eq!(
        dd.authorization_page_url("a b/c").unwrap().as_str(),
        "https://subscription.vandar.io/authorizations/a%20b%2Fc",
        "the token is one encoded path segment"
    );
    assert!(dd.authorization_page_url("").is_err());

    // without an access token nothing is sent
    let server = MockServer::start().await;
    let vandar = Vandar::new(Config::builder().all_hosts(&server.uri()).build().unwrap()).unwrap();
    let err: Error = vandar
        .subscription()
        .list_active_banks()
        .business(BUSINESS)
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("token"), "{err}");
    assert!(requests(&server).await.is_empty());
}

/// Walk every page of one mandate's withdrawals (SW5) with `next_page`.
#[tokio::test]
async fn walk_the_withdrawals_of_one_mandate() {
    let (server, vandar) = setup().await;
    let dd = vandar.subscription();
    let example = spec_example("list_withdrawals", Some("200"), "success");
    for (n, last) in [(1, 2), (2, 2)] {
        let mut body = example.clone();
        body["data"] = json!([example["data"][n - 1].clone()]);
        body["meta"]["current_page"] = json!(n);
        body["meta"]["last_page"] = json!(last);
        Mock::given(method("GET"))
            .and(path(api_path("/withdrawal")))
            .and(query_param("q", AUTH_ID))
            .and(query_param("page", n.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .expect(1)
            .mount(&server)
            .await;
    }
    let mut page = std::num::NonZeroU64::MIN;
    let mut ids = Vec::new();
    loop {
        let answer = dd
            .list_withdrawals()
            .business(BUSINESS)
            .q(AUTH_ID)
            .page(page)
            .send()
            .await
            .unwrap();
        ids.extend(
            answer
                .data
                .iter()
                .map(|w| w.id.clone().unwrap().to_string()),
        );
        match answer.next_page() {
            Some(next) => page = next,
            None => break,
        }
    }
    assert_eq!(
        ids,
        [
            "f3d084e0-b603-11ea-94ad-ebc7f5bf8e12",
            "88a2c1d0-ff9f-11eb-9054-d393c32ed3b6"
        ]
    );
    assert_eq!(requests(&server).await.len(), 2);
}
