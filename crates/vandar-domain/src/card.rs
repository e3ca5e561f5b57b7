//! Bank cards: [`CardNumber`] (full PAN, masked when printed), [`MaskedCardNumber`] (what the
//! API returns, e.g. `603799******6299`) and [`CardHash`] (the SHA-256 `cid`/`CID`).
//!
//! A full card number never appears in `Debug`, `Display` or an error message; only
//! [`CardNumber::expose`] and serialisation give it out.

use std::convert::Infallible;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Deserializer};
use sha2::{Digest, Sha256};

use super::json_schema_impl;
use super::macros::{string_newtype, validated_string};
use super::text::{digit_value, is_grouping_separator};

/// Why a card number, masked card number or card hash is invalid. Never contains the number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CardError {
    /// No digits at all.
    #[error("card number is empty")]
    Empty,
    /// A character that is neither a digit nor a space/dash.
    #[error("card number contains an invalid character at position {position}")]
    InvalidCharacter {
        /// 1-based character position in the input.
        position: usize,
    },
    /// Not 16 digits.
    #[error("card number must have 16 digits, got {len}")]
    Length {
        /// Number of digits found.
        len: usize,
    },
    /// The Luhn check digit does not match.
    #[error("card number fails the Luhn check (mistyped digit?)")]
    Luhn,
    /// A JSON value of the wrong type (e.g. a float) where a card number was expected.
    #[error("card number must be a string of digits")]
    WrongType,
    /// The card hash is not 64 characters long.
    #[error("card hash must be 64 hex characters (SHA-256), got {len}")]
    HashLength {
        /// Number of characters found.
        len: usize,
    },
    /// The card hash has a non-hex character.
    #[error("card hash must be hexadecimal; character {position} is not")]
    HashNotHex {
        /// 1-based character position.
        position: usize,
    },
}

/// A full 16-digit bank card number (PAN) with a valid Luhn check digit.
///
/// * Parsing accepts spaces, dashes and Persian/Arabic digits.
/// * `Debug` and `Display` print it masked: first 6 + `******` + last 4
///   (`603799******6299`); [`CardNumber::expose`] gives the full digits.
/// * `Serialize` emits the full digits as a string (the API needs them);
///   `Deserialize` accepts a string (or a 16-digit JSON integer) validated like `FromStr`.
///
/// ```
/// use vandar_domain::CardNumber;
/// let card: CardNumber = "6037 9974 0000 0007".parse()?;
/// assert_eq!(card.to_string(), "603799******0007");
/// assert_eq!(card.expose(), "6037997400000007");
/// # Ok::<(), vandar_domain::CardError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CardNumber(String);

impl CardNumber {
    /// Number of digits of a card number.
    pub const LEN: usize = 16;

    /// Validates and normalises `input`.
    ///
    /// # Errors
    /// A [`CardError`] saying what is wrong (never the number itself).
    pub fn parse(input: &str) -> Result<Self, CardError> {
        let mut digits = String::with_capacity(Self::LEN);
        for (i, c) in input.chars().enumerate() {
            if let Some(d) = digit_value(c) {
                digits.push(char::from(b'0' + d));
            } else if !is_grouping_separator(c) {
                return Err(CardError::InvalidCharacter { position: i + 1 });
            }
        }
        if digits.is_empty() {
            return Err(CardError::Empty);
        }
        if digits.len() != Self::LEN {
            return Err(CardError::Length { len: digits.len() });
        }
        if !luhn_valid(&digits) {
            return Err(CardError::Luhn);
        }
        Ok(Self(digits))
    }

    /// The full 16 digits. Handle with care: do not log.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The first six digits (the issuer identification number, BIN).
    #[must_use]
    pub fn bin(&self) -> &str {
        &self.0[..6]
    }

    /// The last four digits.
    #[must_use]
    pub fn last_four(&self) -> &str {
        &self.0[12..]
    }

    /// The masked form `603799******6299` as a [`MaskedCardNumber`].
    #[must_use]
    pub fn masked(&self) -> MaskedCardNumber {
        MaskedCardNumber(self.mask())
    }

    /// The SHA-256 [`CardHash`] of the 16 ASCII digits.
    #[must_use]
    pub fn hash(&self) -> CardHash {
        CardHash::of(self)
    }

