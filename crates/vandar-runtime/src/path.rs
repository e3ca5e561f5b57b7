//! The one path encoder: every URL path the SDK builds (operations and browser pages) is made
//! here, from a route's typed segments and one value per parameter.
//!
//! * every byte of a value outside the RFC 3986 unreserved set (`A-Z a-z 0-9 - . _ ~`) is
//!   percent-encoded, `/`, `\`, `%`, `?`, `#`, spaces and all non-ASCII included, so a value
//!   fills exactly its own segment and no URL parser can split or resolve it;
//! * an empty value, `.` and `..` are refused, also when they only appear after
//!   percent-decoding (`%2e%2e`, `%2E.`, `%252e`, `%u002e`), for servers that decode more than
//!   once, after Unicode normalization (NFKC and UTS #46's full stops: `．．`, `。。`, `‥`,
//!   full-width `％２ｅ`), and with white space or invisible characters (every
//!   `Default_Ignorable_Code_Point` and format character) around or in them; escapes of bytes
//!   that are not UTF-8 (`%c0%ae`) are refused too; the error names the parameter and the
//!   operation, never the value (see [`check_segment`]).
//!
//! The encoding is [`percent_encoding`]'s (the `url` crate's own encoder), with the set of
//! bytes left alone narrowed to the unreserved ones.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::unicode;

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
                 percent-encoded, padded with white space, written with look-alike dots or \
                 followed by `;` parameters)"
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
/// leave it (percent-escapes, and IIS's `%uXXXX`), until nothing changes; each round is
/// decoded from its NFKC form, for a server that normalizes before it decodes (full-width
/// `％２ｅ` is `%2e`). None of these may read as empty, `.` or `..` once folded with NFKC and
/// UTS #46's full stops (`．`, `。`, `｡`, `﹒`, `․` are `.`, `‥` is `..`) and once white space,
/// control characters and invisible characters (every `Default_Ignorable_Code_Point`: zero-width
/// characters, bidi controls, the soft hyphen, variation selectors, tags, Hangul fillers, ...;
/// and every format character) are left out. The classes come from Unicode's data (ICU4X), not
/// from a list of look-alikes. Nor may the part before a `;` (a servlet container reads
/// `..;x=1` as `..`).
pub fn check_segment(value: &str) -> Result<(), SegmentError> {
    let mut current = Cow::Borrowed(value);
    for round in 0..=MAX_DECODINGS {
        let folded = unicode::fold(&current);
        match reads_as(&folded) {
            Read::Other => {}
            Read::Empty if round == 0 => return Err(SegmentError::Empty),
            Read::Empty | Read::Dots => return Err(SegmentError::DotSegment),
        }
        // A servlet container (Tomcat, Jetty) drops a segment's `;` parameters before it
        // resolves dot segments: `..;x=1` is `..` there, and `;x=1` an empty segment.
        if let Some((head, _)) = folded.split_once(';')
            && !matches!(reads_as(head), Read::Other)
        {
            return Err(SegmentError::DotSegment);
        }
        if !folded.contains('%') {
            return Ok(());
        }
        let decoded =
            String::from_utf8(decode_once(&folded)).map_err(|_| SegmentError::Encoding)?;
        if decoded == *folded {
            return Ok(());
        }
        current = Cow::Owned(decoded);
    }
    Err(SegmentError::Encoding)
}

/// How a server might read one form of a segment.
enum Read {
    Empty,
    Dots,
    Other,
}

