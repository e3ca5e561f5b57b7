//! Vandar payment gateway (IPG v4) client.
//!
//! The operations and types are generated from `spec/vandar-ipg.yaml` (`send_payment`,
//! `get_transaction_info`, `verify_payment`); this file adds the parts of a checkout that are not
//! API calls:
//!
//! * [`Client::payment_page_url`]: where to redirect the buyer after `send_payment`;
//! * [`Callback`]: the query string Vandar appends to your `callback_url`;
//! * [`Client::verify`]: verify once and tell "verified", "already verified" and "expired" apart.
//!
//! Amounts are in Rial. The gateway authenticates with the `api_key` in each body; no
//! `Authorization` header is sent. Most users reach this crate as `vandar::ipg` (feature
//! `ipg` of the `vandar` crate); the complete, compiled checkout example (send, redirect,
//! callback, verify) is on the front page of the `vandar` crate.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, missing_docs, unused_imports, dead_code)]
mod generated;

pub use generated::{
    __spec, BROWSER_PAGES, Client, DEFAULT_HOST, ROUTES, SPEC_FILE, request, types,
};
pub use vandar_runtime::{ApiError, ApiKey, Error};

use url::Url;
use vandar_runtime::callback::QueryParams;
use vandar_runtime::redact::Scrubber;

/// Name of the payment page in the spec's `x-browser-pages`.
pub const PAYMENT_PAGE: &str = "payment_page";

impl Client {
    /// The payment page for a token from `send_payment`
    /// (`https://ipg.vandar.io/v4/{token}`, or the configured IPG host). Redirect the buyer's
    /// browser there. The URL works once.
    pub fn payment_page_url(&self, token: &str) -> Result<Url, Error> {
        self.binding().page_url(PAYMENT_PAGE, &[("token", token)])
    }

    /// Verify (finalize) a payment. The gateway answers this once per transaction, so the
    /// answers that mean "already verified" (`status` 2) and "expired" (`status` 3, 20 minutes
    /// after the payment) come back as [`VerifyOutcome`] variants, not as errors to retry.
    /// Any other rejection is an [`Error::Api`]. This call is never retried by the SDK: when
    /// its response is lost the error is [`Error::OutcomeUnknown`]; call
    /// [`get_transaction_info`](Client::get_transaction_info) (its `code` says whether the
    /// payment was verified) before verifying again.
    pub async fn verify(&self, api_key: &ApiKey, token: &str) -> Result<VerifyOutcome, Error> {
        let body = types::TokenRequest::builder().api_key(api_key).token(token);
        match self.verify_payment().body(body).send().await {
            Ok(payment) => match Some(payment.status.get()) {
                Some(1) => Ok(VerifyOutcome::Verified(payment)),
                _ => {
                    // A refusal inside a 200 (`status` 2, 3, 5 ...): the answer may echo the
                    // request, so the error keeps it scrubbed of this call's key, as the
                    // pipeline scrubs the errors it builds.
                    let raw = serde_json::to_value(&payment).unwrap_or_default();
                    let mut scrubber = Scrubber::new();
                    scrubber.add(api_key.expose());
                    classify(ApiError::from_body_scrubbed(200, raw, &scrubber))
                }
            },
            Err(Error::Api(e)) => classify(*e),
            Err(other) => Err(other),
        }
    }
}

fn classify(e: ApiError) -> Result<VerifyOutcome, Error> {
    match e.upstream_status {
        Some(2) => Ok(VerifyOutcome::AlreadyVerified(e)),
        Some(3) => Ok(VerifyOutcome::Expired(e)),
        _ => Err(Error::from(e)),
    }
}

