//! Sanbod against a local mock server: the OAuth dance (authorize answers a 302 whose
//! `Location` is returned, never followed; the code exchange, client-credentials and refresh
//! grants send HTTP Basic auth and JSON bodies; revoke sends no auth and a form body), every
//! service's method,
//! host routing, path, bearer token, automatic `traceid`, documented body and the decoding of
//! its success and error answers; the token manager (cache, expiry, refresh, 401 replay,
//! revoke); path overrides; retry safety of transfers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use vandar::sanbod::types::{
    AchReportRequest, AchTransferRequest, AuthorizeRequest, BillsInquiryRequest,
    CardNationalIdRequest, CardRequest, DepositToIbanRequest, IbanRequest, MobileNationalIdRequest,
    NormalTransferRequest, PersonalInquiryRequest, RevokeRequest, RtgsReportRequest,
    RtgsTransferRequest, StatementRequest, TokenRequest,
};
use vandar::sanbod::{
    AuthorizationCallback, CLIENT_SCHEME, Client, PayaStatus, ProviderCode, SatnaStatus, Scope,
    TokenKey, TokenSet, Tokens,
};
use vandar::{Config, ConfigBuilder, Error, RetryPolicy, Vandar};
use vandar_runtime::{AuthError, Clock, OAuthToken, Secret};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SANBOD_HOST: &str = "https://api.sanbod.co";
const CLIENT_ID: &str = "test_sanbod";
const CLIENT_SECRET: &str = "client-secret-SECRET-77";
/// base64("test_sanbod:client-secret-SECRET-77")
const BASIC: &str = "Basic dGVzdF9zYW5ib2Q6Y2xpZW50LXNlY3JldC1TRUNSRVQtNzc=";
const VANDAR_TOKEN: &str = "vandar-business-token-SECRET";
const AC_TOKEN: &str = "ac-access-token-SECRET-1";
const AC_TOKEN_2: &str = "ac-access-token-SECRET-2";
const AC_REFRESH: &str = "ac-refresh-token-SECRET-1";
const AC_REFRESH_2: &str = "ac-refresh-token-SECRET-2";
const CC_TOKEN: &str = "cc-access-token-SECRET-1";
const CC_TOKEN_2: &str = "cc-access-token-SECRET-2";
const CC_REFRESH: &str = "cc-refresh-token-SECRET-1";

/// A wall clock the tests move by hand (token expiry).
#[derive(Clone)]
struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        )))
    }

    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

/// `api.sanbod.co` goes to `{mock}/sanbod`, every other host to `{mock}/elsewhere` (the prefix
/// proves the routing); client credentials for the token endpoint; a Vandar token that must
/// never reach Sanbod.
fn config_for(server: &MockServer) -> ConfigBuilder {
    Config::builder()
        .all_hosts(&format!("{}/elsewhere", server.uri()))
        .host(SANBOD_HOST, &format!("{}/sanbod", server.uri()))
        .basic_auth(CLIENT_SCHEME, CLIENT_ID, CLIENT_SECRET)
        .access_token(VANDAR_TOKEN)
}

fn client_with(config: ConfigBuilder) -> Client {
    Vandar::new(config.build().unwrap()).unwrap().sanbod()
}

async fn setup() -> (MockServer, Client) {
    let server = MockServer::start().await;
    let sanbod = client_with(config_for(&server));
    (server, sanbod)
}

/// The examples of `spec/sanbod.yaml`, parsed once.
fn examples() -> &'static [vandar_tests::Example] {
    static EXAMPLES: std::sync::OnceLock<Vec<vandar_tests::Example>> = std::sync::OnceLock::new();
    EXAMPLES.get_or_init(|| {
        let root = xtask::spec::workspace_root();
        let spec = xtask::spec::load(&root, &root.join("spec/sanbod.yaml")).unwrap();
        vandar_tests::examples(&spec)
    })
}

/// An example of the spec: `response` `None` for the request body.
fn example(operation: &str, response: Option<&str>, name: &str) -> Value {
    examples()
        .iter()
        .find(|e| {
            e.operation_id == operation
                && e.response.as_deref() == response
                && e.location.ends_with(&format!("/ {name}"))
        })
        .unwrap_or_else(|| panic!("no example {operation} {response:?} {name}"))
        .value
        .clone()
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

fn query(req: &Request, name: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn auth_header(req: &Request) -> Option<String> {
    req.headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_string())
}

/// A hyphenated lower-case UUID (what the runtime fills `traceid` with).
fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && s.chars()
            .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// Checks every Sanbod request shares: POST, routed to the Sanbod host, a fresh UUID
/// `traceid`, a JSON body; returns the body.
fn sent(req: &Request, expected_path: &str) -> Value {
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(req.url.path(), expected_path, "routed to the Sanbod host");
    let trace = query(req, "traceid").expect("traceid is always sent");
    assert!(is_uuid(&trace), "auto traceid is a UUID: {trace}");
    assert_eq!(
        req.headers.get("content-type").unwrap().to_str().unwrap(),
        "application/json"
    );
    serde_json::from_slice(&req.body).unwrap()
}

/// Like [`sent`] for a form-encoded request (revoke): the fields as a JSON object of strings.
fn sent_form(req: &Request, expected_path: &str) -> Value {
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(req.url.path(), expected_path, "routed to the Sanbod host");
    let trace = query(req, "traceid").expect("traceid is always sent");
    assert!(is_uuid(&trace), "auto traceid is a UUID: {trace}");
    assert_eq!(
        req.headers.get("content-type").unwrap().to_str().unwrap(),
        "application/x-www-form-urlencoded"
    );
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&req.body).unwrap();
    Value::Object(
        fields
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    )
}

fn token_answer(access: &str, refresh: Option<&str>, expires_in: Option<u64>) -> Value {
    let mut v = json!({"access_token": access, "token_type": "Bearer"});
    if let Some(r) = refresh {
        v["refresh_token"] = json!(r);
    }
    if let Some(e) = expires_in {
        v["expires_in"] = json!(e);
    }
    v
}

