//! One pagination idiom for every list of every client: a list request implements
//! [`ListRequest`] (how to ask for a position, and where the next page is), and [`Paginate`]
//! gives it `.pages()` and `.items()` as async streams. Both kinds the APIs use fit:
//!
//! * **page numbers** (Laravel lists: `page=1, 2, ...`, with `meta`/`links` in the answer);
//! * **cursors** (the statement: `start_after` = the id of the last item, while `has_more`).
//!
//! A stream stops after the last page, at an empty page, when the server answers something
//! other than what was asked for (it ignored the position: continuing would repeat items
//! forever), or at the first error, which it yields. Consume the streams with
//! `futures::TryStreamExt` (re-exported by the `vandar` facade).

use std::future::Future;
use std::num::NonZeroU64;

use futures::stream::BoxStream;
use futures::{TryStreamExt, stream};

use crate::error::Error;

/// Where a page is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Position {
    /// Page `n` (from 1) of a page-numbered list.
    Page(NonZeroU64),
    /// The items after this cursor (an item id).
    After(String),
}

/// A list request the streams can walk (implemented for the generated builders of every
/// paginated list).
pub trait ListRequest: Clone + Send + Sized {
    /// The answer of one page.
    type Page: Send;
    /// One listed item.
    type Item: Send;

    /// Where the first request asks for (`Some(Page(1))` for page-numbered lists, which send
    /// `page=1` explicitly; `None`, the default, sends the request as it is).
    fn start() -> Option<Position> {
        None
    }

    /// This request, asking for `at`.
    fn at(self, at: &Position) -> Self;

    /// Send it and decode the page.
    fn send_page(self) -> impl Future<Output = Result<Self::Page, Error>> + Send;

    /// The items of a page.
    fn into_items(page: Self::Page) -> Vec<Self::Item>;

    /// Where the page after `page` is (`asked` is where `page` was asked for; `None` for the
    /// first request); `None` after the last page.
    fn next(page: &Self::Page, asked: Option<&Position>) -> Option<Position>;
}

/// Streams over any [`ListRequest`]:
///
/// ```ignore
/// use vandar::{Paginate, TryStreamExt};
/// let all: Vec<_> = client.list_customers().business("my-shop").items().try_collect().await?;
/// ```
pub trait Paginate: ListRequest {
    /// Every page, in order, as a stream of answers (boxed, so it is `Unpin`: `try_next()`
    /// works on it directly).
    fn pages<'s>(self) -> BoxStream<'s, Result<Self::Page, Error>>
    where
        Self: 's,
    {
        Box::pin(stream::try_unfold(
            Some((self, Self::start())),
            |state| async move {
                let Some((request, asked)) = state else {
                    return Ok(None);
                };
                let this = match &asked {
                    Some(at) => request.clone().at(at),
                    None => request.clone(),
                };
                let page = this.send_page().await?;
                let next = Self::next(&page, asked.as_ref())
                    .filter(|n| Some(n) != asked.as_ref())
                    .map(|n| (request, Some(n)));
                Ok(Some((page, next)))
            },
        ))
    }

    /// Every item of every page, in order (boxed, `Unpin`).
    fn items<'s>(self) -> BoxStream<'s, Result<Self::Item, Error>>
    where
        Self: 's,
    {
        Box::pin(
            self.pages()
                .map_ok(|page| stream::iter(Self::into_items(page).into_iter().map(Ok)))
                .try_flatten(),
        )
    }
}

impl<R: ListRequest> Paginate for R {}

/// The next page number of a page-numbered answer: `current < last`, or (without `last`) a
/// `next` link; `None` on an empty page, after the last page, or when the answer is not the
/// page that was asked for.
pub fn next_page_number(
    asked: Option<&Position>,
    items: usize,
    current: Option<i64>,
    last: Option<i64>,
    has_next_link: bool,
) -> Option<Position> {
    if items == 0 {
        return None;
    }
    let requested = match asked {
        Some(Position::Page(n)) => n.get(),
        Some(Position::After(_)) => return None,
        None => 1,
    };
    if let Some(current) = current
        && u64::try_from(current).ok() != Some(requested)
    {
        return None;
    }
    let more = match last {
        Some(last) => i64::try_from(requested).is_ok_and(|r| r < last),
        None => has_next_link,
    };
    more.then(|| NonZeroU64::new(requested + 1))
        .flatten()
        .map(Position::Page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A fake list: pages of `per` items out of `total`, page-numbered or by cursor.
    #[derive(Clone)]
    struct Fake {
        total: usize,
        per: usize,
        at: Option<Position>,
        cursor: bool,
        asked: Arc<Mutex<Vec<Option<Position>>>>,
    }

    impl ListRequest for Fake {
        type Page = (Vec<usize>, Option<i64>, Option<i64>, bool);
        type Item = usize;
        fn at(mut self, at: &Position) -> Self {
            self.at = Some(at.clone());
            self
        }
        async fn send_page(self) -> Result<Self::Page, Error> {
            self.asked.lock().unwrap().push(self.at.clone());
            let start = match &self.at {
                None => 0,
                Some(Position::Page(n)) => (n.get() as usize - 1) * self.per,
                Some(Position::After(id)) => id.parse::<usize>().unwrap() + 1,
            };
            let items: Vec<usize> = (start..self.total.min(start + self.per)).collect();
            let pages = self.total.div_ceil(self.per) as i64;
            let current = (start / self.per + 1) as i64;
            let more = start + self.per < self.total;
            Ok((
                items,
                (!self.cursor).then_some(current),
                (!self.cursor).then_some(pages),
                more,
            ))
        }
        fn into_items(page: Self::Page) -> Vec<usize> {
            page.0
        }
        fn next(page: &Self::Page, asked: Option<&Position>) -> Option<Position> {
            if page.1.is_none() {
                return page
                    .3
                    .then(|| page.0.last().map(|l| Position::After(l.to_string())))
                    .flatten();
            }
            next_page_number(asked, page.0.len(), page.1, page.2, page.3)
        }
    }

    fn fake(total: usize, cursor: bool) -> Fake {
        Fake {
            total,
            per: 3,
            at: None,
            cursor,
            asked: Default::default(),
        }
    }

    #[tokio::test]
    async fn pages_and_cursors_walk_every_item_once() {
        for cursor in [false, true] {
            for total in [0, 1, 3, 7] {
                let f = fake(total, cursor);
                let items: Vec<usize> = f.clone().items().try_collect().await.unwrap();
                assert_eq!(
                    items,
                    (0..total).collect::<Vec<_>>(),
                    "cursor={cursor} total={total}"
                );
                let asked = f.asked.lock().unwrap().len();
                assert_eq!(
                    asked,
                    total.div_ceil(3).max(1),
                    "cursor={cursor} total={total}"
                );
            }
        }
    }

    #[test]
    fn next_page_rules() {
        let p = |n: u64| Position::Page(NonZeroU64::new(n).unwrap());
        assert_eq!(
            next_page_number(None, 5, Some(1), Some(3), false),
            Some(p(2))
        );
        assert_eq!(
            next_page_number(Some(&p(3)), 5, Some(3), Some(3), true),
            None
        );
        // the server ignored `page`: stop instead of looping
        assert_eq!(
            next_page_number(Some(&p(2)), 5, Some(1), Some(3), true),
            None
        );
        // no counters: follow the next link
        assert_eq!(next_page_number(None, 5, None, None, true), Some(p(2)));
        assert_eq!(next_page_number(None, 5, None, None, false), None);
        // an empty page ends it
        assert_eq!(next_page_number(None, 0, Some(1), Some(9), true), None);
    }
}
