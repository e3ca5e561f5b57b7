//! Ravand against local mock servers: every operation's method, host routing, path, bearer
//! auth, body/query and the decoding of its success and documented error bodies; the
//! hand-written multipart upload (encoding, routing, auth, 401 refresh-and-replay, no retry);
//! the three browser-page URL builders; `get_with_query`.

use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};
use vandar::domain::CardNumber;
use vandar::ravand::types::{Undocumented, VandarError};
use vandar::ravand::{Client, DocumentUpload, HAND_WRITTEN_ROUTES, ROUTES};
use vandar::{Config, ConfigBuilder, Error, Vandar};
use vandar_runtime::test_util::{FaultServer, RecordedRequest, Reply};
use vandar_runtime::{Auth, RetryPolicy, TokenPair};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ACCESS_TOKEN: &str = "ravand-access-token-SECRET";
const API_HOST: &str = "https://api.vandar.io";
const BUSINESS: &str = "my-shop";
const PROVIDER: &str = "prov-1";
const CARDHOLDER: &str = "ch-42";
const CARD: &str = "6037997599999993";

/// The 25 calls as the docs list them (S000/S001, INDEX.md RV ids), written independently of
/// the spec: id, operation, method, documented path (with the RV10 typo fixed).
const DOCUMENTED: &[(&str, &str, &str, &str)] = &[
    (
        "RV1",
        "set_config",
        "POST",
        "/v1/business/:business/ravand/set-config",
    ),
    (
        "RV2",
        "list_provinces",
        "GET",
        "/v1/business/:business/ravand/provinces",
    ),
    (
        "RV3",
        "list_cities",
        "GET",
        "/v1/business/:business/ravand/cities",
    ),
    (
        "RV4",
        "list_guilds",
        "GET",
        "/v1/business/:business/ravand/guilds",
    ),
    (
        "RV5",
        "list_educations",
        "GET",
        "/v1/business/:business/ravand/educations",
    ),
    (
        "RV6",
        "list_occupations",
        "GET",
        "/v1/business/:business/ravand/occupations",
    ),
    (
        "RV7",
        "create_cardholder",
        "POST",
        "/v1/business/:business/ravand/provider/:provider/cardholder",
    ),
    (
        "RV8",
        "update_cardholder",
        "PUT",
        "/v1/business/:business/ravand/provider/:provider/cardholder/:cardholder_id",
    ),
    (
        "RV9",
        "get_video_caption",
        "GET",
        "/v1/business/:business/ravand/provider/:provider/cardholder/:cardholder_id/video-caption",
    ),
    (
        "RV10",
        "upload_cardholder_documents",
        "POST",
        "/v1/business/:business/ravand/provider/:provider/cardholder/:cardholder_id/upload",
    ),
    (
        "RV11",
        "finalize_cardholder",
        "POST",
        "/v1/business/:business/ravand/provider/:provider/cardholder/:cardholder_id/finalize",
    ),
    (
        "RV12",
        "inquire_cardholder",
        "GET",
        "/v1/business/:business/ravand/provider/:provider/cardholder/:cardholder_id/inquiry",
    ),
    (
        "RV13",
        "create_card_activation_token",
        "POST",
        "/v1/business/:business/ravand/provider/:provider/cardholder/:cardholder_id/card/activate/token",
    ),
    (
        "RV15",
        "create_change_pin_token",
        "POST",
        "/v1/business/:business/ravand/provider/:provider/cardholder/:cardholder_id/card/change-pin/token",
    ),
    (
        "RV17",
        "create_card_block_token",
        "POST",
        "/v1/business/:business/ravand/provider/:provider/cardholder/:cardholder_id/card/block/token",
    ),
    (
        "RV19",
        "get_card_status",
        "GET",
        "/v1/business/:business/ravand/provider/:provider/cardholder/:cardholder_id/card/status",
    ),
    (
        "RV20",
        "get_accounts_info",
        "GET",
        "/v1/business/:business/ravand/provider/:provider/cardholder/:cardholder_id/accounts-info",
    ),
    (
        "RV21",
        "get_balance",
        "POST",
        "/v1/business/:business/ravand/provider/:provider/cardholder/:cardholder_id/balance",
    ),
    (
        "RV22",
        "get_bank_statement",
        "GET",
        "/v1/business/:business/ravand/provider/:provider/cardholder/:cardholder_id/bank-statement",
    ),
    (
        "RV23",
        "list_transfer_reasons",
        "GET",
        "/v1/business/:business/ravand/reasons",
    ),
    (
        "RV24",
        "transfer",
        "POST",
        "/v1/business/:business/ravand/provider/:provider/cardholder/:cardholder_id/transfer",
    ),
    (
        "RV25",
        "retry_transfer_otp",
        "POST",
        "/v1/business/:business/ravand/provider/:provider/cardholder/:cardholder_id/transfer/retry-otp",
    ),
    (
        "RV26",
        "confirm_transfer_otp",
        "POST",
        "/v1/business/:business/ravand/provider/:provider/cardholder/:cardholder_id/transfer/confirm-otp",
    ),
    (
        "RV27",
        "inquire_transfer",
        "GET",
        "/v1/business/:business/ravand/provider/:provider/cardholder/:cardholder_id/transfer/inquiry",
    ),
    (
        "RV28",
        "inquire_paya_satna_transfer",
        "GET",
        "/v1/business/:business/ravand/provider/:provider/cardholder/:cardholder_id/transfer/inquiry/paya-satna",
    ),
];

