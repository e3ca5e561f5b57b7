//! Vandar direct debit ("subscription", پرداخت خودکار) client: mandates, withdrawals, refunds.
//!
//! The operations and types are generated from `spec/vandar-subscription.yaml`; this file adds
//! the parts of the mandate flow that are not API calls:
//!
//! * [`Client::authorization_page_url`]: the bank page the customer's browser opens with the
//!   token from `store_authorization`;
//! * [`Callback`]: the query string the bank sends back to your `callback_url`, with the
//!   documented failure codes as [`MandateErrorCode`];
//! * [`MandateStatus`] and [`WithdrawalStatus`]: the status strings of mandates and withdrawals,
//!   keeping values the docs do not list yet;
//! * [`types::GregorianDate`] constructors: the API wants Gregorian `Y-m-d` dates on input
//!   (and answers with Jalali ones).
//! * `next_page()` on [`types::AuthorizationPage`] and [`types::WithdrawalPage`]: which page
//!   to ask for next (20 items a page).
//!
//! # The mandate flow
//!
//! 1. [`list_active_banks`](Client::list_active_banks): pick a bank whose
//!    `is_healthy_on_direct_debit` is true; its `code` is the `bank_code`.
//! 2. [`store_authorization`](Client::store_authorization) with the customer's mobile, the
//!    limits (`limit` and `daily_limit` in **Rial**, `count` per month) and a Gregorian
//!    `expiration_date`. It returns a token that is **single-use and expires after 20
//!    minutes**.
//! 3. Redirect the customer's browser to [`Client::authorization_page_url`].
//! 4. The bank sends the customer back to your `callback_url`: read it with
//!    [`Callback::parse`]. On `SUCCEED` it carries the mandate's `authorization_id`.
//! 5. [`verify_authorization`](Client::verify_authorization), **once, within 20 minutes**:
//!    a mandate left unverified is cancelled at Vandar and at the bank.
//! 6. [`store_withdrawal`](Client::store_withdrawal) (amount in Rial) whenever you charge the
//!    customer; [`get_authorization_calculation`](Client::get_authorization_calculation) shows
//!    what the mandate still allows.
//! 7. [`revoke_authorization`](Client::revoke_authorization) when the subscription ends.
//!
//! # Withdrawals move money: use `track_id`
//!
//! `store_withdrawal` is never retried by the SDK, and it requires a `track_id`: a
//! [`TrackId`](vandar_runtime::domain::TrackId) (`TrackId::new()` for a fresh UUID, or
//! `TrackId::parse` for your own), kept with the order before sending.
//! If the call fails with [`Error::OutcomeUnknown`] (the request went out, the response was
//! lost), ask [`get_withdrawal_by_track_id`](Client::get_withdrawal_by_track_id) whether the
//! withdrawal exists before storing it again. Vandar rejects a repeated `track_id` (HTTP 422),
//! so storing again with the *same* `track_id` can never withdraw twice.
//!
//! ```no_run
//! use vandar_subscription::types::{AuthorizationRequest, GregorianDate, WithdrawalRequest};
//! use vandar_subscription::{Callback, Client, Error};
//! use vandar_runtime::domain::{Mobile, Rial, RialString, TrackId};
//! use vandar_runtime::{Config, Runtime};
//!
//! # async fn flow() -> Result<(), Box<dyn std::error::Error>> {
//! // (with the facade: `Vandar::new(config)?.subscription()`)
//! let runtime = Runtime::new(Config::builder().access_token("ACCESS_TOKEN").build()?)?;
//! let dd = Client::with_runtime(&runtime);
//! let business = "my-business";
//!
//! // 2. the mandate request: at most 4 withdrawals a month, each at most 500,000 Rial
//! let created = dd
//!     .store_authorization()
//!     .business(business)
//!     .body(
//!         AuthorizationRequest::builder()
//!             .bank_code("062")
//!             .mobile(Mobile::parse("09123456789")?)
//!             .callback_url("https://shop.example/direct-debit/callback")
//!             .count(4)
//!             .limit(Rial::new(500_000))
//!             .expiration_date(GregorianDate::parse("2027-03-20")?),
//!     )
//!     .send()
//!     .await?;
//! let token = created.result.authorization.token;
//!
//! // 3. send the customer to the bank (the token works once, for 20 minutes)
//! println!("302 Location: {}", dd.authorization_page_url(&token)?);
//!
//! // 4. the customer comes back to the callback URL
//! let callback = Callback::parse(
//!     "token=0cf235d0-d48b-11ea-86cd-298ec898a9bd\
//!      &authorization_id=9f307e30-dc77-11ea-830e-7533ca1787c5&status=SUCCEED",
//! )?;
//! let Some(authorization_id) = callback.approved_authorization_id() else {
//!     if let Some(code) = &callback.error_code {
//!         println!("not approved: {code} ({})", code.description());
//!     }
//!     return Ok(());
//! };
//!
//! // 5. verify once, within 20 minutes
//! dd.verify_authorization()
//!     .business(business)
//!     .authorization_id(authorization_id)
//!     .send()
//!     .await?;
//!
//! // 6. charge 100,000 Rial; store the track id with the order first
//! let track_id = TrackId::new();
//! let sent = dd
//!     .store_withdrawal()
//!     .business(business)
//!     .body(
//!         WithdrawalRequest::builder()
//!             .authorization_id(authorization_id)
//!             .amount(RialString::new(100_000))
//!             .track_id(&track_id),
//!     )
//!     .send()
//!     .await
//!     .map_err(Error::from);
//! match sent {
//!     Ok(answer) => println!("{:?}", answer.result),
//!     Err(e) if e.is_outcome_unknown() => {
//!         // the request went out but the answer was lost: look it up, never store blindly
//!         let found = dd
//!             .get_withdrawal_by_track_id()
//!             .business(business)
//!             .track_id(track_id.as_str())
//!             .send()
//!             .await?;
//!         println!("{:?}", found.result.and_then(|r| r.withdrawal));
//!     }
//!     Err(e) => return Err(e.into()),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Every call authenticates with the business access token (`Config::builder().access_token`
//! or a token pair). Most users reach this crate as `vandar::subscription`
//! (`Vandar::subscription()`, feature `subscription`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, missing_docs, unused_imports, dead_code)]
mod generated;

