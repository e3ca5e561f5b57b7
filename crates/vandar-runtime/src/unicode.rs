//! The character classes the runtime's text checks share: the path encoder's dot-segment check
//! ([`crate::path`]), the URL fields ([`crate::check::normalize_http_url`]) and the scrubber's
//! gaps between the digit groups of a number ([`crate::redact`]).
//!
//! Both come from Unicode's own data, not from lists kept by hand: ICU4X (`icu_properties`
//! for the properties, `icu_normalizer` for NFKC), with the compiled data of the Unicode
//! version those crates ship. A character Unicode adds to a class is covered when the crates
//! are updated.

use std::borrow::Cow;

use icu_normalizer::ComposingNormalizerBorrowed;
use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
use icu_properties::{CodePointMapData, CodePointSetData};

/// Whether `c` prints as nothing (or nothing a reader would see as a character of its own)
/// but is still there in the text: every `Default_Ignorable_Code_Point` (zero-width
/// characters, the bidi controls and marks including U+061C ARABIC LETTER MARK, the soft
/// hyphen, the combining grapheme joiner, variation selectors, tags, the Hangul fillers, the
/// Mongolian vowel separator, the byte order mark, ...) and every format character (general
/// category `Cf`).
///
/// White space and control characters (`Cc`) are not in this class; the callers test them
/// with [`char::is_whitespace`] and [`char::is_control`].
pub(crate) fn is_invisible(c: char) -> bool {
    // No ASCII character is either (the ASCII controls are `Cc`): the usual text stays off
    // the tables.
    !c.is_ascii()
        && (CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
            || CodePointMapData::<GeneralCategory>::new().get(c) == GeneralCategory::Format)
}

/// The full stops of UTS #46 (IDNA compatibility processing, section 2.3 "Label
/// Separators") besides U+002E: U+FF0E FULLWIDTH FULL STOP, U+3002 IDEOGRAPHIC FULL STOP and
/// U+FF61 HALFWIDTH IDEOGRAPHIC FULL STOP, all mapped to `.`.
const UTS46_FULL_STOPS: [char; 3] = ['\u{ff0e}', '\u{3002}', '\u{ff61}'];

/// `text` as a server that normalizes it may read it: NFKC (`％２ｅ` is `%2e`, `‥` is `..`,
/// `﹒` and `․` are `.`), then UTS #46's full stops as `.` (`。`, and `｡`, which NFKC makes
/// `。`). ASCII text is its own fold and is returned as it is.
pub(crate) fn fold(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        return Cow::Borrowed(text);
    }
    let nfkc = ComposingNormalizerBorrowed::new_nfkc().normalize(text);
    if nfkc.contains(UTS46_FULL_STOPS) {
        Cow::Owned(
            nfkc.chars()
                .map(|c| {
                    if UTS46_FULL_STOPS.contains(&c) {
                        '.'
                    } else {
                        c
                    }
                })
                .collect(),
        )
    } else {
        nfkc
    }
}

