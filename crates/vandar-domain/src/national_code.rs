//! [`NationalCode`]: the Iranian individual national code (کد ملی), 10 digits with a check
//! digit.
//!
//! Check: with digits `d0..d9`, `s = Σ d_i·(10 − i)` for `i` in `0..9`, `r = s mod 11`; valid
//! when `d9 == r` for `r < 2`, else `d9 == 11 − r`. Codes of ten identical digits
//! (`1111111111`) pass that arithmetic but are never issued, so they are rejected.

use std::fmt;

use super::json_schema_impl;
use super::macros::validated_string;
use super::text::{Digits, digits_only};

/// Why a string is not a valid national code. Never contains the code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NationalCodeError {
    /// No digits.
    #[error("national code is empty")]
    Empty,
    /// A character that is neither a digit nor a space/dash.
    #[error("national code contains an invalid character at position {position}")]
    InvalidCharacter {
        /// 1-based character position in the input.
        position: usize,
    },
    /// Not 10 digits.
    #[error("national code must have 10 digits, got {len}")]
    Length {
        /// Number of digits found.
        len: usize,
    },
    /// All ten digits are the same.
    #[error("national code cannot consist of one repeated digit")]
    RepeatedDigit,
    /// The check digit does not match.
    #[error("national code check digit is wrong (mistyped digit?)")]
    Checksum,
    /// A JSON value of the wrong type where a national code was expected.
    #[error("national code must be a string of digits")]
    WrongType,
}

/// A validated 10-digit Iranian national code.
///
/// * Parsing accepts spaces, dashes and Persian/Arabic digits (no zero-padding of shorter
///   input: a missing leading zero is reported as a length error).
/// * `Debug` and `Display` print it masked: six asterisks and the last four digits
///   (`******8416`); [`NationalCode::expose`] gives the full code.
/// * `Serialize` emits the full code as a string; `Deserialize` accepts a string validated
///   like `FromStr` (or a JSON integer, left-padded with zeros to 10 digits).
///
/// ```
/// use vandar_domain::NationalCode;
/// let code: NationalCode = "299-396841-6".parse()?;
/// assert_eq!(code.to_string(), "******8416");
/// assert_eq!(code.expose(), "2993968416");
/// # Ok::<(), vandar_domain::NationalCodeError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NationalCode(String);

impl NationalCode {
    /// Validates and normalises `input`.
    ///
    /// # Errors
    /// A [`NationalCodeError`] saying what is wrong (never the code itself).
    pub fn parse(input: &str) -> Result<Self, NationalCodeError> {
        let digits = match digits_only(input) {
            Digits::Ok(d) => d,
            Digits::Invalid { position } => {
                return Err(NationalCodeError::InvalidCharacter { position });
            }
        };
        if digits.is_empty() {
            return Err(NationalCodeError::Empty);
        }
        if digits.len() != 10 {
            return Err(NationalCodeError::Length { len: digits.len() });
        }
        let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
        if d.iter().all(|&x| x == d[0]) {
            return Err(NationalCodeError::RepeatedDigit);
        }
        let sum: u32 = d[..9].iter().zip((2..=10).rev()).map(|(x, w)| x * w).sum();
        let r = sum % 11;
        let expected = if r < 2 { r } else { 11 - r };
        if d[9] != expected {
            return Err(NationalCodeError::Checksum);
        }
        Ok(Self(digits))
    }

    /// The full ten digits. Handle with care: do not log.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn mask(&self) -> String {
        format!("******{}", &self.0[6..])
    }
}

impl fmt::Debug for NationalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NationalCode({})", self.mask())
    }
}

impl fmt::Display for NationalCode {
    /// Masked: `******8416`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.mask())
    }
}

// `Display` is the masked one above. `Deserialize`: every visit method reports a
// `NationalCodeError`, never serde's default message, which would echo the offending value;
// a JSON integer lost its leading zeros, so it is left-padded to 10 digits.
validated_string!(
    NationalCode,
    NationalCodeError,
    "a 10-digit national code string",
    [SensitiveSerialize],
    integers: |v| format!("{v:010}")
);

