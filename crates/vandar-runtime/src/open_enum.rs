//! Open enums: the server-owned words the API names (statuses, codes, scopes), as enums that
//! keep values the docs do not list yet (`Unknown(String)`), made one way for every client
//! crate by [`open_enum!`](crate::open_enum).

/// An enum over documented spellings with an `Unknown(String)` fallback: `parse` (never
/// fails: unknown values are kept), `as_str`, `is_known`, `ALL`, `Display`, `FromStr`
/// (infallible), `From<&str>`/`From<String>`, `Into<String>`, serde as a string. Extra
/// spellings (`"DONE" | "done"`) read as a documented variant.
///
/// ```
/// vandar_runtime::open_enum! {
///     /// A settlement's state.
///     pub enum State {
///         /// Done.
///         Done = "DONE" | "done",
///         /// Failed.
///         Failed = "FAILED",
///     }
/// }
/// assert_eq!(State::parse("done"), State::Done);
/// assert_eq!(State::parse("NEW").as_str(), "NEW");
/// assert!(!State::parse("NEW").is_known());
/// assert_eq!(serde_json::to_string(&State::Failed).unwrap(), "\"FAILED\"");
/// ```
#[macro_export]
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal $(| $alias:literal)*, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value the docs do not list, as received (or as given).
            Unknown(::std::string::String),
        }

        impl $name {
            /// Every documented value.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// Read a value (never fails: unknown values are kept).
            pub fn parse(value: &str) -> Self {
                let v = value.trim();
                $( if v == $text $(|| v == $alias)* { return $name::$variant; } )*
                $name::Unknown(v.to_string())
            }

            /// The value as the API spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )*
                    $name::Unknown(s) => s,
                }
            }

            /// Whether the value is one the docs list.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Unknown(_))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;

            fn from_str(s: &str) -> ::std::result::Result<Self, ::std::convert::Infallible> {
                Ok(Self::parse(s))
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::parse(value)
            }
        }

        impl ::std::convert::From<::std::string::String> for $name {
            fn from(value: ::std::string::String) -> Self {
                Self::parse(&value)
            }
        }

        impl ::std::convert::From<&$name> for $name {
            fn from(value: &$name) -> Self {
                value.clone()
            }
        }

        impl ::std::convert::From<$name> for ::std::string::String {
            fn from(value: $name) -> ::std::string::String {
                value.as_str().to_string()
            }
        }

        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                <::std::string::String as $crate::__serde::Deserialize>::deserialize(deserializer).map(Self::from)
            }
        }
    };
}
