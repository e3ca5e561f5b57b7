//! Vandar Ravand (روند) client: cards with the business's own design issued to its users, and
//! banking for their holders.
//!
//! The operations are generated from `spec/vandar-ravand.yaml`; this crate adds what is not a
//! generated call: the multipart document upload
//! ([`Client::upload_cardholder_documents`]), the three browser pages
//! ([`Client::card_activation_page_url`], [`Client::card_change_pin_page_url`],
//! [`Client::card_block_page_url`]) and [`Client::get_with_query`] for query parameters the
//! docs do not name. Most users reach it as `vandar::ravand`.
//!
//! **Only method and path of each call are documented upstream.** Every request body and every
//! answer is a free-form JSON object ([`types::Undocumented`], a `serde_json::Map`): the SDK
//! invents no field. Typed are the path and query parameters the docs name: `business` (the
//! business slug), `provider`, `cardholder_id` and `card_number` (a validated
//! [`CardNumber`](vandar_runtime::domain::CardNumber), masked in `Debug`). Authentication is the
//! business access token (`Config::builder().access_token(..)` or `.token_pair(..)`); every
//! call goes to `https://api.vandar.io` (overridable like any host).
//!
//! # Order of calls
//!
//! 1. [`set_config`](Client::set_config), once per business, before any other Ravand call.
//! 2. Static lists whose ids go into the holder's details: [`list_provinces`](Client::list_provinces),
//!    [`list_cities`](Client::list_cities), [`list_guilds`](Client::list_guilds),
//!    [`list_educations`](Client::list_educations), [`list_occupations`](Client::list_occupations).
//! 3. **Card issuing**, in this order:
//!    1. [`create_cardholder`](Client::create_cardholder): opens the card request (its answer
//!       presumably carries the cardholder id the next steps need; undocumented);
//!    2. [`update_cardholder`](Client::update_cardholder): the holder's details;
//!    3. [`upload_cardholder_documents`](Client::upload_cardholder_documents): identity
//!       documents (multipart);
//!    4. [`get_video_caption`](Client::get_video_caption): the text the holder reads in the
//!       identity video;
//!    5. [`finalize_cardholder`](Client::finalize_cardholder): submits the request;
//!    6. [`inquire_cardholder`](Client::inquire_cardholder): tracks it until the card is issued;
//!    7. once the holder has the physical card, **activate** it:
//!       [`create_card_activation_token`](Client::create_card_activation_token), then send the
//!       holder's browser to [`card_activation_page_url`](Client::card_activation_page_url).
//! 4. After activation:
//!    * first PIN change: [`create_change_pin_token`](Client::create_change_pin_token) +
//!      [`card_change_pin_page_url`](Client::card_change_pin_page_url);
//!    * **blocking, which is irreversible** (a blocked card can never be activated again):
//!      [`create_card_block_token`](Client::create_card_block_token) +
//!      [`card_block_page_url`](Client::card_block_page_url);
//!    * [`get_card_status`](Client::get_card_status);
//!    * banking: [`get_accounts_info`](Client::get_accounts_info),
//!      [`get_balance`](Client::get_balance), [`get_bank_statement`](Client::get_bank_statement),
//!      [`list_transfer_reasons`](Client::list_transfer_reasons), and transfers:
//!      [`transfer`](Client::transfer) → [`confirm_transfer_otp`](Client::confirm_transfer_otp)
//!      (with [`retry_transfer_otp`](Client::retry_transfer_otp) to resend the code), tracked with
//!      [`inquire_transfer`](Client::inquire_transfer) and
//!      [`inquire_paya_satna_transfer`](Client::inquire_paya_satna_transfer).
//!
//! Transfers move money: [`transfer`](Client::transfer) and
//! [`confirm_transfer_otp`](Client::confirm_transfer_otp) are never retried by the SDK (nor is
//! any other POST here, nor the upload: only the GETs and the PUT `update_cardholder` are).
//! When such a call's response is lost, the error is "outcome unknown"
//! ([`Error::is_outcome_unknown`]): track the transfer with `inquire_transfer` before sending
//! it again.
//!
//! ```no_run
//! use serde_json::{Map, Value};
//! use vandar_ravand::{Client, DocumentUpload, Error};
//!
//! /// The docs do not name the answer's fields: read the ones your Vandar account manager
//! /// gives you (the name below is an example, not a documented field).
//! fn field(answer: &Map<String, Value>, name: &str) -> Option<String> {
//!     answer.get(name).map(|v| v.as_str().map_or_else(|| v.to_string(), String::from))
//! }
//!
//! # async fn issue(ravand: &Client, holder_details: Map<String, Value>, front: Vec<u8>) -> Result<(), Box<dyn std::error::Error>> {
//! let (business, provider) = ("my-shop", "PROVIDER");
//! let created = ravand
//!     .create_cardholder()
//!     .business(business)
//!     .provider(provider)
//!     .body(Map::new())
//!     .send()
//!     .await
//!     .map_err(Error::from)?;
//! let id = field(&created, "id").ok_or("no cardholder id")?;
//! ravand
//!     .update_cardholder()
//!     .business(business)
//!     .provider(provider)
//!     .cardholder_id(id.as_str())
//!     .body(holder_details)
//!     .send()
//!     .await
//!     .map_err(Error::from)?;
//! ravand
//!     .upload_cardholder_documents()
//!     .business(business)
//!     .provider(provider)
//!     .cardholder_id(id.as_str())
//!     .body(DocumentUpload::new().file("PART_NAME", "front.jpg", "image/jpeg", front))
//!     .send()
//!     .await
//!     .map_err(Error::from)?;
//! let caption = ravand
//!     .get_video_caption()
//!     .business(business)
//!     .provider(provider)
//!     .cardholder_id(id.as_str())
//!     .send()
//!     .await
//!     .map_err(Error::from)?;
//! // ... the holder records the identity video reading `caption` ...
//! ravand
//!     .finalize_cardholder()
//!     .business(business)
//!     .provider(provider)
//!     .cardholder_id(id.as_str())
//!     .body(Map::new())
//!     .send()
//!     .await
//!     .map_err(Error::from)?;
//! let state = ravand
//!     .inquire_cardholder()
//!     .business(business)
//!     .provider(provider)
//!     .cardholder_id(id.as_str())
//!     .send()
//!     .await
//!     .map_err(Error::from)?;
//! // Later, with the physical card in hand: activation.
//! let answer = ravand
//!     .create_card_activation_token()
//!     .business(business)
//!     .provider(provider)
//!     .cardholder_id(id.as_str())
//!     .body(Map::new())
//!     .send()
//!     .await
//!     .map_err(Error::from)?;
//! let token = field(&answer, "token").ok_or("no token")?;
//! let redirect_to = ravand.card_activation_page_url(&token)?;
//! # let _ = (caption, state, redirect_to);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, missing_docs, unused_imports, dead_code)]
mod generated;
mod raw;
mod upload;

