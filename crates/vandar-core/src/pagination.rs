//! Pagination as async streams.
//!
//! Two styles are documented:
//!
//! * **Laravel pages**: the request takes `page` (1, 2, ...); the answer carries `data` plus
//!   either `links`/`meta` (`current_page`, `last_page`, `next`) or the same counters flat
//!   (the v2.1 settlement list nests them under `data.settlements`). [`Paginate`] walks them.
//! * **Cursor**: the statement (`list_transactions`) answers `has_more` and takes
//!   `start_after` = the `id` of the last item. [`cursor_items`] walks it.
//!
//! The page links in the answers point to hosts that are not documented as callable
//! (`customer.vandar.io`, `api.settlement.vandar.io`, `api.vandar.local`), so the streams never
//! follow them: they ask the same operation again with the next `page`.
//!
//! A stream stops after the last page (`current_page >= last_page`, or no `next` link when the
//! counters are missing), at the first empty page, when the server answers a different page
//! than the one asked for (it ignored `page`; continuing would repeat items forever), or at the
//! first error, which it yields.

use std::future::Future;
use std::num::NonZeroU64;

use futures::{Stream, TryStreamExt, stream};

use crate::{Error, builder, types};

/// One page of a Laravel-paginated answer.
pub trait Page {
    /// The listed item.
    type Item;

    /// The items of this page, consuming it.
    fn into_items(self) -> Vec<Self::Item>;

    /// Number of items on this page.
    fn len(&self) -> usize;

    /// Whether the page has no items.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `(current_page, last_page, has_next_link)` as far as the answer says.
    fn position(&self) -> (Option<i64>, Option<i64>, bool);

    /// The page to ask for after this one (which was asked for as `requested`), or `None` when
    /// this is the last page.
    fn next_page(&self, requested: u64) -> Option<u64> {
        if self.is_empty() {
            return None;
        }
        let (current, last, has_next_link) = self.position();
        if let Some(current) = current
            && u64::try_from(current).ok() != Some(requested)
        {
            // The server did not serve the page asked for; stop rather than loop.
            return None;
        }
        let more = match last {
            Some(last) => i64::try_from(requested).is_ok_and(|r| r < last),
            None => has_next_link,
        };
        more.then(|| requested + 1)
    }
}

/// A list request that takes a `page` number: the generated builder of a Laravel-paginated
/// operation.
pub trait PagedRequest: Clone + Send {
    /// The answer type.
    type Page: Page + Send;

    /// This request for page `page` (from 1).
    fn with_page(self, page: NonZeroU64) -> Self;

    /// Send the request and return the decoded page.
    fn send_page(self) -> impl Future<Output = Result<Self::Page, Error>> + Send;
}

/// Streams over the pages of a Laravel-paginated list. Implemented for every generated list
/// builder that takes a `page`:
///
/// ```no_run
/// # async fn f(client: &vandar_core::Client) -> Result<(), vandar_core::Error> {
/// use futures::TryStreamExt;
/// use vandar_core::Paginate;
/// let failed: Vec<_> = client
///     .list_batch_settlements()
///     .business("my-shop")
///     .batch_id("900e69c6...")
///     .status("FAILED")
///     .items()
///     .try_collect()
///     .await?;
/// # Ok(()) }
/// ```
pub trait Paginate: PagedRequest + Sized {
    /// Every page, from page 1, as a stream of answers.
    fn pages(self) -> impl Stream<Item = Result<Self::Page, Error>> + Send {
        pages_from(self, NonZeroU64::MIN)
    }

    /// Every item of every page, in order.
    fn items(self) -> impl Stream<Item = Result<<Self::Page as Page>::Item, Error>> + Send
    where
        <Self::Page as Page>::Item: Send,
    {
        self.pages()
            .map_ok(|page| stream::iter(page.into_items().into_iter().map(Ok)))
            .try_flatten()
    }
}

