//! [axum](https://docs.rs/axum) integration (feature `axum`): extractors for what Vandar and
//! Sanbod send to your server, and a response for sending a buyer to a payment page.
//!
//! Each extractor exists with its product's feature (this page shows those of the features it
//! was built with):
//!
//! | extractor | feature | route | from |
//! |---|---|---|---|
//! | `IpgCallback` | `ipg` | your IPG `callback_url` | the query `token=..&payment_status=OK\|FAILED` |
//! | `MandateCallback` | `subscription` | your direct-debit `callback_url` | the query `token=..&status=..&authorization_id=..` |
//! | `SanbodCallback` | `sanbod` | your Sanbod `redirect_uri` | the query `code=..&state=..`; check `state` with `SanbodCallback::verify_state` |
//! | `SettlementNotice` | `core` | a settlement's `notify_url` | the POSTed form body |
//!
//! A callback that cannot be read is rejected with `400 Bad Request` and a short reason (never
//! the query itself, which may carry tokens or codes).
//!
//! ```no_run
//! # #[cfg(all(feature = "axum", feature = "ipg"))]
//! # mod app {
//! use axum::response::IntoResponse;
//! use vandar::axum::{IpgCallback, PayPageRedirect};
//!
//! async fn pay(ipg: vandar::ipg::Client) -> Result<PayPageRedirect, String> {
//!     let token = "token-from-send_payment";
//!     let url = ipg.payment_page_url(token).map_err(|e| e.to_string())?;
//!     Ok(PayPageRedirect::from(url))
//! }
//!
//! async fn callback(IpgCallback(cb): IpgCallback) -> impl IntoResponse {
//!     if cb.is_paid() { "verify it now" } else { "payment failed" }
//! }
//! # }
//! ```

// With `axum` alone (no product feature) there is no extractor: only the redirect response.
#![cfg_attr(
    not(any(
        feature = "ipg",
        feature = "subscription",
        feature = "sanbod",
        feature = "core"
    )),
    allow(dead_code, unused_imports)
)]

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{StatusCode, header};

/// Why a callback was rejected (answered `400 Bad Request`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CallbackRejection(String);

impl CallbackRejection {
    fn new(what: &str, reason: impl std::fmt::Display) -> Self {
        Self(format!("invalid {what}: {reason}"))
    }

    /// The reason (never the query or body).
    pub fn reason(&self) -> &str {
        &self.0
    }
}

impl IntoResponse for CallbackRejection {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, self.0).into_response()
    }
}

/// The query string of a request (empty when there is none).
fn query(parts: &Parts) -> &str {
    parts.uri.query().unwrap_or("")
}

/// The IPG callback: `callback_url?token=..&payment_status=OK|FAILED`. Verify the payment with
/// [`Client::verify`](crate::ipg::Client::verify) when [`is_paid`](crate::ipg::Callback::is_paid).
#[cfg(feature = "ipg")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpgCallback(pub crate::ipg::Callback);

#[cfg(feature = "ipg")]
impl<S: Send + Sync> FromRequestParts<S> for IpgCallback {
    type Rejection = CallbackRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        crate::ipg::Callback::parse(query(parts))
            .map(IpgCallback)
            .map_err(|e| CallbackRejection::new("IPG callback", e))
    }
}

/// The direct-debit (mandate) callback the bank sends back to your `callback_url`.
#[cfg(feature = "subscription")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MandateCallback(pub crate::subscription::Callback);

#[cfg(feature = "subscription")]
impl<S: Send + Sync> FromRequestParts<S> for MandateCallback {
    type Rejection = CallbackRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        crate::subscription::Callback::parse(query(parts))
            .map(MandateCallback)
            .map_err(|e| CallbackRejection::new("mandate callback", e))
    }
}

/// Sanbod's consent redirect: `redirect_uri?code=..&state=..`. Before exchanging the code,
/// compare `state` with the value you stored in the user's session when you sent them to the
/// consent page ([`SanbodCallback::verify_state`]): that is the CSRF check of OAuth.
#[cfg(feature = "sanbod")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SanbodCallback(pub crate::sanbod::AuthorizationCallback);

/// The `state` of a Sanbod consent redirect is missing or not the one the application sent.
#[cfg(feature = "sanbod")]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the consent redirect's `state` does not match the one this session sent (possible CSRF); do not exchange its code"
)]
pub struct StateMismatch;