    fn mask(&self) -> String {
        format!("{}******{}", self.bin(), self.last_four())
    }
}

/// Luhn (mod 10) check over ASCII digits.
fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber({})", self.mask())
    }
}

impl fmt::Display for CardNumber {
    /// Masked: `603799******6299`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.mask())
    }
}

// `Display` is the masked one above. `Deserialize`: every visit method reports a
// `CardError`, never serde's default message, which would echo the offending value.
validated_string!(
    CardNumber,
    CardError,
    "a 16-digit card number string",
    [SensitiveSerialize],
    integers: |v| v.to_string()
);

json_schema_impl!(CardNumber, "CardNumber", {
    "description": "Full 16-digit bank card number (Luhn-valid). Spaces, dashes and Persian digits are accepted on input.",
    "type": "string",
    "pattern": "^[0-9]{16}$"
});

/// A masked card number as the API returns it (`603799******6299`, `6362********9805`).
///
/// A plain string holder: any text is accepted and kept as is (`FromStr` cannot fail), so a
/// change in the API's masking never breaks deserialisation. Serialises as the same string,
/// and [`as_str`](Self::as_str) gives it.
///
/// `Display` and `Debug` do not trust the server's masking: they show at most the first six
/// and the last four positions as digits (separators not counted) and a `*` for every other
/// digit, so a full number the API sends unmasked prints as `603799******9993`.
///
/// ```
/// use vandar_domain::MaskedCardNumber;
///
/// let sent_whole = MaskedCardNumber::new("6037997599999993");
/// assert_eq!(sent_whole.to_string(), "603799******9993");
/// assert_eq!(format!("{sent_whole:?}"), r#"MaskedCardNumber("603799******9993")"#);
/// assert_eq!(sent_whole.as_str(), "6037997599999993");
/// assert_eq!(MaskedCardNumber::new("6362********9805").to_string(), "6362********9805");
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MaskedCardNumber(String);

impl MaskedCardNumber {
    /// Wraps `value` as received.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The text as received.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The visible leading digits before the first mask character (`"603799"`), if any.
    #[must_use]
    pub fn leading_digits(&self) -> Option<&str> {
        let end = self
            .0
            .char_indices()
            .find(|(_, c)| !c.is_ascii_digit())
            .map_or(self.0.len(), |(i, _)| i);
        (end > 0).then(|| &self.0[..end])
    }

    /// The visible trailing digits after the last mask character (`"6299"`), if any.
    #[must_use]
    pub fn trailing_digits(&self) -> Option<&str> {
        let start = self
            .0
            .char_indices()
            .rev()
            .find(|(_, c)| !c.is_ascii_digit())
            .map_or(0, |(i, c)| i + c.len_utf8());
        (start < self.0.len()).then(|| &self.0[start..])
    }

    /// Whether `card` is consistent with this mask: the same number of positions (separators
    /// ignored) and every visible digit equal. Mask characters are anything but digits.
    #[must_use]
    pub fn matches(&self, card: &CardNumber) -> bool {
        let masked: Vec<char> = self
            .0
            .chars()
            .filter(|c| !is_grouping_separator(*c))
            .map(|c| digit_value(c).map_or(c, |d| char::from(b'0' + d)))
            .collect();
        masked.len() == CardNumber::LEN
            && masked
                .iter()
                .zip(card.expose().chars())
                .all(|(m, d)| !m.is_ascii_digit() || *m == d)
    }
}

impl MaskedCardNumber {
    /// The text with every digit but those of the first six and the last four positions
    /// (grouping separators not counted) replaced by `*`.
    fn shown(&self) -> std::borrow::Cow<'_, str> {
        let positions = self
            .0
            .chars()
            .filter(|c| !is_grouping_separator(*c))
            .count();
        let hidden = |p: usize| p >= 6 && p + 4 < positions;
        let mut p = 0;
        let mut masked = false;
        let mut out = String::with_capacity(self.0.len());
        for c in self.0.chars() {
            if is_grouping_separator(c) {
                out.push(c);
                continue;
            }
            if hidden(p) && c.is_numeric() {
                out.push('*');
                masked = true;
            } else {
                out.push(c);
            }
            p += 1;
        }
        if masked {
            std::borrow::Cow::Owned(out)
        } else {
            std::borrow::Cow::Borrowed(&self.0)
        }
    }
}

