//! The one Laravel pager: every paged list (settlements, customers, batches, queued
//! settlements, mandates, withdrawals) cuts its items here. Pure: no state, no HTTP.

use serde_json::{Value, json};

/// Which page of how many items, from the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageQuery {
    /// 1-based page number.
    pub page: usize,
    /// Items per page.
    pub per_page: usize,
}

impl PageQuery {
    /// `page` (default 1, at least 1) and `per_page` (default `default_per_page`, at least 1, at
    /// most `max_per_page`) as the query carries them; unreadable values take the default.
    pub(crate) fn parse(
        page: Option<&str>,
        per_page: Option<&str>,
        default_per_page: usize,
        max_per_page: usize,
    ) -> PageQuery {
        let number = |v: Option<&str>| v.and_then(|v| v.trim().parse::<usize>().ok());
        PageQuery {
            page: number(page).unwrap_or(1).max(1),
            per_page: number(per_page)
                .unwrap_or(default_per_page)
                .clamp(1, max_per_page.max(1)),
        }
    }
}

/// One cut page, before it is shaped as JSON.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LaravelPage {
    data: Vec<Value>,
    current_page: usize,
    last_page: usize,
    per_page: usize,
    total: usize,
    path: String,
}

impl LaravelPage {
    /// Cut `items` (already in order) at `query`; `path` is the list's URL without a query.
    pub(crate) fn cut(items: Vec<Value>, query: PageQuery, path: &str) -> LaravelPage {
        let total = items.len();
        let per_page = query.per_page.max(1);
        let data = items
            .into_iter()
            .skip((query.page - 1).saturating_mul(per_page))
            .take(per_page)
            .collect();
        LaravelPage {
            data,
            current_page: query.page,
            last_page: total.div_ceil(per_page).max(1),
            per_page,
            total,
            path: path.to_owned(),
        }
    }

    fn url(&self, n: usize) -> String {
        format!("{}?page={n}", self.path)
    }

    /// `from`/`to` of a non-empty page. Laravel sends them null on an empty page; the specs'
    /// LenientInt is not nullable, so they are left out there.
    fn item_range(&self) -> Option<(usize, usize)> {
        let n = self.data.len();
        (n > 0).then(|| {
            let from = (self.current_page - 1) * self.per_page + 1;
            (from, from + n - 1)
        })
    }

    /// An API resource collection: `{data, links: {first, last, prev, next}, meta: {..}}`;
    /// `meta_links` adds Laravel 8's `meta.links: []` (the direct-debit lists carry it).
    pub(crate) fn resource(self, meta_links: bool) -> Value {
        let mut out = json!({
            "links": {
                "first": self.url(1),
                "last": self.url(self.last_page),
                "prev": (self.current_page > 1).then(|| self.url(self.current_page - 1)),
                "next": (self.current_page < self.last_page).then(|| self.url(self.current_page + 1)),
            },
            "meta": {
                "current_page": self.current_page,
                "last_page": self.last_page,
                "path": self.path,
                "per_page": self.per_page,
                "total": self.total,
            },
        });
        if meta_links {
            out["meta"]["links"] = json!([]);
        }
        if let Some((from, to)) = self.item_range() {
            out["meta"]["from"] = json!(from);
            out["meta"]["to"] = json!(to);
        }
        out["data"] = Value::Array(self.data);
        out
    }

    /// A plain paginator object: `{data, first, last, prev, next, current_page, last_page,
    /// path, per_page, total, from, to}` (the settlement list).
    pub(crate) fn flat(self) -> Value {
        let mut out = json!({
            "first": self.url(1),
            "last": self.url(self.last_page),
            "prev": (self.current_page > 1).then(|| self.url(self.current_page - 1)),
            "next": (self.current_page < self.last_page).then(|| self.url(self.current_page + 1)),
            "current_page": self.current_page,
            "last_page": self.last_page,
            "path": self.path,
            "per_page": self.per_page,
            "total": self.total,
        });
        if let Some((from, to)) = self.item_range() {
            out["from"] = json!(from);
            out["to"] = json!(to);
        }
        out["data"] = Value::Array(self.data);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: i64) -> Vec<Value> {
        (1..=n).map(|i| json!(i)).collect()
    }

    #[test]
    fn query_defaults_and_bounds() {
        assert_eq!(
            PageQuery::parse(None, None, 10, 100),
            PageQuery {
                page: 1,
                per_page: 10
            }
        );
        assert_eq!(
            PageQuery::parse(Some("0"), Some("1000"), 10, 100),
            PageQuery {
                page: 1,
                per_page: 100
            }
        );
        assert_eq!(
            PageQuery::parse(Some("x"), Some("0"), 20, 20),
            PageQuery {
                page: 1,
                per_page: 1
            }
        );
    }

    #[test]
    fn pages_cut_links_and_counts() {
        let q = PageQuery {
            page: 2,
            per_page: 10,
        };
        let v = LaravelPage::cut(items(25), q, "http://h/l").resource(false);
        assert_eq!(v["data"], json!((11..=20).collect::<Vec<_>>()));
        assert_eq!(v["meta"]["last_page"], 3);
        assert_eq!(
            (v["meta"]["from"].clone(), v["meta"]["to"].clone()),
            (json!(11), json!(20))
        );
        assert_eq!(v["links"]["prev"], "http://h/l?page=1");
        assert_eq!(v["links"]["next"], "http://h/l?page=3");
        assert!(v["meta"].get("links").is_none());

        let last = LaravelPage::cut(
            items(25),
            PageQuery {
                page: 3,
                per_page: 10,
            },
            "p",
        )
        .flat();
        assert_eq!(last["data"], json!([21, 22, 23, 24, 25]));
        assert_eq!(
            (last["from"].clone(), last["to"].clone()),
            (json!(21), json!(25))
        );
        assert!(last["next"].is_null());

        let empty = LaravelPage::cut(
            Vec::new(),
            PageQuery {
                page: 1,
                per_page: 20,
            },
            "p",
        )
        .resource(true);
        assert_eq!(empty["meta"]["last_page"], 1);
        assert_eq!(empty["meta"]["links"], json!([]));
        assert!(empty["meta"].get("from").is_none() && empty["data"] == json!([]));
    }
}