pub use generated::{
    __spec, BROWSER_PAGES, Client, DEFAULT_HOST, ROUTES, SPEC_FILE, request, types,
};
pub use vandar_runtime::{ApiError, Error, ListRequest, Paginate, Position};

use std::fmt;
use std::num::NonZeroU64;

use url::Url;
use vandar_runtime::domain::{ApiDate, ApiId, DateError, DateFormat, JalaliDate};

/// Name of the bank page in the spec's `x-browser-pages`.
pub const AUTHORIZATION_PAGE: &str = "authorization_page";

impl Client {
    /// The bank page for a token from `store_authorization`
    /// (`https://subscription.vandar.io/authorizations/{token}`, or the configured host).
    /// Redirect the customer's browser there. The token is single-use and expires 20 minutes
    /// after `store_authorization` issued it.
    pub fn authorization_page_url(&self, token: &str) -> Result<Url, Error> {
        self.binding()
            .page_url(AUTHORIZATION_PAGE, &[("token", token)])
    }
}

impl types::GregorianDate {
    /// A date in any spelling the API uses (`2025-01-31`, `1403/11/12`, `14031112`, ...),
    /// rendered as the Gregorian `Y-m-d` the API requires on input. Jalali input is converted,
    /// so `"1403/11/12"` becomes `2025-01-31`.
    pub fn parse(text: &str) -> Result<Self, DateError> {
        let day = ApiDate::parse(text)?;
        Ok(Self(ApiDate::from_gregorian(
            day.gregorian(),
            DateFormat::Gregorian,
        )?))
    }

    /// A Jalali date, sent as its Gregorian `Y-m-d` equivalent.
    pub fn from_jalali(date: JalaliDate) -> Self {
        Self(ApiDate::from_jalali(date, DateFormat::Gregorian))
    }
}

vandar_runtime::open_enum! {
    /// Status of a mandate (`status` of [`types::Authorization`] and
    /// [`types::AuthorizationUsage`]). Values the docs do not list are kept in
    /// [`MandateStatus::Unknown`].
    pub enum MandateStatus {
        /// `ACTIVE`: verified; withdrawals are possible within its limits.
        Active = "ACTIVE",
        /// `PENDING_VERIFY`: approved at the bank, waiting for `verify_authorization`
        /// (cancelled after 20 minutes).
        PendingVerify = "PENDING_VERIFY",
        /// `REVOKED`: cancelled; no more withdrawals.
        Revoked = "REVOKED",
    }
}

impl MandateStatus {
    /// Whether withdrawals are possible (`ACTIVE`).
    pub fn is_active(&self) -> bool {
        *self == Self::Active
    }
}

