//! Response bodies for the local server and the decode benchmark.
//!
//! The statement page follows the one clean documented example of `list_transactions` (S000 in
//! `docs/reference/core.md`, C5), with 100 items instead of one and the values varied
//! the way a real statement varies them: succeeded and failed IPG payments, settlements, with
//! and without card, reference, log and payer details, Persian and ASCII text.

use serde_json::{Value, json};

/// The business slug used in every path.
pub const BUSINESS: &str = "bench-shop";

/// The IPG `api_key` sent in every payment request.
pub const API_KEY: &str = "bench-ipg-api-key-0000000000000000";

/// The bearer token configured for the business API.
pub const ACCESS_TOKEN: &str = "bench-access-token";

/// The token the server answers `send_payment` with.
pub const PAYMENT_TOKEN: &str = "4FFSKSZ9I3CJWOA";

/// Items in the statement page.
pub const PAGE_ITEMS: usize = 100;

/// `POST /api/v4/send` answer.
pub fn payment_token_body() -> Vec<u8> {
    json!({"status": 1, "token": PAYMENT_TOKEN})
        .to_string()
        .into_bytes()
}

/// `POST /api/v4/verify` answer: every field of the documented success body (VD ipg), with
/// the documented example's values where it gives them.
pub fn verified_payment_body() -> Vec<u8> {
    json!({
        "status": 1,
        "amount": "1000.00",
        "realAmount": 500,
        "wage": "500",
        "transId": 159_178_352_177u64,
        "factorNumber": "INV-1",
        "mobile": "09123456789",
        "description": "Order 1",
        "cardNumber": "603799******7999",
        "paymentDate": "2020-06-10 14:36:30",
        "cid": null,
        "message": "ok"
    })
    .to_string()
    .into_bytes()
}