fn api_error(e: &Error) -> &vandar::ApiError {
    e.api_error()
        .unwrap_or_else(|| panic!("expected an API error, got {e:?}"))
}

// ---------------------------------------------------------------- OAuth: authorize

#[tokio::test]
async fn authorize_returns_the_location_without_following_it() {
    let (server, sanbod) = setup().await;
    let bank_page = format!("{}/bank/login?session=5f2c", server.uri());
    Mock::given(method("POST"))
        .and(path("/sanbod/oautht/v1/authorize"))
        .respond_with(ResponseTemplate::new(302).insert_header("Location", bank_page.as_str()))
        .expect(2)
        .mount(&server)
        .await;
    // Following the redirect would land here.
    Mock::given(path("/bank/login"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>bank</html>"))
        .expect(0)
        .mount(&server)
        .await;

    let body: AuthorizeRequest =
        serde_json::from_value(example("authorize", None, "statement_at_sina")).unwrap();
    let url = sanbod.authorize_url(body.clone()).await.unwrap();
    assert_eq!(url.as_str(), bank_page);

    let url = sanbod
        .authorize_url_with_traceid(body, "123456")
        .await
        .unwrap();
    assert_eq!(url.as_str(), bank_page);

    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 2, "the redirect is never followed");
    let sent_body = sent(&reqs[0], "/sanbod/oautht/v1/authorize");
    // URL fields are sent parsed and normalized (issue 22): the empty path becomes `/`.
    assert_eq!(
        sent_body,
        json!({"provider_code": "059", "redirect_uri": "https://google.com/",
               "scope": ["statement"], "client_id": "test_sanbod",
               "response_type": "code", "state": "7000"})
    );
    assert_eq!(
        auth_header(&reqs[0]),
        None,
        "authorize sends no credentials"
    );
    assert_eq!(query(&reqs[1], "traceid").as_deref(), Some("123456"));
}

#[tokio::test]
async fn token_manager_builds_the_authorize_body_and_resolves_a_relative_location() {
    let (server, sanbod) = setup().await;
    Mock::given(method("POST"))
        .and(path("/sanbod/oautht/v1/authorize"))
        .respond_with(ResponseTemplate::new(302).insert_header("Location", "/login?s=1"))
        .expect(1)
        .mount(&server)
        .await;
    let tokens = Tokens::new(&sanbod);
    let key = TokenKey::authorization_code(
        ProviderCode::Pasargad,
        [Scope::Statement, Scope::AchTransfer],
        "user-42",
    );
    let url = tokens
        .authorize_url(&key, "https://app.example/cb", "st-1")
        .await
        .unwrap();
    assert_eq!(url.as_str(), format!("{}/login?s=1", server.uri()));
    let reqs = requests(&server).await;
    let body = sent(&reqs[0], "/sanbod/oautht/v1/authorize");
    assert_eq!(
        body,
        json!({"provider_code": "057", "scope": ["statement", "achtransfer"],
               "client_id": CLIENT_ID, "response_type": "code",
               "redirect_uri": "https://app.example/cb", "state": "st-1"})
    );
    // A client-credentials key has no consent page.
    let cc = TokenKey::client_credentials("999", [Scope::CardToIban]);
    assert!(matches!(
        tokens.authorize_url(&cc, "https://x", "s").await,
        Err(Error::InvalidRequest(_))
    ));
}

#[tokio::test]
async fn authorize_errors_and_a_followed_redirect_are_reported() {
    let (server, sanbod) = setup().await;
    Mock::given(method("POST"))
        .and(path("/sanbod/oautht/v1/authorize"))
        .respond_with(ResponseTemplate::new(400).set_body_json(example(
            "authorize",
            Some("4XX"),
            "rejected",
        )))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let body: AuthorizeRequest =
        serde_json::from_value(example("authorize", None, "statement_at_sina")).unwrap();
    let err = sanbod.authorize_url(body.clone()).await.unwrap_err();
    let api = api_error(&err);
    assert_eq!(api.http_status, 400);
    assert_eq!(api.messages, vec!["invalid client_id"]);
    assert_eq!(api.raw["traceid"], "7f1c3a2e-9b8d-4c21-a5e0-3f6d2b1c9e84");

    // A 200 (a proxy that followed the redirect) is not a consent page.
    Mock::given(method("POST"))
        .and(path("/sanbod/oautht/v1/authorize"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>bank</html>"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let err = sanbod.authorize_url(body.clone()).await.unwrap_err();
    assert!(
        matches!(err, Error::UnexpectedStatus { status: 200 }),
        "{err:?}"
    );

    // A 302 without Location.
    Mock::given(method("POST"))
        .and(path("/sanbod/oautht/v1/authorize"))
        .respond_with(ResponseTemplate::new(302))
        .mount(&server)
        .await;
    let err = sanbod.authorize_url(body).await.unwrap_err();
    assert!(
        matches!(err, Error::UnexpectedStatus { status: 302 }),
        "{err:?}"
    );
}

#[tokio::test]
async fn authorize_path_can_be_corrected() {
    let (server, sanbod) = setup().await;
    Mock::given(method("POST"))
        .and(path("/sanbod/oauth/v1/authorize"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("Location", "https://bank.example/x"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let fixed = sanbod.with_authorize_path("/oauth/v1/authorize").unwrap();
    let body: AuthorizeRequest =
        serde_json::from_value(example("authorize", None, "statement_at_sina")).unwrap();
    assert_eq!(
        fixed.authorize_url(body).await.unwrap().as_str(),
        "https://bank.example/x"
    );
    assert!(sanbod.with_authorize_path("oauth/no-slash").is_err());
    assert!(
        sanbod
            .with_operation_path("no_such_operation", "/x")
            .is_err()
    );
}

#[test]
fn consent_callback_is_parsed() {
    let cb = AuthorizationCallback::parse(
        "https://app.example/cb?code=bbe0ead3-3c2e-4551-95fa-8d3a93037ce6&state=7000",
    )
    .unwrap();
    assert_eq!(cb.code, "bbe0ead3-3c2e-4551-95fa-8d3a93037ce6");
    assert_eq!(cb.state.as_deref(), Some("7000"));
}

// ---------------------------------------------------------------- OAuth: token and revoke

#[tokio::test]
async fn code_exchange_sends_basic_auth_and_the_documented_body() {
    let (server, sanbod) = setup().await;
    Mock::given(method("POST"))
        .and(path("/sanbod/oauth/v1/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(example(
            "token",
            Some("200"),
            "issued",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let tokens = Tokens::new(&sanbod);
    let key = TokenKey::authorization_code("059", [Scope::Statement], "user-42");
    let set = tokens
        .exchange_code(&key, "bbe0ead3-3c2e-4551-95fa-8d3a93037ce6")
        .await
        .unwrap();
    let issued = example("token", Some("200"), "issued");
    assert_eq!(
        set.access_token.expose(),
        issued["access_token"].as_str().unwrap()
    );
    assert_eq!(
        set.refresh_token.as_ref().unwrap().expose(),
        issued["refresh_token"].as_str().unwrap()
    );
    assert_eq!(set.token_type.as_deref(), Some("Bearer"));
    assert_eq!(tokens.get(&key).await.unwrap(), set);

    let reqs = requests(&server).await;
    let body = sent(&reqs[0], "/sanbod/oauth/v1/token");
    assert_eq!(body, example("token", None, "authorization_code"));
    assert_eq!(auth_header(&reqs[0]).as_deref(), Some(BASIC));
}

#[tokio::test]
async fn token_grants_through_the_generated_method() {
    let (server, sanbod) = setup().await;
    Mock::given(method("POST"))
        .and(path("/sanbod/oauth/v1/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_answer(
            CC_TOKEN,
            None,
            Some(3600),
        )))
        .expect(2)
        .mount(&server)
        .await;
    for name in ["client_credentials", "refresh_token"] {
        let body: TokenRequest = serde_json::from_value(example("token", None, name)).unwrap();
        let answer = sanbod.token().body(body).send().await.unwrap();
        assert_eq!(answer.access_token.unwrap().expose(), CC_TOKEN);
        assert_eq!(answer.expires_in.unwrap().get(), 3600);
    }
    let reqs = requests(&server).await;
    for (req, name) in reqs.iter().zip(["client_credentials", "refresh_token"]) {
        assert_eq!(
            sent(req, "/sanbod/oauth/v1/token"),
            example("token", None, name)
        );
        assert_eq!(auth_header(req).as_deref(), Some(BASIC));
    }
}

#[tokio::test]
async fn token_errors_are_api_errors() {
    let (server, sanbod) = setup().await;
    Mock::given(method("POST"))
        .and(path("/sanbod/oauth/v1/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(example(
            "token",
            Some("4XX"),
            "invalid_grant",
        )))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/sanbod/oauth/v1/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(example(
            "token",
            Some("4XX"),
            "rejected",
        )))
        .mount(&server)
        .await;
    let tokens = Tokens::new(&sanbod);
    let key = TokenKey::authorization_code("059", [Scope::Statement], "user-42");
    let err = tokens
        .exchange_code(&key, "expired-code")
        .await
        .unwrap_err();
    let api = api_error(&err);
    assert_eq!(api.http_status, 400);
    assert_eq!(api.messages, vec!["invalid_grant"]);
    assert_eq!(
        api.raw["error_description"],
        "the authorization code has expired"
    );
    assert!(tokens.get(&key).await.is_none(), "nothing stored");

    let body = TokenRequest::client_credentials("999", [Scope::CardToIban]);
    let err = sanbod.token().body(body).send().await.unwrap_err();
    let api = api_error(&err);
    assert_eq!(api.http_status, 401);
    assert_eq!(api.messages, vec!["invalid client credentials"]);
}

#[tokio::test]
async fn token_needs_client_credentials_and_sends_nothing_without_them() {
    let server = MockServer::start().await;
    let sanbod =
        client_with(Config::builder().host(SANBOD_HOST, &format!("{}/sanbod", server.uri())));
    let body = TokenRequest::client_credentials("999", [Scope::CardToIban]);
    let err = sanbod.token().body(body).send().await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest(m) if m.contains("sanbod_client")),
        "{err:?}"
    );
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn revoke_sends_the_token_without_auth() {
    let (server, sanbod) = setup().await;
    Mock::given(method("POST"))
        .and(path("/sanbod/oauth/v1/revoke"))
        .respond_with(ResponseTemplate::new(200).set_body_json(example(
            "revoke",
            Some("200"),
            "revoked",
        )))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/sanbod/oauth/v1/revoke"))
        .respond_with(ResponseTemplate::new(400).set_body_json(example(
            "revoke",
            Some("4XX"),
            "unknown_token",
        )))
        .mount(&server)
        .await;

    // The generated method.
    let body: RevokeRequest = serde_json::from_value(example("revoke", None, "revoke")).unwrap();
    let answer = sanbod.revoke().body(body).send().await.unwrap();
    assert_eq!(
        answer.message.as_deref(),
        Some("revoked"),
        "the typed answer"
    );
    assert_eq!(answer.error, Some(false));

    // Through the manager: the token is forgotten.
    let tokens = Tokens::new(&sanbod);
    let key = TokenKey::authorization_code("059", [Scope::Statement], "user-42");
    tokens
        .insert(
            &key,
            TokenSet {
                access_token: Secret::new(AC_TOKEN),
                refresh_token: None,
                token_type: None,
                expires_at: None,
            },
        )
        .await;
    tokens.revoke(&key).await.unwrap();
    assert!(tokens.get(&key).await.is_none());
    tokens.revoke(&key).await.unwrap(); // nothing held: nothing sent

    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 2);
    // form-encoded, as the Go client sends it
    assert_eq!(
        sent_form(&reqs[0], "/sanbod/oauth/v1/revoke"),
        example("revoke", None, "revoke")
    );
    assert_eq!(
        sent_form(&reqs[1], "/sanbod/oauth/v1/revoke"),
        json!({"access_token": AC_TOKEN})
    );
    for r in &reqs {
        assert_eq!(auth_header(r), None, "revoke sends no credentials");
    }

    // The documented error.
    let body = RevokeRequest::builder().access_token(OAuthToken::from("gone"));
    let err = sanbod.revoke().body(body).send().await.unwrap_err();
    assert_eq!(api_error(&err).http_status, 400);
    assert_eq!(api_error(&err).messages, vec!["invalid token"]);
}

// ---------------------------------------------------------------- services

/// One service: call it through its generated method with its documented request example and
/// a static token, against its documented success and error answers; returns the decoded
/// success answer as JSON.
macro_rules! service_case {
    (
        $test:ident, $op:ident, $path:literal, $body:ty,
        request: $req:literal, ok: $ok:literal, err: $err:literal,
        check: $check:expr
    ) => {
        #[tokio::test]
        async fn $test() {
            let (server, sanbod) = setup().await;
            let op = stringify!($op);
            let full_path = concat!("/sanbod", $path);
            Mock::given(method("POST"))
                .and(path(full_path))
                .respond_with(ResponseTemplate::new(200).set_body_json(example(
                    op,
                    Some("200"),
                    $ok,
                )))
                .up_to_n_times(1)
                .mount(&server)
                .await;
            Mock::given(method("POST"))
                .and(path(full_path))
                .respond_with(ResponseTemplate::new(422).set_body_json(example(
                    op,
                    Some("4XX"),
                    $err,
                )))
                .up_to_n_times(1)
                .mount(&server)
                .await;
            // A failure envelope on HTTP 200 is an error too.
            let mut on_200 = example(op, Some("4XX"), $err);
            on_200["error"] = json!(true);
            Mock::given(method("POST"))
                .and(path(full_path))
                .respond_with(ResponseTemplate::new(200).set_body_json(&on_200))
                .mount(&server)
                .await;

            let request = example(op, None, $req);
            let body: $body = serde_json::from_value(request.clone()).unwrap();
            let client = sanbod.with_bearer(AC_TOKEN);

            let ok = client.$op().body(body.clone()).send().await.unwrap();
            let check = $check;
            check(&ok);
            let documented = serde_json::from_value::<_>(example(op, Some("200"), $ok)).unwrap();
            check(&documented);
            assert_eq!(
                serde_json::to_value(&ok).unwrap(),
                serde_json::to_value(&documented).unwrap(),
                "the whole answer decodes as the documented example does"
            );

            let err = client.$op().body(body.clone()).send().await.unwrap_err();
            let api = api_error(&err);
            assert_eq!(api.http_status, 422);
            assert_eq!(api.raw, example(op, Some("4XX"), $err));
            assert!(
                !api.messages.is_empty() || !api.field_errors.is_empty(),
                "{api:?}"
            );

            let err = client.$op().body(body).send().await.unwrap_err();
            assert_eq!(api_error(&err).http_status, 200, "the real status is kept");

            let reqs = requests(&server).await;
            assert_eq!(reqs.len(), 3, "no retries of 4xx answers");
            let mut traces = std::collections::BTreeSet::new();
            for r in &reqs {
                assert_eq!(sent(r, full_path), request, "the documented body is sent");
                assert_eq!(
                    auth_header(r).as_deref(),
                    Some(format!("Bearer {AC_TOKEN}").as_str()),
                    "the client's own token, never the Vandar token"
                );
                traces.insert(query(r, "traceid").unwrap());
            }
            assert_eq!(traces.len(), 3, "a fresh traceid per call");
        }
    };
}

service_case!(
    normal_transfer_service, normal_transfer, "/normaltransfer", NormalTransferRequest,
    request: "transfer", ok: "transferred", err: "insufficient_balance",
    check: |r: &vandar::sanbod::types::NormalTransferResult| {
        assert_eq!(r.error, Some(false));
        assert_eq!(
            r.message.as_ref().unwrap().doc_number.as_deref(),
            Some("00001632235711734468")
        );
        assert_eq!(r.traceid.as_ref().unwrap().as_u64(), Some(123));
    }
);

service_case!(
    ach_transfer_service, ach_transfer, "/achtransfer", AchTransferRequest,
    request: "transfer", ok: "registered", err: "invalid_iban",
    check: |r: &vandar::sanbod::types::AchTransferResult| {
        let m = r.message.as_ref().unwrap();
        assert_eq!(m.transfer_amount.unwrap().get(), 20_000);
        assert_eq!(m.reference_id.as_ref().unwrap().as_str(), Some("140006310592000002"));
        assert_eq!(m.paya_status(), Some(PayaStatus::ReadyToTransfer));
        assert_eq!(m.transaction_status.as_deref(), Some("ACCEPTED"));
    }
);

service_case!(
    rtgs_transfer_service, rtgs_transfer, "/rtgstransfer", RtgsTransferRequest,
    request: "transfer", ok: "registered", err: "amount_too_low",
    check: |r: &vandar::sanbod::types::RtgsTransferResult| {
        let receipts = r.receipts();
        assert_eq!(receipts.len(), 1);
        assert_eq!(
            receipts[0].reference_id.as_ref().unwrap().as_str(),
            Some("00001631343145788607")
        );
    }
);

service_case!(
    statement_service, statement, "/statement", StatementRequest,
    request: "two_items", ok: "one_debit", err: "unknown_account",
    check: |r: &vandar::sanbod::types::StatementResult| {
        let item = &r.message[0];
        assert_eq!(item.transfer_amount.unwrap().get(), -20_000, "debits are negative");
        assert_eq!(item.balance.unwrap().get(), 38_566_490);
        assert_eq!(
            item.transaction_date.as_ref().unwrap().utc().timestamp_millis(),
            1_645_602_238_000
        );
        assert_eq!(item.reference_id.as_ref().unwrap().as_str(), Some("00001632208206449023"));
    }
);

service_case!(
    ach_report_service, ach_report, "/achreport", AchReportRequest,
    request: "every_filter", ok: "processed", err: "unknown_account",
    check: |r: &vandar::sanbod::types::AchReportResult| {
        let item = &r.message[0];
        assert_eq!(item.paya_status(), Some(PayaStatus::Processed));
        assert_eq!(
            item.register_date_time.as_ref().unwrap().utc().timestamp_millis(),
            1_653_187_438_000,
            "a millisecond timestamp sent as a string"
        );
        assert_eq!(item.transfer_description, None);
    }
);

service_case!(
    rtgs_report_service, rtgs_report, "/rtgsreport", RtgsReportRequest,
    request: "every_filter", ok: "settled", err: "unknown_account",
    check: |r: &vandar::sanbod::types::RtgsReportResult| {
        let item = &r.message[0];
        assert_eq!(item.satna_status(), Some(SatnaStatus::TasfiyehShode));
        assert!(item.satna_status().unwrap().is_final());
        assert_eq!(item.transfer_amount.unwrap().get(), 150_000_000);
    }
);

service_case!(
    deposit_to_iban_service, deposit_to_iban, "/sanboom/v1/banksinquiry/deposittoiban", DepositToIbanRequest,
    request: "pasargad", ok: "converted", err: "unknown_account",
    check: |r: &vandar::sanbod::types::DepositToIbanResult| {
        let m = r.message.as_ref().unwrap();
        assert_eq!(m.iban.as_deref(), Some("IR910540102220100630357602"));
        let trace = r.trace_id.as_ref().unwrap();
        assert!(trace.is_uuid(), "conversions echo trace_id, a UUID");
    }
);

service_case!(
    card_to_iban_service, card_to_iban, "/sanboom/v1/banksinquiry/cardtoiban", CardRequest,
    request: "card", ok: "converted", err: "unknown_card",
    check: |r: &vandar::sanbod::types::CardToIbanResult| {
        assert_eq!(
            r.message.as_ref().unwrap().iban.as_deref(),
            Some("IR660570021380014707021101")
        );
    }
);

service_case!(
    iban_to_deposit_service, iban_to_deposit, "/banks/v1/ibantodeposit", IbanRequest,
    request: "iban", ok: "converted", err: "unknown_iban",
    check: |r: &vandar::sanbod::types::IbanToDepositResult| {
        assert_eq!(
            r.message.as_ref().unwrap().deposit_number.as_deref(),
            Some("213.8000.14707021.1")
        );
    }
);

service_case!(
    card_to_deposit_service, card_to_deposit, "/sanboom/v1/banksinquiry/cardtodeposit", CardRequest,
    request: "card", ok: "converted", err: "unknown_card",
    check: |r: &vandar::sanbod::types::CardToDepositResult| {
        assert_eq!(
            r.message.as_ref().unwrap().deposit_number.as_deref(),
            Some("213.8000.14707021.1")
        );
    }
);

// Extras beyond the seeds (docs/reference/extras.md): paths and fields from independent
// clients.

service_case!(
    match_mobile_national_id_service, match_mobile_national_id,
    "/sanboom/v1/infomatching/mobilenationalid", MobileNationalIdRequest,
    request: "match", ok: "matched", err: "invalid_national_id",
    check: |r: &vandar::sanbod::types::MatchResult| {
        assert_eq!(r.message.as_ref().unwrap().ismatched, Some(true));
    }
);

service_case!(
    match_card_national_id_service, match_card_national_id,
    "/sanboom/v1/infomatching/cardnationalid", CardNationalIdRequest,
    request: "match", ok: "not_matched", err: "unknown_card",
    check: |r: &vandar::sanbod::types::MatchResult| {
        assert_eq!(r.message.as_ref().unwrap().ismatched, Some(false));
    }
);

service_case!(
    personal_inquiry_service, personal_inquiry,
    "/sanboom/v1/infoinquiry/personal", PersonalInquiryRequest,
    request: "person", ok: "found", err: "not_found",
    check: |r: &vandar::sanbod::types::PersonalInquiryResult| {
        let p = r.message.as_ref().unwrap();
        assert_eq!(p.father_name.as_deref(), Some("علی"));
        assert_eq!(p.national_id.as_ref().unwrap().as_str(), Some("0010350829"), "leading zeros kept");
    }
);

service_case!(
    personal_inquiry_with_image_service, personal_inquiry_with_image,
    "/sanboom/v1/infoinquiry/personalwithimage", PersonalInquiryRequest,
    request: "person", ok: "found", err: "not_found",
    check: |r: &vandar::sanbod::types::PersonalInquiryWithImageResult| {
        let images = &r.message.as_ref().unwrap().images;
        assert_eq!(images.len(), 2);
        assert_eq!(images[1].image, None, "a missing photo is null");
    }
);

service_case!(
    iban_inquiry_service, iban_inquiry,
    "/sanboom/v1/banksinquiry/ibaninquiry", IbanRequest,
    request: "iban", ok: "active", err: "unknown_iban",
    check: |r: &vandar::sanbod::types::IbanInquiryResult| {
        let a = r.message.as_ref().unwrap();
        assert_eq!(a.deposit_number.as_deref(), Some("213.8000.14707021.1"));
        assert_eq!(a.owners_info[0].last_name.as_deref(), Some("کاویانی"));
    }
);

/// The two services whose answer no source shows: the body is sent as documented and any
/// JSON object comes back whole; their documented errors decode.
#[tokio::test]
async fn free_form_inquiries_send_their_fields_and_keep_the_answer() {
    let (server, sanbod) = setup().await;
    let client = sanbod.with_bearer(AC_TOKEN);
    let answer = json!({"error": false, "message": {"anything": [1, "two"]}, "result_number": 1});
    for (op, p, req, err_example) in [
        (
            "personal_image_inquiry",
            "/sanbod/inquiries/v1/personalimageinquiry",
            "person",
            "rejected",
        ),
        (
            "bills_inquiry",
            "/sanbod/bills/v1/inquery",
            "car",
            "rejected",
        ),
    ] {
        server.reset().await;
        Mock::given(method("POST"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(400).set_body_json(example(
                op,
                Some("4XX"),
                err_example,
            )))
            .mount(&server)
            .await;
        let request = example(op, None, req);
        let (ok, failed) = if op == "bills_inquiry" {
            let body: BillsInquiryRequest = serde_json::from_value(request.clone()).unwrap();
            (
                client
                    .bills_inquiry()
                    .body(body.clone())
                    .send()
                    .await
                    .map(|v| serde_json::to_value(v).unwrap()),
                client
                    .bills_inquiry()
                    .body(body)
                    .send()
                    .await
                    .map(|v| serde_json::to_value(v).unwrap()),
            )
        } else {
            let body: PersonalInquiryRequest = serde_json::from_value(request.clone()).unwrap();
            (
                client
                    .personal_image_inquiry()
                    .body(body.clone())
                    .send()
                    .await
                    .map(|v| serde_json::to_value(v).unwrap()),
                client
                    .personal_image_inquiry()
                    .body(body)
                    .send()
                    .await
                    .map(|v| serde_json::to_value(v).unwrap()),
            )
        };
        assert_eq!(
            ok.unwrap(),
            answer,
            "{op}: an undocumented answer is kept whole"
        );
        let err = failed.unwrap_err();
        let api = api_error(&err);
        assert_eq!(api.http_status, 400, "{op}");
        assert_eq!(api.raw, example(op, Some("4XX"), err_example), "{op}");
        let reqs = requests(&server).await;
        assert_eq!(reqs.len(), 2, "{op}: no retry of a 4xx");
        for r in &reqs {
            assert_eq!(sent(r, p), request, "{op}: the documented body");
            assert_eq!(
                auth_header(r).as_deref(),
                Some(format!("Bearer {AC_TOKEN}").as_str())
            );
        }
    }
}

#[tokio::test]
async fn services_without_a_token_send_nothing() {
    let (server, sanbod) = setup().await;
    let body: StatementRequest =
        serde_json::from_value(example("statement", None, "two_items")).unwrap();
    let err = sanbod.statement().body(body).send().await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest(m) if m.contains("sanbod_bearer")),
        "{err:?}"
    );
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn a_caller_traceid_is_sent_unchanged() {
    let (server, sanbod) = setup().await;
    Mock::given(method("POST"))
        .and(path("/sanbod/sanboom/v1/banksinquiry/cardtoiban"))
        .respond_with(ResponseTemplate::new(200).set_body_json(example(
            "card_to_iban",
            Some("200"),
            "converted",
        )))
        .mount(&server)
        .await;
    let body: CardRequest = serde_json::from_value(example("card_to_iban", None, "card")).unwrap();
    let client = sanbod.with_bearer(CC_TOKEN);
    client
        .card_to_iban()
        .traceid("order-1001")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    client
        .card_to_iban()
        .traceid("")
        .body(body)
        .send()
        .await
        .unwrap();
    let reqs = requests(&server).await;
    assert_eq!(query(&reqs[0], "traceid").as_deref(), Some("order-1001"));
    let filled = query(&reqs[1], "traceid").unwrap();
    assert!(is_uuid(&filled), "an empty traceid is replaced: {filled}");
    assert_eq!(
        reqs[1]
            .url
            .query_pairs()
            .filter(|(k, _)| k == "traceid")
            .count(),
        1
    );
}

#[tokio::test]
async fn satna_below_its_minimum_is_refused_before_sending() {
    let (server, sanbod) = setup().await;
    let mut request = example("rtgs_transfer", None, "transfer");
    request["transferAmount"] = json!("150000000");
    let body: RtgsTransferRequest = serde_json::from_value(request).unwrap();
    let err = sanbod
        .with_bearer(AC_TOKEN)
        .rtgs_transfer()
        .body(body)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest(m) if m.contains("transferAmount")),
        "{err:?}"
    );
    assert!(requests(&server).await.is_empty());
}

// ---------------------------------------------------------------- retry safety

fn quick_retries(server: &MockServer) -> Client {
    client_with(config_for(server).retry(RetryPolicy {
        max_retries: 2,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(2),
        jitter: false,
    }))
}

#[tokio::test]
async fn transfers_are_never_retried_but_reports_are_with_the_same_traceid() {
    let server = MockServer::start().await;
    let sanbod = quick_retries(&server).with_bearer(AC_TOKEN);
    Mock::given(method("POST"))
        .and(path("/sanbod/normaltransfer"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/sanbod/statement"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/sanbod/statement"))
        .respond_with(ResponseTemplate::new(200).set_body_json(example(
            "statement",
            Some("200"),
            "one_debit",
        )))
        .mount(&server)
        .await;

    let body: NormalTransferRequest =
        serde_json::from_value(example("normal_transfer", None, "transfer")).unwrap();
    let err = sanbod
        .normal_transfer()
        .body(body)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(503));
    let body: StatementRequest =
        serde_json::from_value(example("statement", None, "two_items")).unwrap();
    sanbod.statement().body(body).send().await.unwrap();

    let reqs = requests(&server).await;
    let transfers: Vec<_> = reqs
        .iter()
        .filter(|r| r.url.path() == "/sanbod/normaltransfer")
        .collect();
    assert_eq!(transfers.len(), 1, "a transfer reaches the server once");
    let statements: Vec<_> = reqs
        .iter()
        .filter(|r| r.url.path() == "/sanbod/statement")
        .collect();
    assert_eq!(statements.len(), 2, "the statement is retried");
    assert_eq!(
        query(statements[0], "traceid"),
        query(statements[1], "traceid"),
        "a retry carries the same traceid"
    );
}