vandar_runtime::open_enum! {
    /// Status of a withdrawal (`status` of [`types::Withdrawal`]). Values the docs do not list
    /// are kept in [`WithdrawalStatus::Unknown`].
    pub enum WithdrawalStatus {
        /// `PENDING`: waiting, or being retried (scheduled withdrawals, up to
        /// `max_retry_count`).
        Pending = "PENDING",
        /// `INIT`: sent to the bank.
        Init = "INIT",
        /// `DONE`: the money was withdrawn.
        Done = "DONE",
        /// `FAILED`: not withdrawn (see `error_code` / `error_message`).
        Failed = "FAILED",
        /// `CANCELED`: cancelled with `cancel_withdrawal` before it ran.
        Canceled = "CANCELED",
        /// `REFUND`: withdrawn, then refunded to the customer.
        Refund = "REFUND",
    }
}

impl WithdrawalStatus {
    /// Whether the withdrawal will not change any more on its own (`DONE`, `FAILED`,
    /// `CANCELED`, `REFUND`). `PENDING`, `INIT` and unknown values are not final.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Done | Self::Failed | Self::Canceled | Self::Refund
        )
    }
}

impl types::Authorization {
    /// The mandate's status, if the answer had one.
    pub fn mandate_status(&self) -> Option<MandateStatus> {
        self.status.as_deref().map(MandateStatus::parse)
    }
}

impl types::AuthorizationUsage {
    /// The mandate's status, if the answer had one.
    pub fn mandate_status(&self) -> Option<MandateStatus> {
        self.status.as_deref().map(MandateStatus::parse)
    }
}

impl types::Withdrawal {
    /// The withdrawal's status, if the answer had one.
    pub fn withdrawal_status(&self) -> Option<WithdrawalStatus> {
        self.status.as_deref().map(WithdrawalStatus::parse)
    }
}

impl types::AuthorizationRevoked {
    /// The id of the revoked mandate, under `result.authorization` (current docs) or
    /// `result.authorizations` (older docs).
    pub fn revoked_id(&self) -> Option<&ApiId> {
        let result = self.result.as_ref()?;
        result
            .authorization
            .as_ref()
            .or(result.authorizations.as_ref())
            .and_then(|a| a.id.as_ref())
    }
}

/// The position after a Laravel page that was asked for as `asked`, from its `meta`
/// (`current_page` < `last_page`) or, when `last_page` is missing, its `next` link (the rules
/// of [`vandar_runtime::pagination::next_page_number`]). `None` on the last page, on an empty
/// page, or when the answer does not say which page it is. The links themselves are not
/// followed: the same operation is asked again with `.page(next)`.
fn next_after(
    meta: Option<&types::PageMeta>,
    links: Option<&types::PageLinks>,
    items: usize,
    asked: Option<&vandar_runtime::Position>,
) -> Option<vandar_runtime::Position> {
    let meta = meta?;
    let current = i64::from(meta.current_page?);
    vandar_runtime::pagination::next_page_number(
        asked,
        items,
        Some(current),
        meta.last_page.map(i64::from),
        links.is_some_and(|l| l.next.is_some()),
    )
}

/// The page number after a Laravel page, as the page itself says (see [`next_after`]).
fn next_page(
    meta: Option<&types::PageMeta>,
    links: Option<&types::PageLinks>,
    items: usize,
) -> Option<NonZeroU64> {
    let current = u64::try_from(i64::from(meta?.current_page?)).ok()?;
    let here = vandar_runtime::Position::Page(NonZeroU64::new(current)?);
    match next_after(meta, links, items, Some(&here))? {
        vandar_runtime::Position::Page(n) => Some(n),
        vandar_runtime::Position::After(_) => None,
    }
}

impl types::AuthorizationPage {
    /// The page number to ask `list_authorizations` for next; `None` after the last page.
    /// To walk every page, stream the request instead:
    ///
    /// ```no_run
    /// # async fn all(dd: &vandar_subscription::Client) -> Result<(), vandar_subscription::Error> {
    /// # use futures::TryStreamExt;
    /// // use vandar::{TryStreamExt, subscription::Paginate}; with the facade
    /// use vandar_subscription::Paginate;
    /// let mut mandates = dd.list_authorizations().business("my-business").status("ACTIVE").items();
    /// while let Some(mandate) = mandates.try_next().await? {
    ///     println!("{:?} {:?}", mandate.id, mandate.mandate_status());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn next_page(&self) -> Option<NonZeroU64> {
        next_page(self.meta.as_ref(), self.links.as_ref(), self.data.len())
    }
}

