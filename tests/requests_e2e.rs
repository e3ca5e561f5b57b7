//! Issue 22, through the generated clients against a local mock server: path parameters from
//! user input stay one segment (the traversal attack), browser-page URLs go through the same
//! encoder, URL fields are sent normalized or refused before sending, and messages name the
//! field, never a generated type; the setters take what the caller holds (issue 23 item 6).

use serde_json::Value;
use vandar::core::request::RefundTransaction;
use vandar::domain::{ApiId, Mobile, NationalCode, Rial, TrackId};
use vandar::ipg::types::PaymentRequest;
use vandar::ipg::types::builder::PaymentRequestBuilder;
use vandar::{ApiKey, Config, Error, Vandar};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn setup() -> (MockServer, Vandar) {
    let server = MockServer::start().await;
    Mock::given(any())
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

fn payment(callback: &str) -> PaymentRequestBuilder {
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

// Issue 23 item 6: the generated setters take what the caller holds. Path parameters take
// `&str`, `String`, `&String` and the identifier types; domain fields (optional or not) take
// the type, `Option` of it and strings, and a string that does not parse is an error at
// `build()` and `send()` naming the field, with nothing sent.

async fn paths(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect()
}

/// `&str`, `String`, `&String` and the domain identifiers, on the same setters; the URL is
/// the same for each.
#[tokio::test]
async fn path_parameters_take_strings_and_identifiers() {
    let (server, vandar) = setup().await;
    let core = vandar.core();
    let business = String::from("my-shop");
    let id = String::from("165374316188");
    let refund = || vandar::core::types::RefundRequest::builder();
    let api_id = ApiId::Int(165_374_316_188);
    let calls: Vec<RefundTransaction<'_>> = vec![
        core.refund_transaction()
            .business("my-shop")
            .transaction_id("165374316188"),
        core.refund_transaction()
            .business(business.clone())
            .transaction_id(id.clone()),
        core.refund_transaction()
            .business(&business)
            .transaction_id(&id),
        core.refund_transaction()
            .business(&business)
            .transaction_id(&api_id),
        core.refund_transaction()
            .business(&business)
            .transaction_id(api_id),
    ];
    for call in calls {
        call.body(refund()).send().await.unwrap();
    }
    let want = "/api/v3/business/my-shop/transaction/165374316188/refund";
    assert_eq!(paths(&server).await, vec![want; 5]);

    let track = TrackId::parse("order-1001").unwrap();
    core.get_settlement_by_track_id()
        .business("my-shop")
        .track_id(track.clone())
        .send()
        .await
        .unwrap();
    core.get_settlement_by_track_id()
        .business("my-shop")
        .track_id(&track)
        .send()
        .await
        .unwrap();
    let got = paths(&server).await;
    assert_eq!(
        &got[5..],
        ["/api/v4/business/my-shop/settlement/order-1001"; 2]
    );
}

/// An empty path parameter is still refused by the runtime's path check, naming it, and
/// nothing is sent.
#[tokio::test]
async fn an_empty_path_parameter_is_refused_by_name() {
    let (server, vandar) = setup().await;
    let empty = String::new();
    let e = vandar
        .core()
        .get_settlement_by_track_id()
        .business(&empty)
        .track_id("order-1")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e:?}");
    assert!(
        e.to_string().contains(
            "path parameter `business` of `get_settlement_by_track_id` must not be empty"
        ),
        "{e}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

fn payment_to_shop() -> PaymentRequestBuilder {
    payment("https://shop.example/cb")
}

/// Optional domain fields take the type, `Option` of it, and strings (parsed); optional
/// strings take `&str`; required domain fields take strings.
#[tokio::test]
async fn domain_fields_take_the_type_and_strings() {
    let (server, vandar) = setup().await;
    let ipg = vandar.ipg();
    let mobile: Mobile = "09123456789".parse().unwrap();
    let typed = payment_to_shop()
        .mobile_number(mobile.clone())
        .national_code(NationalCode::parse("2993968416").unwrap());
    let from_strings = payment_to_shop()
        .amount("250000")
        .mobile_number("+98 912 345 6789")
        .national_code(String::from("2993968416"))
        .factor_number("INV-1001");
    let mobile_text = String::from("09123456789");
    let from_refs = payment_to_shop()
        .mobile_number(&mobile_text)
        .national_code(Some(NationalCode::parse("2993968416").unwrap()))
        .factor_number(Some("INV-1001".to_owned()));
    let built: PaymentRequest = from_strings.clone().build().unwrap();
    assert_eq!(built.mobile_number, Some(mobile.clone()));
    for body in [typed, from_strings, from_refs] {
        ipg.send_payment().body(body).send().await.unwrap();
    }
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 3);
    for r in &reqs {
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["mobile_number"], "09123456789");
        assert_eq!(body["national_code"], "2993968416");
        assert_eq!(body["amount"], 250_000);
    }
    let cleared = payment_to_shop()
        .mobile_number(mobile)
        .mobile_number(None::<Mobile>);
    assert_eq!(cleared.build().unwrap().mobile_number, None);
}