/// A documented path with this test's parameter values.
fn concrete(documented: &str) -> String {
    documented
        .replace(":business", BUSINESS)
        .replace(":provider", PROVIDER)
        .replace(":cardholder_id", CARDHOLDER)
}

/// `api.vandar.io` goes to `{mock}/api`, every other host to `{mock}/elsewhere`: the prefix
/// proves the routing.
fn config_for(uri: &str) -> ConfigBuilder {
    Config::builder()
        .all_hosts(&format!("{uri}/elsewhere"))
        .host(API_HOST, &format!("{uri}/api"))
}

fn client_on(server: &MockServer) -> Client {
    let config = config_for(&server.uri())
        .access_token(ACCESS_TOKEN)
        .build()
        .unwrap();
    Vandar::new(config).unwrap().ravand()
}

async fn setup() -> (MockServer, Client) {
    let server = MockServer::start().await;
    let ravand = client_on(&server);
    (server, ravand)
}

fn spec() -> vandar_tests::SpecFile {
    vandar_tests::spec("vandar-ravand")
}

/// The JSON body sent to an operation that takes one (free-form: any object goes).
fn probe_body(op: &str) -> Map<String, Value> {
    json!({"probe": op, "nested": {"ids": [1, "2"]}})
        .as_object()
        .unwrap()
        .clone()
}

fn card() -> CardNumber {
    CardNumber::parse(CARD).unwrap()
}

/// What every Ravand call returns.
type Answer = Result<Undocumented, Error>;