impl types::WithdrawalPage {
    /// The page number to ask `list_withdrawals` for next; `None` after the last page. Used
    /// like [`types::AuthorizationPage::next_page`].
    pub fn next_page(&self) -> Option<NonZeroU64> {
        next_page(self.meta.as_ref(), self.links.as_ref(), self.data.len())
    }
}

/// The mandate list walks by page number: `list_authorizations().business(..).items()` (see
/// [`Paginate`]).
impl vandar_runtime::ListRequest for request::ListAuthorizations<'_> {
    type Page = types::AuthorizationPage;
    type Item = types::Authorization;

    fn start() -> Option<vandar_runtime::Position> {
        Some(vandar_runtime::Position::Page(NonZeroU64::MIN))
    }

    fn at(self, at: &vandar_runtime::Position) -> Self {
        match at {
            vandar_runtime::Position::Page(n) => self.page(*n),
            vandar_runtime::Position::After(_) => self,
        }
    }

    async fn send_page(self) -> Result<types::AuthorizationPage, Error> {
        self.send().await
    }

    fn into_items(page: types::AuthorizationPage) -> Vec<types::Authorization> {
        page.data
    }

    fn next(
        page: &types::AuthorizationPage,
        asked: Option<&vandar_runtime::Position>,
    ) -> Option<vandar_runtime::Position> {
        next_after(
            page.meta.as_ref(),
            page.links.as_ref(),
            page.data.len(),
            asked,
        )
    }
}

/// The withdrawal list walks by page number: `list_withdrawals().business(..).items()`.
impl vandar_runtime::ListRequest for request::ListWithdrawals<'_> {
    type Page = types::WithdrawalPage;
    type Item = types::Withdrawal;

    fn start() -> Option<vandar_runtime::Position> {
        Some(vandar_runtime::Position::Page(NonZeroU64::MIN))
    }

    fn at(self, at: &vandar_runtime::Position) -> Self {
        match at {
            vandar_runtime::Position::Page(n) => self.page(*n),
            vandar_runtime::Position::After(_) => self,
        }
    }

    async fn send_page(self) -> Result<types::WithdrawalPage, Error> {
        self.send().await
    }

    fn into_items(page: types::WithdrawalPage) -> Vec<types::Withdrawal> {
        page.data
    }

    fn next(
        page: &types::WithdrawalPage,
        asked: Option<&vandar_runtime::Position>,
    ) -> Option<vandar_runtime::Position> {
        next_after(
            page.meta.as_ref(),
            page.links.as_ref(),
            page.data.len(),
            asked,
        )
    }
}

impl types::PayerAccountField {
    /// The account as an object (`{account_number, pan}`), as the docs' example shows it.
    pub fn details(&self) -> Option<&types::PayerAccount> {
        match self {
            Self::Variant0(account) => Some(account),
            Self::Variant1(_) => None,
        }
    }

    /// The account as a plain string, as the docs' field table describes it.
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Variant0(_) => None,
            Self::Variant1(text) => text.as_deref(),
        }
    }
}

impl types::RemainingExpirationField {
    /// The time left as years, months and days, as the docs' example shows it.
    pub fn details(&self) -> Option<&types::RemainingExpiration> {
        match self {
            Self::Variant0(left) => Some(left),
            Self::Variant1(_) => None,
        }
    }

    /// The time left as a plain string, as the docs' field table describes it.
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Variant0(_) => None,
            Self::Variant1(text) => text.as_deref(),
        }
    }
}

