//! Rust SDK for the [Vandar](https://vandar.io) payment APIs and Sanbod open banking.
//!
//! Every product is a client generated from a hand-written OpenAPI spec, behind one feature:
//!
//! | feature | module | what |
//! |---|---|---|
//! | `ipg` (default) | `ipg` | payment gateway v4: send, transaction info, verify |
//! | `core` | `core` | business API: business info, statement, refunds, settlements (v3/v2.1, batch, queued), Avand, cash-in, customers, inquiries; pagination streams, settlement callback parser |
//! | `ravand` | `ravand` | Ravand card issuing (cardholder, documents, activation/PIN/block pages) and holder banking (balance, statement, OTP-confirmed transfers); path-only upstream docs, free-form bodies |
//! | `subscription` | `subscription` | direct debit: banks, mandates (bank page, callback, verify), withdrawals, refunds |
//! | `axum` | `axum` | extractors for the IPG, mandate and Sanbod callbacks and the settlement notification; a pay-page redirect response |
//! | `rustls` (default) | — | TLS for the SDK's own client (see [TLS](#tls)) |
//! | `redis` | `redis` | many replicas, one token pair and one rate budget through Redis |
//! | `sandbox` | `sandbox` | a local stateful Vandar + Sanbod server for development and tests (`Sandbox::start()`) |
//! | `sanbod` | `sanbod` | Sanbod open banking (not Vandar): OAuth consent (302 page URL), token manager (AC/CC, refresh, revoke), internal/PAYA/SATNA transfers, statement, PAYA/SATNA reports, account/card/IBAN conversions |
//!
//! A module exists only with its feature (this page is built with the features listed at
//! the top of docs.rs; `cargo doc -p vandar --features ...` builds it for yours).
//!
//! All clients share one [`Vandar`] runtime: one connection pool, one configuration (hosts,
//! timeouts, credentials), one [`Error`] type. Every error says what happened, on which host
//! and operation, and what to do next; [`Error::http_status`] and [`Error::request_id`] give
//! what a support ticket needs.
//!
//! # TLS
//!
//! The default feature `rustls` turns on reqwest's own `rustls` feature (the aws-lc-rs crypto
//! provider and the platform's certificate verifier) and selects rustls on the SDK's client.
//! Adding `vandar` changes nothing for the application's own reqwest clients: no crypto
//! provider is installed process-wide, reqwest's `rustls-no-provider` is never turned on (it
//! would make an application's `reqwest::Client::new()` panic), and no `native-tls` feature
//! exists (it would switch the default backend of every reqwest client in the build). An
//! application that installed its own default rustls provider keeps it, for the SDK's client
//! too. Without `rustls` (`default-features = false`) the SDK speaks plain HTTP only: enough
//! for the sandbox and local tests; an `https` call fails with an error naming the feature.
//!
//! # Checkout with the payment gateway
//!
//! ```no_run
//! use vandar::ipg::{Callback, VerifyOutcome, types::PaymentRequest};
//! use vandar::domain::Rial;
//! use vandar::{ApiKey, Config, Vandar};
//!
//! # async fn checkout() -> Result<(), Box<dyn std::error::Error>> {
//! let vandar = Vandar::new(Config::builder().build()?)?;
//! let ipg = vandar.ipg();
//! let api_key = ApiKey::from(std::env::var("VANDAR_IPG_API_KEY")?);
//!
//! // 1. Register the payment (amount in Rial, at least 1000) and get its token.
//! let sent = ipg
//!     .send_payment()
//!     .body(
//!         PaymentRequest::builder()
//!             .api_key(&api_key)
//!             .amount(Rial::new(250_000))
//!             .callback_url("https://shop.example/payment/callback")
//!             .factor_number("INV-1001".to_string()),
//!     )
//!     .send()
//!     .await?;
//! let token = sent.token;
//! // Keep `token` with the order, server-side.
//!
//! // 2. Redirect the buyer's browser to the payment page (a one-time URL).
//! let redirect_to = ipg.payment_page_url(&token)?;
//! println!("302 Location: {redirect_to}");
//!
//! // 3. The buyer comes back to your callback_url with `token` and `payment_status`.
//! let callback = Callback::parse("token=4FFSKSZ9I3CJWOA&payment_status=OK")?;
//! if !callback.is_paid() {
//!     return Ok(()); // cancelled or failed: do not deliver
//! }
//!
//! // 4. Verify, once, within 20 minutes. Only now is the money yours.
//! match ipg.verify(&api_key, &callback.token).await? {
//!     VerifyOutcome::Verified(payment) => {
//!         println!("paid, transaction {:?}", payment.trans_id); // deliver the order
//!     }
//!     VerifyOutcome::AlreadyVerified(_) => { /* verified before: deliver if not yet */ }
//!     VerifyOutcome::Expired(_) => { /* too late: the payer gets the money back */ }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Only the types
//!
//! [`domain`] (Rial and Toman, IBAN, card number, mobile, national code, Jalali dates, track
//! ids, the lenient API shapes) is the crate `vandar-domain`, which has no HTTP dependency
//! (no reqwest, hyper, http or tokio). A project that only needs the types, such as a web
//! backend validating an IBAN or a Jalali date from a form, can depend on `vandar-domain`
//! alone; its values are the very types `vandar::domain` names, so they pass to the clients
//! unchanged.
//!
//! ```
//! let iban: vandar::domain::Iban = "IR06 2960 0000 0010 0324 2000 01".parse()?;
//! assert_eq!(iban.as_str(), "IR062960000000100324200001");
//! # Ok::<(), vandar::domain::IbanError>(())
//! ```
//!
//! # Testing against a local server
//!
//! [`ConfigBuilder::all_hosts`] sends every host's requests to one base URL (a mock server),
//! and [`ConfigBuilder::host`] overrides one host (a sandbox).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use vandar_runtime::{
    Answer, ApiError, ApiKey, AuthError, Clock, Config, ConfigBuilder, ConfigError, CredentialKind,
    Error, ListRequest, MemoryTokenStore, Paginate, Position, RateLimit, RateLimits, RetryPolicy,
    Runtime, Secret, SystemClock, Timeouts, TokenPair, TokenRefresh, TokenStore, TokenStoreError,
    TransportError, TransportKind, domain, secret,
};

