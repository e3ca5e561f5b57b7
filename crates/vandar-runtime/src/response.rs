//! Responses as the generated code should see them. Every body is read inside the attempt (so
//! a stall or reset while reading is caught by the attempt's timeout and retry rules), then:
//!
//! * an error status with a JSON body keeps it, and the parsed body rides along as a response
//!   extension so an undocumented status (say a 500 on an operation whose spec
//!   lists only 4XX) still becomes an [`ApiError`](crate::ApiError) with its messages;
//! * an error status with a broken JSON body seen in the docs (`{ "unauthorized" }`,
//!   `{"status":0,"error": Unauthenticated }`) is repaired into the JSON it meant;
//! * any other non-JSON error body (an HTML page from a proxy) is replaced by a JSON `message`
//!   saying what arrived, so the status is not lost to a decode error;
//! * a 2xx whose body is a failure (`status: 0`, or `error: true`) is rewritten to HTTP 422 with
//!   the body kept and the real status in the `x-vandar-sdk-original-status` header: 422 is the
//!   status Vandar itself uses for such answers and lies in every spec's error range (`4XX` or
//!   `default`), so the generated code takes its error path and the caller gets
//!   [`Error::Api`](crate::Error::Api) whose `http_status` is the real 200.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use serde_json::{Map, Value};

/// Header that carries the real HTTP status of a 2xx failure body rewritten to 422.
pub const ORIGINAL_STATUS_HEADER: &str = "x-vandar-sdk-original-status";

/// The status a 2xx failure body is rewritten to.
pub(crate) const REWRITTEN_STATUS: u16 = 422;

/// Response extension: the JSON body of an error response, as received (or as repaired).
#[derive(Clone, Debug)]
pub(crate) struct ErrorBody(pub(crate) Value);

/// A response with its body read.
pub(crate) struct Buffered {
    pub(crate) status: u16,
    version: http::Version,
    pub(crate) headers: HeaderMap,
    body: Bytes,
}

impl Buffered {
    pub(crate) async fn read(resp: reqwest::Response) -> reqwest::Result<Self> {
        let status = resp.status().as_u16();
        let version = resp.version();
        let headers = resp.headers().clone();
        let body = resp.bytes().await?;
        Ok(Self {
            status,
            version,
            headers,
            body,
        })
    }

    fn into_response(self, extension: Option<ErrorBody>) -> reqwest::Response {
        // The URL reqwest itself gives a response built from parts, set here so that
        // `reqwest::Response::from` need not parse it again on every call.
        static NO_URL: std::sync::LazyLock<Option<url::Url>> =
            std::sync::LazyLock::new(|| url::Url::parse("http://no.url.provided.local").ok());
        let mut builder = http::Response::builder();
        if let Some(u) = NO_URL.as_ref() {
            builder = reqwest::ResponseBuilderExt::url(builder, u.clone());
        }
        let mut r = match builder.body(self.body) {
            Ok(r) => r,
            Err(_) => http::Response::new(Bytes::new()),
        };
        *r.status_mut() =
            http::StatusCode::from_u16(self.status).unwrap_or(http::StatusCode::BAD_GATEWAY);
        *r.version_mut() = self.version;
        *r.headers_mut() = self.headers;
        if let Some(e) = extension {
            r.extensions_mut().insert(e);
        }
        reqwest::Response::from(r)
    }

    fn replace_body(&mut self, body: &Value) {
        self.body = Bytes::from(body.to_string());
        self.headers.remove(CONTENT_LENGTH);
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }

