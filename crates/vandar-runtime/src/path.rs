//! The one path encoder: every URL path the SDK builds (operations and browser pages) is made
//! here, from a route's typed segments and one value per parameter.
//!
//! * every byte of a value outside the RFC 3986 unreserved set (`A-Z a-z 0-9 - . _ ~`) is
//!   percent-encoded, `/`, `\`, `%`, `?`, `#`, spaces and all non-ASCII included, so a value
//!   fills exactly its own segment and no URL parser can split or resolve it;
//! * an empty value, `.` and `..` are refused, also when they only appear after
//!   percent-decoding (`%2e%2e`, `%2E.`), for servers that decode twice; the error names the
//!   parameter and the operation, never the value.
//!
//! The encoding is [`percent_encoding`]'s (the `url` crate's own encoder), with the set of
//! bytes left alone narrowed to the unreserved ones.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// One segment of a path template, as the generator emits it from the spec's path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A literal segment of the template (URL-safe as written in the spec).
    Lit(&'static str),
    /// The `{name}` placeholder of a path parameter.
    Param(&'static str),
}

/// Every byte but the RFC 3986 unreserved ones is encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Why a value cannot be a path segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentError {
    /// Empty or only whitespace.
    Empty,
    /// `.` or `..` (as given or after percent-decoding): it would move the URL.
    DotSegment,
}

impl SegmentError {
    /// The message for parameter `name` of `operation` (never the value).
    pub fn message(self, name: &str, operation: &str) -> String {
        match self {
            SegmentError::Empty => {
                format!("path parameter `{name}` of `{operation}` must not be empty")
            }
            SegmentError::DotSegment => format!(
                "path parameter `{name}` of `{operation}` must not be `.` or `..` (also when percent-encoded)"
            ),
        }
    }
}

/// Whether `value` may fill a segment.
pub fn check_segment(value: &str) -> Result<(), SegmentError> {
    if value.trim().is_empty() {
        return Err(SegmentError::Empty);
    }
    let dots = |s: &str| s == "." || s == "..";
    if dots(value) {
        return Err(SegmentError::DotSegment);
    }
    // Decode repeatedly (a server may decode more than once): `%252e` → `%2e` → `.`.
    let mut current = value.to_owned();
    for _ in 0..3 {
        if !current.contains('%') {
            break;
        }
        let decoded = percent_decode_str(&current)
            .decode_utf8_lossy()
            .into_owned();
        if dots(decoded.trim()) || decoded.trim().is_empty() {
            return Err(SegmentError::DotSegment);
        }
        if decoded == current {
            break;
        }
        current = decoded;
    }
    Ok(())
}

/// Append `/` and `value`, percent-encoded as one segment, to `out`.
pub fn push_segment(out: &mut String, value: &str) -> Result<(), SegmentError> {
    check_segment(value)?;
    out.push('/');
    out.extend(utf8_percent_encode(value, SEGMENT));
    Ok(())
}

/// Append the path of `segments` to `out`, filling the `n`-th parameter with `values[n]`.
/// `Err` names the parameter (`(name, why)`); a missing value counts as empty.
pub fn push_path(
    out: &mut String,
    segments: &[Segment],
    values: &[&str],
) -> Result<(), (&'static str, SegmentError)> {
    let mut values = values.iter();
    for segment in segments {
        match segment {
            Segment::Lit(s) => {
                out.push('/');
                out.push_str(s);
            }
            Segment::Param(name) => {
                let value = values.next().copied().unwrap_or("");
                push_segment(out, value).map_err(|e| (*name, e))?;
            }
        }
    }
    Ok(())
}

/// The typed segments of a path template (`/v4/{token}` → `Lit("v4")`, `Param("token")`), for
/// tables written by hand; the generator emits the same from the spec.
pub fn parse_template(template: &'static str) -> Vec<Segment> {
    template
        .split('/')
        .filter(|s| !s.is_empty())
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Param(name),
                None => Segment::Lit(seg),
            },
        )
        .collect()
}

/// The values for the parameters of `segments`, in order, from `(name, value)` pairs; `Err`
/// names a given parameter the template does not have.
pub fn values_in_order<'v>(
    segments: &[Segment],
    params: &[(&str, &'v str)],
) -> Result<Vec<&'v str>, String> {
    for (name, _) in params {
        if !segments
            .iter()
            .any(|s| matches!(s, Segment::Param(n) if n == name))
        {
            return Err(format!("no path parameter `{name}`"));
        }
    }
    Ok(segments
        .iter()
        .filter_map(|s| match s {
            Segment::Param(name) => Some(
                params
                    .iter()
                    .find(|(k, _)| k == name)
                    .map_or("", |(_, v)| *v),
            ),
            Segment::Lit(_) => None,
        })
        .collect())
}