json_schema_impl!(NationalCode, "NationalCode", {
    "description": "Iranian national code: 10 digits with a valid check digit.",
    "type": "string",
    "pattern": "^[0-9]{10}$"
});

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reference_national_code() {
        // subscription.md mandate example.
        let code: NationalCode = serde_json::from_str("\"2993968416\"").unwrap();
        assert_eq!(code.expose(), "2993968416");
        assert_eq!(code.to_string(), "******8416");
        assert_eq!(format!("{code:?}"), "NationalCode(******8416)");
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"2993968416\"");
    }

    #[test]
    fn accepts_separators_and_persian_digits() {
        for input in ["299 396 8416", "299-396841-6", "۲۹۹۳۹۶۸۴۱۶", "٢٩٩٣٩٦٨٤١٦"]
        {
            assert_eq!(
                input.parse::<NationalCode>().unwrap().expose(),
                "2993968416"
            );
        }
        // A JSON integer is accepted too.
        assert_eq!(
            serde_json::from_str::<NationalCode>("2993968416")
                .unwrap()
                .expose(),
            "2993968416"
        );
        // A JSON integer loses leading zeros; they are restored.
        let padded = with_check_digit("001234567");
        let n: u64 = padded.parse().unwrap();
        assert_eq!(
            serde_json::from_str::<NationalCode>(&n.to_string())
                .unwrap()
                .expose(),
            padded
        );
    }

    #[test]
    fn rejects_without_echoing() {
        let cases = [
            ("", NationalCodeError::Empty),
            ("299396841", NationalCodeError::Length { len: 9 }),
            ("29939684160", NationalCodeError::Length { len: 11 }),
            ("2993968417", NationalCodeError::Checksum),
            ("1111111111", NationalCodeError::RepeatedDigit),
            ("0000000000", NationalCodeError::RepeatedDigit),
            (
                "29939x8416",
                NationalCodeError::InvalidCharacter { position: 6 },
            ),
        ];
        for (input, want) in cases {
            let err = input.parse::<NationalCode>().unwrap_err();
            assert_eq!(err, want, "{input:?}");
            assert!(!err.to_string().contains("2993"), "{err}");
        }
        for json in [
            "\"2993968417\"",
            "-2993968416",
            "2993968416.0",
            "2993968417",
        ] {
            let msg = serde_json::from_str::<NationalCode>(json)
                .unwrap_err()
                .to_string();
            assert!(!msg.contains("299396841"), "{msg}");
            assert!(msg.contains("national code"), "{msg}");
        }
    }

    /// Appends the check digit (test oracle, written independently of `parse`).
    fn with_check_digit(first9: &str) -> String {
        let s: u32 = first9
            .chars()
            .zip([10u32, 9, 8, 7, 6, 5, 4, 3, 2])
            .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
            .sum();
        let r = s % 11;
        format!("{first9}{}", if r < 2 { r } else { 11 - r })
    }

    proptest! {
        #![proptest_config(super::super::proptest_config())]

        #[test]
        fn national_code_round_trips(first9 in "[0-9]{9}") {
            let code = with_check_digit(&first9);
            prop_assume!(!code.chars().all(|c| code.starts_with(c)));
            let parsed: NationalCode = code.parse().unwrap();
            prop_assert_eq!(parsed.expose(), code.as_str());
            prop_assert_eq!(parsed.expose().parse::<NationalCode>().unwrap(), parsed.clone());
            prop_assert_eq!(parsed.to_string(), format!("******{}", &code[6..]));
            let json = serde_json::to_string(&parsed).unwrap();
            prop_assert_eq!(serde_json::from_str::<NationalCode>(&json).unwrap(), parsed);
        }

        #[test]
        fn wrong_check_digit_is_caught(first9 in "[0-9]{9}", delta in 1u32..10) {
            let code = with_check_digit(&first9);
            let last = code.chars().last().and_then(|c| c.to_digit(10)).unwrap_or(0);
            let broken = format!("{first9}{}", (last + delta) % 10);
            let err = broken.parse::<NationalCode>().unwrap_err();
            prop_assert!(
                err == NationalCodeError::Checksum || err == NationalCodeError::RepeatedDigit,
                "{:?}", err
            );
        }
    }
}