impl fmt::Debug for MaskedCardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MaskedCardNumber")
            .field(&self.shown())
            .finish()
    }
}

impl fmt::Display for MaskedCardNumber {
    /// At most the first six and the last four digits: `603799******9993`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

string_newtype!(MaskedCardNumber: Serialize);

impl FromStr for MaskedCardNumber {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl From<&CardNumber> for MaskedCardNumber {
    fn from(card: &CardNumber) -> Self {
        card.masked()
    }
}

impl<'de> Deserialize<'de> for MaskedCardNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

json_schema_impl!(MaskedCardNumber, "MaskedCardNumber", {
    "description": "Masked card number as returned by the API, e.g. 603799******6299.",
    "type": "string",
    "examples": ["603799******6299"]
});

/// The SHA-256 hash of a card number as the API returns it (`CID` in IPG transaction info,
/// upper-case hex; `cid` in verify and the transaction list).
///
/// Exactly 64 hex digits. The text is kept as received (so it serialises back unchanged), but
/// equality and hashing ignore case. [`CardHash::of`] computes the hash of a [`CardNumber`]
/// (SHA-256 of its 16 ASCII digits, as the docs describe) so you can check which card paid.
#[derive(Debug, Clone)]
pub struct CardHash(String);

impl CardHash {
    /// Validates a 64-character hex string (either case).
    ///
    /// # Errors
    /// [`CardError::HashLength`] or [`CardError::HashNotHex`].
    pub fn parse(input: &str) -> Result<Self, CardError> {
        let s = input.trim();
        // By bytes: every byte before the first non-hex one is ASCII, so the byte index is
        // also the character index.
        if let Some(i) = s.bytes().position(|b| !b.is_ascii_hexdigit()) {
            return Err(CardError::HashNotHex { position: i + 1 });
        }
        if s.len() != 64 {
            return Err(CardError::HashLength { len: s.len() });
        }
        Ok(Self(s.to_owned()))
    }