/// A documented failure code of the mandate request (`error_code` on the callback), from the
/// error table of the current docs. Codes the table does not list (the docs' own callback
/// example uses `21`) are kept in [`MandateErrorCode::Unknown`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MandateErrorCode {
    /// `00`: internal error at Vandar (Vandar has been notified).
    InternalError,
    /// `02`: the customer cancelled the mandate approval.
    UserCanceledApproval,
    /// `03`: server error at the provider.
    ProviderServerError,
    /// `04`: the customer cancelled the authentication.
    UserCanceledAuthentication,
    /// `05`: provider error.
    ProviderError,
    /// `06`: the national code registered for the mobile differs from the one that logged in
    /// at the bank.
    NationalCodeMismatch,
    /// `07`: saving the customer's details failed.
    CustomerSaveFailed,
    /// `08`: no active account found for the customer.
    NoActiveAccount,
    /// `09`: reading the customer's account details failed.
    AccountInfoFailed,
    /// `10`: the customer already has an active mandate at this bank.
    ActiveMandateExists,
    /// `11`: the date is invalid for this mandate.
    InvalidDate,
    /// `12`: the customer is not a Hamrah-Card member.
    NotHamrahCardMember,
    /// `13`: the customer has never logged in to Hamrah-Card.
    HamrahCardNeverLoggedIn,
    /// `14`: the customer is not a Blu Bank member.
    NotBluBankMember,
    /// `15`: a similar request for this customer is still pending.
    SimilarRequestPending,
    /// `17`: the customer is not allowed to perform this operation.
    OperationNotAllowed,
    /// `18`: the deposit is not the customer's, or withdrawals from it are not allowed.
    DepositNotOwned,
    /// `19`: the deposit number does not exist.
    DepositNotFound,
    /// `22`: the bank is not on Vandar's list of available banks.
    BankNotAvailable,
    /// `23`: the application of this request was not found at Vandar.
    ApplicationNotFound,
    /// `24`: the application of this request is not active at Vandar.
    ApplicationInactive,
    /// `29`: the authorization page expired.
    PageExpired,
    /// A code the table does not list, as received.
    Unknown(String),
}

impl MandateErrorCode {
    /// Every code of the docs' table, in table order.
    pub const DOCUMENTED: [MandateErrorCode; 22] = [
        Self::InternalError,
        Self::UserCanceledApproval,
        Self::ProviderServerError,
        Self::UserCanceledAuthentication,
        Self::ProviderError,
        Self::NationalCodeMismatch,
        Self::CustomerSaveFailed,
        Self::NoActiveAccount,
        Self::AccountInfoFailed,
        Self::ActiveMandateExists,
        Self::InvalidDate,
        Self::NotHamrahCardMember,
        Self::HamrahCardNeverLoggedIn,
        Self::NotBluBankMember,
        Self::SimilarRequestPending,
        Self::OperationNotAllowed,
        Self::DepositNotOwned,
        Self::DepositNotFound,
        Self::BankNotAvailable,
        Self::ApplicationNotFound,
        Self::ApplicationInactive,
        Self::PageExpired,
    ];

    /// `(code, English description, the docs' Persian message)`; `None` for unknown codes.
    fn table(&self) -> Option<(&'static str, &'static str, &'static str)> {
        Some(match self {
            Self::InternalError => (
                "00",
                "internal error at Vandar (Vandar has been notified)",
                "خطای داخلی، به ما اطلاع داده‌شده‌است و در حال رفع آن هستیم",
            ),
            Self::UserCanceledApproval => (
                "02",
                "the customer cancelled the mandate approval",
                "انصراف کاربر از تایید مجوز",
            ),
            Self::ProviderServerError => (
                "03",
                "server error at the provider",
                "خطای سرور سرویس دهنده",
            ),
            Self::UserCanceledAuthentication => (
                "04",
                "the customer cancelled the authentication",
                "انصراف کاربر از احراز هویت",
            ),
            Self::ProviderError => ("05", "provider error", "خطای سرویس دهنده"),
            Self::NationalCodeMismatch => (
                "06",
                "the national code registered for the mobile differs from the one that logged in at the bank",
                "کد ملی که برای صاحب شماره موبایل ثبت شده است، با کد ملی لاگین کننده در بانک مغایرت دارد",
            ),
            Self::CustomerSaveFailed => (
                "07",
                "saving the customer's details failed",
                "ذخیره مشخصات مشتری با خطا مواجه شده است",
            ),
            Self::NoActiveAccount => (
                "08",
                "no active account found for the customer",
                "شماره حساب فعالی برای این کاربر یافت نشد",
            ),
            Self::AccountInfoFailed => (
                "09",
                "reading the customer's account details failed",
                "دریافت اطلاعات حساب مشتری با خطا مواجه شده است",
            ),
            Self::ActiveMandateExists => (
                "10",
                "the customer already has an active mandate at this bank",
                "مشتری مجوز فعالی در این بانک دارد",
            ),
            Self::InvalidDate => (
                "11",
                "the date is invalid for this mandate",
                "تاریخ ورودی برای این مجوز نامعتبر است",
            ),
            Self::NotHamrahCardMember => (
                "12",
                "the customer is not a Hamrah-Card member",
                "کاربر عضو همراه کارت نیست",
            ),
            Self::HamrahCardNeverLoggedIn => (
                "13",
                "the customer has never logged in to Hamrah-Card",
                "کاربر تاکنون در همراه کارت لاگین نکرده است",
            ),
            Self::NotBluBankMember => (
                "14",
                "the customer is not a Blu Bank member",
                "کاربر عضو بلوبانک نیست",
            ),
            Self::SimilarRequestPending => (
                "15",
                "a similar request for this customer is still pending",
                "درخواست مشابهی برای این کاربر در انتظار تعیین وضعیت است",
            ),
            Self::OperationNotAllowed => (
                "17",
                "the customer is not allowed to perform this operation",
                "کاربر مجاز به انجام عملیات نیست",
            ),
            Self::DepositNotOwned => (
                "18",
                "the deposit is not the customer's, or withdrawals from it are not allowed",
                "سپرده متعلق به کاربر نیست یا عدم وجود حق برداشت",
            ),
            Self::DepositNotFound => (
                "19",
                "the deposit number does not exist",
                "شماره سپرده مورد نظر وجود ندارد",
            ),
            Self::BankNotAvailable => (
                "22",
                "the bank is not on Vandar's list of available banks",
                "بانک درخواست شده در لیست بانک های دردسترس وندار نیست",
            ),
            Self::ApplicationNotFound => (
                "23",
                "the application of this request was not found at Vandar",
                "اپلیکیشن مربوط به درخواست شما در وندار موجود نیست",
            ),
            Self::ApplicationInactive => (
                "24",
                "the application of this request is not active at Vandar",
                "اپلیکیشن مربوط به درخواست شما در وندار فعال نیست",
            ),
            Self::PageExpired => (
                "29",
                "the authorization page expired",
                "صفحه مجوز منقضی شده است",
            ),
            Self::Unknown(_) => return None,
        })
    }

