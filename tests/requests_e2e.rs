//! Issue 22, through the generated clients against a local mock server: path parameters from
//! user input stay one segment (the traversal attack), browser-page URLs go through the same
//! encoder, URL fields are sent normalized or refused before sending, and messages name the
//! field, never a generated type.

use serde_json::Value;
use vandar::domain::Rial;
use vandar::ipg::types::PaymentRequest;
use vandar::{ApiKey, Config, Error, Vandar};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn setup() -> (MockServer, Vandar) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "status": 1, "token": "T0KEN", "message": "ok"
        })))
        .mount(&server)
        .await;
    let config = Config::builder()
        .all_hosts(&format!("{}/api", server.uri()))
        .host("https://ipg.vandar.io", &format!("{}/ipg", server.uri()))
        .access_token("business-access-token-SECRET")
        .build()
        .unwrap();
    (server, Vandar::new(config).unwrap())
}

/// The exact attack of issue 22: a refund whose `transaction_id` comes from user input climbs
/// out of the business with backslashes. The server sees one segment that decodes to the value.
#[tokio::test]
async fn refund_transaction_id_from_user_input_stays_one_segment() {
    let (server, vandar) = setup().await;
    let attack = r"1\..\..\..\victim-biz\transaction\999";
    let body = vandar::core::types::RefundRequest::builder();
    let _ = vandar
        .core()
        .refund_transaction()
        .business("my-shop")
        .transaction_id(attack)
        .body(body)
        .send()
        .await;
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 1);
    let path = reqs[0].url.path();
    assert_eq!(
        path,
        "/api/v3/business/my-shop/transaction/1%5C..%5C..%5C..%5Cvictim-biz%5Ctransaction%5C999/refund"
    );
    let segs: Vec<&str> = reqs[0].url.path_segments().unwrap().collect();
    assert_eq!(segs.len(), 7);
    assert_eq!(
        percent_decode(segs[5]),
        attack,
        "the value arrives whole, as one segment"
    );
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

#[tokio::test]
async fn dot_and_empty_path_parameters_are_refused_before_sending() {
    let (server, vandar) = setup().await;
    for bad in ["..", ".", "%2e%2E", ""] {
        let e = vandar
            .core()
            .refund_transaction()
            .business("my-shop")
            .transaction_id(bad)
            .body(vandar::core::types::RefundRequest::builder())
            .send()
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{bad:?}: {e:?}");
        assert!(e.to_string().contains("transaction_id"), "{bad:?}: {e}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn payment_page_url_goes_through_the_encoder() {
    let (_server, vandar) = setup().await;
    let ipg = vandar.ipg();
    for bad in ["..", ".", "", "%2e%2e"] {
        let e = ipg.payment_page_url(bad).unwrap_err();
        assert!(e.to_string().contains("`token`"), "{bad:?}: {e}");
    }
    let u = ipg.payment_page_url(r"a\..\b/c").unwrap();
    assert!(u.path().ends_with("/v4/a%5C..%5Cb%2Fc"), "{u}");
}

fn payment(callback: &str) -> vandar::ipg::types::builder::PaymentRequest {
    PaymentRequest::builder()
        .api_key(ApiKey::from("ipg-key-SECRET-123"))
        .amount(Rial::new(250_000))
        .callback_url(callback)
}

#[tokio::test]
async fn url_fields_are_sent_normalized_or_refused() {
    let (server, vandar) = setup().await;
    let ipg = vandar.ipg();
    for bad in [
        "https:shop.example/cb",
        "https://shop.example/c b",
        " https://shop.example/cb",
        "https://shop.example/cb\r\nX-Injected: 1",
        "shop.example/cb",
    ] {
        let e = ipg
            .send_payment()
            .body(payment(bad))
            .send()
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{bad:?}: {e:?}");
        assert!(e.to_string().contains("callback_url"), "{bad:?}: {e}");
        assert!(!e.to_string().contains("SECRET"), "{e}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
    ipg.send_payment()
        .body(payment("HTTPS://Shop.Example/a/../cb?o=1"))
        .send()
        .await
        .unwrap();
    let reqs = server.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(body["callback_url"], "https://shop.example/cb?o=1");
}

#[tokio::test]
async fn messages_name_the_field_not_a_generated_type() {
    let (server, vandar) = setup().await;
    let e = vandar
        .ipg()
        .verify(&ApiKey::from("ipg-key-SECRET-123"), "")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("token: must not be empty"), "{e}");
    assert!(
        !e.contains("TokenRequest") && !e.contains("conversion"),
        "{e}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}