// ---------------------------------------------------------------- token manager

#[tokio::test]
async fn cc_tokens_are_issued_cached_and_renewed_before_expiry() {
    let server = MockServer::start().await;
    let clock = ManualClock::new();
    let sanbod = client_with(config_for(&server).clock(clock.clone()));
    // First a CC grant, then the refresh grant.
    Mock::given(method("POST"))
        .and(path("/sanbod/oauth/v1/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_answer(
            CC_TOKEN,
            Some(CC_REFRESH),
            Some(600),
        )))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/sanbod/oauth/v1/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_answer(
            CC_TOKEN_2,
            None,
            Some(600),
        )))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/sanbod/sanboom/v1/banksinquiry/deposittoiban"))
        .respond_with(ResponseTemplate::new(200).set_body_json(example(
            "deposit_to_iban",
            Some("200"),
            "converted",
        )))
        .mount(&server)
        .await;

    let tokens = Tokens::new(&sanbod);
    let key = TokenKey::client_credentials(
        ProviderCode::Pasargad,
        [Scope::IbanToDeposit, Scope::DepositToIban],
    );
    let client = tokens.client(&key);
    let body: DepositToIbanRequest =
        serde_json::from_value(example("deposit_to_iban", None, "pasargad")).unwrap();
    for _ in 0..2 {
        client
            .deposit_to_iban()
            .body(body.clone())
            .send()
            .await
            .unwrap();
    }
    clock.advance(Duration::from_secs(560)); // within the 60 s margin of expiry
    client.deposit_to_iban().body(body).send().await.unwrap();

    let reqs = requests(&server).await;
    let paths: Vec<&str> = reqs.iter().map(|r| r.url.path()).collect();
    assert_eq!(
        paths,
        [
            "/sanbod/oauth/v1/token",
            "/sanbod/sanboom/v1/banksinquiry/deposittoiban",
            "/sanbod/sanboom/v1/banksinquiry/deposittoiban",
            "/sanbod/oauth/v1/token",
            "/sanbod/sanboom/v1/banksinquiry/deposittoiban",
        ]
    );
    assert_eq!(
        sent(&reqs[0], "/sanbod/oauth/v1/token"),
        json!({"grant_type": "client_credentials", "provider_code": "057",
               "scope": ["deposittoiban", "ibantodeposit"]})
    );
    assert_eq!(auth_header(&reqs[0]).as_deref(), Some(BASIC));
    assert_eq!(
        sent(&reqs[3], "/sanbod/oauth/v1/token"),
        json!({"grant_type": "refresh_token", "refresh_token": CC_REFRESH})
    );
    let bearer = |i: usize| auth_header(&reqs[i]).unwrap();
    assert_eq!(bearer(1), format!("Bearer {CC_TOKEN}"));
    assert_eq!(bearer(2), format!("Bearer {CC_TOKEN}"), "cached");
    assert_eq!(bearer(4), format!("Bearer {CC_TOKEN_2}"), "renewed");
    let held = tokens.get(&key).await.unwrap();
    assert_eq!(
        held.refresh_token.unwrap().expose(),
        CC_REFRESH,
        "an answer without a refresh token keeps the old one"
    );
}