/// Call one operation through its typed method, with this test's parameters.
async fn call(c: &Client, op: &str) -> Answer {
    let (b, p, h) = (BUSINESS, PROVIDER, CARDHOLDER);
    let body = probe_body(op);
    match op {
        "set_config" => c.set_config().business(b).body(body).send().await,
        "list_provinces" => c.list_provinces().business(b).send().await,
        "list_cities" => c.list_cities().business(b).send().await,
        "list_guilds" => c.list_guilds().business(b).send().await,
        "list_educations" => c.list_educations().business(b).send().await,
        "list_occupations" => c.list_occupations().business(b).send().await,
        "create_cardholder" => {
            c.create_cardholder()
                .business(b)
                .provider(p)
                .body(body)
                .send()
                .await
        }
        "update_cardholder" => {
            c.update_cardholder()
                .business(b)
                .provider(p)
                .cardholder_id(h)
                .body(body)
                .send()
                .await
        }
        "get_video_caption" => {
            c.get_video_caption()
                .business(b)
                .provider(p)
                .cardholder_id(h)
                .send()
                .await
        }
        "upload_cardholder_documents" => {
            c.upload_cardholder_documents()
                .business(b)
                .provider(p)
                .cardholder_id(h)
                .body(DocumentUpload::new().file("doc", "d.jpg", "image/jpeg", b"JPEG".to_vec()))
                .send()
                .await
        }
        "finalize_cardholder" => {
            c.finalize_cardholder()
                .business(b)
                .provider(p)
                .cardholder_id(h)
                .body(body)
                .send()
                .await
        }
        "inquire_cardholder" => {
            c.inquire_cardholder()
                .business(b)
                .provider(p)
                .cardholder_id(h)
                .send()
                .await
        }
        "create_card_activation_token" => {
            c.create_card_activation_token()
                .business(b)
                .provider(p)
                .cardholder_id(h)
                .body(body)
                .send()
                .await
        }
        "create_change_pin_token" => {
            c.create_change_pin_token()
                .business(b)
                .provider(p)
                .cardholder_id(h)
                .body(body)
                .send()
                .await
        }
        "create_card_block_token" => {
            c.create_card_block_token()
                .business(b)
                .provider(p)
                .cardholder_id(h)
                .body(body)
                .send()
                .await
        }
        "get_card_status" => {
            c.get_card_status()
                .business(b)
                .provider(p)
                .cardholder_id(h)
                .card_number(card())
                .send()
                .await
        }
        "get_accounts_info" => {
            c.get_accounts_info()
                .business(b)
                .provider(p)
                .cardholder_id(h)
                .send()
                .await
        }
        "get_balance" => {
            c.get_balance()
                .business(b)
                .provider(p)
                .cardholder_id(h)
                .body(body)
                .send()
                .await
        }
        "get_bank_statement" => {
            c.get_bank_statement()
                .business(b)
                .provider(p)
                .cardholder_id(h)
                .send()
                .await
        }
        "list_transfer_reasons" => c.list_transfer_reasons().business(b).send().await,
        "transfer" => {
            c.transfer()
                .business(b)
                .provider(p)
                .cardholder_id(h)
                .body(body)
                .send()
                .await
        }
        "retry_transfer_otp" => {
            c.retry_transfer_otp()
                .business(b)
                .provider(p)
                .cardholder_id(h)
                .body(body)
                .send()
                .await
        }
        "confirm_transfer_otp" => {
            c.confirm_transfer_otp()
                .business(b)
                .provider(p)
                .cardholder_id(h)
                .body(body)
                .send()
                .await
        }
        "inquire_transfer" => {
            c.inquire_transfer()
                .business(b)
                .provider(p)
                .cardholder_id(h)
                .send()
                .await
        }
        "inquire_paya_satna_transfer" => {
            c.inquire_paya_satna_transfer()
                .business(b)
                .provider(p)
                .cardholder_id(h)
                .send()
                .await
        }
        other => panic!("operation {other} is not covered by this test"),
    }
}

/// The spec, the generated route table, the hand-written routes and the documented listing
/// name the same 25 calls with the same methods and paths.
#[test]
fn the_listing_is_covered_exactly() {
    let mut all: Vec<_> = ROUTES.iter().chain(HAND_WRITTEN_ROUTES).collect();
    assert_eq!(ROUTES.len(), 24);
    assert_eq!(all.len(), DOCUMENTED.len());
    all.sort_by_key(|r| r.operation_id);
    for (id, op, m, documented) in DOCUMENTED {
        let r = all
            .iter()
            .find(|r| r.operation_id == *op)
            .unwrap_or_else(|| panic!("{id} {op} has no route"));
        assert_eq!(r.method, *m, "{op}");
        assert_eq!(r.host, API_HOST, "{op}");
        assert_eq!(
            r.path.replace('{', ":").replace('}', ""),
            *documented,
            "{op}"
        );
        assert_eq!(r.auth, Auth::Bearer("bearer"), "{op}");
    }
    // Every operation and page claims its INDEX id.
    let spec = spec();
    for o in xtask::spec::operations(&spec) {
        let (id, ..) = DOCUMENTED.iter().find(|d| d.1 == o.id).unwrap();
        assert_eq!(o.raw["x-covers"], json!([id]), "{}", o.id);
    }
    // The hand-written calls are the spec's operations marked `x-hand-written` (skipped by
    // the generator): same method, path, retry safety, a multipart body.
    let hw: Vec<_> = xtask::spec::operations(&spec)
        .into_iter()
        .filter(|o| o.hand_written)
        .collect();
    assert_eq!(hw.len(), HAND_WRITTEN_ROUTES.len());
    assert!(spec.raw.get("x-hand-written-operations").is_none());
    for (op, route) in hw.iter().zip(HAND_WRITTEN_ROUTES) {
        assert_eq!(op.id, route.operation_id);
        assert_eq!(op.method, route.method);
        assert_eq!(op.host(&spec.api).as_deref(), Some(route.host));
        assert_eq!(op.path, route.path);
        assert_eq!(op.idempotent(), route.idempotent);
        assert_eq!(op.raw["x-covers"], json!(["RV10"]));
        assert_eq!(op.raw["x-hand-written"], json!(true));
        assert!(
            op.raw["requestBody"]["content"]
                .get("multipart/form-data")
                .is_some()
        );
        assert!(
            !ROUTES.iter().any(|r| r.operation_id == op.id),
            "the generator skips {}",
            op.id
        );
    }
    let pages = spec.raw["x-browser-pages"].as_array().unwrap();
    let ids: Vec<&Value> = pages.iter().map(|p| &p["x-covers"]).collect();
    assert_eq!(ids, [&json!(["RV14"]), &json!(["RV16"]), &json!(["RV18"])]);
}

