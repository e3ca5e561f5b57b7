//! Pagination as async streams.
//!
//! Two styles are documented:
//!
//! * **Laravel pages**: the request takes `page` (1, 2, ...); the answer carries `data` plus
//!   either `links`/`meta` (`current_page`, `last_page`, `next`) or the same counters flat
//!   (the v2.1 settlement list nests them under `data.settlements`).
//! * **Cursor**: the statement (`list_transactions`) answers `has_more` and takes
//!   `start_after` = the `id` of the last item.
//!
//! Both walk the same way: every list builder implements
//! [`ListRequest`](vandar_runtime::ListRequest), so `.pages()` and `.items()` of
//! [`Paginate`](crate::Paginate) stream it.
//!
//! The page links in the answers point to hosts that are not documented as callable
//! (`customer.vandar.io`, `api.settlement.vandar.io`, `api.vandar.local`), so the streams never
//! follow them: they ask the same operation again with the next `page`.
//!
//! A stream stops after the last page (`current_page >= last_page`, or no `next` link when the
//! counters are missing), at the first empty page, when the server answers a different page
//! than the one asked for (it ignored `page`; continuing would repeat items forever), or at the
//! first error, which it yields.

use std::num::NonZeroU64;

use vandar_runtime::pagination::{ListRequest, Position, next_page_number};

use crate::{Error, request, types};

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
    /// The rules are the runtime's ([`next_page_number`]): a page that is not the one asked
    /// for stops the walk rather than loop.
    fn next_page(&self, requested: u64) -> Option<u64> {
        let asked = Position::Page(NonZeroU64::new(requested)?);
        match laravel_next(self, Some(&asked))? {
            Position::Page(n) => Some(n.get()),
            Position::After(_) => None,
        }
    }
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

/// Implements [`Page`] for a `{data, links, meta}` answer and [`ListRequest`] for its builder.
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

        impl ListRequest for request::$builder<'_> {
            type Page = types::$page;
            type Item = types::$item;
            fn start() -> Option<Position> {
                Some(Position::Page(NonZeroU64::MIN))
            }
            fn at(self, at: &Position) -> Self {
                match at {
                    Position::Page(n) => self.page(*n),
                    Position::After(_) => self,
                }
            }
            async fn send_page(self) -> Result<types::$page, Error> {
                self.send().await
            }
            fn into_items(page: types::$page) -> Vec<types::$item> {
                Page::into_items(page)
            }
            fn next(page: &types::$page, asked: Option<&Position>) -> Option<Position> {
                laravel_next(page, asked)
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

impl ListRequest for request::ListSettlements<'_> {
    type Page = types::SettlementList;
    type Item = types::ListedSettlement;
    fn start() -> Option<Position> {
        Some(Position::Page(NonZeroU64::MIN))
    }

    fn at(self, at: &Position) -> Self {
        match at {
            Position::Page(n) => self.page(*n),
            Position::After(_) => self,
        }
    }

    async fn send_page(self) -> Result<types::SettlementList, Error> {
        self.send().await
    }

    fn into_items(page: types::SettlementList) -> Vec<types::ListedSettlement> {
        Page::into_items(page)
    }

    fn next(page: &types::SettlementList, asked: Option<&Position>) -> Option<Position> {
        laravel_next(page, asked)
    }
}

/// The position after a Laravel page that was asked for as `asked`.
fn laravel_next<P: Page + ?Sized>(page: &P, asked: Option<&Position>) -> Option<Position> {
    let (current, last, has_next_link) = page.position();
    next_page_number(asked, page.len(), current, last, has_next_link)
}

/// The statement walks by cursor: `start_after` = the id of the last item, while `has_more`.
impl<'a> ListRequest for request::ListTransactions<'a> {
    type Page = types::TransactionPage;
    type Item = types::Transaction;

    fn at(self, at: &Position) -> Self {
        match at {
            Position::After(id) => self.start_after(id.clone()),
            Position::Page(_) => self,
        }
    }

    async fn send_page(self) -> Result<types::TransactionPage, Error> {
        self.send().await
    }

    fn into_items(page: types::TransactionPage) -> Vec<types::Transaction> {
        CursorPage::into_items(page)
    }

    fn next(page: &types::TransactionPage, _: Option<&Position>) -> Option<Position> {
        page.next_cursor().map(Position::After)
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