/// Test data read from Unicode's tables directly (not through [`is_invisible`] or [`fold`]),
/// for the property tests of the path encoder, the URL fields and the scrubber.
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::LazyLock;

    use icu_normalizer::DecomposingNormalizerBorrowed;

    use super::*;

    /// Every `Default_Ignorable_Code_Point` and every character of general category `Cf`.
    pub(crate) fn invisible_chars() -> &'static [char] {
        static ALL: LazyLock<Vec<char>> = LazyLock::new(|| {
            let ignorable = CodePointSetData::new::<DefaultIgnorableCodePoint>().iter_ranges();
            let format = CodePointMapData::<GeneralCategory>::new()
                .iter_ranges_for_value(GeneralCategory::Format);
            let mut all: Vec<char> = ignorable
                .chain(format)
                .flat_map(|r| r.filter_map(char::from_u32))
                .collect();
            all.sort_unstable();
            all.dedup();
            all
        });
        &ALL
    }

    /// Every character but `.` that reads as one or two full stops, with how many: those
    /// whose compatibility decomposition (NFKD) is only full stops (`．`, `﹒`, `․`, `‥`, ...),
    /// and those the `url` crate's host parser (UTS #46) reads as a label separator (`。`,
    /// `｡`).
    pub(crate) fn dot_chars() -> &'static [(char, usize)] {
        static ALL: LazyLock<Vec<(char, usize)>> = LazyLock::new(|| {
            let nfkd = DecomposingNormalizerBorrowed::new_nfkd();
            let dots = |s: &str| (!s.is_empty() && s.chars().all(|c| c == '.')).then_some(s.len());
            (0x80..=0x10_ffff_u32)
                .filter_map(char::from_u32)
                .filter_map(|c| {
                    let n = dots(&nfkd.normalize(c.encode_utf8(&mut [0; 4]))).or_else(|| {
                        match url::Host::parse(&format!("a{c}b")) {
                            Ok(url::Host::Domain(d)) => {
                                dots(d.strip_prefix('a')?.strip_suffix('b')?)
                            }
                            _ => None,
                        }
                    })?;
                    (n <= 2).then_some((c, n))
                })
                .collect()
        });
        &ALL
    }

    #[test]
    fn the_test_data_has_the_known_members() {
        let invisible = invisible_chars();
        for c in [
            '\u{61c}',
            '\u{180e}',
            '\u{34f}',
            '\u{fe0f}',
            '\u{e0001}',
            '\u{3164}',
        ] {
            assert!(invisible.contains(&c), "U+{:04X}", u32::from(c));
        }
        assert!(invisible.len() > 4000, "{}", invisible.len());
        let dots = dot_chars();
        for c in [
            '\u{ff0e}', '\u{fe52}', '\u{2024}', '\u{2025}', '\u{3002}', '\u{ff61}',
        ] {
            assert!(dots.iter().any(|(d, _)| *d == c), "U+{:04X}", u32::from(c));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The characters the hand-kept lists missed (review r9, F1), and the ones they had.
    #[test]
    fn invisible_is_default_ignorable_or_format() {
        for c in [
            '\u{00ad}',
            '\u{034f}',
            '\u{061c}',
            '\u{115f}',
            '\u{1160}',
            '\u{17b4}',
            '\u{180b}',
            '\u{180e}',
            '\u{200b}',
            '\u{200c}',
            '\u{200d}',
            '\u{200e}',
            '\u{200f}',
            '\u{202a}',
            '\u{202e}',
            '\u{2060}',
            '\u{2064}',
            '\u{2066}',
            '\u{2069}',
            '\u{206a}',
            '\u{206f}',
            '\u{3164}',
            '\u{fe00}',
            '\u{fe0f}',
            '\u{feff}',
            '\u{ffa0}',
            '\u{1bca0}',
            '\u{e0001}',
            '\u{e007f}',
            '\u{e0100}',
            // format characters that are not default-ignorable
            '\u{0600}',
            '\u{fff9}',
        ] {
            assert!(is_invisible(c), "U+{:04X}", u32::from(c));
        }
        for c in [
            ' ', '\t', '\0', '.', 'a', '\u{a0}', '\u{3000}', '\u{85}', 'ب', '\u{06f0}', '\u{301}',
            '\u{2024}', '\u{3002}',
        ] {
            assert!(!is_invisible(c), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn fold_reads_compatibility_forms_and_full_stops() {
        for (text, want) in [
            ("%2e", "%2e"),
            ("\u{ff05}\u{ff12}\u{ff45}", "%2e"),
            ("\u{3002}\u{3002}", ".."),
            ("\u{ff61}\u{ff61}", ".."),
            ("\u{ff0e}\u{ff61}", ".."),
            ("\u{fe12}", "."),
            ("\u{2025}", ".."),
            ("\u{fe52}\u{2024}", ".."),
            ("سلام", "سلام"),
            ("\u{3164}", "\u{1160}"),
        ] {
            assert_eq!(fold(text), want, "{text:?}");
        }
        assert!(matches!(fold("tx-1.2"), Cow::Borrowed(_)));
    }
}
