//! Small text helpers shared by the parsers: digit normalisation and separator stripping.

/// Maps an ASCII, Persian (`۰`–`۹`, U+06F0..) or Arabic-Indic (`٠`–`٩`, U+0660..) digit to its
/// value.
pub(crate) fn digit_value(c: char) -> Option<u8> {
    match c {
        '0'..='9' => u8::try_from(u32::from(c) - u32::from('0')).ok(),
        '\u{06F0}'..='\u{06F9}' => u8::try_from(u32::from(c) - 0x06F0).ok(),
        '\u{0660}'..='\u{0669}' => u8::try_from(u32::from(c) - 0x0660).ok(),
        _ => None,
    }
}

/// Replaces Persian and Arabic-Indic digits by ASCII digits; every other character is kept.
pub(crate) fn normalize_digits(s: &str) -> String {
    s.chars()
        .map(|c| match digit_value(c) {
            Some(d) => char::from(b'0' + d),
            None => c,
        })
        .collect()
}

/// Whether `c` is a separator people put inside numbers they type: whitespace (incl. the
/// zero-width non-joiner and no-break spaces common in Persian text) or a dash.
pub(crate) fn is_grouping_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '\u{200C}' | '\u{200F}' | '\u{200E}' | '\u{2010}'..='\u{2015}' | '\u{2212}'
        )
}

/// The outcome of reducing a user-typed number to ASCII digits.
pub(crate) enum Digits {
    /// Only digits and separators: the ASCII digits.
    Ok(String),
    /// A character that is neither a digit nor a separator, at this 1-based character position
    /// (of the input as typed).
    Invalid {
        /// 1-based character position.
        position: usize,
    },
}

/// Drops separators, normalises digits, and reports the first character that is neither.
pub(crate) fn digits_only(s: &str) -> Digits {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        if let Some(d) = digit_value(c) {
            out.push(char::from(b'0' + d));
        } else if !is_grouping_separator(c) {
            return Digits::Invalid { position: i + 1 };
        }
    }
    Digits::Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persian_and_arabic_digits_normalise() {
        assert_eq!(normalize_digits("۰۱۲۳۴۵۶۷۸۹"), "0123456789");
        assert_eq!(normalize_digits("٠١٢٣٤٥٦٧٨٩"), "0123456789");
        assert_eq!(normalize_digits("a۱b"), "a1b");
    }

    #[test]
    fn digits_only_reports_position() {
        assert!(matches!(digits_only("12 34-5"), Digits::Ok(s) if s == "12345"));
        assert!(matches!(
            digits_only("12x4"),
            Digits::Invalid { position: 3 }
        ));
    }
}