    /// The response the generated code gets (see the module docs).
    pub(crate) fn normalize(mut self) -> reqwest::Response {
        if (200..300).contains(&self.status) {
            // Skim the body for the two flags (no tree is built: a 100-item page costs a
            // fraction of decoding it); build the JSON value only for a failure.
            if is_failure_json(&self.body)
                && let Ok(v) = serde_json::from_slice::<Value>(&self.body)
            {
                let original = self.status;
                self.status = REWRITTEN_STATUS;
                self.headers
                    .insert(ORIGINAL_STATUS_HEADER, HeaderValue::from(original));
                return self.into_response(Some(ErrorBody(v)));
            }
            return self.into_response(None);
        }
        if self.status < 400 {
            return self.into_response(None);
        }
        if let Ok(v) = serde_json::from_slice::<Value>(&self.body) {
            return self.into_response(Some(ErrorBody(v)));
        }
        if let Some(v) = repair(&self.body) {
            self.replace_body(&v);
            return self.into_response(Some(ErrorBody(v)));
        }
        let content_type = self
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("no content type")
            .to_string();
        let body = serde_json::json!({
            "message": format!(
                "HTTP {} with a non-JSON body ({content_type}, {} bytes)",
                self.status,
                self.body.len()
            )
        });
        self.replace_body(&body);
        self.into_response(None)
    }
}

/// Whether a 2xx body is a failure: a top-level `status` of 0 (number or string) or
/// `error: true` (Sanbod's envelope).
pub(crate) fn is_failure_body(v: &Value) -> bool {
    let Some(obj) = v.as_object() else {
        return false;
    };
    let status_zero = match obj.get("status") {
        Some(Value::Number(n)) => n.as_i64() == Some(0),
        Some(Value::String(s)) => s.trim() == "0",
        _ => false,
    };
    status_zero || obj.get("error") == Some(&Value::Bool(true))
}

/// [`is_failure_body`] straight from the bytes, without building a [`Value`]: the top-level
/// `status` and `error` are read, everything else is skipped (still checked to be JSON).
pub(crate) fn is_failure_json(body: &[u8]) -> bool {
    serde_json::from_slice::<FailureProbe>(body).is_ok_and(|p| p.failure)
}

/// The failure flags of a top-level JSON object (see [`is_failure_body`]); any other JSON
/// value is not a failure. Duplicate keys: the last one counts, as in a [`Value`].
struct FailureProbe {
    failure: bool,
}

impl<'de> serde::Deserialize<'de> for FailureProbe {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
        use std::fmt;

        /// Which flag a value is read for.
        #[derive(Clone, Copy)]
        enum Flag {
            /// `status`: the integer 0 or a string that trims to "0".
            StatusZero,
            /// `error`: `true`.
            ErrorTrue,
        }

        impl<'de> serde::de::DeserializeSeed<'de> for Flag {
            type Value = bool;
            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
                d.deserialize_any(self)
            }
        }

        impl<'de> Visitor<'de> for Flag {
            type Value = bool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<bool, E> {
                Ok(matches!(self, Flag::ErrorTrue) && v)
            }
            fn visit_i64<E>(self, v: i64) -> Result<bool, E> {
                Ok(matches!(self, Flag::StatusZero) && v == 0)
            }
            fn visit_u64<E>(self, v: u64) -> Result<bool, E> {
                Ok(matches!(self, Flag::StatusZero) && v == 0)
            }
            fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
                // `Value::as_i64` is `None` for a float: not a status 0
                Ok(false)
            }
            fn visit_str<E>(self, v: &str) -> Result<bool, E> {
                Ok(matches!(self, Flag::StatusZero) && v.trim() == "0")
            }
            fn visit_unit<E>(self) -> Result<bool, E> {
                Ok(false)
            }
            fn visit_none<E>(self) -> Result<bool, E> {
                Ok(false)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(false)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(false)
            }
        }

        struct Probe;

        impl<'de> Visitor<'de> for Probe {
            type Value = FailureProbe;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FailureProbe, A::Error> {
                let (mut status_zero, mut error_true) = (false, false);
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "status" => status_zero = map.next_value_seed(Flag::StatusZero)?,
                        "error" => error_true = map.next_value_seed(Flag::ErrorTrue)?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(FailureProbe {
                    failure: status_zero || error_true,
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FailureProbe, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(FailureProbe { failure: false })
            }
            fn visit_bool<E>(self, _: bool) -> Result<FailureProbe, E> {
                Ok(FailureProbe { failure: false })
            }
            fn visit_i64<E>(self, _: i64) -> Result<FailureProbe, E> {
                Ok(FailureProbe { failure: false })
            }
            fn visit_u64<E>(self, _: u64) -> Result<FailureProbe, E> {
                Ok(FailureProbe { failure: false })
            }
            fn visit_f64<E>(self, _: f64) -> Result<FailureProbe, E> {
                Ok(FailureProbe { failure: false })
            }
            fn visit_str<E>(self, _: &str) -> Result<FailureProbe, E> {
                Ok(FailureProbe { failure: false })
            }
            fn visit_unit<E>(self) -> Result<FailureProbe, E> {
                Ok(FailureProbe { failure: false })
            }
        }

        d.deserialize_any(Probe)
    }
}

