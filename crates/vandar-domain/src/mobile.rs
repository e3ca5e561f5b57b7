//! [`Mobile`]: an Iranian mobile number, normalised to `09xxxxxxxxx` (the form the API wants:
//! "`09123456789` format, no country code").

use std::fmt;

use super::json_schema_impl;
use super::macros::validated_string;
use super::text::{Digits, digits_only};

/// Why a string is not a valid Iranian mobile number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MobileError {
    /// No digits.
    #[error("mobile number is empty")]
    Empty,
    /// A character that is neither a digit, a leading `+`, a space, a dash nor a parenthesis.
    #[error("mobile number contains an invalid character at position {position}")]
    InvalidCharacter {
        /// 1-based character position in the input.
        position: usize,
    },
    /// Wrong number of digits after the leading `0` or the country code.
    #[error(
        "mobile number must have 10 digits after the leading 0 or +98 (09xxxxxxxxx), got {len}"
    )]
    Length {
        /// Number of digits found after the leading `0` or the country code.
        len: usize,
    },
    /// The number does not start with 09 / 9 after the country code.
    #[error("mobile number must start with 09 (or +98 9)")]
    Prefix,
}

/// An Iranian mobile number, stored as `09` + 9 digits.
///
/// * Parsing accepts `09121234567`, `9121234567`, `+989121234567`, `00989121234567`,
///   `989121234567`, with spaces, dashes or parentheses, and Persian/Arabic digits.
/// * `Display`, `Serialize`: `09121234567`. `Deserialize`: a string, validated like `FromStr`.
///
/// ```
/// use vandar_domain::Mobile;
/// let m: Mobile = "+98 912 931 1989".parse()?;
/// assert_eq!(m.as_str(), "09129311989");
/// assert_eq!(m.to_international(), "+989129311989");
/// # Ok::<(), vandar_domain::MobileError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mobile(String);

impl Mobile {
    /// Validates and normalises `input`.
    ///
    /// # Errors
    /// A [`MobileError`] saying what is wrong.
    pub fn parse(input: &str) -> Result<Self, MobileError> {
        let trimmed = input.trim();
        let (plus, rest) = match trimmed.strip_prefix('+') {
            Some(r) => (true, r),
            None => (false, trimmed),
        };
        let cleaned: String = rest.chars().filter(|c| !matches!(c, '(' | ')')).collect();
        let digits = match digits_only(&cleaned) {
            Digits::Ok(d) => d,
            Digits::Invalid { .. } => {
                // Report the position in the original input.
                let position = input
                    .chars()
                    .enumerate()
                    .skip_while(|(_, c)| c.is_whitespace())
                    .enumerate()
                    .find(|&(k, (_, c))| {
                        !(super::text::digit_value(c).is_some()
                            || super::text::is_grouping_separator(c)
                            || matches!(c, '(' | ')')
                            || (k == 0 && c == '+'))
                    })
                    .map_or(1, |(_, (i, _))| i + 1);
                return Err(MobileError::InvalidCharacter { position });
            }
        };
        if digits.is_empty() {
            return Err(MobileError::Empty);
        }
        let national = if let Some(r) = digits.strip_prefix("0098") {
            r
        } else if plus || (digits.len() == 12 && digits.starts_with("98")) {
            digits.strip_prefix("98").ok_or(MobileError::Prefix)?
        } else if let Some(r) = digits.strip_prefix('0') {
            r
        } else {
            &digits
        };
        if national.len() != 10 {
            return Err(MobileError::Length {
                len: national.len(),
            });
        }
        if !national.starts_with('9') {
            return Err(MobileError::Prefix);
        }
        Ok(Self(format!("0{national}")))
    }

    /// The normalised `09xxxxxxxxx` form.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The E.164 form `+989xxxxxxxxx`.
    #[must_use]
    pub fn to_international(&self) -> String {
        format!("+98{}", &self.0[1..])
    }
}

impl fmt::Debug for Mobile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mobile({})", self.0)
    }
}

validated_string!(
    Mobile,
    MobileError,
    "an Iranian mobile number string (09xxxxxxxxx)",
    [Serialize, Display, AsRef]
);

