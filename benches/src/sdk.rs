//! The SDK side of each pair: the same calls through the generated clients and the runtime.

use vandar::core::types::TransactionPage;
use vandar::domain::Rial;
use vandar::ipg::types::{PaymentRequest, PaymentToken, TokenRequest, VerifiedPayment};
use vandar::{ApiKey, Config, RateLimits, Vandar};

use crate::fixtures::{ACCESS_TOKEN, API_KEY, BUSINESS, PAGE_ITEMS};
use crate::handwritten::CALLBACK_URL;

/// An SDK whose every host is `base`, with an access token for the business API.
/// `limits: None` turns the client-side rate limiter off (the overhead and memory runs make
/// thousands of calls; the limiter has its own benchmark).
pub fn vandar(base: &str, limits: Option<RateLimits>) -> Vandar {
    let config = Config::builder()
        .all_hosts(base)
        .access_token(ACCESS_TOKEN)
        .rate_limits(limits.unwrap_or_else(RateLimits::unlimited))
        .build()
        .expect("a valid configuration");
    Vandar::new(config).expect("an SDK runtime")
}

/// `send_payment` through the generated IPG client, with the same body as
/// [`crate::handwritten::send_payment`].
pub async fn send_payment(
    ipg: &vandar::ipg::Client,
    key: &ApiKey,
    order: u64,
) -> Result<PaymentToken, vandar::Error> {
    ipg.send_payment()
        .body(
            PaymentRequest::builder()
                .api_key(key)
                .amount(Rial::new(250_000))
                .callback_url(CALLBACK_URL)
                .description(Some(
                    format!("Order {order}")
                        .parse()
                        .map_err(|e| vandar::Error::InvalidRequest(format!("{e}")))?,
                ))
                .factor_number(format!("INV-{order}")),
        )
        .send()
        .await
}

/// `verify_payment` of `token` through the generated IPG client, with the same body as
/// [`crate::handwritten::verify_payment`].
pub async fn verify_payment(
    ipg: &vandar::ipg::Client,
    key: &ApiKey,
    token: &str,
) -> Result<VerifiedPayment, vandar::Error> {
    ipg.verify_payment()
        .body(TokenRequest::builder().api_key(key).token(token))
        .send()
        .await
}

/// `list_transactions` with `per_page=100` through the generated business client.
pub async fn list_transactions(
    core: &vandar::core::Client,
) -> Result<TransactionPage, vandar::Error> {
    core.list_transactions()
        .business(BUSINESS)
        .per_page(std::num::NonZeroU64::new(PAGE_ITEMS as u64).expect("non-zero"))
        .send()
        .await
}

/// The benchmark's gateway key.
pub fn api_key() -> ApiKey {
    ApiKey::from(API_KEY)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SDK and the hand-written call send byte-identical JSON.
    #[test]
    fn same_json_on_both_sides() {
        let key = api_key();
        let body = PaymentRequest::builder()
            .api_key(&key)
            .amount(Rial::new(250_000))
            .callback_url(CALLBACK_URL)
            .description(Some("Order 7".parse().unwrap()))
            .factor_number("INV-7".to_string());
        let generated = PaymentRequest::try_from(body).unwrap();
        assert_eq!(
            serde_json::to_string(&generated).unwrap(),
            serde_json::to_string(&crate::handwritten::payment_request(7)).unwrap()
        );
    }
}