    /// Read a code as the callback sends it (`21`, `02`; a single digit is read as `0N`,
    /// surrounding spaces are ignored). Codes the table does not list become
    /// [`MandateErrorCode::Unknown`] with the text as received.
    pub fn parse(code: &str) -> Self {
        let trimmed = code.trim();
        let padded = if trimmed.len() == 1 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            format!("0{trimmed}")
        } else {
            trimmed.to_string()
        };
        Self::DOCUMENTED
            .iter()
            .find(|c| c.table().is_some_and(|(k, ..)| k == padded))
            .cloned()
            .unwrap_or_else(|| Self::Unknown(code.to_string()))
    }

    /// The two-digit code (`"02"`), or the text of an unknown code as received.
    pub fn code(&self) -> &str {
        match self {
            Self::Unknown(s) => s,
            known => known.table().map_or("", |(c, ..)| c),
        }
    }

    /// What the code means, in English (from the docs' table). Unknown codes:
    /// `"undocumented error code"`.
    pub fn description(&self) -> &'static str {
        self.table()
            .map_or("undocumented error code", |(_, en, _)| en)
    }

    /// The docs' own (Persian) message for the code, suitable to show to the customer; `None`
    /// for an unknown code.
    pub fn message_fa(&self) -> Option<&'static str> {
        self.table().map(|(.., fa)| fa)
    }

    /// Whether the code is in the docs' table.
    pub fn is_documented(&self) -> bool {
        !matches!(self, Self::Unknown(_))
    }
}

impl fmt::Display for MandateErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What the bank sends back to `callback_url` after the customer left the bank page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Callback {
    /// The token of the mandate request (the one `store_authorization` returned).
    pub token: String,
    /// The mandate id to verify; present when `status` is `SUCCEED`.
    pub authorization_id: Option<String>,
    /// What happened at the bank.
    pub status: CallbackStatus,
    /// Why the mandate was not created, when `status` is `FAILED`.
    pub error_code: Option<MandateErrorCode>,
}

/// `status` of a [`Callback`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallbackStatus {
    /// `SUCCEED`: the customer approved the mandate; now call `verify_authorization` (within
    /// 20 minutes).
    Succeed,
    /// `FAILED`: not approved; see `error_code`.
    Failed,
    /// `FAILED_TO_ACCESS_BANK`: the bank could not be reached; the customer never saw it.
    FailedToAccessBank,
    /// Any other value: treat as not approved.
    Other(String),
}