/// Money moves and one-shot calls are never retried; only GETs and the PUT are.
#[test]
fn retry_safety_per_operation() {
    let retried: Vec<&str> = ROUTES
        .iter()
        .chain(HAND_WRITTEN_ROUTES)
        .filter(|r| r.idempotent)
        .map(|r| r.operation_id)
        .filter(|op| {
            !ROUTES
                .iter()
                .any(|r| r.operation_id == *op && r.method == "GET")
        })
        .collect();
    assert_eq!(retried, ["update_cardholder"]);
    for op in [
        "transfer",
        "confirm_transfer_otp",
        "retry_transfer_otp",
        "upload_cardholder_documents",
        "create_card_block_token",
    ] {
        let r = ROUTES
            .iter()
            .chain(HAND_WRITTEN_ROUTES)
            .find(|r| r.operation_id == op)
            .unwrap();
        assert!(!r.idempotent, "{op} must not be retried");
    }
}

/// Every operation: method, host, path, bearer token, body or query, and the free-form answer
/// kept whole.
#[tokio::test]
async fn every_operation_is_routed_authenticated_and_decoded() {
    let (server, ravand) = setup().await;
    for (id, op, m, documented) in DOCUMENTED {
        server.reset().await;
        let expected_path = format!("/api{}", concrete(documented));
        let answer = json!({"status": 1, "echo": op, "data": {"items": [{"id": 7}], "note": null}});
        Mock::given(method(*m))
            .and(path(expected_path.as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
            .expect(1)
            .mount(&server)
            .await;
        let got = call(&ravand, op)
            .await
            .unwrap_or_else(|e| panic!("{id} {op}: {}", e));
        assert_eq!(Value::Object(got.into()), answer, "{op}: answer kept whole");

        let reqs = server.received_requests().await.unwrap();
        assert_eq!(reqs.len(), 1, "{op}: sent once");
        let req = &reqs[0];
        assert_eq!(req.method.as_str(), *m, "{op}");
        assert_eq!(
            req.url.path(),
            expected_path,
            "{op}: routed to api.vandar.io"
        );
        assert_eq!(
            req.headers.get("authorization").unwrap().to_str().unwrap(),
            format!("Bearer {ACCESS_TOKEN}"),
            "{op}: bearer auth"
        );
        assert!(
            req.headers
                .get("user-agent")
                .is_some_and(|v| v.to_str().unwrap().starts_with("vandar-rs/")),
            "{op}"
        );
        let content_type = req
            .headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        match (*op, *m) {
            ("upload_cardholder_documents", _) => {
                assert!(
                    content_type
                        .unwrap()
                        .starts_with("multipart/form-data; boundary=")
                );
            }
            (_, "GET") => {
                assert!(req.body.is_empty(), "{op}: a GET has no body");
            }
            _ => {
                assert_eq!(content_type.as_deref(), Some("application/json"), "{op}");
                let body: Value = serde_json::from_slice(&req.body).unwrap();
                assert_eq!(
                    body,
                    Value::Object(probe_body(op)),
                    "{op}: body sent as given"
                );
            }
        }
        if *op == "get_card_status" {
            assert_eq!(
                req.url.query(),
                Some(format!("card_number={CARD}").as_str()),
                "the full card number is sent, not the masked form"
            );
        } else {
            assert_eq!(req.url.query(), None, "{op}: no query");
        }
    }
}

/// Every operation's documented error body (the API-wide 401), and an undocumented Laravel
/// 422 with an extra field, decode into `Error::Api`.
#[tokio::test]
async fn every_operation_decodes_error_bodies() {
    let server = MockServer::start().await;
    let spec = spec();
    let mut seen = 0;
    for (_, op, m, documented) in DOCUMENTED {
        let documented_error = vandar_tests::example(&spec, op, Some("4XX"), "unauthenticated");
        assert_eq!(
            documented_error,
            json!({"status": 0, "error": "Unauthenticated"})
        );
        // A fresh runtime per operation: 50 calls would otherwise wait on the POST rate limit.
        let ravand = client_on(&server);
        for (status, body) in [
            (401, documented_error),
            (
                422,
                json!({"message": "The given data was invalid.",
                       "errors": {"national_code": ["is invalid"]},
                       "trace_id": "abc"}),
            ),
        ] {
            server.reset().await;
            Mock::given(method(*m))
                .and(path(format!("/api{}", concrete(documented))))
                .respond_with(ResponseTemplate::new(status).set_body_json(&body))
                .expect(1)
                .mount(&server)
                .await;
            let err = call(&ravand, op).await.expect_err(op);
            let api = err.api_error().unwrap_or_else(|| panic!("{op}: {err}"));
            assert_eq!(err.http_status(), Some(status), "{op}");
            if status == 401 {
                assert_eq!(api.upstream_status, Some(0), "{op}");
                assert_eq!(api.messages, ["Unauthenticated"], "{op}");
            } else {
                assert_eq!(api.messages, ["The given data was invalid."], "{op}");
                assert_eq!(api.field_errors["national_code"], ["is invalid"], "{op}");
                assert_eq!(api.raw["trace_id"], "abc", "{op}: unknown fields are kept");
            }
            seen += 1;
        }
    }
    assert_eq!(seen, 50);
}

/// The spec's error component keeps every field of a body it does not know.
#[test]
fn vandar_error_keeps_unknown_fields() {
    let body = json!({"status": "0", "error": {"reason": "x"}, "code": "E12", "extra": [1]});
    let e: VandarError = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        json!({"status": 0, "error": {"reason": "x"}, "code": "E12", "extra": [1]})
    );
}

/// Without a token nothing is sent, for generated and hand-written calls alike.
#[tokio::test]
async fn no_token_no_request() {
    let server = MockServer::start().await;
    let ravand = Vandar::new(config_for(&server.uri()).build().unwrap())
        .unwrap()
        .ravand();
    for op in ["transfer", "upload_cardholder_documents", "list_provinces"] {
        let err = call(&ravand, op).await.expect_err(op);
        assert!(matches!(err, Error::InvalidRequest(_)), "{op}: {err}");
        assert!(err.to_string().contains("bearer token"), "{op}: {err}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// One part of a multipart body, parsed independently of the crate's encoder.
#[derive(Debug, PartialEq)]
struct Part {
    headers: Vec<String>,
    data: Vec<u8>,
}

fn split(haystack: &[u8], needle: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + needle.len() <= haystack.len() {
        if &haystack[i..i + needle.len()] == needle {
            out.push(haystack[start..i].to_vec());
            i += needle.len();
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(haystack[start..].to_vec());
    out
}

fn parse_multipart(req: &Request) -> Vec<Part> {
    let ct = req.headers.get("content-type").unwrap().to_str().unwrap();
    let boundary = ct
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("content type {ct}"));
    let delimiter = format!("--{boundary}");
    let chunks = split(&req.body, delimiter.as_bytes());
    assert!(chunks[0].is_empty(), "nothing before the first boundary");
    assert_eq!(chunks.last().unwrap(), b"--\r\n", "closing delimiter");
    chunks[1..chunks.len() - 1]
        .iter()
        .map(|chunk| {
            let chunk = chunk.strip_prefix(b"\r\n").expect("CRLF after boundary");
            let chunk = chunk.strip_suffix(b"\r\n").expect("CRLF before boundary");
            let (head, data) = chunk
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|i| (&chunk[..i], &chunk[i + 4..]))
                .expect("blank line after the part headers");
            Part {
                headers: String::from_utf8(head.to_vec())
                    .unwrap()
                    .split("\r\n")
                    .map(String::from)
                    .collect(),
                data: data.to_vec(),
            }
        })
        .collect()
}

/// The upload sends a well-formed multipart body with the parts given, on the API host, with
/// the bearer token and a Content-Length.
#[tokio::test]
async fn upload_sends_multipart_documents() {
    let (server, ravand) = setup().await;
    let upload_path = format!(
        "/api/v1/business/{BUSINESS}/ravand/provider/{PROVIDER}/cardholder/{CARDHOLDER}/upload"
    );
    Mock::given(method("POST"))
        .and(path(upload_path.as_str()))
        .and(header(
            "authorization",
            format!("Bearer {ACCESS_TOKEN}").as_str(),
        ))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"status": 1, "message": "ok"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    // binary data with CRLFs, dashes and non-UTF-8 bytes
    let front: Vec<u8> = vec![
        0xFF, 0xD8, b'\r', b'\n', b'-', b'-', 0x00, 0x80, b'\r', b'\n',
    ];
    let pdf = b"%PDF-1.4\r\n--\r\n%%EOF".to_vec();
    let answer = ravand
        .upload_cardholder_documents()
        .business(BUSINESS)
        .provider(PROVIDER)
        .cardholder_id(CARDHOLDER)
        .body(
            DocumentUpload::new()
                .file(
                    "national_card_front",
                    "front.jpg",
                    "image/jpeg",
                    front.clone(),
                )
                .file(
                    "birth_certificate",
                    "شناسنامه \"1\".pdf",
                    "application/pdf",
                    pdf.clone(),
                )
                .text("side", "front"),
        )
        .send_with_response()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201, "any 2xx is a success");
    assert_eq!(answer["message"], "ok");

    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(
        req.headers.get("content-length").unwrap().to_str().unwrap(),
        req.body.len().to_string(),
        "buffered body with a known length"
    );
    assert_eq!(req.headers.get("accept").unwrap(), "application/json");
    let parts = parse_multipart(req);
    assert_eq!(
        parts,
        [
            Part {
                headers: vec![
                    "Content-Disposition: form-data; name=\"national_card_front\"; filename=\"front.jpg\"".into(),
                    "Content-Type: image/jpeg".into(),
                ],
                data: front,
            },
            Part {
                headers: vec![
                    "Content-Disposition: form-data; name=\"birth_certificate\"; filename=\"شناسنامه %221%22.pdf\"".into(),
                    "Content-Type: application/pdf".into(),
                ],
                data: pdf,
            },
            Part {
                headers: vec!["Content-Disposition: form-data; name=\"side\"".into()],
                data: b"front".to_vec(),
            },
        ]
    );
}

/// Bad uploads are refused before anything is sent.
#[tokio::test]
async fn upload_rejects_incomplete_requests() {
    let (server, ravand) = setup().await;
    let base = || {
        ravand
            .upload_cardholder_documents()
            .business(BUSINESS)
            .provider(PROVIDER)
    };
    let cases = [
        (
            base()
                .body(DocumentUpload::new().text("a", "b"))
                .send()
                .await,
            "cardholder_id",
        ),
        (base().cardholder_id(CARDHOLDER).send().await, "body"),
        (
            base()
                .cardholder_id(CARDHOLDER)
                .body(DocumentUpload::new())
                .send()
                .await,
            "no part",
        ),
        (
            base()
                .cardholder_id("")
                .body(DocumentUpload::new().text("a", "b"))
                .send()
                .await,
            "cardholder_id",
        ),
    ];
    for (result, mentions) in cases {
        let err = result.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
        assert!(err.to_string().contains(mentions), "{err}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// With a refreshing token pair, an upload answered 401 refreshes the token but is not sent
/// again (an upload is not idempotent: the SDK never resends one); the caller's resend carries
/// the new token and the same multipart body: the hand-written call shares the runtime's auth.
#[tokio::test]
async fn an_upload_answered_401_refreshes_the_token_and_is_not_resent() {
    let server = MockServer::start().await;
    let pair = TokenPair::issued_at("old-access-SECRET", "refresh-SECRET", SystemTime::now());
    let ravand = Vandar::new(config_for(&server.uri()).token_pair(pair).build().unwrap())
        .unwrap()
        .ravand();
    let upload_path = format!(
        "/api/v1/business/{BUSINESS}/ravand/provider/{PROVIDER}/cardholder/{CARDHOLDER}/upload"
    );
    Mock::given(method("POST"))
        .and(path(upload_path.as_str()))
        .and(header("authorization", "Bearer old-access-SECRET"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"status": 0, "error": "Unauthenticated"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v3/refreshtoken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 432000,
            "access_token": "new-access-SECRET", "refresh_token": "new-refresh-SECRET"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(upload_path.as_str()))
        .and(header("authorization", "Bearer new-access-SECRET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": 1})))
        .expect(1)
        .mount(&server)
        .await;
    let upload = || {
        ravand
            .upload_cardholder_documents()
            .business(BUSINESS)
            .provider(PROVIDER)
            .cardholder_id(CARDHOLDER)
            .body(DocumentUpload::new().file("doc", "d.png", "image/png", vec![1, 2, 3]))
            .send()
    };
    let err = upload().await.unwrap_err();
    assert_eq!(err.http_status(), Some(401), "{err}");
    let uploads = |reqs: Vec<Request>| -> Vec<Request> {
        reqs.into_iter()
            .filter(|r| r.url.path() == upload_path)
            .collect()
    };
    assert_eq!(uploads(server.received_requests().await.unwrap()).len(), 1);
    upload().await.unwrap();
    let sent = uploads(server.received_requests().await.unwrap());
    assert_eq!(sent.len(), 2);
    for upload in &sent {
        assert_eq!(parse_multipart(upload)[0].data, [1, 2, 3]);
    }
}

/// The upload is the client's own call: the client's call options (here a short total
/// timeout) apply to it as to the generated operations.
#[tokio::test]
async fn the_upload_keeps_the_clients_call_options() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": 1}))
                .set_delay(Duration::from_secs(20)),
        )
        .mount(&server)
        .await;
    let ravand = client_on(&server)
        .with_options(vandar_runtime::CallOptions::new().total_timeout(Duration::from_millis(300)))
        .unwrap();
    let upload = ravand
        .upload_cardholder_documents()
        .business(BUSINESS)
        .provider(PROVIDER)
        .cardholder_id(CARDHOLDER)
        .body(DocumentUpload::new().file("doc", "d.png", "image/png", vec![1, 2, 3]))
        .send();
    // generous: the configured total is the default 30 s, the client's 0.3 s
    let ended = tokio::time::timeout(Duration::from_secs(10), upload).await;
    let err = ended
        .expect("the client's 0.3 s total applies")
        .unwrap_err();
    assert!(
        err.to_string().contains("upload_cardholder_documents"),
        "{err}"
    );
}

/// A lost response to a money-moving call (and to the upload) is "outcome unknown" after one
/// attempt; a 503 is not retried either, while a GET is.
#[tokio::test]
async fn transfers_and_uploads_are_never_retried() {
    let server = FaultServer::start(|req: &RecordedRequest| {
        let p = req.path_only();
        if p.ends_with("/transfer/inquiry") || p.ends_with("/balance") {
            Reply::json(503, json!({"message": "busy"}))
        } else {
            Reply::Close
        }
    })
    .await;
    let ravand = Vandar::new(
        config_for(&server.uri())
            .access_token(ACCESS_TOKEN)
            .retry(RetryPolicy {
                max_retries: 2,
                initial_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(2),
                jitter: false,
            })
            .build()
            .unwrap(),
    )
    .unwrap()
    .ravand();
    for op in [
        "transfer",
        "confirm_transfer_otp",
        "upload_cardholder_documents",
    ] {
        let err = call(&ravand, op).await.unwrap_err();
        assert!(err.is_outcome_unknown(), "{op}: {err}");
        assert!(err.to_string().contains(op), "{err}");
    }
    let err = call(&ravand, "get_balance").await.unwrap_err();
    assert_eq!(err.http_status(), Some(503));
    let err = call(&ravand, "inquire_transfer").await.unwrap_err();
    assert_eq!(err.http_status(), Some(503));

    let count = |suffix: &str| {
        server
            .requests()
            .iter()
            .filter(|r| r.path_only().ends_with(suffix))
            .count()
    };
    assert_eq!(count("/transfer"), 1);
    assert_eq!(count("/confirm-otp"), 1);
    assert_eq!(count("/upload"), 1);
    assert_eq!(count("/balance"), 1, "a POST read is not retried either");
    assert_eq!(
        count("/transfer/inquiry"),
        3,
        "a GET is retried (2 retries)"
    );
    let upload = server
        .requests()
        .into_iter()
        .find(|r| r.path_only().ends_with("/upload"))
        .unwrap();
    assert_eq!(
        upload.path_only(),
        format!("/api{}", concrete(DOCUMENTED[9].3))
    );
    assert_eq!(
        upload.header("authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
}

/// The three browser pages: default host, overridden host, encoding, empty token.
#[tokio::test]
async fn page_url_builders() {
    let ravand = Vandar::new(Config::builder().build().unwrap())
        .unwrap()
        .ravand();
    assert_eq!(
        ravand.card_activation_page_url("T0K3N").unwrap().as_str(),
        "https://api.vandar.io/v1/redirect/card/activate/T0K3N"
    );
    assert_eq!(
        ravand.card_change_pin_page_url("T0K3N").unwrap().as_str(),
        "https://api.vandar.io/v1/redirect/card/change-pin/T0K3N"
    );
    assert_eq!(
        ravand.card_block_page_url("T0K3N").unwrap().as_str(),
        "https://api.vandar.io/v1/redirect/card/block/T0K3N"
    );
    assert_eq!(
        ravand.card_block_page_url("a b/c?d").unwrap().as_str(),
        "https://api.vandar.io/v1/redirect/card/block/a%20b%2Fc%3Fd",
        "the token is one path segment"
    );
    for result in [
        ravand.card_activation_page_url(""),
        ravand.card_change_pin_page_url(""),
        ravand.card_block_page_url(""),
    ] {
        assert!(matches!(result, Err(Error::InvalidRequest(_))));
    }

    let (server, ravand) = setup().await;
    let base = format!("{}/api", server.uri());
    assert_eq!(
        ravand.card_activation_page_url("T").unwrap().as_str(),
        format!("{base}/v1/redirect/card/activate/T")
    );
    assert_eq!(
        ravand.card_change_pin_page_url("T").unwrap().as_str(),
        format!("{base}/v1/redirect/card/change-pin/T")
    );
    assert_eq!(
        ravand.card_block_page_url("T").unwrap().as_str(),
        format!("{base}/v1/redirect/card/block/T")
    );
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "a URL builder sends nothing"
    );
}

/// Extra query parameters on a documented GET, with the same routing and auth; anything but a
/// GET of this crate, or a bad path parameter, is refused before sending.
#[tokio::test]
async fn get_with_query_adds_undocumented_query_pairs() {
    let (server, ravand) = setup().await;
    let statement = format!("/api{}", concrete(DOCUMENTED[18].3));
    Mock::given(method("GET"))
        .and(path(statement.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .expect(1)
        .mount(&server)
        .await;
    let got = ravand
        .get_with_query(
            "get_bank_statement",
            &[
                ("business", BUSINESS),
                ("provider", PROVIDER),
                ("cardholder_id", CARDHOLDER),
            ],
            &[("from", "1403/01/01"), ("page", "2")],
        )
        .await
        .unwrap();
    assert_eq!(got["data"], json!([]));
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs[0].url.query(), Some("from=1403%2F01%2F01&page=2"));
    assert_eq!(
        reqs[0]
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        format!("Bearer {ACCESS_TOKEN}")
    );

    let refused = [
        ravand
            .get_with_query("transfer", &[("business", BUSINESS)], &[])
            .await,
        ravand.get_with_query("nope", &[], &[]).await,
        ravand
            .get_with_query("list_provinces", &[("busines", BUSINESS)], &[])
            .await,
        ravand.get_with_query("list_provinces", &[], &[]).await,
    ];
    for r in refused {
        let err = r.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

/// An invalid card number is refused by the typed parameter; the query never shows it masked.
#[tokio::test]
async fn card_status_takes_a_validated_card_number() {
    assert!(CardNumber::parse("6037997599999994").is_err(), "Luhn");
    let (server, ravand) = setup().await;
    let err = ravand
        .get_card_status()
        .business(BUSINESS)
        .provider(PROVIDER)
        .cardholder_id(CARDHOLDER)
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("card_number"), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
    assert!(!format!("{:?}", card()).contains(CARD), "masked in Debug");
}