/// A token manager holding user-42's consent to transfers (the first access token and its
/// refresh token, no known expiry).
async fn transfer_consent(sanbod: &sanbod::Client) -> (Tokens, TokenKey) {
    let tokens = Tokens::new(sanbod);
    let key = TokenKey::authorization_code("059", [Scope::NormalTransfer], "user-42");
    tokens
        .insert(
            &key,
            TokenSet {
                access_token: Secret::new(AC_TOKEN),
                refresh_token: Some(Secret::new(AC_REFRESH)),
                token_type: Some("Bearer".into()),
                expires_at: None,
            },
        )
        .await;
    (tokens, key)
}

/// A refresh already sent is not cancelled with a caller that gives up: the answer rotates
/// the refresh token, and losing it would leave only the spent one (the user locked out until
/// they consent again). The rotated set is kept for the next call.
#[tokio::test]
async fn a_refresh_the_caller_gave_up_on_still_keeps_the_rotated_tokens() {
    let (server, sanbod) = setup().await;
    Mock::given(method("POST"))
        .and(path("/sanbod/oauth/v1/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(token_answer(AC_TOKEN_2, Some(AC_REFRESH_2), None))
                .set_delay(std::time::Duration::from_millis(800)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (tokens, key) = transfer_consent(&sanbod).await;
    let gave_up =
        tokio::time::timeout(std::time::Duration::from_millis(100), tokens.refresh(&key)).await;
    assert!(gave_up.is_err(), "the caller stopped waiting");
    // the refresh finishes on its own; the next look at the slot waits for it
    let held = tokens.get(&key).await.unwrap();
    assert_eq!(held.access_token.expose(), AC_TOKEN_2);
    assert_eq!(held.refresh_token.unwrap().expose(), AC_REFRESH_2);
    assert_eq!(requests(&server).await.len(), 1, "one refresh");
}

#[tokio::test]
async fn a_401_refreshes_the_ac_token_and_never_resends_a_transfer() {
    let (server, sanbod) = setup().await;
    Mock::given(method("POST"))
        .and(path("/sanbod/oauth/v1/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_answer(
            AC_TOKEN_2,
            Some(AC_REFRESH_2),
            None,
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/sanbod/normaltransfer"))
        .and(wiremock::matchers::header(
            "authorization",
            format!("Bearer {AC_TOKEN_2}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(example(
            "normal_transfer",
            Some("200"),
            "transferred",
        )))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/sanbod/normaltransfer"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": true, "message": "token expired"})),
        )
        .mount(&server)
        .await;

    let (tokens, key) = transfer_consent(&sanbod).await;
    let body: NormalTransferRequest =
        serde_json::from_value(example("normal_transfer", None, "transfer")).unwrap();
    // A transfer moves money: after the 401 the token is refreshed, but the transfer is not
    // sent again by the SDK; the 401 is the answer.
    let err = tokens
        .client(&key)
        .normal_transfer()
        .body(body.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(401), "{err}");
    let reqs = requests(&server).await;
    let paths: Vec<&str> = reqs.iter().map(|r| r.url.path()).collect();
    assert_eq!(paths, ["/sanbod/normaltransfer", "/sanbod/oauth/v1/token"]);
    assert_eq!(auth_header(&reqs[0]).unwrap(), format!("Bearer {AC_TOKEN}"));
    assert_eq!(
        sent(&reqs[1], "/sanbod/oauth/v1/token"),
        json!({"grant_type": "refresh_token", "refresh_token": AC_REFRESH})
    );
    // the caller's own resend carries the refreshed token
    let ok = tokens
        .client(&key)
        .normal_transfer()
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ok.message.unwrap().doc_number.as_deref(),
        Some("00001632235711734468")
    );
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 3);
    assert_eq!(
        auth_header(&reqs[2]).unwrap(),
        format!("Bearer {AC_TOKEN_2}")
    );
    let held = tokens.get(&key).await.unwrap();
    assert_eq!(held.access_token.expose(), AC_TOKEN_2);
    assert_eq!(held.refresh_token.unwrap().expose(), AC_REFRESH_2);
}