pub use generated::{
    __spec, BROWSER_PAGES, Client, DEFAULT_HOST, ROUTES, SPEC_FILE, request, types,
};
pub use upload::{
    DocumentUpload, HAND_WRITTEN_ROUTES, UPLOAD_CARDHOLDER_DOCUMENTS, UploadCardholderDocuments,
};
pub use vandar_runtime::{ApiError, Error};

use url::Url;

/// Name of the card activation page in the spec's `x-browser-pages`.
pub const CARD_ACTIVATION_PAGE: &str = "card_activation_page";
/// Name of the first-PIN change page in the spec's `x-browser-pages`.
pub const CARD_CHANGE_PIN_PAGE: &str = "card_change_pin_page";
/// Name of the card block page in the spec's `x-browser-pages`.
pub const CARD_BLOCK_PAGE: &str = "card_block_page";

impl Client {
    /// The page where the holder's browser activates the physical card
    /// (`https://api.vandar.io/v1/redirect/card/activate/{token}`, or the configured
    /// `api.vandar.io` base), for a token from
    /// [`create_card_activation_token`](Client::create_card_activation_token).
    ///
    /// The docs give no host for these pages; `api.vandar.io` is the only base URL they name.
    /// If Vandar tells you otherwise, override it with
    /// `Config::builder().host("https://api.vandar.io", ..)` (this moves the API calls too).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an empty token; [`Error::Config`] for a bad base URL.
    pub fn card_activation_page_url(&self, token: &str) -> Result<Url, Error> {
        self.binding()
            .page_url(CARD_ACTIVATION_PAGE, &[("token", token)])
    }

    /// The page where the holder's browser changes the card's first PIN
    /// (`/v1/redirect/card/change-pin/{token}`), for a token from
    /// [`create_change_pin_token`](Client::create_change_pin_token). Only after activation.
    /// Host as for [`card_activation_page_url`](Client::card_activation_page_url).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an empty token; [`Error::Config`] for a bad base URL.
    pub fn card_change_pin_page_url(&self, token: &str) -> Result<Url, Error> {
        self.binding()
            .page_url(CARD_CHANGE_PIN_PAGE, &[("token", token)])
    }

    /// The page where the holder's browser **blocks the card, irreversibly**: a blocked card
    /// cannot be activated again (`/v1/redirect/card/block/{token}`), for a token from
    /// [`create_card_block_token`](Client::create_card_block_token). Confirm with the holder
    /// before sending them there. Host as for
    /// [`card_activation_page_url`](Client::card_activation_page_url).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an empty token; [`Error::Config`] for a bad base URL.
    pub fn card_block_page_url(&self, token: &str) -> Result<Url, Error> {
        self.binding()
            .page_url(CARD_BLOCK_PAGE, &[("token", token)])
    }
}