/// What the generated setters accept (`&str`, `String`, `&String`, the domain types and
/// their `Option`s; a string is parsed and a bad one is an error naming the field): see
/// [`field`].
pub use vandar_runtime::{FieldError, IntoField, field};

#[cfg(feature = "ipg")]
#[doc(inline)]
pub use vandar_ipg as ipg;

#[cfg(feature = "core")]
#[doc(inline)]
pub use vandar_core as core;

#[cfg(feature = "ravand")]
#[doc(inline)]
pub use vandar_ravand as ravand;

#[cfg(feature = "subscription")]
#[doc(inline)]
pub use vandar_subscription as subscription;

#[cfg(feature = "sanbod")]
#[doc(inline)]
pub use ::sanbod;

#[cfg(feature = "sandbox")]
#[doc(inline)]
pub use vandar_sandbox as sandbox;

#[cfg(feature = "axum")]
pub mod axum;

/// What consuming the pagination streams needs (`try_next`, `try_collect`, `next`), so that
/// users need not add `futures` themselves.
pub use futures::{StreamExt, TryStreamExt};

pub use vandar_runtime::{
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_RETRY_AFTER, LimiterKey, MethodClass,
    SharedLimiterError, SharedLimiterFuture, SharedRateLimiter, SlotGrant, SlotRequest, redact,
};

/// Entry point: one runtime shared by every product client.
#[derive(Clone, Debug)]
pub struct Vandar {
    runtime: Runtime,
}

impl Vandar {
    /// Build the runtime (HTTP client, configuration).
    pub fn new(config: Config) -> Result<Self, Error> {
        Ok(Self {
            runtime: Runtime::new(config)?,
        })
    }

    /// The shared runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The payment gateway client.
    #[cfg(feature = "ipg")]
    pub fn ipg(&self) -> ipg::Client {
        ipg::Client::with_runtime(&self.runtime)
    }

    /// The business API client (`api.vandar.io` and `batch.vandar.io`).
    #[cfg(feature = "core")]
    pub fn core(&self) -> core::Client {
        core::Client::with_runtime(&self.runtime)
    }

    /// The Ravand (card issuing and holder banking) client.
    #[cfg(feature = "ravand")]
    pub fn ravand(&self) -> ravand::Client {
        ravand::Client::with_runtime(&self.runtime)
    }

    /// The direct debit (subscription) client.
    #[cfg(feature = "subscription")]
    pub fn subscription(&self) -> subscription::Client {
        subscription::Client::with_runtime(&self.runtime)
    }

    /// The Sanbod open-banking client (`api.sanbod.co`). Configure the application's client
    /// id and secret with `Config::builder().basic_auth(vandar::sanbod::CLIENT_SCHEME, ..)`.
    #[cfg(feature = "sanbod")]
    pub fn sanbod(&self) -> sanbod::Client {
        sanbod::Client::with_runtime(&self.runtime)
    }
}

/// The README's examples are compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
/// Redis coordination for many replicas: the token record as a compare-and-swap store (optionally sealed), a shared rate limiter; TLS, Sentinel and Cluster.
#[cfg(feature = "redis")]
pub use vandar_redis as redis;