#[tokio::test]
async fn ac_keys_without_consent_fail_before_sending() {
    let (server, sanbod) = setup().await;
    Mock::given(method("POST"))
        .and(path("/sanbod/oauth/v1/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .mount(&server)
        .await;
    let tokens = Tokens::new(&sanbod);
    let key = TokenKey::authorization_code("054", [Scope::Statement], "user-7");
    let body: StatementRequest =
        serde_json::from_value(example("statement", None, "two_items")).unwrap();
    let err = tokens
        .client(&key)
        .statement()
        .body(body.clone())
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Auth(AuthError::TokenUnavailable { reason }) if reason.contains("authorize_url")),
        "{err:?}"
    );
    assert!(requests(&server).await.is_empty(), "nothing was sent");

    // An expired token whose refresh is refused: the user must consent again.
    let clock_now = SystemTime::now();
    tokens
        .insert(
            &key,
            TokenSet {
                access_token: Secret::new(AC_TOKEN),
                refresh_token: Some(Secret::new(AC_REFRESH)),
                token_type: None,
                expires_at: Some(clock_now - Duration::from_secs(1)),
            },
        )
        .await;
    let err = tokens.access_token(&key).await.unwrap_err();
    assert!(
        matches!(&err, Error::Auth(AuthError::TokenUnavailable { reason }) if reason.contains("consent again")),
        "{err:?}"
    );
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 1, "one refresh attempt, no service call");
    // Wrong key kinds are refused.
    let cc = TokenKey::client_credentials("999", [Scope::CardToIban]);
    assert!(matches!(
        tokens.exchange_code(&cc, "c").await,
        Err(Error::InvalidRequest(_))
    ));
}

