//! [`Iban`]: an Iranian IBAN (Sheba, شبا): `IR` + 2 check digits + 22 digits, ISO 13616
//! mod-97 checksum.
//!
//! The mod-97 check (and the generic ISO 13616 format check) comes from the maintained
//! [`iban_validate`](https://crates.io/crates/iban_validate) crate (library name `iban`,
//! type `iban::BaseIban`). Iran is not in the SWIFT IBAN registry that the crate's fully
//! validated `Iban` type uses, so the Iran-specific rules (country `IR`, 26 characters, digits
//! only) are checked here first; that also lets the error say exactly what is wrong.

use std::fmt;

use ::iban::{BaseIban, IbanLike, ParseBaseIbanError};

use super::json_schema_impl;
use super::macros::validated_string;
use super::text::{digit_value, is_grouping_separator};

/// Why a string is not a valid Iranian IBAN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IbanError {
    /// The IBAN is empty.
    #[error("IBAN is empty")]
    Empty,
    /// The country code is not `IR`.
    #[error("IBAN must start with the country code IR, found {found:?}")]
    Country {
        /// The first two characters found (upper-cased).
        found: String,
    },
    /// Wrong number of characters after removing spaces.
    #[error("IBAN must be 26 characters (IR + 24 digits), got {len}")]
    Length {
        /// The length found, in characters, without separators.
        len: usize,
    },
    /// A character after `IR` is not a digit.
    #[error("IBAN must be IR followed by 24 digits; character {position} is not a digit")]
    NonDigit {
        /// 1-based position in the normalised IBAN (`IR` = positions 1 and 2).
        position: usize,
    },
    /// The ISO 13616 mod-97 checksum does not match.
    #[error("IBAN checksum (ISO 13616 mod-97) is wrong: check the digits")]
    Checksum,
}

/// A validated Iranian IBAN, stored in electronic format (`IR062960000000100324200001`).
///
/// * Parsing accepts spaces, dashes, lower-case `ir` and Persian/Arabic digits, and normalises.
/// * `Display` and `Serialize`: the electronic format, which the API expects;
///   [`Iban::to_print_format`] gives groups of four.
/// * `Deserialize`: a string, validated like `FromStr`.
///
/// ```
/// use vandar_domain::Iban;
/// let iban: Iban = "ir61 0550 0181 8000 6734 1700 01".parse()?;
/// assert_eq!(iban.as_str(), "IR610550018180006734170001");
/// assert_eq!(iban.bank_code(), "055");
/// # Ok::<(), vandar_domain::IbanError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Iban(String);

impl Iban {
    /// Number of characters of an Iranian IBAN.
    pub const LEN: usize = 26;

    /// Validates and normalises `input`.
    ///
    /// # Errors
    /// An [`IbanError`] naming the first rule broken (country, length, digits, checksum).
    pub fn parse(input: &str) -> Result<Self, IbanError> {
        let mut chars: Vec<char> = Vec::with_capacity(Self::LEN);
        for c in input.chars() {
            if is_grouping_separator(c) {
                continue;
            }
            chars.push(match digit_value(c) {
                Some(d) => char::from(b'0' + d),
                None => c.to_ascii_uppercase(),
            });
        }
        if chars.is_empty() {
            return Err(IbanError::Empty);
        }
        let country: String = chars.iter().take(2).collect();
        if country != "IR" {
            return Err(IbanError::Country { found: country });
        }
        if chars.len() != Self::LEN {
            return Err(IbanError::Length { len: chars.len() });
        }
        if let Some(i) = chars[2..].iter().position(|c| !c.is_ascii_digit()) {
            return Err(IbanError::NonDigit { position: i + 3 });
        }
        let electronic: String = chars.into_iter().collect();
        match electronic.parse::<BaseIban>() {
            Ok(base) => Ok(Self(base.electronic_str().to_owned())),
            Err(ParseBaseIbanError::InvalidChecksum) => Err(IbanError::Checksum),
            // Unreachable after the checks above (IR + 24 digits is a valid basic format), but
            // map it rather than panic.
            Err(ParseBaseIbanError::InvalidFormat) => Err(IbanError::Length {
                len: electronic.chars().count(),
            }),
        }
    }

    /// The electronic format: `IR` followed by 24 digits.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The two ISO 13616 check digits (`"61"` for `IR61…`).
    #[must_use]
    pub fn check_digits(&self) -> &str {
        &self.0[2..4]
    }

    /// The 22-digit BBAN (everything after `IRkk`).
    #[must_use]
    pub fn bban(&self) -> &str {
        &self.0[4..]
    }

    /// The three-digit bank code that starts the BBAN (`"062"` = Ayandeh, `"055"` = Eghtesad
    /// Novin); the same codes appear in Vandar's bank lists.
    #[must_use]
    pub fn bank_code(&self) -> &str {
        &self.0[4..7]
    }

    /// The print format: groups of four separated by spaces
    /// (`IR61 0550 0181 8000 6734 1700 01`).
    #[must_use]
    pub fn to_print_format(&self) -> String {
        let mut out = String::with_capacity(Self::LEN + Self::LEN / 4);
        for (i, c) in self.0.chars().enumerate() {
            if i > 0 && i.is_multiple_of(4) {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }
}

impl fmt::Debug for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Iban({})", self.0)
    }
}