impl<R: PagedRequest> Paginate for R {}

/// The pages of `request` starting at `first`.
fn pages_from<R: PagedRequest>(
    request: R,
    first: NonZeroU64,
) -> impl Stream<Item = Result<R::Page, Error>> + Send {
    stream::try_unfold(Some((request, first)), |state| async move {
        let Some((request, page)) = state else {
            return Ok(None);
        };
        let answer = request.clone().with_page(page).send_page().await?;
        let next = answer
            .next_page(page.get())
            .and_then(NonZeroU64::new)
            .map(|n| (request, n));
        Ok(Some((answer, next)))
    })
}

fn meta_position(
    meta: Option<&types::PageMeta>,
    links: Option<&types::PageLinks>,
) -> (Option<i64>, Option<i64>, bool) {
    let current = meta.and_then(|m| m.current_page).map(i64::from);
    let last = meta.and_then(|m| m.last_page).map(i64::from);
    let next = links
        .and_then(|l| l.next.as_deref())
        .is_some_and(|n| !n.is_empty());
    (current, last, next)
}

/// Implements [`Page`] for a `{data, links, meta}` answer and [`PagedRequest`] for its builder.
macro_rules! laravel_list {
    ($($builder:ident => $page:ident of $item:ident),* $(,)?) => {$(
        impl Page for types::$page {
            type Item = types::$item;
            fn into_items(self) -> Vec<types::$item> {
                self.data
            }
            fn len(&self) -> usize {
                self.data.len()
            }
            fn position(&self) -> (Option<i64>, Option<i64>, bool) {
                meta_position(self.meta.as_ref(), self.links.as_ref())
            }
        }

        impl PagedRequest for builder::$builder<'_> {
            type Page = types::$page;
            fn with_page(self, page: NonZeroU64) -> Self {
                self.page(page)
            }
            async fn send_page(self) -> Result<types::$page, Error> {
                self.send().await
            }
        }
    )*};
}

laravel_list! {
    ListCustomers => CustomerList of CustomerSummary,
    ListCustomerFields => CustomFieldList of CustomField,
    ListCustomerTransactions => CustomerTransactionList of CustomerTransaction,
    ListCustomerIbans => CustomerIbanList of CustomerIban,
    ListCustomerCards => CustomerCardList of CustomerCard,
    ListCustomerLogs => CustomerLogList of CustomerLog,
    ListBatches => BatchList of BatchSummary,
    ListBatchSettlements => BatchItemList of BatchItem,
}

/// The v2.1 settlement list nests a flat paginator under `data.settlements`.
impl Page for types::SettlementList {
    type Item = types::ListedSettlement;

    fn into_items(self) -> Vec<types::ListedSettlement> {
        self.data.settlements.map(|s| s.data).unwrap_or_default()
    }

    fn len(&self) -> usize {
        self.paginator().map_or(0, |s| s.data.len())
    }

    fn position(&self) -> (Option<i64>, Option<i64>, bool) {
        match self.paginator() {
            Some(s) => (
                s.current_page.map(i64::from),
                s.last_page.map(i64::from),
                s.next.as_deref().is_some_and(|n| !n.is_empty()),
            ),
            None => (None, None, false),
        }
    }
}

impl types::SettlementList {
    fn paginator(&self) -> Option<&types::SettlementPaginator> {
        self.data.settlements.as_ref()
    }
}

impl PagedRequest for builder::ListSettlements<'_> {
    type Page = types::SettlementList;

    fn with_page(self, page: NonZeroU64) -> Self {
        self.page(page)
    }

    async fn send_page(self) -> Result<types::SettlementList, Error> {
        self.send().await
    }
}

/// One page of the statement's cursor pagination.
pub trait CursorPage {
    /// The listed item.
    type Item;

    /// The items of this page, consuming it.
    fn into_items(self) -> Vec<Self::Item>;