/// A callback query that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CallbackError {
    /// `token` is missing or empty.
    #[error("callback has no `token`")]
    MissingToken,
    /// `status` is missing or empty.
    #[error("callback has no `status`")]
    MissingStatus,
    /// `status` is `SUCCEED` but `authorization_id` is missing or empty: there is nothing to
    /// verify.
    #[error("callback says SUCCEED but has no `authorization_id`")]
    MissingAuthorizationId,
    /// The text looked like a URL but did not parse.
    #[error("callback URL does not parse: {0}")]
    InvalidUrl(String),
}

impl Callback {
    /// Read a callback from its query string (`token=..&authorization_id=..&status=SUCCEED`,
    /// with or without a leading `?`) or from the whole callback URL. Other parameters (your
    /// own, on `callback_url`) are ignored.
    pub fn parse(query_or_url: &str) -> Result<Self, CallbackError> {
        let q = vandar_runtime::callback::QueryParams::parse(query_or_url)
            .map_err(|e| CallbackError::InvalidUrl(e.0))?;
        let value = |name: &str| q.non_empty(name).map(str::to_string);
        let (token, id, code) = (
            value("token"),
            value("authorization_id"),
            value("error_code"),
        );
        let token = token.ok_or(CallbackError::MissingToken)?;
        let status = match q.non_empty("status").ok_or(CallbackError::MissingStatus)? {
            "SUCCEED" => CallbackStatus::Succeed,
            "FAILED" => CallbackStatus::Failed,
            "FAILED_TO_ACCESS_BANK" => CallbackStatus::FailedToAccessBank,
            other => CallbackStatus::Other(other.to_string()),
        };
        if status == CallbackStatus::Succeed && id.is_none() {
            return Err(CallbackError::MissingAuthorizationId);
        }
        Ok(Callback {
            token,
            authorization_id: id,
            status,
            error_code: code.as_deref().map(MandateErrorCode::parse),
        })
    }

    /// Whether the customer approved the mandate (`status=SUCCEED`). It still has to be
    /// verified with `verify_authorization` within 20 minutes.
    pub fn is_approved(&self) -> bool {
        self.status == CallbackStatus::Succeed
    }