json_schema_impl!(Mobile,"Mobile",
    de: {
        "description": "Iranian mobile number. Accepts 09xxxxxxxxx, +98/0098/98 prefixes, spaces and Persian digits.",
        "type": "string",
        "examples": ["09123456789"]
    },
    ser: {
        "description": "Iranian mobile number, 09xxxxxxxxx.",
        "type": "string",
        "pattern": "^09[0-9]{9}$",
        "examples": ["09123456789"]
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reference_mobiles() {
        // subscription.md: mandate mobile and the documented format example.
        for s in ["09129311989", "09123456789"] {
            let m: Mobile = serde_json::from_str(&format!("\"{s}\"")).unwrap();
            assert_eq!(m.as_str(), s);
            assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{s}\""));
        }
    }

    #[test]
    fn accepted_spellings() {
        for input in [
            "09123456789",
            "9123456789",
            "+989123456789",
            "+98 912 345 6789",
            "+98 (912) 345-6789",
            "00989123456789",
            "0098 912 345 6789",
            "989123456789",
            " 0912-345-6789 ",
            "۰۹۱۲۳۴۵۶۷۸۹",
            "٠٩١٢٣٤٥٦٧٨٩",
            "+۹۸۹۱۲۳۴۵۶۷۸۹",
        ] {
            assert_eq!(
                input.parse::<Mobile>().unwrap().as_str(),
                "09123456789",
                "{input}"
            );
        }
        let m: Mobile = "09123456789".parse().unwrap();
        assert_eq!(m.to_international(), "+989123456789");
        assert_eq!(format!("{m:?}"), "Mobile(09123456789)");
    }

    #[test]
    fn rejects_with_reason() {
        assert_eq!("".parse::<Mobile>().unwrap_err(), MobileError::Empty);
        assert_eq!(
            "0912345678".parse::<Mobile>().unwrap_err(),
            MobileError::Length { len: 9 }
        );
        assert_eq!(
            "091234567890".parse::<Mobile>().unwrap_err(),
            MobileError::Length { len: 11 }
        );
        assert_eq!(
            "912345678".parse::<Mobile>().unwrap_err(),
            MobileError::Length { len: 9 }
        );
        assert_eq!(
            "+98 912 345 678".parse::<Mobile>().unwrap_err(),
            MobileError::Length { len: 9 }
        );
        assert_eq!(
            "02188776655".parse::<Mobile>().unwrap_err(),
            MobileError::Prefix
        );
        assert_eq!(
            "+1 912 345 6789".parse::<Mobile>().unwrap_err(),
            MobileError::Prefix
        );
        assert_eq!(
            "+98 21 8877 6655".parse::<Mobile>().unwrap_err(),
            MobileError::Prefix
        );
        assert_eq!(
            "0912a456789".parse::<Mobile>().unwrap_err(),
            MobileError::InvalidCharacter { position: 5 }
        );
        assert_eq!(
            "09+123456789".parse::<Mobile>().unwrap_err(),
            MobileError::InvalidCharacter { position: 3 }
        );
        let e = serde_json::from_str::<Mobile>("\"0912\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("10 digits after the leading 0"), "{e}");
        assert!(serde_json::from_str::<Mobile>("9123456789").is_err());
    }

    proptest! {
        #![proptest_config(super::super::proptest_config())]

        #[test]
        fn mobile_round_trips(rest in "9[0-9]{9}", style in 0usize..4) {
            let input = match style {
                0 => format!("0{rest}"),
                1 => format!("+98{rest}"),
                2 => format!("0098 {} {}", &rest[..3], &rest[3..]),
                _ => rest.clone(),
            };
            let m: Mobile = input.parse().unwrap();
            prop_assert_eq!(m.as_str(), format!("0{rest}"));
            prop_assert_eq!(m.to_string().parse::<Mobile>().unwrap(), m.clone());
            prop_assert_eq!(m.to_international().parse::<Mobile>().unwrap(), m.clone());
            let json = serde_json::to_string(&m).unwrap();
            prop_assert_eq!(serde_json::from_str::<Mobile>(&json).unwrap(), m);
        }
    }
}
