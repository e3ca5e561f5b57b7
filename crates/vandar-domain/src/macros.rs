//! Internal macros for the string-backed domain types: the trait impls that [`Iban`],
//! [`Mobile`], [`CardNumber`], [`MaskedCardNumber`], [`CardHash`] and [`NationalCode`] (and,
//! for `Deserialize`, [`JalaliDateTime`]) would otherwise each write out by hand.
//!
//! Each type keeps its own `Debug`, its own masked `Display` where it has one, its own
//! `expecting` message and its own JSON schema; the macros only cover what is identical.
//!
//! [`Iban`]: super::Iban
//! [`Mobile`]: super::Mobile
//! [`CardNumber`]: super::CardNumber
//! [`MaskedCardNumber`]: super::MaskedCardNumber
//! [`CardHash`]: super::CardHash
//! [`NationalCode`]: super::NationalCode
//! [`JalaliDateTime`]: super::JalaliDateTime

/// Implements, for a newtype `struct $ty(String)`, each trait named in the list by handing out
/// the inner string unchanged:
///
/// * `Display`: writes it;
/// * `AsRef`: `AsRef<str>`;
/// * `Serialize`: a string;
/// * `SensitiveSerialize`: a string, noted as a secret for [`crate::sensitive`] (so an error
///   that echoes it can be scrubbed).
///
/// For example `string_newtype!(MaskedCardNumber: Serialize);` (its `Display` masks).
macro_rules! string_newtype {
    ($ty:ident: $($tr:ident),+ $(,)?) => {
        $($crate::macros::string_newtype!(@$tr $ty);)+
    };
    (@Display $ty:ident) => {
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
    (@AsRef $ty:ident) => {
        impl ::std::convert::AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
    (@Serialize $ty:ident) => {
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }
    };
    (@SensitiveSerialize $ty:ident) => {
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                $crate::sensitive::note_serialized(&self.0);
                serializer.serialize_str(&self.0)
            }
        }
    };
}
pub(crate) use string_newtype;

/// Implements `Deserialize` for a type with a `FromStr` impl: a string, parsed with
/// `FromStr` (its error becomes the serde error through `Display`); any other value is
/// rejected with `$expecting` as the description of what was wanted.
///
/// Optional trailing tokens are extra `Visitor` methods (each declaring its own
/// `E: serde::de::Error`); with them the value is read with `deserialize_any` instead of
/// `deserialize_str`, so those methods are reached.
macro_rules! deserialize_from_str {
    ($ty:ident, $expecting:literal) => {
        $crate::macros::deserialize_from_str!(@impl $ty, $expecting, deserialize_str, {});
    };
    ($ty:ident, $expecting:literal, $($visit:tt)+) => {
        $crate::macros::deserialize_from_str!(@impl $ty, $expecting, deserialize_any, {
            $($visit)+
        });
    };
    (@impl $ty:ident, $expecting:literal, $method:ident, { $($visit:tt)* }) => {
        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                struct V;
                impl ::serde::de::Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: ::serde::de::Error>(
                        self,
                        v: &str,
                    ) -> ::std::result::Result<$ty, E> {
                        <$ty as ::std::str::FromStr>::from_str(v).map_err(E::custom)
                    }
                    $($visit)*
                }
                deserializer.$method(V)
            }
        }
    };
}
pub(crate) use deserialize_from_str;