    /// The mandate id to pass to `verify_authorization`, when the customer approved it.
    pub fn approved_authorization_id(&self) -> Option<&str> {
        if self.is_approved() {
            self.authorization_id.as_deref()
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_callback() {
        let c = Callback::parse(
            "https://yourdomain.com/callback?token=8cfd3e60-dc77-11ea-a593-15deb083f3e2&authorization_id=9f307e30-dc77-11ea-830e-7533ca1787c5&status=SUCCEED",
        )
        .unwrap();
        assert_eq!(c.token, "8cfd3e60-dc77-11ea-a593-15deb083f3e2");
        assert!(c.is_approved());
        assert_eq!(
            c.approved_authorization_id(),
            Some("9f307e30-dc77-11ea-830e-7533ca1787c5")
        );
        assert_eq!(c.error_code, None);
    }

    #[test]
    fn failure_callbacks() {
        // the docs' own example: code 21 is not in the table
        let c = Callback::parse("?token=T&status=FAILED&error_code=21").unwrap();
        assert_eq!(c.status, CallbackStatus::Failed);
        assert!(!c.is_approved());
        assert_eq!(c.approved_authorization_id(), None);
        let code = c.error_code.unwrap();
        assert_eq!(code, MandateErrorCode::Unknown("21".into()));
        assert_eq!(code.code(), "21");
        assert!(!code.is_documented());
        assert_eq!(code.description(), "undocumented error code");
        assert_eq!(code.message_fa(), None);

        let c = Callback::parse("token=T&status=FAILED&error_code=02").unwrap();
        assert_eq!(c.error_code, Some(MandateErrorCode::UserCanceledApproval));

        let c = Callback::parse("token=T&status=FAILED_TO_ACCESS_BANK").unwrap();
        assert_eq!(c.status, CallbackStatus::FailedToAccessBank);
        assert_eq!(c.error_code, None);

        let c = Callback::parse("token=T&status=succeed&authorization_id=A").unwrap();
        assert_eq!(c.status, CallbackStatus::Other("succeed".into()));
        assert!(!c.is_approved(), "only upper-case SUCCEED is approval");
    }

    #[test]
    fn callback_errors() {
        assert_eq!(
            Callback::parse("status=SUCCEED&authorization_id=A"),
            Err(CallbackError::MissingToken)
        );
        assert_eq!(
            Callback::parse("token=T&authorization_id=A"),
            Err(CallbackError::MissingStatus)
        );
        assert_eq!(
            Callback::parse("token=T&status=SUCCEED&authorization_id="),
            Err(CallbackError::MissingAuthorizationId)
        );
        assert!(matches!(
            Callback::parse("http://[::1"),
            Err(CallbackError::InvalidUrl(_))
        ));
    }

    #[test]
    fn every_documented_code_round_trips() {
        let table = [
            "00", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14",
            "15", "17", "18", "19", "22", "23", "24", "29",
        ];
        for (code, expected) in table.iter().zip(MandateErrorCode::DOCUMENTED) {
            let parsed = MandateErrorCode::parse(code);
            assert_eq!(parsed, expected);
            assert!(parsed.is_documented());
            assert_eq!(parsed.code(), *code);
            assert_eq!(parsed.to_string(), *code);
            assert!(parsed.description().is_ascii(), "{code}");
            assert_ne!(parsed.description(), "undocumented error code");
            assert!(parsed.message_fa().is_some_and(|m| !m.is_ascii()), "{code}");
        }
        assert_eq!(
            MandateErrorCode::parse("0"),
            MandateErrorCode::InternalError
        );
        assert_eq!(
            MandateErrorCode::parse(" 29 "),
            MandateErrorCode::PageExpired
        );
        assert_eq!(
            MandateErrorCode::parse("16"),
            MandateErrorCode::Unknown("16".into())
        );
    }

    #[test]
    fn statuses_keep_unknown_values() {
        for s in ["ACTIVE", "PENDING_VERIFY", "REVOKED", "SUSPENDED"] {
            assert_eq!(MandateStatus::parse(s).as_str(), s);
        }
        assert!(MandateStatus::parse("ACTIVE").is_active());
        assert_eq!(
            MandateStatus::parse("SUSPENDED"),
            MandateStatus::Unknown("SUSPENDED".into())
        );
        for s in [
            "PENDING", "INIT", "DONE", "FAILED", "CANCELED", "REFUND", "HELD",
        ] {
            assert_eq!(WithdrawalStatus::parse(s).to_string(), s);
        }
        assert!(WithdrawalStatus::Done.is_final());
        assert!(!WithdrawalStatus::Pending.is_final());
        assert!(!WithdrawalStatus::parse("HELD").is_final());
    }

    #[test]
    fn next_page_from_meta_or_links() {
        let page =
            |v: serde_json::Value| -> types::WithdrawalPage { serde_json::from_value(v).unwrap() };
        let item = serde_json::json!({"id": "w"});
        let p = page(serde_json::json!({
            "data": [item], "meta": {"current_page": 1, "last_page": 3}
        }));
        assert_eq!(p.next_page().map(NonZeroU64::get), Some(2));
        let p = page(serde_json::json!({
            "data": [item], "meta": {"current_page": "3", "last_page": "3"},
            "links": {"next": "https://api.vandar.io/x?page=4"}
        }));
        assert_eq!(p.next_page(), None, "last_page wins over a next link");
        let p = page(serde_json::json!({
            "data": [item], "meta": {"current_page": 2}, "links": {"next": "/x?page=3"}
        }));
        assert_eq!(p.next_page().map(NonZeroU64::get), Some(3));
        let p = page(serde_json::json!({
            "data": [item], "meta": {"current_page": 2}, "links": {"next": null}
        }));
        assert_eq!(p.next_page(), None);
        let p = page(serde_json::json!({"data": [], "meta": {"current_page": 1, "last_page": 9}}));
        assert_eq!(p.next_page(), None, "an empty page ends the walk");
        let p = page(serde_json::json!({"data": [item]}));
        assert_eq!(p.next_page(), None, "no meta: unknown position");
    }

    #[test]
    fn gregorian_dates_for_input() {
        let d = types::GregorianDate::parse("2025-01-31").unwrap();
        assert_eq!(serde_json::to_value(&d).unwrap(), "2025-01-31");
        // a Jalali spelling is converted, not sent as written
        let d = types::GregorianDate::parse("1403/11/12").unwrap();
        assert_eq!(serde_json::to_value(&d).unwrap(), "2025-01-31");
        let d = types::GregorianDate::from_jalali(JalaliDate::new(1403, 11, 12).unwrap());
        assert_eq!(d.to_string(), "2025-01-31");
        assert!(types::GregorianDate::parse("2025-02-30").is_err());
    }
}
