//! Reading what the gateway, the bank pages and OAuth providers append to a merchant's
//! callback URL: one place that accepts a bare query (`a=1&b=2`), a query with its `?`, or the
//! whole URL, and decodes it as `application/x-www-form-urlencoded`.

use url::Url;

/// A callback URL that looked like a URL (it has `://`) but did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("callback URL does not parse: {0}")]
pub struct InvalidCallbackUrl(pub String);

/// The decoded parameters of a callback, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    /// Decode a query string (with or without a leading `?`) or the query of a whole URL.
    pub fn parse(query_or_url: &str) -> Result<Self, InvalidCallbackUrl> {
        let text = query_or_url.trim();
        let query = if text.contains("://") {
            let url = Url::parse(text).map_err(|e| InvalidCallbackUrl(e.to_string()))?;
            url.query().unwrap_or("").to_string()
        } else {
            text.trim_start_matches('?').to_string()
        };
        Ok(Self(
            url::form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }

    /// The first value of `name`, as sent (possibly empty).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name` if it is not empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Every `(name, value)` pair, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_url_and_leading_question_mark() {
        for text in [
            "token=A%2BB&payment_status=OK&token=second",
            "?token=A%2BB&payment_status=OK",
            "https://shop.example/cb?x=1&token=A%2BB&payment_status=OK",
        ] {
            let q = QueryParams::parse(text).unwrap();
            assert_eq!(q.get("token"), Some("A+B"), "{text}");
            assert_eq!(q.get("payment_status"), Some("OK"));
        }
        let q = QueryParams::parse("token=&a=b").unwrap();
        assert_eq!(q.get("token"), Some(""));
        assert_eq!(q.non_empty("token"), None);
        assert_eq!(q.get("missing"), None);
        assert_eq!(q.pairs().len(), 2);
        assert!(QueryParams::parse("http://[::1").is_err());
    }
}