/// Implements the trait set shared by the validated string newtypes: a `struct $ty(String)`
/// with an inherent `fn parse(&str) -> Result<Self, $err>` that validates and normalises.
///
/// * `FromStr` (error `$err`): `parse`;
/// * `Deserialize`: a string validated by `parse`; `$expecting` describes what was wanted when
///   the value has the wrong type;
/// * the traits in `[...]`, passed on to [`string_newtype!`] (`Serialize` or
///   `SensitiveSerialize`, `Display`, `AsRef`): leave `Display` out for a type that masks it
///   and writes its own.
///
/// With `integers: |v| text`, `Deserialize` also accepts a non-negative JSON integer `v`,
/// validating the string `text` made from it, and rejects every other non-string value
/// (negative integer, float, bytes) with `$err::WrongType`: every visit method reports a
/// `$err`, never serde's default message, which would echo the offending value.
macro_rules! validated_string {
    ($ty:ident, $err:ident, $expecting:literal, [$($tr:ident),* $(,)?]) => {
        $crate::macros::validated_string!(@common $ty, $err, [$($tr),*]);
        $crate::macros::deserialize_from_str!($ty, $expecting);
    };
    (
        $ty:ident, $err:ident, $expecting:literal, [$($tr:ident),* $(,)?],
        integers: |$v:ident| $text:expr $(,)?
    ) => {
        $crate::macros::validated_string!(@common $ty, $err, [$($tr),*]);
        $crate::macros::deserialize_from_str!($ty, $expecting,
            fn visit_u64<E: ::serde::de::Error>(self, $v: u64) -> ::std::result::Result<$ty, E> {
                $ty::parse(&$text).map_err(E::custom)
            }
            fn visit_i64<E: ::serde::de::Error>(self, _: i64) -> ::std::result::Result<$ty, E> {
                Err(E::custom($err::WrongType))
            }
            fn visit_f64<E: ::serde::de::Error>(self, _: f64) -> ::std::result::Result<$ty, E> {
                Err(E::custom($err::WrongType))
            }
            fn visit_bytes<E: ::serde::de::Error>(
                self,
                _: &[u8],
            ) -> ::std::result::Result<$ty, E> {
                Err(E::custom($err::WrongType))
            }
        );
    };
    (@common $ty:ident, $err:ident, [$($tr:ident),*]) => {
        impl ::std::str::FromStr for $ty {
            type Err = $err;

            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        $crate::macros::string_newtype!($ty: $($tr),*);
    };
}
pub(crate) use validated_string;

#[cfg(test)]
mod tests {
    use serde::de::DeserializeOwned;

    use super::super::{
        CardHash, CardNumber, Iban, JalaliDateTime, MaskedCardNumber, Mobile, NationalCode,
    };

    fn error<T: DeserializeOwned>(json: &str) -> String {
        match serde_json::from_str::<T>(json) {
            Ok(_) => panic!("{json} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn each_type_keeps_its_expecting_message() {
        let cases = [
            (
                error::<Iban>("true"),
                "an Iranian IBAN string (IR + 24 digits)",
            ),
            (
                error::<Mobile>("true"),
                "an Iranian mobile number string (09xxxxxxxxx)",
            ),
            (error::<CardNumber>("true"), "a 16-digit card number string"),
            (
                error::<NationalCode>("true"),
                "a 10-digit national code string",
            ),
            (
                error::<CardHash>("true"),
                "a SHA-256 card hash (64 hex characters)",
            ),
            (
                error::<JalaliDateTime>("true"),
                "a Jalali date-time string like \"1399/04/04 14:47:09\"",
            ),
            (error::<MaskedCardNumber>("true"), "a string"),
        ];
        for (msg, expecting) in cases {
            assert!(
                msg.starts_with("invalid type: boolean `true`, expected "),
                "{msg}"
            );
            assert!(msg.contains(&format!("expected {expecting}")), "{msg}");
        }
    }

    #[test]
    fn string_only_types_reject_numbers_by_type() {
        for msg in [
            error::<Iban>("12"),
            error::<Mobile>("9123456789"),
            error::<CardHash>("12"),
            error::<JalaliDateTime>("12"),
        ] {
            assert!(msg.starts_with("invalid type: integer `"), "{msg}");
        }
    }

    #[test]
    fn as_ref_display_and_serialize_give_the_inner_string() {
        let iban: Iban = "IR610550018180006734170001".parse().unwrap();
        assert_eq!(iban.as_ref(), iban.as_str());
        assert_eq!(iban.to_string(), iban.as_str());
        let mobile: Mobile = "09123456789".parse().unwrap();
        assert_eq!(mobile.as_ref(), "09123456789");
        assert_eq!(mobile.to_string(), "09123456789");
        let hash: CardHash = "A".repeat(64).parse().unwrap();
        assert_eq!(hash.to_string(), "A".repeat(64));
        let masked = MaskedCardNumber::new("603799******6299");
        assert_eq!(masked.to_string(), "603799******6299");
        // Masked types keep their own Display and Debug; serialisation gives the full value.
        let card: CardNumber = "6037997400000007".parse().unwrap();
        assert_eq!(card.to_string(), "603799******0007");
        assert_eq!(format!("{card:?}"), "CardNumber(603799******0007)");
        assert_eq!(
            serde_json::to_string(&card).unwrap(),
            "\"6037997400000007\""
        );
        let code: NationalCode = "2993968416".parse().unwrap();
        assert_eq!(code.to_string(), "******8416");
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"2993968416\"");
    }

    #[test]
    fn integer_options_pad_and_reject_other_numbers() {
        // CardNumber: the integer's digits as they are; NationalCode: padded to 10 digits.
        assert_eq!(
            serde_json::from_str::<CardNumber>("6037997400000007")
                .unwrap()
                .expose(),
            "6037997400000007"
        );
        assert_eq!(
            error::<CardNumber>("-1").split(" at line").next(),
            Some("card number must be a string of digits")
        );
        assert_eq!(
            error::<NationalCode>("1.5").split(" at line").next(),
            Some("national code must be a string of digits")
        );
        assert_eq!(
            error::<NationalCode>("12").split(" at line").next(),
            Some("national code check digit is wrong (mistyped digit?)")
        );
    }
}
