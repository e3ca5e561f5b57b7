//! Vandar business API client: business info and statement, IPG refunds, settlements (v3 store,
//! v2.1 list/show/cancel, bank list), batch and queued settlements, Avand, cash-in, customers
//! and customer inquiries, on `https://api.vandar.io` and `https://batch.vandar.io`, one
//! [`Client`]:
//! 82 operations (68 of the upstream lists, 14 documented by independent sources)
//! (the extras are listed in `docs/reference/extras.md`).
//!
//! The operations and types are generated from `spec/vandar-core.yaml`; every operation is a
//! builder method on [`Client`] (`client.get_balance().business("my-shop").send().await`).
//! This file adds what the spec cannot express:
//!
//! * **Pagination as streams.** [`Paginate`] turns any Laravel-paginated list request
//!   (customers, custom fields, customer transactions/IBANs/cards/logs, batches, batch items,
//!   the v2.1 settlement list) into a [`futures::Stream`] of pages or items; the statement's
//!   `has_more` + `start_after` cursor is walked by [`Client::transactions`]. Shortcuts:
//!   [`Client::customers`], [`Client::settlements`], ...
//! * **The settlement callback.** [`SettlementNotification::parse`] reads the form Vandar posts
//!   to a settlement's `notify_url`. No signature is documented, so treat it as a hint and
//!   confirm with [`Client::confirm_settlement`], which asks the API.
//! * **Batch settlements.** [`batch_request`] checks the Rial limits and computes the
//!   documented `batch_id` ([`batch_id`]).
//!
//! # Units
//!
//! Amounts are typed: [`Rial`](vandar_runtime::domain::Rial) for refunds, batch settlements,
//! cash-in, customer wallets and the v3 settlement answer's `amount`;
//! [`Toman`](vandar_runtime::domain::Toman) for the business wallet, the statement, the v2.1
//! settlement list and the v3 settlement **request** `amount`. The compiler keeps them apart.
//!
//! # Money-moving calls are never retried
//!
//! `store_settlement`, `store_batch_settlement`, `store_queued_settlement`,
//! `refund_transaction`, `deposit_cash_in` and the customer wallet deposit/withdraw are sent
//! once. If the answer is lost the error is
//! [`Error::OutcomeUnknown`]; look the operation up
//! before sending it again:
//!
//! | call | look-up |
//! |---|---|
//! | `store_settlement` | `list_transactions` with `.track_id(..)` (or [`Client::settlements`]); store again only with the same `track_id` |
//! | `store_batch_settlement` | `list_batch_settlements` with the same `batch_id` |
//! | `deposit_cash_in` | repeat with the same `track_id`: a deposit already registered is refused with 422 `errors.track_id` |
//! | `refund_transaction` | `list_transactions` with `.channel("refund")` |
//! | wallet deposit/withdraw | `list_customer_transactions` / `get_customer_wallet` |
//!
//! Most users reach this crate as `vandar::core`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, missing_docs, unused_imports, dead_code)]
mod generated;

mod batch;
mod notification;
mod pagination;
mod status;

pub use batch::{BATCH_ITEM_MAX_RIAL, BATCH_ITEM_MIN_RIAL, batch_id, batch_request};
pub use generated::{
    __spec, BROWSER_PAGES, Client, DEFAULT_HOST, ROUTES, SPEC_FILE, request, types,
};
pub use notification::{NotificationError, SettlementNotification};
pub use pagination::{CursorPage, Page};
pub use status::{BatchItemStatus, SettlementStatus};
pub use vandar_runtime::pagination::{ListRequest, Paginate, Position};
pub use vandar_runtime::{ApiError, Error};

use futures::Stream;

/// The README's example is compiled as a doctest so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