validated_string!(
    Iban,
    IbanError,
    "an Iranian IBAN string (IR + 24 digits)",
    [SensitiveSerialize, Display, AsRef]
);

json_schema_impl!(Iban, "Iban",
    de: {
        "description": "Iranian IBAN (Sheba): IR + 24 digits with a valid ISO 13616 checksum. Spaces, lower-case 'ir' and Persian digits are accepted.",
        "type": "string",
        "examples": ["IR610550018180006734170001"]
    },
    ser: {
        "description": "Iranian IBAN (Sheba) in electronic format.",
        "type": "string",
        "pattern": "^IR[0-9]{24}$",
        "examples": ["IR610550018180006734170001"]
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reference_ibans() {
        // customers.md (card to IBAN) and avand-cashin.md (cash-in deposit) examples.
        for s in ["IR610550018180006734170001", "IR880620000000302956142002"] {
            let iban: Iban = s.parse().unwrap();
            assert_eq!(iban.as_str(), s);
            assert_eq!(serde_json::to_string(&iban).unwrap(), format!("\"{s}\""));
        }
        assert_eq!(
            "IR880620000000302956142002"
                .parse::<Iban>()
                .unwrap()
                .bank_code(),
            "062"
        );
        // customers.md IB1 example: the documentation value has a wrong checksum.
        assert_eq!(
            "IR880620000000001780000000".parse::<Iban>().unwrap_err(),
            IbanError::Checksum
        );
    }

    #[test]
    fn normalises_input() {
        let want = "IR610550018180006734170001";
        for input in [
            "ir610550018180006734170001",
            "IR61 0550 0181 8000 6734 1700 01",
            "  IR61-0550-0181-8000-6734-1700-01 ",
            "IR۶۱۰۵۵۰۰۱۸۱۸۰۰۰۶۷۳۴۱۷۰۰۰۱",
            "IR٦١٠٥٥٠٠١٨١٨٠٠٠٦٧٣٤١٧٠٠٠١",
        ] {
            assert_eq!(input.parse::<Iban>().unwrap().as_str(), want, "{input}");
        }
        let iban: Iban = serde_json::from_str("\"ir61 0550 0181 8000 6734 1700 01\"").unwrap();
        assert_eq!(iban.as_str(), want);
        assert_eq!(iban.to_print_format(), "IR61 0550 0181 8000 6734 1700 01");
        assert_eq!(iban.check_digits(), "61");
        assert_eq!(iban.bban(), "0550018180006734170001");
        assert_eq!(format!("{iban:?}"), "Iban(IR610550018180006734170001)");
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!("".parse::<Iban>().unwrap_err(), IbanError::Empty);
        assert_eq!(
            "DE44500105175407324931".parse::<Iban>().unwrap_err(),
            IbanError::Country { found: "DE".into() }
        );
        assert_eq!(
            "IR61055001818000673417000".parse::<Iban>().unwrap_err(),
            IbanError::Length { len: 25 }
        );
        assert_eq!(
            "IR6105500181800067341700011".parse::<Iban>().unwrap_err(),
            IbanError::Length { len: 27 }
        );
        assert_eq!(
            "IR61055001818000673417000X".parse::<Iban>().unwrap_err(),
            IbanError::NonDigit { position: 26 }
        );
        assert_eq!(
            "IR620550018180006734170001".parse::<Iban>().unwrap_err(),
            IbanError::Checksum
        );
        let e = serde_json::from_str::<Iban>("\"IR12\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("26 characters"), "{e}");
        assert!(serde_json::from_str::<Iban>("12").is_err());
        assert!(IbanError::Checksum.to_string().contains("mod-97"));
    }

    /// Computes the check digits for `IR` + bban the ISO 13616 way (test oracle).
    fn with_check_digits(bban: &str) -> String {
        let rearranged = format!("{bban}182700"); // "IR00" moved to the end: I=18, R=27
        let rem = rearranged
            .bytes()
            .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97);
        format!("IR{:02}{bban}", 98 - rem)
    }

    proptest! {
        #![proptest_config(super::super::proptest_config())]

        #[test]
        fn valid_ibans_round_trip(bban in "[0-9]{22}") {
            let s = with_check_digits(&bban);
            let iban: Iban = s.parse().unwrap();
            prop_assert_eq!(iban.as_str(), s.as_str());
            prop_assert_eq!(iban.to_string().parse::<Iban>().unwrap(), iban.clone());
            prop_assert_eq!(iban.to_print_format().parse::<Iban>().unwrap(), iban.clone());
            let json = serde_json::to_string(&iban).unwrap();
            prop_assert_eq!(serde_json::from_str::<Iban>(&json).unwrap(), iban);
        }

        #[test]
        fn single_digit_change_is_caught(bban in "[0-9]{22}", pos in 4usize..26, delta in 1u8..10) {
            let s = with_check_digits(&bban);
            let mut bytes = s.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let broken = String::from_utf8(bytes).unwrap();
            prop_assert_eq!(broken.parse::<Iban>().unwrap_err(), IbanError::Checksum);
        }
    }
}