/// A string that does not parse: `build()` and `send()` return the field's name and the
/// type's own message; nothing is sent; no secret is echoed.
#[tokio::test]
async fn a_bad_string_is_an_error_naming_the_field_and_nothing_is_sent() {
    let (server, vandar) = setup().await;
    let bad_mobile = payment_to_shop().mobile_number("0912");
    let want = "mobile_number: mobile number must have 10 digits after the leading 0 or +98 \
                (09xxxxxxxxx), got 3";
    let e = bad_mobile.clone().build().unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e:?}");
    assert!(e.to_string().contains(want), "{e}");
    let e = vandar
        .ipg()
        .send_payment()
        .body(bad_mobile)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e:?}");
    assert!(e.to_string().contains(want), "{e}");

    let e = vandar
        .ipg()
        .send_payment()
        .body(payment_to_shop().national_code("2993968417"))
        .send()
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("national_code: national code check digit is wrong"),
        "{text}"
    );
    assert!(
        !text.contains("2993968417") && !text.contains("SECRET"),
        "{text}"
    );

    let e = payment_to_shop()
        .amount("twelve")
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("amount: "), "{e}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// The setters that keep `TryInto` say what is true for their type.
#[tokio::test]
async fn a_zero_page_says_at_least_one() {
    let (server, vandar) = setup().await;
    let e = vandar
        .core()
        .list_batches()
        .business("my-shop")
        .page(0u64)
        .send()
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("page: must be at least 1"), "{e}");
    assert!(!e.contains("empty"), "{e}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// `send_as::<T>()`: the same checked request, the answer decoded into the caller's type, so a
/// field the API sends that its docs do not list is not lost; the checks still stop a bad
/// request before it is sent.
#[tokio::test]
async fn send_as_keeps_fields_the_docs_do_not_list() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "status": 1,
            "data": {"settlement": {"id": "s-1", "amount": 5000, "status": "PENDING",
                                    "track_id": "t-77", "iban": "IR430550011480005587452001"}}
        })))
        .mount(&server)
        .await;
    let config = Config::builder()
        .all_hosts(&server.uri())
        .access_token("business-access-token-SECRET")
        .build()
        .unwrap();
    let vandar = Vandar::new(config).unwrap();

    #[derive(serde::Deserialize)]
    struct Seen {
        data: SeenData,
    }
    #[derive(serde::Deserialize)]
    struct SeenData {
        settlement: SeenSettlement,
    }
    #[derive(serde::Deserialize)]
    struct SeenSettlement {
        id: String,
        track_id: String,
    }
    let answer = vandar
        .core()
        .get_settlement()
        .business("my-shop")
        .settlement("s-1")
        .send_as::<Seen>()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let s = answer.into_body().data.settlement;
    assert_eq!((s.id.as_str(), s.track_id.as_str()), ("s-1", "t-77"));
    let whole: Value = vandar
        .core()
        .get_settlement()
        .business("my-shop")
        .settlement("s-1")
        .send_as::<Value>()
        .await
        .unwrap()
        .into_body();
    assert_eq!(
        whole["data"]["settlement"]["iban"],
        "IR430550011480005587452001"
    );
    // the request side is unchanged: a bad path parameter is refused, nothing is sent
    let sent = server.received_requests().await.unwrap().len();
    let e = vandar
        .core()
        .get_settlement()
        .business("my-shop")
        .settlement("..")
        .send_as::<Value>()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("settlement"), "{e}");
    assert_eq!(server.received_requests().await.unwrap().len(), sent);
}
