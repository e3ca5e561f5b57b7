//! The one path encoder: every URL path the SDK builds (operations and browser pages) is made
//! here, from a route's typed segments and one value per parameter.
//!
//! * every byte of a value outside the RFC 3986 unreserved set (`A-Z a-z 0-9 - . _ ~`) is
//!   percent-encoded, `/`, `\`, `%`, `?`, `#`, spaces and all non-ASCII included, so a value
//!   fills exactly its own segment and no URL parser can split or resolve it;
//! * an empty value, `.` and `..` are refused, also when they only appear after
//!   percent-decoding (`%2e%2e`, `%2E.`, `%252e`, `%u002e`), for servers that decode more than
//!   once, and with white space, invisible characters or look-alike dots (`．．`) around or
//!   in them; escapes of bytes that are not UTF-8 (`%c0%ae`) are refused too; the error names
//!   the parameter and the operation, never the value (see [`check_segment`]).
//!
//! The encoding is [`percent_encoding`]'s (the `url` crate's own encoder), with the set of
//! bytes left alone narrowed to the unreserved ones.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

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
#[non_exhaustive]
pub enum SegmentError {
    /// Empty, or only white space and invisible characters.
    Empty,
    /// `.` or `..`, as given or as a server may read it (see [`check_segment`]): it would move
    /// the URL.
    DotSegment,
    /// Percent-escapes that decode to bytes that are not UTF-8 (`%c0%ae`, an overlong `.`
    /// some servers accept), or nested deeper than a server would decode.
    Encoding,
}

impl SegmentError {
    /// The message for parameter `name` of `operation` (never the value).
    pub fn message(self, name: &str, operation: &str) -> String {
        match self {
            SegmentError::Empty => {
                format!("path parameter `{name}` of `{operation}` must not be empty")
            }
            SegmentError::DotSegment => format!(
                "path parameter `{name}` of `{operation}` must not be `.` or `..` (also when \
                 percent-encoded, padded with white space or written with look-alike dots)"
            ),
            SegmentError::Encoding => format!(
                "path parameter `{name}` of `{operation}` must not hold percent-escapes of \
                 bytes that are not UTF-8, or escapes nested more than {MAX_DECODINGS} deep"
            ),
        }
    }
}

/// How many rounds of decoding [`check_segment`] follows.
const MAX_DECODINGS: usize = 8;

/// Whether `value` may fill a segment.
///
/// The value is looked at as given and as each further decoding a server might apply would
/// leave it (percent-escapes, and IIS's `%uXXXX`), until nothing changes. None of these may
/// read as empty, `.` or `..` once white space and invisible characters (zero-width, bidi
/// controls, soft hyphen, byte order mark) are left out and look-alike dots (`．`, `﹒`, `․`,
/// and `‥` for two) are read as dots.
pub fn check_segment(value: &str) -> Result<(), SegmentError> {
    let mut current = std::borrow::Cow::Borrowed(value);
    for round in 0..=MAX_DECODINGS {
        match reads_as(&current) {
            Read::Other => {}
            Read::Empty if round == 0 => return Err(SegmentError::Empty),
            Read::Empty | Read::Dots => return Err(SegmentError::DotSegment),
        }
        if !current.contains('%') {
            return Ok(());
        }
        let decoded =
            String::from_utf8(decode_once(&current)).map_err(|_| SegmentError::Encoding)?;
        if decoded == *current {
            return Ok(());
        }
        current = std::borrow::Cow::Owned(decoded);
    }
    Err(SegmentError::Encoding)
}

/// How a server might read one form of a segment.
enum Read {
    Empty,
    Dots,
    Other,
}

fn reads_as(text: &str) -> Read {
    let mut dots = 0;
    for c in text.chars() {
        match c {
            '.' | '\u{ff0e}' | '\u{fe52}' | '\u{2024}' => dots += 1,
            '\u{2025}' => dots += 2,
            c if is_invisible(c) || c.is_control() || c.is_whitespace() => {}
            _ => return Read::Other,
        }
        if dots > 2 {
            return Read::Other;
        }
    }
    if dots == 0 { Read::Empty } else { Read::Dots }
}

/// Characters that print as nothing but change how text reads: the soft hyphen, zero-width
/// characters, bidi controls, word joiners and the byte order mark.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}'
    )
}

/// One round of decoding: `%XX` to its byte, `%uXXXX` to its character's UTF-8 bytes, the
/// rest as it is.
fn decode_once(text: &str) -> Vec<u8> {
    let hex = |b: &[u8]| -> Option<u32> {
        std::str::from_utf8(b)
            .ok()
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if matches!(bytes.get(i + 1), Some(b'u' | b'U'))
                && let Some(c) = bytes
                    .get(i + 2..i + 6)
                    .and_then(hex)
                    .and_then(char::from_u32)
            {
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                i += 6;
                continue;
            }
            if let Some(b) = bytes.get(i + 1..i + 3).and_then(hex) {
                out.push(b as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
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
    use percent_encoding::percent_decode_str;
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
            ("\u{200b}", SegmentError::Empty),
        ] {
            let e = url_of(&["shop", value]).unwrap_err();
            assert_eq!(e, ("transaction_id", want), "{value:?}");
        }
        assert_eq!(url_of(&["..", "1"]).unwrap_err().0, "business");
        assert_eq!(url_of(&["shop"]).unwrap_err().0, "transaction_id");
        let m = SegmentError::DotSegment.message("transaction_id", "refund_transaction");
        assert!(m.contains("`transaction_id`") && m.contains("`refund_transaction`"));
        for ok in [
            "...", "a.", ".a", "%", "%zz", "1.5", "a..b", "100%", "%u", "%u00", "a%2Fb",
            "\u{2026}", "سلام", "tx-1_2~3",
        ] {
            assert!(check_segment(ok).is_ok(), "{ok}");
        }
    }

    /// What a server may still read as a dot segment: padded, nested escapes, IIS escapes,
    /// look-alike dots, invisible characters, overlong UTF-8.
    #[test]
    fn dot_segments_in_disguise_are_refused() {
        for value in [
            " ..",
            ".. ",
            "\t..",
            "..\t",
            "..\u{a0}",
            "\u{3000}..",
            "%20..",
            ". .",
            "%2525252e%2525252e",
            "%252525252525252e",
            "\u{ff0e}\u{ff0e}",
            "\u{2024}\u{2024}",
            "\u{2025}",
            "\u{fe52}",
            ".\u{200b}.",
            "\u{feff}..",
            "..\u{202e}",
            "%u002e%u002e",
            "%U002E",
            "%u2025",
            "%ef%bc%8e%ef%bc%8e",
            "%2e%00%2e",
        ] {
            assert_eq!(
                check_segment(value),
                Err(SegmentError::DotSegment),
                "{value:?}"
            );
        }
        for value in ["\u{200b}", "\u{feff}\u{00ad}", "\u{0}"] {
            assert_eq!(check_segment(value), Err(SegmentError::Empty), "{value:?}");
        }
        for value in ["%c0%ae%c0%ae", "%c0%ae", "%ff", "%25c0%25ae"] {
            assert_eq!(
                check_segment(value),
                Err(SegmentError::Encoding),
                "{value:?}"
            );
        }
        // nine rounds of nesting: deeper than a server decodes, refused
        let mut deep = "x".to_owned();
        for _ in 0..=MAX_DECODINGS {
            deep = deep.replace('%', "%25");
            deep.insert_str(0, "%25");
        }
        assert_eq!(check_segment(&deep), Err(SegmentError::Encoding), "{deep}");
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