    /// The `start_after` value for the next page: the `id` of the last item while `has_more`
    /// is true; `None` on the last page.
    fn next_cursor(&self) -> Option<String>;
}

impl CursorPage for types::TransactionPage {
    type Item = types::Transaction;

    fn into_items(self) -> Vec<types::Transaction> {
        self.data.into_vec()
    }

    fn next_cursor(&self) -> Option<String> {
        if !self.has_more.is_some_and(bool::from) {
            return None;
        }
        self.data
            .last()
            .and_then(|t| t.id.as_ref())
            .map(ToString::to_string)
    }
}

/// The statement request (`list_transactions`, filters set) as a stream of items following
/// the `has_more` / `start_after` cursor. Stops when `has_more` is false, when a page is
/// empty or its last item has no `id`, or when the cursor does not advance.
pub fn cursor_items<'a>(
    request: builder::ListTransactions<'a>,
) -> impl Stream<Item = Result<types::Transaction, Error>> + Send + 'a {
    stream::try_unfold(Some((request, None::<String>)), |state| async move {
        let Some((request, cursor)) = state else {
            return Ok(None);
        };
        let mut this = request.clone();
        if let Some(after) = &cursor {
            this = this.start_after(after.clone());
        }
        let page = this.send().await?;
        let next = page
            .next_cursor()
            .filter(|c| cursor.as_deref() != Some(c.as_str()))
            .map(|c| (request, Some(c)));
        Ok::<_, Error>(Some((page, next)))
    })
    .map_ok(|page| stream::iter(page.into_items().into_iter().map(Ok)))
    .try_flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn customers(v: serde_json::Value) -> types::CustomerList {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn laravel_next_page() {
        let page = |current: i64, last: i64| {
            customers(json!({
                "data": [{"id": "a"}],
                "meta": {"current_page": current, "last_page": last},
                "links": {"next": null}
            }))
        };
        assert_eq!(page(1, 3).next_page(1), Some(2));
        assert_eq!(page(3, 3).next_page(3), None);
        // server ignored `page`: stop instead of looping
        assert_eq!(page(1, 3).next_page(2), None);
        // no counters: follow the presence of a next link
        let linked =
            customers(json!({"data": [{"id": "a"}], "links": {"next": "https://x/?page=2"}}));
        assert_eq!(linked.next_page(1), Some(2));
        let unlinked = customers(json!({"data": [{"id": "a"}], "links": {"next": null}}));
        assert_eq!(unlinked.next_page(1), None);
        // an empty page ends the stream even if the counters disagree
        let empty = customers(json!({"data": [], "meta": {"current_page": 1, "last_page": 9}}));
        assert_eq!(empty.next_page(1), None);
    }

    #[test]
    fn settlement_list_position() {
        let list: types::SettlementList = serde_json::from_value(json!({
            "status": 1,
            "data": {"settlements": {"data": [{"id": "x", "amount": "5000"}],
                     "current_page": "2", "last_page": 19, "next": "https://n"}}
        }))
        .unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list.next_page(2), Some(3));
        assert_eq!(list.into_items().len(), 1);
    }

    #[test]
    fn cursor_from_single_object_and_list() {
        let single: types::TransactionPage = serde_json::from_value(json!({
            "status": 1, "has_more": true, "data": {"id": 165374316188u64}
        }))
        .unwrap();
        assert_eq!(single.next_cursor().as_deref(), Some("165374316188"));
        let list: types::TransactionPage = serde_json::from_value(json!({
            "status": 1, "has_more": 1, "data": [{"id": 1}, {"id": "2"}]
        }))
        .unwrap();
        assert_eq!(list.next_cursor().as_deref(), Some("2"));
        let last: types::TransactionPage = serde_json::from_value(json!({
            "status": 1, "has_more": false, "data": [{"id": 3}]
        }))
        .unwrap();
        assert_eq!(last.next_cursor(), None);
        assert_eq!(last.into_items().len(), 1);
    }
}