    /// SHA-256 of the card's 16 ASCII digits, as lower-case hex.
    #[must_use]
    pub fn of(card: &CardNumber) -> Self {
        let digest = Sha256::digest(card.expose().as_bytes());
        let mut hex = String::with_capacity(64);
        for b in &digest {
            hex.push(char::from(HEX[usize::from(b >> 4)]));
            hex.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        Self(hex)
    }

    /// The hash as received.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hash in lower-case hex.
    #[must_use]
    pub fn to_lowercase(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    /// Whether this is the hash of `card`.
    #[must_use]
    pub fn matches(&self, card: &CardNumber) -> bool {
        *self == Self::of(card)
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl PartialEq for CardHash {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl Eq for CardHash {}

impl Hash for CardHash {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for b in self.0.bytes() {
            state.write_u8(b.to_ascii_lowercase());
        }
    }
}

validated_string!(
    CardHash,
    CardError,
    "a SHA-256 card hash (64 hex characters)",
    [Serialize, Display]
);

json_schema_impl!(CardHash, "CardHash", {
    "description": "SHA-256 hash of a card number, 64 hex characters (either case).",
    "type": "string",
    "pattern": "^[0-9A-Fa-f]{64}$"
});

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VALID: &str = "6037997400000007"; // Luhn-valid test number with Melli's BIN

    #[test]
    fn parses_and_masks() {
        let card: CardNumber = "6037-9974-0000-0007".parse().unwrap();
        assert_eq!(card.expose(), VALID);
        assert_eq!(card.to_string(), "603799******0007");
        assert_eq!(format!("{card:?}"), "CardNumber(603799******0007)");
        assert_eq!(card.bin(), "603799");
        assert_eq!(card.last_four(), "0007");
        assert_eq!(card.masked().as_str(), "603799******0007");
        let persian: CardNumber = "۶۰۳۷ ۹۹۷۴ ۰۰۰۰ ۰۰۰۷".parse().unwrap();
        assert_eq!(persian, card);
        let arabic: CardNumber = "٦٠٣٧٩٩٧٤٠٠٠٠٠٠٠٧".parse().unwrap();
        assert_eq!(arabic, card);
        assert_eq!(
            serde_json::to_string(&card).unwrap(),
            format!("\"{VALID}\"")
        );
        let from_int: CardNumber = serde_json::from_str(VALID).unwrap();
        assert_eq!(from_int, card);
    }

    #[test]
    fn reference_card_values() {
        // customers.md CD1 response "card":"5648125647856214": the documentation value fails
        // the Luhn check, so it is rejected (responses holding it must use a plain string).
        assert_eq!(
            "5648125647856214".parse::<CardNumber>().unwrap_err(),
            CardError::Luhn
        );
        // ipg.md masked PAN and subscription.md payer_account.pan.
        for s in ["603799******6299", "6362********9805"] {
            let m: MaskedCardNumber = serde_json::from_str(&format!("\"{s}\"")).unwrap();
            assert_eq!(m.as_str(), s);
            assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{s}\""));
        }
        let m: MaskedCardNumber = "603799******6299".parse().unwrap();
        assert_eq!(m.leading_digits(), Some("603799"));
        assert_eq!(m.trailing_digits(), Some("6299"));
        let m: MaskedCardNumber = "6362********9805".parse().unwrap();
        assert_eq!(m.leading_digits(), Some("6362"));
        assert_eq!(m.trailing_digits(), Some("9805"));
        assert_eq!(MaskedCardNumber::new("******").leading_digits(), None);
        assert_eq!(MaskedCardNumber::new("").trailing_digits(), None);
    }

    #[test]
    fn masked_card_numbers_print_at_most_six_and_four_digits() {
        for (received, shown) in [
            ("603799******6299", "603799******6299"),
            ("6362********9805", "6362********9805"),
            ("6037997599999993", "603799******9993"),
            ("6037-9975-9999-9993", "6037-99**-****-9993"),
            ("۶۰۳۷۹۹۷۵۹۹۹۹۹۹۹۳", "۶۰۳۷۹۹******۹۹۹۳"),
            ("6037997599999993123", "603799*********3123"),
            ("1234", "1234"),
            ("", ""),
            ("******", "******"),
        ] {
            let m = MaskedCardNumber::new(received);
            assert_eq!(m.to_string(), shown, "{received}");
            assert_eq!(format!("{m:?}"), format!("MaskedCardNumber({shown:?})"));
            // the text as received is kept: serde round-trips it unchanged
            assert_eq!(m.as_str(), received);
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, serde_json::to_string(received).unwrap());
            let back: MaskedCardNumber = serde_json::from_str(&json).unwrap();
            assert_eq!(back, m);
        }
    }

    #[test]
    fn masked_matching() {
        let card: CardNumber = VALID.parse().unwrap();
        assert!(MaskedCardNumber::new("603799******0007").matches(&card));
        assert!(MaskedCardNumber::new("6037-99**-****-0007").matches(&card));
        assert!(!MaskedCardNumber::new("603799******6299").matches(&card));
        assert!(!MaskedCardNumber::new("603799*****0007").matches(&card));
    }

    #[test]
    fn errors_never_echo_the_number() {
        let cases = [
            ("", CardError::Empty),
            ("6037 9974 0000 000", CardError::Length { len: 15 }),
            ("60379974000000071", CardError::Length { len: 17 }),
            ("6037997400000003", CardError::Luhn),
            (
                "6037x97400000007",
                CardError::InvalidCharacter { position: 5 },
            ),
        ];
        for (input, want) in cases {
            let err = input.parse::<CardNumber>().unwrap_err();
            assert_eq!(err, want, "{input:?}");
            let msg = err.to_string();
            assert!(!msg.contains("6037"), "{msg}");
        }
        for json in [
            "\"6037997400000003\"",
            "6037997400000003",
            "-6037997400000003",
            "6037997400000003.0",
            "\"603799740000000\"",
        ] {
            let msg = serde_json::from_str::<CardNumber>(json)
                .unwrap_err()
                .to_string();
            assert!(!msg.contains("603799740000000"), "{msg}");
            assert!(msg.contains("card number"), "{msg}");
        }
    }

