//! The reliability contract, class 5 (issue 13): an invalid request is refused with an error
//! that names the field, and nothing reaches the server. Each case is one of the invalid calls
//! an adversarial run sent through the generated clients; the server here counts arrivals.

use serde_json::{Value, json};
use vandar::domain::{Rial, Toman};
use vandar::ipg::types::PaymentRequest;
use vandar::{ApiKey, Config, Error, Vandar};
use vandar_runtime::test_util::{FaultServer, Reply};

async fn setup() -> (FaultServer, Vandar) {
    let server = FaultServer::scripted(vec![], Reply::json(200, json!({"status": 1}))).await;
    let config = Config::builder()
        .all_hosts(&server.uri())
        .access_token("contract-access-token")
        .bearer_token("sanbod_bearer", "contract-sanbod-token")
        .build()
        .unwrap();
    (server, Vandar::new(config).unwrap())
}

fn example(spec: &str, op: &str, name: &str) -> Value {
    vandar_tests::example(&vandar_tests::spec(spec), op, None, name)
}

/// The call was refused before sending, naming `field`.
fn refused(case: &str, result: Result<impl std::fmt::Debug, Error>, field: &str) {
    match result {
        Err(Error::InvalidRequest(m)) => {
            assert!(m.contains(field), "{case}: `{field}` not named in: {m}")
        }
        other => panic!("{case}: expected InvalidRequest naming `{field}`, got {other:?}"),
    }
}

fn payment(
    amount: i64,
    callback: &str,
    key: &str,
) -> vandar::ipg::types::builder::PaymentRequestBuilder {
    PaymentRequest::builder()
        .api_key(ApiKey::from(key))
        .amount(Rial::new(amount))
        .callback_url(callback)
}

#[tokio::test]
async fn invalid_ipg_payments_are_not_sent() {
    let (server, vandar) = setup().await;
    let ipg = vandar.ipg();
    let ok_url = "https://shop.example/cb";
    let cases = [
        (
            "Rial(i64::MAX)",
            payment(i64::MAX, ok_url, "key-123456"),
            "amount",
        ),
        ("Rial(999)", payment(999, ok_url, "key-123456"), "amount"),
        ("Rial(-1)", payment(-1, ok_url, "key-123456"), "amount"),
        (
            "relative callback_url",
            payment(10_000, "/payment/cb", "key-123456"),
            "callback_url",
        ),
        (
            "callback_url without scheme",
            payment(10_000, "shop.example/cb", "key-123456"),
            "callback_url",
        ),
        (
            "ftp callback_url",
            payment(10_000, "ftp://shop.example/cb", "key-123456"),
            "callback_url",
        ),
        (
            "empty callback_url",
            payment(10_000, "", "key-123456"),
            "callback_url",
        ),
        ("empty api_key", payment(10_000, ok_url, ""), "api_key"),
        ("blank api_key", payment(10_000, ok_url, "   "), "api_key"),
    ];
    for (case, body, field) in cases {
        refused(case, ipg.send_payment().body(body).send().await, field);
    }
    // verify with an empty token
    let body = vandar::ipg::types::TokenRequest::builder()
        .api_key(ApiKey::from("key-123456"))
        .token("");
    refused(
        "empty token",
        ipg.verify_payment().body(body).send().await,
        "token",
    );
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn invalid_money_calls_and_paths_are_not_sent() {
    let (server, vandar) = setup().await;
    let core = vandar.core();
    // settlement of Toman(i64::MAX), and of more than the sanity ceiling
    for amount in [i64::MAX, 100_000_000_001, -5, 0] {
        let mut body = example("vandar-core", "store_settlement", "settlement");
        body["amount"] = json!(Toman::new(amount));
        let body: vandar::core::types::SettlementRequest = serde_json::from_value(body).unwrap();
        refused(
            &format!("settlement Toman({amount})"),
            core.store_settlement()
                .business("shop")
                .body(body)
                .send()
                .await,
            "amount",
        );
    }
    // refund of Rial(-100) and Rial(0)
    for amount in [-100, 0] {
        let mut body = example("vandar-core", "refund_transaction", "full_refund");
        body["amount"] = json!(amount.to_string());
        let body: vandar::core::types::RefundRequest = serde_json::from_value(body).unwrap();
        refused(
            &format!("refund Rial({amount})"),
            core.refund_transaction()
                .business("shop")
                .transaction_id("166958852971")
                .body(body)
                .send()
                .await,
            "amount",
        );
    }
    // empty path parameters would change the URL
    let body: vandar::core::types::RefundRequest =
        serde_json::from_value(example("vandar-core", "refund_transaction", "full_refund"))
            .unwrap();
    refused(
        "refund of transaction ``",
        core.refund_transaction()
            .business("shop")
            .transaction_id("")
            .body(body)
            .send()
            .await,
        "transaction_id",
    );
    refused(
        "business ``",
        core.get_business().business("").send().await,
        "business",
    );
    refused(
        "business `..`",
        core.get_business().business("..").send().await,
        "business",
    );
    // withdrawal of Rial(-1) and Rial(0)
    let dd = vandar.subscription();
    for amount in [-1i64, 0, i64::MAX] {
        let mut body = example("vandar-subscription", "store_withdrawal", "instant");
        body["amount"] = json!(amount.to_string());
        let body: vandar::subscription::types::WithdrawalRequest =
            serde_json::from_value(body).unwrap();
        refused(
            &format!("withdrawal Rial({amount})"),
            dd.store_withdrawal()
                .business("shop")
                .body(body)
                .send()
                .await,
            "amount",
        );
    }
    // Sanbod transfer of Rial(-1)
    let sanbod = vandar.sanbod();
    let mut body = example("sanbod", "normal_transfer", "transfer");
    body["transferAmount"] = json!("-1");
    let body: vandar::sanbod::types::NormalTransferRequest = serde_json::from_value(body).unwrap();
    refused(
        "sanbod transfer Rial(-1)",
        sanbod.normal_transfer().body(body).send().await,
        "transferAmount",
    );
    assert!(
        server.requests().is_empty(),
        "nothing was sent: {:?}",
        server.requests()
    );
}

/// The valid versions of the same calls do go out (the checks above are not refusing
/// everything).
#[tokio::test]
async fn valid_calls_still_go_out() {
    let (server, vandar) = setup().await;
    let _ = vandar
        .ipg()
        .send_payment()
        .body(payment(10_000, "https://shop.example/cb", "key-123456"))
        .send()
        .await;
    let body: vandar::core::types::RefundRequest =
        serde_json::from_value(example("vandar-core", "refund_transaction", "full_refund"))
            .unwrap();
    let _ = vandar
        .core()
        .refund_transaction()
        .business("shop")
        .transaction_id("a/b")
        .body(body)
        .send()
        .await;
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert!(
        reqs[1].path.contains("/transaction/a%2Fb/refund"),
        "path parameters are percent-encoded: {}",
        reqs[1].path
    );
}