#[cfg(feature = "sanbod")]
impl SanbodCallback {
    /// The callback, if its `state` equals `expected` (compared in constant time).
    ///
    /// # Errors
    /// [`StateMismatch`] when `state` is missing or different.
    pub fn verify_state(
        self,
        expected: &str,
    ) -> Result<crate::sanbod::AuthorizationCallback, StateMismatch> {
        match self.0.state.as_deref() {
            Some(got)
                if constant_time_eq(got.as_bytes(), expected.as_bytes())
                    && !expected.is_empty() =>
            {
                Ok(self.0)
            }
            _ => Err(StateMismatch),
        }
    }
}

/// Byte-wise comparison whose time does not depend on where the inputs differ.
#[cfg(feature = "sanbod")]
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(feature = "sanbod")]
impl<S: Send + Sync> FromRequestParts<S> for SanbodCallback {
    type Rejection = CallbackRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        crate::sanbod::AuthorizationCallback::parse(query(parts))
            .map(SanbodCallback)
            .map_err(|e| CallbackRejection::new("consent redirect", e))
    }
}

/// The settlement notification Vandar POSTs to a settlement's `notify_url` (a form body).
#[cfg(feature = "core")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettlementNotice(pub crate::core::SettlementNotification);

#[cfg(feature = "core")]
impl<S: Send + Sync> axum::extract::FromRequest<S> for SettlementNotice {
    type Rejection = CallbackRejection;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = String::from_request(req, state)
            .await
            .map_err(|e| CallbackRejection::new("settlement notification", e.body_text()))?;
        crate::core::SettlementNotification::parse(&body)
            .map(SettlementNotice)
            .map_err(|e| CallbackRejection::new("settlement notification", e))
    }
}

/// Send the buyer's browser to a payment (or bank) page: `303 See Other` with `Location`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayPageRedirect(pub url::Url);

impl From<url::Url> for PayPageRedirect {
    fn from(url: url::Url) -> Self {
        Self(url)
    }
}

impl IntoResponse for PayPageRedirect {
    fn into_response(self) -> Response {
        match http::HeaderValue::from_str(self.0.as_str()) {
            Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str) -> Parts {
        http::Request::builder()
            .uri(uri)
            .body(())
            .unwrap()
            .into_parts()
            .0
    }

    #[cfg(feature = "ipg")]
    #[tokio::test]
    async fn ipg_callback_extracts_and_rejects() {
        let mut p = parts("/cb?order=7&token=T1&payment_status=OK");
        let IpgCallback(cb) = IpgCallback::from_request_parts(&mut p, &()).await.unwrap();
        assert!(cb.is_paid() && cb.token == "T1");
        let mut p = parts("/cb?payment_status=OK");
        let err = IpgCallback::from_request_parts(&mut p, &())
            .await
            .unwrap_err();
        assert!(err.reason().contains("token"), "{err}");
        assert_eq!(err.into_response().status(), StatusCode::BAD_REQUEST);
    }

    #[cfg(feature = "sanbod")]
    #[tokio::test]
    async fn sanbod_state_is_compared() {
        let mut p = parts("/oauth?code=C-SECRET&state=s-123");
        let cb = SanbodCallback::from_request_parts(&mut p, &())
            .await
            .unwrap();
        assert_eq!(cb.clone().verify_state("s-123").unwrap().code, "C-SECRET");
        assert_eq!(cb.clone().verify_state("s-124"), Err(StateMismatch));
        assert_eq!(cb.verify_state(""), Err(StateMismatch));
        let mut p = parts("/oauth?code=C");
        let cb = SanbodCallback::from_request_parts(&mut p, &())
            .await
            .unwrap();
        assert_eq!(
            cb.verify_state("s-123"),
            Err(StateMismatch),
            "a missing state fails"
        );
        let mut p = parts("/oauth?error=access_denied");
        let err = SanbodCallback::from_request_parts(&mut p, &())
            .await
            .unwrap_err();
        assert!(!err.reason().contains("C-SECRET"));
    }

    #[cfg(feature = "core")]
    #[tokio::test]
    async fn settlement_notice_from_form_body() {
        use axum::extract::FromRequest;
        let body = "id=8edaa0a0-a33f-11ea-838d-676dce32760e&status=DONE&transaction_id=123";
        let req = http::Request::builder()
            .method("POST")
            .uri("/notify")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(body))
            .unwrap();
        match SettlementNotice::from_request(req, &()).await {
            Ok(SettlementNotice(n)) => assert!(n.is_done() && n.id.is_some()),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn redirect_is_a_303_with_location() {
        let url = url::Url::parse("https://ipg.vandar.io/v4/T1").unwrap();
        let r = PayPageRedirect::from(url).into_response();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[header::LOCATION], "https://ipg.vandar.io/v4/T1");
    }
}