/// The top-level fields of a JSON request body that `checks` look at, as a JSON object
/// (every other field is skipped, not built); an empty object for JSON that is not an object;
/// `None` for bytes that are not JSON. Duplicate keys: the last one counts, as in a [`Value`].
pub(crate) fn checked_fields(body: &[u8], checks: &[crate::route::FieldCheck]) -> Option<Value> {
    use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
    use std::fmt;

    struct Fields<'a>(&'a [crate::route::FieldCheck]);

    impl<'de> DeserializeSeed<'de> for Fields<'_> {
        type Value = Map<String, Value>;
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Fields<'_> {
        type Value = Map<String, Value>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Map::new();
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if self.0.iter().any(|c| c.field == key.as_ref()) {
                    out.insert(key.into_owned(), map.next_value::<Value>()?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(out)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Map::new())
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Map::new())
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Map::new())
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Map::new())
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Map::new())
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Map::new())
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Map::new())
        }
    }

    let mut de = serde_json::Deserializer::from_slice(body);
    let fields = Fields(checks).deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(Value::Object(fields))
}

/// `Retry-After` as seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Repair the broken JSON error bodies the docs show: `{ "unauthorized" }` (a lone string) and
/// `{"status":0,"error": Unauthenticated }` (an unquoted word). Only small `{...}` bodies are
/// tried; anything else is left alone.
fn repair(body: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(body).ok()?.trim();
    if text.len() > 2048 || !text.starts_with('{') || !text.ends_with('}') {
        return None;
    }
    let inner = text[1..text.len() - 1].trim();
    // `{ "unauthorized" }`
    if let Some(s) = unquote(inner) {
        return Some(serde_json::json!({ "message": s }));
    }
    let mut out = Map::new();
    for part in inner.split(',') {
        let (k, v) = part.split_once(':')?;
        let key = unquote(k.trim())?;
        let v = v.trim();
        let value = if let Ok(n) = v.parse::<i64>() {
            Value::from(n)
        } else if let Some(s) = unquote(v) {
            Value::from(s)
        } else if !v.is_empty() && !v.contains(['{', '}', '[', ']', '"']) {
            Value::from(v)
        } else {
            return None;
        };
        out.insert(key.to_string(), value);
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

fn unquote(s: &str) -> Option<&str> {
    let s = s.strip_prefix('"')?.strip_suffix('"')?;
    (!s.contains('"')).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn buffered(status: u16, body: &str, content_type: &str) -> Buffered {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
        Buffered {
            status,
            version: http::Version::HTTP_11,
            headers,
            body: Bytes::from(body.to_string()),
        }
    }

    async fn seen(r: reqwest::Response) -> (u16, Option<Value>, Value, Option<String>) {
        let ext = r.extensions().get::<ErrorBody>().map(|e| e.0.clone());
        let original = r
            .headers()
            .get(ORIGINAL_STATUS_HEADER)
            .map(|v| v.to_str().unwrap().to_string());
        let status = r.status().as_u16();
        let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        (status, ext, body, original)
    }

    #[tokio::test]
    async fn status_zero_on_200_becomes_an_error() {
        let body = r#"{"status":0,"errors":{"error":"boom"}}"#;
        let (status, ext, kept, original) =
            seen(buffered(200, body, "application/json").normalize()).await;
        assert_eq!(status, 422);
        assert_eq!(original.as_deref(), Some("200"));
        assert_eq!(ext.unwrap(), kept);
        assert_eq!(kept["errors"]["error"], "boom");
        for failure in [
            json!({"status": "0"}),
            json!({"error": true, "message": {}}),
        ] {
            assert!(is_failure_body(&failure), "{failure}");
        }
        for fine in [
            json!({"status": 1}),
            json!({"status": 2, "errors": ["already verified"]}),
            json!({"error": false}),
            json!([{"status": 0}]),
            json!({"data": {"status": 0}}),
        ] {
            assert!(!is_failure_body(&fine), "{fine}");
        }
        let (status, ext, _, original) =
            seen(buffered(200, r#"{"status":1}"#, "application/json").normalize()).await;
        assert_eq!((status, ext.is_none(), original), (200, true, None));
    }

    #[test]
    fn skimming_agrees_with_the_value_check() {
        for body in [
            r#"{"status":0,"errors":{"error":"boom"}}"#,
            r#"{"status":"0"}"#,
            r#"{"status":" 0 "}"#,
            r#"{"status":0.0}"#,
            r#"{"status":-0}"#,
            r#"{"status":1,"data":{"status":0,"error":true}}"#,
            r#"{"error":true,"message":{}}"#,
            r#"{"error":"true"}"#,
            r#"{"error":false,"status":2}"#,
            r#"{"status":0,"status":1}"#,
            r#"{"status":1,"status":0}"#,
            r#"{"st\u0061tus":0}"#,
            r#"[{"status":0}]"#,
            r#"[0,true]"#,
            r#"0"#,
            r#""0""#,
            r#"null"#,
            r#"{"status":0"#,
            r#"{"status":0} trailing"#,
            "not json",
            "",
        ] {
            let by_value =
                serde_json::from_slice::<Value>(body.as_bytes()).is_ok_and(|v| is_failure_body(&v));
            assert_eq!(is_failure_json(body.as_bytes()), by_value, "{body}");
        }
    }

    #[test]
    fn checked_fields_agree_with_the_whole_body() {
        use crate::route::FieldCheck;
        let checks = [
            FieldCheck {
                field: "amount",
                minimum: Some(1000),
                maximum: None,
                max_items: None,
            },
            FieldCheck {
                field: "cards",
                minimum: None,
                maximum: None,
                max_items: Some(2),
            },
        ];
        for body in [
            r#"{"amount":999,"api_key":"k","callback_url":"https://x"}"#,
            r#"{"amount":"1000","cards":[1,2,3],"other":{"amount":1}}"#,
            r#"{"amount":5,"amount":5000}"#,
            r#"{"\u0061mount":10}"#,
            r#"{"cards":[1,2]}"#,
            r#"[{"amount":1}]"#,
            r#"1"#,
            r#"{"amount":1"#,
            "",
        ] {
            let whole = serde_json::from_slice::<Value>(body.as_bytes()).ok();
            let part = checked_fields(body.as_bytes(), &checks);
            assert_eq!(whole.is_some(), part.is_some(), "{body}");
            if let (Some(whole), Some(part)) = (whole, part) {
                for c in &checks {
                    assert_eq!(c.check("op", &whole), c.check("op", &part), "{body}");
                }
            }
        }
    }

    #[tokio::test]
    async fn broken_documented_bodies_are_repaired() {
        let (status, ext, body, _) =
            seen(buffered(401, r#"{ "unauthorized" }"#, "application/json").normalize()).await;
        assert_eq!(status, 401);
        assert_eq!(body, json!({"message": "unauthorized"}));
        assert_eq!(ext.unwrap(), body);
        let (_, _, body, _) = seen(
            buffered(
                401,
                r#"{"status":0,"error": Unauthenticated }"#,
                "application/json",
            )
            .normalize(),
        )
        .await;
        assert_eq!(body, json!({"status": 0, "error": "Unauthenticated"}));
    }

    #[tokio::test]
    async fn html_error_keeps_status_without_body() {
        let (status, ext, body, _) =
            seen(buffered(502, "<html>bad gateway</html>", "text/html").normalize()).await;
        assert_eq!(status, 502);
        assert!(ext.is_none());
        let msg = body["message"].as_str().unwrap();
        assert!(msg.contains("non-JSON") && !msg.contains("<html>"), "{msg}");
    }

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(
            retry_after(&h),
            Some(Duration::ZERO),
            "a past date means now"
        );
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }
}
