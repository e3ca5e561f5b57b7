//! End-to-end checkout against a local mock server: send → payment page → callback →
//! transaction info → verify, plus every documented error body, host routing, auth, and
//! validation that stops a bad request before it is sent.

use serde_json::{Value, json};
use vandar::domain::{CardNumber, Mobile, NationalCode, Rial};
use vandar::ipg::types::{PaymentRequest, TokenRequest};
use vandar::ipg::{Callback, VerifyOutcome};
use vandar::{ApiKey, Config, Error, Vandar};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const API_KEY: &str = "ipg-key-4c1d9f0b-SECRET";
const ACCESS_TOKEN: &str = "business-access-token-SECRET";

/// A client whose IPG host is `{mock}/ipg` and every other host `{mock}/elsewhere`, so the path
/// prefix proves which host an operation was routed to. An access token is configured to prove
/// the IPG never sends it.
async fn setup() -> (MockServer, Vandar) {
    let server = MockServer::start().await;
    let config = Config::builder()
        .all_hosts(&format!("{}/elsewhere", server.uri()))
        .host("https://ipg.vandar.io", &format!("{}/ipg", server.uri()))
        .access_token(ACCESS_TOKEN)
        .build()
        .unwrap();
    (server, Vandar::new(config).unwrap())
}

fn spec_example(operation: &str, response: &str, name: &str) -> Value {
    vandar_tests::example(
        &vandar_tests::spec("vandar-ipg"),
        operation,
        Some(response),
        name,
    )
}

async fn requests(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap()
}

fn assert_ipg_request(req: &wiremock::Request, expected_path: &str) -> Value {
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(req.url.path(), expected_path, "routed to the IPG host");
    assert!(
        !req.headers.contains_key("authorization"),
        "the IPG must not receive an Authorization header"
    );
    assert!(
        req.headers
            .get("user-agent")
            .is_some_and(|v| v.to_str().unwrap().starts_with("vandar-rs/"))
    );
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["api_key"], API_KEY, "api_key travels in the body");
    body
}