/// How `folded` (a text after [`unicode::fold`]) reads: only dots (one or two), only
/// white space, control and invisible characters, or something else.
fn reads_as(folded: &str) -> Read {
    let mut dots = 0;
    for c in folded.chars() {
        match c {
            '.' => dots += 1,
            c if c.is_whitespace() || c.is_control() || unicode::is_invisible(c) => {}
            _ => return Read::Other,
        }
        if dots > 2 {
            return Read::Other;
        }
    }
    if dots == 0 { Read::Empty } else { Read::Dots }
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
            // servlet path parameters: Tomcat and Jetty read these as `..`, `.` or empty
            "..;",
            "..;jsessionid=1",
            "%2e%2e;x",
            "%2e%2e%3bx",
            ".;x=1",
            ";x=1",
            " ..;",
        ] {
            assert_eq!(
                check_segment(value),
                Err(SegmentError::DotSegment),
                "{value:?}"
            );
        }
        // a `;` elsewhere is an ordinary character
        for value in ["a;b", "..a;b", "x..;", "1;..", "...;x"] {
            assert_eq!(check_segment(value), Ok(()), "{value:?}");
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

    /// `c` percent-encoded (its UTF-8 bytes).
    fn pct(c: char) -> String {
        c.encode_utf8(&mut [0; 4])
            .bytes()
            .map(|b| format!("%{b:02X}"))
            .collect()
    }

    /// ASCII `text` in full-width forms (`%2e` as `％２ｅ`), which NFKC turns back.
    fn full_width(text: &str) -> String {
        text.chars()
            .map(|c| char::from_u32(u32::from(c) - 0x21 + 0xff01).unwrap())
            .collect()
    }

    /// Every default-ignorable or format character (review r9 F1: U+061C, U+180E, U+034F,
    /// U+FE0F, U+E0001, U+206A–F, the Hangul fillers were missing from a hand-kept list),
    /// around or between the dots, as given or percent-encoded, is left out.
    #[test]
    fn every_invisible_character_around_dots_is_refused() {
        let mut wrong = Vec::new();
        for &c in unicode::testing::invisible_chars() {
            let e = pct(c);
            for value in [
                format!("..{c}"),
                format!("{c}.."),
                format!(".{c}."),
                format!("{c}.{c}"),
                format!("{e}.."),
                format!("..{e}"),
                format!("%2e{e}%2e"),
            ] {
                if check_segment(&value) != Err(SegmentError::DotSegment) {
                    wrong.push(format!("U+{:04X} {value:?}", u32::from(c)));
                }
            }
            if check_segment(&format!("{c}{c}")) != Err(SegmentError::Empty) {
                wrong.push(format!("U+{:04X} alone", u32::from(c)));
            }
            // not a dot segment: the character is kept, and sent exactly (percent-encoded)
            assert!(check_segment(&format!("a{c}.")).is_ok());
        }
        assert!(
            wrong.is_empty(),
            "{} accepted: {:?}",
            wrong.len(),
            &wrong[..wrong.len().min(20)]
        );
    }

    /// Every character that NFKC or UTS #46 reads as full stops (review r9 F2: `。` U+3002,
    /// `｡` U+FF61 were missing from a hand-kept list), alone, doubled, next to `.`,
    /// percent-encoded; and the percent-escapes of a dot written in full-width forms.
    #[test]
    fn every_dot_look_alike_is_refused() {
        let mut wrong = Vec::new();
        for &(c, n) in unicode::testing::dot_chars() {
            let e = pct(c);
            let mut values = vec![format!("{c}"), e.clone(), format!(" {c}\u{200b}")];
            if n == 1 {
                values.extend([
                    format!("{c}{c}"),
                    format!(".{c}"),
                    format!("{c}%2e"),
                    format!("{e}{e}"),
                    format!("{e}."),
                ]);
            }
            for value in values {
                if check_segment(&value) != Err(SegmentError::DotSegment) {
                    wrong.push(format!("U+{:04X} {value:?}", u32::from(c)));
                }
            }
            assert!(
                check_segment(&format!("{c}{c}{c}")).is_ok(),
                "three or more dots move nothing"
            );
        }
        for value in ["%2e%2e", "%2e", "%252e%252e", "%2E.", "%u002e"] {
            let fw = full_width(value);
            if check_segment(&fw) != Err(SegmentError::DotSegment) {
                wrong.push(format!("{fw:?}"));
            }
        }
        assert!(wrong.is_empty(), "{} accepted: {wrong:?}", wrong.len());
    }

    /// One character of a disguised dot segment, written the way a server may still read it
    /// after decoding and normalizing: as given, percent-encoded (either hex case, or twice),
    /// as IIS's `%uXXXX`, or as full-width percent-escapes.
    fn written(c: char, how: u8) -> String {
        match how {
            0 => c.to_string(),
            1 => pct(c),
            2 => pct(c).to_lowercase(),
            3 => pct(c).replace('%', "%25"),
            4 if u32::from(c) <= 0xffff => format!("%u{:04x}", u32::from(c)),
            5 => full_width(&pct(c)),
            _ => c.to_string(),
        }
    }

    fn pad() -> impl Strategy<Value = char> {
        prop_oneof![
            3 => prop::sample::select(unicode::testing::invisible_chars()),
            1 => prop::sample::select(&[' ', '\t', '\u{a0}', '\u{3000}', '\u{0}', '\u{85}'][..]),
        ]
    }

    fn one_dot() -> impl Strategy<Value = char> {
        let single: Vec<char> = unicode::testing::dot_chars()
            .iter()
            .filter(|(_, n)| *n == 1)
            .map(|(c, _)| *c)
            .collect();
        prop_oneof![Just('.'), prop::sample::select(single)]
    }

    proptest! {
        /// `.` or `..` (any dot look-alikes), with any invisible or white space characters
        /// before, between and after the dots, each character written in any of the forms
        /// a server decodes or normalizes back: always refused as a dot segment, on every
        /// template parameter, and nothing of it reaches a URL.
        #[test]
        fn dot_segments_in_any_disguise_are_refused(
            dots in prop::collection::vec(one_dot(), 1..=2),
            pads in prop::collection::vec(prop::collection::vec(pad(), 0..3), 3),
            forms in prop::collection::vec(0u8..6, 12),
        ) {
            let mut chars: Vec<char> = pads[0].clone();
            chars.push(dots[0]);
            chars.extend(&pads[1]);
            chars.extend(dots.get(1));
            chars.extend(&pads[2]);
            let value: String = chars
                .iter()
                .enumerate()
                .map(|(i, c)| written(*c, forms[i % forms.len()]))
                .collect();
            prop_assert_eq!(check_segment(&value), Err(SegmentError::DotSegment), "{:?}", value);
            prop_assert_eq!(url_of(&["shop", &value]).unwrap_err(), ("transaction_id", SegmentError::DotSegment));
            prop_assert_eq!(url_of(&[&value, "1"]).unwrap_err(), ("business", SegmentError::DotSegment));
        }
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