// ---------------------------------------------------------------- paths and secrets

#[tokio::test]
async fn the_service_base_path_is_configurable() {
    let (server, sanbod) = setup().await;
    Mock::given(method("POST"))
        .and(path("/sanbod/sanboom/v1/statement"))
        .respond_with(ResponseTemplate::new(200).set_body_json(example(
            "statement",
            Some("200"),
            "one_debit",
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/sanbod/oauth/v1/revoke"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let moved = sanbod.with_service_base_path("/sanboom/v1/").unwrap();
    let body: StatementRequest =
        serde_json::from_value(example("statement", None, "two_items")).unwrap();
    moved
        .with_bearer(AC_TOKEN)
        .statement()
        .body(body)
        .send()
        .await
        .unwrap();
    // OAuth calls keep their paths.
    moved
        .revoke()
        .body(RevokeRequest::builder().access_token(OAuthToken::from("t")))
        .send()
        .await
        .unwrap();
    let reqs = requests(&server).await;
    assert_eq!(reqs[0].url.path(), "/sanbod/sanboom/v1/statement");
    assert_eq!(reqs[1].url.path(), "/sanbod/oauth/v1/revoke");
    assert!(sanbod.with_service_base_path("no-slash").is_err());
    assert_eq!(
        moved.binding().path_of("ach_report"),
        Some("/sanboom/v1/achreport")
    );
    assert_eq!(
        moved
            .with_service_base_path("/")
            .unwrap()
            .binding()
            .path_of("ach_report"),
        Some("/achreport")
    );
    // Services whose full path a source gives keep it; one operation can still be moved.
    assert_eq!(
        moved.binding().path_of("card_to_iban"),
        Some("/sanboom/v1/banksinquiry/cardtoiban")
    );
    assert_eq!(
        moved.binding().path_of("iban_inquiry"),
        Some("/sanboom/v1/banksinquiry/ibaninquiry")
    );
    assert_eq!(
        sanbod
            .with_operation_path("iban_to_deposit", "/v2/ibantodeposit")
            .unwrap()
            .binding()
            .path_of("iban_to_deposit"),
        Some("/v2/ibantodeposit")
    );
}

#[tokio::test]
async fn secrets_never_show_in_debug_output() {
    let server = MockServer::start().await;
    let config = config_for(&server).build().unwrap();
    let vandar = Vandar::new(config.clone()).unwrap();
    let sanbod = vandar.sanbod();
    let tokens = Tokens::new(&sanbod);
    let key = TokenKey::authorization_code("059", [Scope::Statement], "user-42");
    let set = TokenSet {
        access_token: Secret::new(AC_TOKEN),
        refresh_token: Some(Secret::new(AC_REFRESH)),
        token_type: None,
        expires_at: None,
    };
    tokens.insert(&key, set.clone()).await;
    let shown = format!(
        "{config:?} {sanbod:?} {:?} {tokens:?} {set:?} {:?} {:?}",
        sanbod.with_bearer(AC_TOKEN),
        tokens.client(&key),
        TokenRequest::refresh_token(AC_REFRESH),
    );
    for secret in [CLIENT_SECRET, AC_TOKEN, AC_REFRESH, VANDAR_TOKEN] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    assert!(shown.contains(CLIENT_ID), "the client id is not secret");
}