#[tokio::test]
async fn checkout_flow() {
    let (server, vandar) = setup().await;
    let ipg = vandar.ipg();
    let key = ApiKey::from(API_KEY);
    Mock::given(method("POST"))
        .and(path("/ipg/api/v4/send"))
        .respond_with(ResponseTemplate::new(200).set_body_json(spec_example(
            "send_payment",
            "200",
            "success",
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/ipg/api/v4/transaction"))
        .respond_with(ResponseTemplate::new(200).set_body_json(spec_example(
            "get_transaction_info",
            "200",
            "awaiting_verify",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let verified = json!({
        "status": 1, "amount": "250000.00", "realAmount": 245000, "wage": "5000",
        "transId": 166958852971u64, "factorNumber": "INV-1001", "mobile": null,
        "description": null, "cardNumber": "603799******6299",
        "paymentDate": "2020-06-10 14:36:30", "cid": null, "message": "ok"
    });
    Mock::given(method("POST"))
        .and(path("/ipg/api/v4/verify"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&verified))
        .expect(1)
        .mount(&server)
        .await;

    // 1. send
    let sent = ipg
        .send_payment()
        .body(
            PaymentRequest::builder()
                .api_key(&key)
                .amount(Rial::new(250_000))
                .callback_url("https://shop.example/payment/callback")
                .factor_number("INV-1001".to_string())
                .description(Some("Order 1001".parse().unwrap()))
                // Persian digits and a +98 prefix are normalised before sending
                .mobile_number(Some(Mobile::parse("+98 912 345 6789").unwrap()))
                .national_code(Some(NationalCode::parse("۰۴۹۹۳۷۰۸۹۹").unwrap()))
                .valid_card_number(vec![CardNumber::parse("6037-9975-9999-9993").unwrap()]),
        )
        .send()
        .await
        .unwrap();
    let token = sent.token;
    assert_eq!(token, "4FFSKSZ9I3CJWOA");
    let reqs = requests(&server).await;
    let body = assert_ipg_request(&reqs[0], "/ipg/api/v4/send");
    assert_eq!(body["amount"], 250_000);
    assert_eq!(
        body["callback_url"],
        "https://shop.example/payment/callback"
    );
    assert_eq!(body["factorNumber"], "INV-1001");
    assert_eq!(body["mobile_number"], "09123456789");
    assert_eq!(body["national_code"], "0499370899");
    assert_eq!(
        body["valid_card_number"],
        json!(["6037997599999993"]),
        "always an array, also for one card"
    );
    assert!(body.get("comment").is_none(), "unset optionals are omitted");

    // 2. payment page on the (overridden) IPG host
    let page = ipg.payment_page_url(&token).unwrap();
    assert_eq!(
        page.as_str(),
        format!("{}/ipg/v4/4FFSKSZ9I3CJWOA", server.uri())
    );

    // 3. callback
    let cb = Callback::parse(&format!(
        "https://shop.example/payment/callback?token={token}&payment_status=OK"
    ))
    .unwrap();
    assert!(cb.is_paid());

    // 3b. optional transaction info
    let info = ipg
        .get_transaction_info()
        .body(
            TokenRequest::builder()
                .api_key(&key)
                .token(cb.token.clone()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        info.card_number.as_ref().map(|c| c.as_str()),
        Some("603799******6299")
    );
    assert_eq!(info.code.map(i64::from), Some(1));
    assert_eq!(
        info.amount,
        Some(Rial::new(10_000)),
        "\"10000\" decodes as Rial"
    );
    assert_eq!(
        info.created_at.unwrap().local().to_string(),
        "2019-02-19 18:19:55"
    );

    // 4. verify
    match ipg.verify(&key, &cb.token).await.unwrap() {
        VerifyOutcome::Verified(p) => {
            assert_eq!(i64::from(p.status), 1);
            assert_eq!(p.amount, Some(Rial::new(250_000)), "\"250000.00\" decodes");
            assert_eq!(p.real_amount, Some(Rial::new(245_000)));
            assert_eq!(p.wage, Some(Rial::new(5_000)));
            let id = p.trans_id.unwrap();
            assert_eq!(id.as_u64(), Some(166958852971), "13-digit id is lossless");
            assert_eq!(serde_json::to_value(&id).unwrap(), json!(166958852971u64));
        }
        other => panic!("expected Verified, got {other:?}"),
    }
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 3);
    let b = assert_ipg_request(&reqs[1], "/ipg/api/v4/transaction");
    assert_eq!(b["token"], "4FFSKSZ9I3CJWOA");
    let b = assert_ipg_request(&reqs[2], "/ipg/api/v4/verify");
    assert_eq!(b["token"], "4FFSKSZ9I3CJWOA");
}

async fn verify_against(status: u16, body: Value) -> Result<VerifyOutcome, Error> {
    let (server, vandar) = setup().await;
    Mock::given(method("POST"))
        .and(path("/ipg/api/v4/verify"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;
    vandar
        .ipg()
        .verify(&ApiKey::from(API_KEY), "4FFSKSZ9I3CJWOA")
        .await
}

#[tokio::test]
async fn verify_tells_already_verified_and_expired_apart() {
    let already = spec_example("verify_payment", "4XX", "already_verified");
    match verify_against(422, already).await.unwrap() {
        VerifyOutcome::AlreadyVerified(e) => {
            assert_eq!(e.upstream_status, Some(2));
            assert_eq!(e.http_status, 422);
            assert!(!e.messages.is_empty());
        }
        other => panic!("expected AlreadyVerified, got {other:?}"),
    }
    let expired = spec_example("verify_payment", "4XX", "expired");
    assert!(matches!(
        verify_against(422, expired).await.unwrap(),
        VerifyOutcome::Expired(e) if e.upstream_status == Some(3)
    ));
    // status as a string, and on HTTP 200: still told apart
    assert!(matches!(
        verify_against(200, json!({"status": "2", "errors": ["x"]}))
            .await
            .unwrap(),
        VerifyOutcome::AlreadyVerified(_)
    ));
    // status 0 is a real error
    let wrong = spec_example("verify_payment", "4XX", "wrong_input");
    let err = verify_against(422, wrong).await.unwrap_err();
    let api = err.api_error().expect("an API error");
    assert_eq!(api.upstream_status, Some(0));
    assert_eq!(api.messages, vec!["api_key is invalid"]);
}

/// Every documented error example of every IPG operation decodes into `Error::Api` with the
/// body's status and messages.
#[tokio::test]
async fn every_documented_error_body_decodes() {
    let spec = vandar_tests::specs()
        .unwrap()
        .into_iter()
        .find(|s| s.name == "vandar-ipg")
        .unwrap();
    let mut seen = 0;
    for ex in vandar_tests::examples(&spec) {
        if ex.response.as_deref() != Some("4XX") {
            continue;
        }
        let (server, vandar) = setup().await;
        let route = vandar::ipg::ROUTES
            .iter()
            .find(|r| r.operation_id == ex.operation_id)
            .unwrap();
        Mock::given(method("POST"))
            .and(path(format!("/ipg{}", route.path)))
            .respond_with(ResponseTemplate::new(422).set_body_json(&ex.value))
            .expect(1)
            .mount(&server)
            .await;
        let ipg = vandar.ipg();
        let key = ApiKey::from(API_KEY);
        let token_body = || TokenRequest::builder().api_key(&key).token("T");
        let result: Result<(), Error> = match ex.operation_id.as_str() {
            "send_payment" => ipg
                .send_payment()
                .body(
                    PaymentRequest::builder()
                        .api_key(&key)
                        .amount(Rial::new(1000))
                        .callback_url("https://shop.example/cb"),
                )
                .send()
                .await
                .map(drop),
            "get_transaction_info" => ipg
                .get_transaction_info()
                .body(token_body())
                .send()
                .await
                .map(drop),
            "verify_payment" => ipg
                .verify_payment()
                .body(token_body())
                .send()
                .await
                .map(drop),
            other => panic!("operation {other} is not covered by this test"),
        };
        let err = result.expect_err(&ex.location);
        let api = err
            .api_error()
            .unwrap_or_else(|| panic!("{}: {err}", ex.location));
        assert_eq!(api.http_status, 422);
        assert_eq!(
            api.upstream_status,
            ex.value["status"].as_i64(),
            "{}",
            ex.location
        );
        let expected: Vec<String> = ex.value["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        assert_eq!(api.messages, expected, "{}", ex.location);
        let shown = err.to_string();
        assert!(!shown.contains(API_KEY), "{shown}");
        seen += 1;
    }
    assert_eq!(seen, 5, "documented IPG error examples");
}

#[tokio::test]
async fn invalid_input_is_rejected_before_sending() {
    let (server, vandar) = setup().await;
    let ipg = vandar.ipg();
    let key = ApiKey::from(API_KEY);

    // below the documented minimum of 1000 Rial
    let err: Error = ipg
        .send_payment()
        .body(
            PaymentRequest::builder()
                .api_key(&key)
                .amount(Rial::new(999))
                .callback_url("https://shop.example/cb"),
        )
        .send()
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::InvalidRequest(_)), "{msg}");
    assert!(msg.contains("`amount`") && msg.contains("1000"), "{msg}");

    // a required field missing
    let err: Error = ipg
        .send_payment()
        .body(
            PaymentRequest::builder()
                .api_key(&key)
                .amount(Rial::new(5000)),
        )
        .send()
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("callback_url"), "{msg}");

    // a callback_url over the documented 254 characters
    let long_url = format!("https://shop.example/{}", "x".repeat(240));
    let err: Error = ipg
        .send_payment()
        .body(
            PaymentRequest::builder()
                .api_key(&key)
                .amount(Rial::new(5000))
                .callback_url(long_url.as_str()),
        )
        .send()
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::InvalidRequest(_)), "{msg}");
    assert!(msg.contains("callback_url"), "{msg}");

    // more than 10 cards
    let card = CardNumber::parse("6037997599999993").unwrap();
    let cards: Vec<CardNumber> = (0..11).map(|_| card.clone()).collect();
    let err: Error = ipg
        .send_payment()
        .body(
            PaymentRequest::builder()
                .api_key(&key)
                .amount(Rial::new(5000))
                .callback_url("https://shop.example/cb")
                .valid_card_number(cards),
        )
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("valid_card_number"), "{err}");

    assert!(requests(&server).await.is_empty(), "nothing may be sent");
}

#[tokio::test]
async fn secrets_stay_out_of_debug_and_errors() {
    // a port with nothing listening: bind, note the port, close
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let vandar = Vandar::new(
        Config::builder()
            .all_hosts(&format!("http://127.0.0.1:{port}"))
            .access_token(ACCESS_TOKEN)
            .build()
            .unwrap(),
    )
    .unwrap();
    let key = ApiKey::from(API_KEY);
    let body = PaymentRequest::builder()
        .api_key(&key)
        .amount(Rial::new(5000))
        .callback_url("https://shop.example/cb");
    let built: PaymentRequest = body.clone().try_into().unwrap();
    for shown in [
        format!("{built:?}"),
        format!("{body:?}"),
        format!("{vandar:?}"),
        format!("{:?}", vandar.ipg()),
    ] {
        assert!(!shown.contains(API_KEY), "api key leaked: {shown}");
        assert!(
            !shown.contains(ACCESS_TOKEN),
            "access token leaked: {shown}"
        );
    }
    // transport error (nothing listening): no URL, no key in the message
    let err: Error = vandar
        .ipg()
        .send_payment()
        .body(body)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(API_KEY), "{shown}");
}

#[tokio::test]
async fn non_json_error_body_keeps_its_status() {
    let (server, vandar) = setup().await;
    Mock::given(method("POST"))
        .and(path("/ipg/api/v4/verify"))
        .respond_with(ResponseTemplate::new(404).set_body_string("<html>not found</html>"))
        .mount(&server)
        .await;
    let err = vandar
        .ipg()
        .verify(&ApiKey::from(API_KEY), "T")
        .await
        .unwrap_err();
    let api = err.api_error().unwrap_or_else(|| panic!("{err}"));
    assert_eq!(api.http_status, 404);
    assert!(api.messages[0].contains("non-JSON body"), "{api}");
    assert!(!err.to_string().contains("<html>"), "{err}");
}

#[tokio::test]
async fn undocumented_status_is_reported_without_body() {
    let (server, vandar) = setup().await;
    Mock::given(method("POST"))
        .and(path("/ipg/api/v4/send"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
        .mount(&server)
        .await;
    let err: Error = vandar
        .ipg()
        .send_payment()
        .body(
            PaymentRequest::builder()
                .api_key(API_KEY)
                .amount(Rial::new(5000))
                .callback_url("https://shop.example/cb"),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(502));
    // a payment call's 502 may come after the gateway forwarded it: outcome unknown
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(!err.to_string().contains("<html>"), "{err}");
}