impl Client {
    /// Every customer of a business, page by page (`list_customers`).
    pub fn customers<'a>(
        &'a self,
        business: &'a str,
    ) -> impl Stream<Item = Result<types::CustomerSummary, Error>> + Send + 'a {
        self.list_customers().business(business).items()
    }

    /// Every custom customer field of a business (`list_customer_fields`).
    pub fn customer_fields<'a>(
        &'a self,
        business: &'a str,
    ) -> impl Stream<Item = Result<types::CustomField, Error>> + Send + 'a {
        self.list_customer_fields().business(business).items()
    }

    /// Every wallet transaction of a customer, newest first (`list_customer_transactions`).
    pub fn customer_transactions<'a>(
        &'a self,
        business: &'a str,
        customer: &'a str,
    ) -> impl Stream<Item = Result<types::CustomerTransaction, Error>> + Send + 'a {
        self.list_customer_transactions()
            .business(business)
            .customer(customer)
            .items()
    }

    /// Every IBAN of a customer (`list_customer_ibans`).
    pub fn customer_ibans<'a>(
        &'a self,
        business: &'a str,
        customer: &'a str,
    ) -> impl Stream<Item = Result<types::CustomerIban, Error>> + Send + 'a {
        self.list_customer_ibans()
            .business(business)
            .customer(customer)
            .items()
    }

    /// Every card of a customer (`list_customer_cards`).
    pub fn customer_cards<'a>(
        &'a self,
        business: &'a str,
        customer: &'a str,
    ) -> impl Stream<Item = Result<types::CustomerCard, Error>> + Send + 'a {
        self.list_customer_cards()
            .business(business)
            .customer(customer)
            .items()
    }

    /// Every log entry of a customer (`list_customer_logs`).
    pub fn customer_logs<'a>(
        &'a self,
        business: &'a str,
        customer: &'a str,
    ) -> impl Stream<Item = Result<types::CustomerLog, Error>> + Send + 'a {
        self.list_customer_logs()
            .business(business)
            .customer(customer)
            .items()
    }

    /// Every batch settlement of a business (`list_batches`).
    pub fn batches<'a>(
        &'a self,
        business: &'a str,
    ) -> impl Stream<Item = Result<types::BatchSummary, Error>> + Send + 'a {
        self.list_batches().business(business).items()
    }

    /// Every settlement of one batch (`list_batch_settlements`); filter by state with
    /// `list_batch_settlements().status(..)` and [`Paginate::items`] instead.
    pub fn batch_settlements<'a>(
        &'a self,
        business: &'a str,
        batch_id: &'a str,
    ) -> impl Stream<Item = Result<types::BatchItem, Error>> + Send + 'a {
        self.list_batch_settlements()
            .business(business)
            .batch_id(batch_id)
            .items()
    }

    /// Every settlement of a business (`list_settlements`, v2.1; amounts in **Toman**).
    pub fn settlements<'a>(
        &'a self,
        business: &'a str,
    ) -> impl Stream<Item = Result<types::ListedSettlement, Error>> + Send + 'a {
        self.list_settlements().business(business).items()
    }

    /// The statement (`list_transactions`) as a stream of items, following the `has_more` /
    /// `start_after` cursor. Pass the request with its filters set:
    ///
    /// ```no_run
    /// # async fn f(client: &vandar_core::Client) -> Result<(), vandar_core::Error> {
    /// # use futures::TryStreamExt;
    /// // use vandar::TryStreamExt; (the facade re-exports it: no `futures` dependency needed)
    /// let request = client
    ///     .list_transactions()
    ///     .business("my-shop")
    ///     .status_kind("settlements")
    ///     .per_page(100u64);
    /// let all: Vec<_> = client.transactions(request).try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn transactions<'a>(
        &'a self,
        request: request::ListTransactions<'a>,
    ) -> impl Stream<Item = Result<types::Transaction, Error>> + Send + 'a {
        request.items()
    }

    /// Confirm a [`SettlementNotification`] by asking the API (`get_settlement` with the
    /// notification's settlement `id`). The callback carries no documented signature, so
    /// anyone who knows the URL could post one: act on the answer of this call, not on the
    /// callback's own fields.
    pub async fn confirm_settlement(
        &self,
        business: &str,
        notification: &SettlementNotification,
    ) -> Result<types::ListedSettlement, Error> {
        let id = notification.id.as_deref().ok_or_else(|| {
            Error::InvalidRequest("the notification has no settlement `id` to look up".into())
        })?;
        let detail = self
            .get_settlement()
            .business(business)
            .settlement(id)
            .send()
            .await?;
        detail.data.settlement.ok_or_else(|| {
            Error::InvalidRequest(format!(
                "get_settlement answered without a settlement for `{id}`"
            ))
        })
    }

    /// Register a batch prepared with [`batch_request`] (`store_batch_settlement`). Sent
    /// once, never retried: keep `request.batch_id` and, after
    /// [`Error::OutcomeUnknown`], look the batch up with
    /// [`Client::batch_settlements`] before sending it again.
    pub async fn store_batch(
        &self,
        business: &str,
        request: &types::BatchSettlementRequest,
    ) -> Result<types::BatchSummary, Error> {
        self.store_batch_settlement()
            .business(business)
            .body(request.clone())
            .send()
            .await
    }
}