    #[test]
    fn card_hash_is_case_insensitive() {
        let upper = "B1E2A7A8A6F07A43B3E5E0C1B86A7C6B7F4E6F3C2D1A0B9C8D7E6F5A4B3C2D1E";
        let lower = upper.to_ascii_lowercase();
        let a: CardHash = serde_json::from_str(&format!("\"{upper}\"")).unwrap();
        let b: CardHash = serde_json::from_str(&format!("\"{lower}\"")).unwrap();
        assert_eq!(a, b);
        assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{upper}\""));
        let set: std::collections::HashSet<CardHash> = [a.clone(), b].into_iter().collect();
        assert_eq!(set.len(), 1);
        assert_eq!(a.to_lowercase(), lower);
        assert_eq!(
            "abc".parse::<CardHash>().unwrap_err(),
            CardError::HashLength { len: 3 }
        );
        assert_eq!(
            "g".repeat(64).parse::<CardHash>().unwrap_err(),
            CardError::HashNotHex { position: 1 }
        );
    }

    #[test]
    fn card_hash_of_card() {
        let card: CardNumber = VALID.parse().unwrap();
        let h = CardHash::of(&card);
        // sha256("6037997400000007"), computed independently.
        assert_eq!(
            h.as_str(),
            "e805739bcaf13f25986c445a78a275a095063b18782d448bfea467c334b15aeb"
        );
        let upper: CardHash = h.as_str().to_ascii_uppercase().parse().unwrap();
        assert!(upper.matches(&card));
        assert_eq!(card.hash(), upper);
    }

    /// 15 random digits plus the Luhn check digit.
    fn valid_card() -> impl Strategy<Value = String> {
        "[0-9]{15}".prop_map(|body| {
            (0..10u8)
                .map(|d| format!("{body}{d}"))
                .find(|s| luhn_valid(s))
                .unwrap_or_default()
        })
    }

    proptest! {
        #![proptest_config(super::super::proptest_config())]

        #[test]
        fn card_round_trips(s in valid_card()) {
            let card: CardNumber = s.parse().unwrap();
            prop_assert_eq!(card.expose(), s.as_str());
            prop_assert_eq!(card.expose().parse::<CardNumber>().unwrap(), card.clone());
            let json = serde_json::to_string(&card).unwrap();
            prop_assert_eq!(serde_json::from_str::<CardNumber>(&json).unwrap(), card.clone());
            let shown = card.to_string();
            prop_assert_eq!(&shown[..6], &s[..6]);
            prop_assert_eq!(&shown[6..12], "******");
            prop_assert_eq!(&shown[12..], &s[12..]);
            prop_assert_eq!(format!("{card:?}"), format!("CardNumber({shown})"));
            prop_assert!(card.masked().matches(&card));
            prop_assert!(card.hash().matches(&card));
        }

        #[test]
        fn single_digit_errors_are_caught(s in valid_card(), pos in 0usize..16, delta in 1u8..10) {
            let mut bytes = s.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let broken = String::from_utf8(bytes).unwrap();
            prop_assert_eq!(broken.parse::<CardNumber>().unwrap_err(), CardError::Luhn);
        }

        #[test]
        fn masked_and_hash_round_trip(s in "[0-9*]{0,20}", h in "[0-9a-fA-F]{64}") {
            let m: MaskedCardNumber = s.parse().unwrap();
            prop_assert_eq!(m.as_str(), s.as_str());
            // printed: the same length, at most 6 + 4 digits, the ends as received
            let shown: Vec<char> = m.to_string().chars().collect();
            let sent: Vec<char> = s.chars().collect();
            prop_assert_eq!(shown.len(), sent.len());
            prop_assert!(shown.iter().filter(|c| c.is_ascii_digit()).count() <= 10);
            for (i, (a, b)) in shown.iter().zip(&sent).enumerate() {
                if i < 6 || i + 4 >= sent.len() {
                    prop_assert_eq!(a, b);
                }
            }
            prop_assert_eq!(serde_json::from_str::<MaskedCardNumber>(&serde_json::to_string(&m).unwrap()).unwrap(), m);
            let hash: CardHash = h.parse().unwrap();
            prop_assert_eq!(hash.to_string().parse::<CardHash>().unwrap(), hash.clone());
            prop_assert_eq!(serde_json::from_str::<CardHash>(&serde_json::to_string(&hash).unwrap()).unwrap(), hash);
        }
    }
}