/// The refund path of issue 22's traversal attack, for the tests.
#[cfg(test)]
pub(crate) const REFUND: &[Segment] = &[
    Segment::Lit("v3"),
    Segment::Lit("business"),
    Segment::Param("business"),
    Segment::Lit("transaction"),
    Segment::Param("transaction_id"),
    Segment::Lit("refund"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn url_of(values: &[&str]) -> Result<url::Url, (&'static str, SegmentError)> {
        let mut s = String::from("http://127.0.0.1:9/mock");
        push_path(&mut s, REFUND, values)?;
        Ok(url::Url::parse(&s).expect("the encoder makes parseable URLs"))
    }

    /// The attack from issue 22: a refund's `transaction_id` from user input that climbs to
    /// another business. It stays one segment of the refund path.
    #[test]
    fn traversal_through_backslashes_stays_one_segment() {
        let attack = r"1\..\..\..\victim-biz\transaction\999";
        let url = url_of(&["shop", attack]).unwrap();
        assert_eq!(
            url.path(),
            "/mock/v3/business/shop/transaction/1%5C..%5C..%5C..%5Cvictim-biz%5Ctransaction%5C999/refund"
        );
        let segs: Vec<&str> = url.path_segments().unwrap().collect();
        assert_eq!(segs.len(), 7);
        assert_eq!(
            percent_decode_str(segs[5]).decode_utf8().unwrap(),
            attack,
            "the server decodes the exact value"
        );
        for other in ["1/../../victim", "../x", "a?b#c", "1;x=y", "1%2F..%2F"] {
            let url = url_of(&["shop", other]).unwrap();
            assert_eq!(url.path_segments().unwrap().count(), 7, "{other}");
            assert!(url.query().is_none() && url.fragment().is_none(), "{other}");
        }
    }

    #[test]
    fn empty_and_dot_values_are_refused_naming_the_parameter() {
        for (value, want) in [
            ("", SegmentError::Empty),
            ("  ", SegmentError::Empty),
            (".", SegmentError::DotSegment),
            ("..", SegmentError::DotSegment),
            ("%2e", SegmentError::DotSegment),
            ("%2E%2e", SegmentError::DotSegment),
            (".%2e", SegmentError::DotSegment),
            ("%252e%252e", SegmentError::DotSegment),
            ("%20", SegmentError::DotSegment),
        ] {
            let e = url_of(&["shop", value]).unwrap_err();
            assert_eq!(e, ("transaction_id", want), "{value:?}");
        }
        assert_eq!(url_of(&["..", "1"]).unwrap_err().0, "business");
        assert_eq!(url_of(&["shop"]).unwrap_err().0, "transaction_id");
        let m = SegmentError::DotSegment.message("transaction_id", "refund_transaction");
        assert!(m.contains("`transaction_id`") && m.contains("`refund_transaction`"));
        for ok in ["...", "a.", ".a", "%", "%zz", "1.5"] {
            assert!(check_segment(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn templates_and_named_values() {
        assert_eq!(
            parse_template("/v3/business/{business}/transaction/{transaction_id}/refund"),
            REFUND
        );
        let v = values_in_order(REFUND, &[("transaction_id", "9"), ("business", "b")]).unwrap();
        assert_eq!(v, ["b", "9"]);
        assert!(values_in_order(REFUND, &[("nope", "1")]).is_err());
    }

    proptest! {
        /// Any value the encoder accepts reaches the server as exactly one segment that
        /// decodes back to the value, and the URL keeps the template's segment count.
        #[test]
        fn every_value_is_one_segment_that_decodes_back(
            business in any::<String>(),
            id in prop_oneof![
                any::<String>(),
                proptest::collection::vec(any::<u8>(), 0..24)
                    .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
                "[./\\\\%?#;:@ a-zA-Z0-9]{0,12}",
            ],
        ) {
            match url_of(&[&business, &id]) {
                Ok(url) => {
                    let segs: Vec<&str> = url.path_segments().unwrap().collect();
                    prop_assert_eq!(segs.len(), 7);
                    prop_assert_eq!(&segs[..3], &["mock", "v3", "business"][..]);
                    prop_assert_eq!(percent_decode_str(segs[3]).decode_utf8().unwrap(), business.as_str());
                    prop_assert_eq!(percent_decode_str(segs[5]).decode_utf8().unwrap(), id.as_str());
                    prop_assert_eq!(segs[6], "refund");
                    prop_assert!(url.query().is_none() && url.fragment().is_none());
                }
                Err((name, _)) => {
                    let refused = if name == "business" { &business } else { &id };
                    prop_assert!(check_segment(refused).is_err());
                }
            }
        }
    }
}