/// The numeric value of a `status`/`code` flag, whatever JSON shape it arrived in.
pub fn status_of<T: serde::Serialize>(flag: &T) -> Option<i64> {
    match serde_json::to_value(flag).ok()? {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// What verifying a payment came to.
#[derive(Debug)]
pub enum VerifyOutcome {
    /// Verified now: the money is the merchant's. Deliver the order.
    Verified(types::VerifiedPayment),
    /// Verified earlier (`status` 2): a repeated verify, e.g. after a lost response. Look the
    /// transaction up with `get_transaction_info` if you need its details.
    AlreadyVerified(ApiError),
    /// Not verified within 20 minutes (`status` 3): the payment will be returned to the payer.
    Expired(ApiError),
}

/// The result the buyer's browser brings back to `callback_url`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Callback {
    /// The token of the payment (the one `send_payment` returned).
    pub token: String,
    /// What the gateway says happened.
    pub payment_status: PaymentStatus,
}

/// `payment_status` of a callback. The docs define `OK`; every other value means "do not
/// deliver", and `FAILED` is the one seen in practice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaymentStatus {
    /// `OK`: paid; now call [`Client::verify`].
    Ok,
    /// `FAILED`: not paid.
    Failed,
    /// Any other value: treat as not paid.
    Other(String),
}

/// A callback query that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CallbackError {
    /// `token` is missing or empty.
    #[error("callback has no `token`")]
    MissingToken,
    /// `payment_status` is missing.
    #[error("callback has no `payment_status`")]
    MissingStatus,
    /// The text looked like a URL but did not parse.
    #[error("callback URL does not parse: {0}")]
    InvalidUrl(String),
}

impl Callback {
    /// Read a callback from its query string (`token=..&payment_status=OK`, with or without a
    /// leading `?`) or from the whole callback URL.
    pub fn parse(query_or_url: &str) -> Result<Self, CallbackError> {
        let q = QueryParams::parse(query_or_url).map_err(|e| CallbackError::InvalidUrl(e.0))?;
        let token = q
            .non_empty("token")
            .ok_or(CallbackError::MissingToken)?
            .to_string();
        let payment_status = match q
            .get("payment_status")
            .ok_or(CallbackError::MissingStatus)?
        {
            "OK" => PaymentStatus::Ok,
            "FAILED" => PaymentStatus::Failed,
            other => PaymentStatus::Other(other.to_string()),
        };
        Ok(Callback {
            token,
            payment_status,
        })
    }

    /// Whether the gateway reports the payment as paid (`payment_status=OK`). Only
    /// [`Client::verify`] makes it final.
    pub fn is_paid(&self) -> bool {
        self.payment_status == PaymentStatus::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_from_query_and_url() {
        let c = Callback::parse("token=4FFSKSZ9I3CJWOA&payment_status=OK").unwrap();
        assert_eq!(c.token, "4FFSKSZ9I3CJWOA");
        assert!(c.is_paid());
        let c =
            Callback::parse("https://shop.example/cb?order=7&payment_status=FAILED&token=AB%2BC")
                .unwrap();
        assert_eq!(c.token, "AB+C");
        assert_eq!(c.payment_status, PaymentStatus::Failed);
        assert!(!c.is_paid());
        let c = Callback::parse("?token=T&payment_status=ok").unwrap();
        assert_eq!(c.payment_status, PaymentStatus::Other("ok".into()));
        assert!(!c.is_paid(), "only upper-case OK means paid");
    }

    #[test]
    fn callback_errors() {
        assert_eq!(
            Callback::parse("payment_status=OK"),
            Err(CallbackError::MissingToken)
        );
        assert_eq!(
            Callback::parse("token=&payment_status=OK"),
            Err(CallbackError::MissingToken)
        );
        assert_eq!(
            Callback::parse("token=x"),
            Err(CallbackError::MissingStatus)
        );
        assert!(matches!(
            Callback::parse("http://[::1"),
            Err(CallbackError::InvalidUrl(_))
        ));
    }

    #[test]
    fn status_shapes() {
        assert_eq!(status_of(&serde_json::json!(2)), Some(2));
        assert_eq!(status_of(&serde_json::json!("3")), Some(3));
        assert_eq!(status_of(&serde_json::json!(null)), None);
    }
}