/// One statement item, varied by `i`.
pub fn transaction_item(i: usize) -> Value {
    let id = 165_374_316_188u64 - (i as u64) * 7_919;
    let status = [1, -1, 1, 3, 2, 1, -2, 5][i % 8];
    let succeeded = status == 1;
    let settlement = status == 2 || status == -2;
    let (day, hour, minute) = (1 + i % 28, 8 + i % 12, (i * 7) % 60);
    let jalali = format!("{hour:02}:{minute:02}:{:02} - 1401/3/{day}", (i * 13) % 60);
    let amount = 10_000 + (i as u64) * 1_337;
    json!({
        "id": id,
        "uuid": format!("73b82710-de88-11ec-ae19-{:012x}", 0x47c5_d7c5_8ae4u64 + i as u64),
        "amount": amount,
        "wage": if succeeded { amount / 100 } else { 0 },
        "status": status,
        "ref_id": if succeeded { json!(format!("GmshtyjwKSujP5YFiQrxnrfv{i:04}zNC0PmUr8bl+QSIJ/o=")) } else { Value::Null },
        "tracking_code": if succeeded { json!(format!("{}", 100_000_000 + i)) } else { Value::Null },
        "card_number": if succeeded { json!("603799******6299") } else { Value::Null },
        "cid": if succeeded { json!(format!("{:064x}", (i as u128 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835))) } else { Value::Null },
        "verified": if succeeded { 1 } else { 0 },
        "channel": if settlement { "تسویه حساب" } else { "پرداخت اینترنتی" },
        "payment_date": if succeeded { json!(format!("1401-03-{day:02} {hour:02}:{minute:02}:10")) } else { Value::Null },
        "payment_number": if settlement { json!(format!("{}", 9_000_000 + i)) } else { Value::Null },
        "created_at": jalali,
        "updated_at": jalali,
        "wallet": 1_000_000 + (i as u64) * 10_000,
        "result": if succeeded { json!("تراکنش موفق") } else { Value::Null },
        "description": format!("خرید به شماره سفارش : {i} | محصولات - تست ({})", 100 + i),
        "factorNumber": if i.is_multiple_of(3) { json!(format!("INV-{}", 1000 + i)) } else { Value::Null },
        "mobile": if i.is_multiple_of(4) { json!("09123456789") } else { Value::Null },
        "callback_url": format!("https://shop.example/?wc-api=WC_Vandar&wc_order={i}"),
        "form_title": Value::Null,
        "settlement": Value::Null,
        "settlement_port": Value::Null,
        "comments": [],
        "api_token": "QRI4AZLY17SCG",
        "logs": if status == -1 {
            json!({
                "transaction_id": id,
                "result_code": "-2",
                "result_message": "کاربر صفحه پرداخت را ترک کرده است.",
                "log_date": format!("1401-03-{day:02} {hour:02}:{minute:02}:48"),
                "group": "خطای کاربر"
            })
        } else {
            Value::Null
        },
        "revised_transaction_id": Value::Null,
        "refund": Value::Null,
        "refund_detail_ids": [],
        "port": if i.is_multiple_of(2) { "SAMAN" } else { "BEHPARDAKHT" },
        "is_deposit": !settlement,
        "payer": {
            "ip": format!("167.235.19.{}", i % 250),
            "iban": if settlement { json!("IR820540102680020817909002") } else { Value::Null },
            "name": if i.is_multiple_of(5) { json!("مریم محمدی") } else { Value::Null },
            "slug": Value::Null,
            "avatar": Value::Null,
            "legal_name": Value::Null,
            "business_owner": Value::Null,
            "email": Value::Null,
            "phone": Value::Null,
            "address": Value::Null,
            "mobile": if i.is_multiple_of(4) { json!("09123456789") } else { Value::Null },
            "additional_fields": Value::Null,
            "description": format!("خرید به شماره سفارش : {i}")
        },
        "receiver": {
            "name": if settlement { json!("فروشگاه نمونه") } else { Value::Null },
            "legal_name": Value::Null,
            "slug": Value::Null,
            "avatar": Value::Null,
            "business_owner": Value::Null,
            "iban": if settlement { json!("IR820540102680020817909002") } else { Value::Null },
            "bank_name": if settlement { json!("بانک ملی") } else { Value::Null }
        },
        "receipt_url": if settlement { json!(format!("https://vand.ar/R{i:05}")) } else { Value::Null },
        "time_prediction": {
            "settlement_done_time_prediction": Value::Null,
            "settlement_cancelable_time": Value::Null,
            "is_settlement_paya_report_finally": Value::Null,
            "settlement_paya_report_finally_time": Value::Null,
            "is_after_time_prediction": Value::Null,
            "p2p_time_prediction": Value::Null
        }
    })
}

/// A statement page of `n` items (`data` as a list, as a list endpoint answers).
pub fn transaction_page(n: usize) -> Vec<u8> {
    let items: Vec<Value> = (0..n).map(transaction_item).collect();
    json!({"status": 1, "has_more": true, "data": items})
        .to_string()
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_decodes_with_generated_and_handwritten_types() {
        let page = transaction_page(PAGE_ITEMS);
        let generated: vandar::core::types::TransactionPage =
            serde_json::from_slice(&page).expect("generated types decode the fixture");
        match generated.data {
            vandar::domain::OneOrMany::Many(items) => assert_eq!(items.len(), PAGE_ITEMS),
            other => panic!("expected a list, got {other:?}"),
        }
        let hand: crate::handwritten::TransactionPage =
            serde_json::from_slice(&page).expect("hand-written types decode the fixture");
        assert_eq!(hand.data.len(), PAGE_ITEMS);
        // The two decode the same information: re-encoding either gives the same JSON values
        // for the fields the hand-written struct names.
        let g = serde_json::to_value(
            serde_json::from_slice::<vandar::core::types::TransactionPage>(&page).unwrap(),
        )
        .unwrap();
        let h = serde_json::to_value(&hand).unwrap();
        assert_eq!(g["data"][1]["id"], h["data"][1]["id"]);
        assert_eq!(g["data"][0]["cid"], h["data"][0]["cid"]);
    }
}
