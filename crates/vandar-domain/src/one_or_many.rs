//! [`OneOrMany`]: a field that upstream sends as one object or as a list of objects.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Serialize, Serializer};

/// One object or a list of them, decided by the first JSON token.
///
/// Some Vandar answers document `data` as a single object in every example while the endpoint
/// is a list (the statement's `list_transactions`). A `#[serde(untagged)]` enum would accept
/// both but first copies the whole value into serde's buffer and then decodes the copy; this
/// type looks at the first token (`[` or `{`) and decodes the items in place, in one pass.
///
/// ```
/// use vandar_domain::OneOrMany;
///
/// let one: OneOrMany<serde_json::Value> = serde_json::from_str(r#"{"id":1}"#).unwrap();
/// let many: OneOrMany<serde_json::Value> = serde_json::from_str(r#"[{"id":1},{"id":2}]"#).unwrap();
/// assert_eq!(one.len(), 1);
/// assert_eq!(many.into_vec().len(), 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OneOrMany<T> {
    /// The answer held one object.
    One(T),
    /// The answer held a list.
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// The items as a slice (one item for [`OneOrMany::One`]).
    pub fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(item) => std::slice::from_ref(item),
            OneOrMany::Many(items) => items,
        }
    }

    /// The items, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.as_slice().iter()
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether there is no item (an empty list).
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// The last item, if any.
    pub fn last(&self) -> Option<&T> {
        self.as_slice().last()
    }

    /// The items as a vector.
    pub fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(item) => vec![item],
            OneOrMany::Many(items) => items,
        }
    }
}

impl<T> From<Vec<T>> for OneOrMany<T> {
    fn from(items: Vec<T>) -> Self {
        OneOrMany::Many(items)
    }
}

impl<T> From<OneOrMany<T>> for Vec<T> {
    fn from(value: OneOrMany<T>) -> Self {
        value.into_vec()
    }
}

impl<T> IntoIterator for OneOrMany<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.into_vec().into_iter()
    }
}

impl<'a, T> IntoIterator for &'a OneOrMany<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Serializes as it came: one object, or a list.
impl<T: Serialize> Serialize for OneOrMany<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            OneOrMany::One(item) => item.serialize(serializer),
            OneOrMany::Many(items) => items.serialize(serializer),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrManyVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrManyVisitor<T> {
            type Value = OneOrMany<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object or a list of objects")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Vec::deserialize(SeqAccessDeserializer::new(seq)).map(OneOrMany::Many)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(OneOrMany::One)
            }
        }

        deserializer.deserialize_any(OneOrManyVisitor(PhantomData))
    }
}

/// The schema is `oneOf: [list of T, T]`, as the specs write it.
impl<T: schemars::JsonSchema> schemars::JsonSchema for OneOrMany<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("OneOrMany_of_{}", T::schema_name()).into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        format!("vandar_domain::OneOrMany<{}>", T::schema_id()).into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let many = generator.subschema_for::<Vec<T>>();
        let one = generator.subschema_for::<T>();
        schemars::json_schema!({ "oneOf": [many, one] })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[derive(Debug, PartialEq, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
    struct Item {
        id: i64,
    }

    #[test]
    fn decides_on_the_first_token() {
        let one: OneOrMany<Item> = serde_json::from_str(r#"{"id":7}"#).unwrap();
        assert_eq!(one, OneOrMany::One(Item { id: 7 }));
        let many: OneOrMany<Item> = serde_json::from_str(r#"[{"id":1},{"id":2}]"#).unwrap();
        assert_eq!(many.iter().map(|i| i.id).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(many.last(), Some(&Item { id: 2 }));
        let empty: OneOrMany<Item> = serde_json::from_str("[]").unwrap();
        assert!(empty.is_empty());
        assert_eq!(one.into_vec(), vec![Item { id: 7 }]);
    }

    #[test]
    fn rejects_other_shapes_and_bad_items() {
        for bad in [
            "1",
            "\"x\"",
            "null",
            "true",
            r#"{"id":"x"}"#,
            r#"[{"id":1},3]"#,
        ] {
            let err = serde_json::from_str::<OneOrMany<Item>>(bad).unwrap_err();
            assert!(!err.to_string().is_empty(), "{bad}");
        }
        // Also through an already-parsed value (the path a `Value` round trip takes).
        assert!(serde_json::from_value::<OneOrMany<Item>>(json!(5)).is_err());
        let v: OneOrMany<Item> = serde_json::from_value(json!([{"id": 3}])).unwrap();
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn serializes_in_the_shape_it_came_in() {
        for text in [r#"{"id":7}"#, r#"[{"id":1},{"id":2}]"#, "[]"] {
            let v: OneOrMany<Item> = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&v).unwrap(), text);
        }
    }

    #[test]
    fn schema_is_one_of_list_or_item() {
        let schema = serde_json::to_value(schemars::schema_for!(OneOrMany<Item>)).unwrap();
        let one_of = schema["oneOf"].as_array().expect("oneOf");
        assert_eq!(one_of.len(), 2);
        assert_eq!(one_of[0]["type"], Value::from("array"));
        let validator = jsonschema::validator_for(&schema).unwrap();
        assert!(validator.is_valid(&json!({"id": 1})));
        assert!(validator.is_valid(&json!([{"id": 1}])));
        assert!(!validator.is_valid(&json!("x")));
    }
}
