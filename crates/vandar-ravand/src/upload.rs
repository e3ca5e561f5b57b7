//! The identity-document upload (RV10): a `multipart/form-data` POST that progenitor cannot
//! generate, written here on the shared runtime.
//!
//! The form is encoded in memory (RFC 7578) rather than streamed, so the request can be replayed
//! once after a 401 with a refreshed token, like every generated call, and is sent with a
//! `Content-Length`.

use std::fmt;
use std::hash::{BuildHasher, Hasher};

use vandar_runtime::{Auth, Route, Segment, VANDAR_BEARER};

use crate::raw::{self, RawAnswer, RawBody, RawResult};
use crate::{Client, DEFAULT_HOST};

/// Operation id of the hand-written upload (the spec operation marked `x-hand-written: true`,
/// which the generator skips).
pub const UPLOAD_CARDHOLDER_DOCUMENTS: &str = "upload_cardholder_documents";

/// Route of every hand-written call of this crate, as listed under the spec's
/// `x-hand-written: true` operations: host, path, bearer auth, never retried.
pub const HAND_WRITTEN_ROUTES: &[Route] = &[Route {
    operation_id: UPLOAD_CARDHOLDER_DOCUMENTS,
    method: "POST",
    host: DEFAULT_HOST,
    path: "/v1/business/{business}/ravand/provider/{provider}/cardholder/{cardholder_id}/upload",
    segments: &[
        Segment::Lit("v1"),
        Segment::Lit("business"),
        Segment::Param("business"),
        Segment::Lit("ravand"),
        Segment::Lit("provider"),
        Segment::Param("provider"),
        Segment::Lit("cardholder"),
        Segment::Param("cardholder_id"),
        Segment::Lit("upload"),
    ],
    auth: Auth::Bearer(VANDAR_BEARER),
    api_key_field: None,
    idempotent: false,
    checks: &[],
}];

/// One part of a [`DocumentUpload`].
#[derive(Clone)]
struct Part {
    name: String,
    file: Option<FileMeta>,
    data: Vec<u8>,
}

#[derive(Clone)]
struct FileMeta {
    filename: String,
    content_type: String,
}

/// The `multipart/form-data` body of
/// [`upload_cardholder_documents`](Client::upload_cardholder_documents).
///
/// The Ravand docs name no part: which documents are expected, under which part names and in
/// which formats, comes from Vandar. Add each part under the name Vandar gives you.
///
/// `Debug` shows part names, content types and sizes only: never file names or contents
/// (identity documents are personal data).
///
/// ```
/// use vandar_ravand::DocumentUpload;
/// let form = DocumentUpload::new()
///     .file("national_card", "card.jpg", "image/jpeg", vec![0xFF, 0xD8, 0xFF])
///     .text("description", "front side");
/// assert_eq!(form.len(), 2);
/// ```
#[derive(Clone, Default)]
pub struct DocumentUpload {
    parts: Vec<Part>,
}

impl fmt::Debug for DocumentUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for p in &self.parts {
            match &p.file {
                Some(m) => list.entry(&format_args!(
                    "{} (file, {}, {} bytes)",
                    p.name,
                    m.content_type,
                    p.data.len()
                )),
                None => list.entry(&format_args!("{} (text, {} bytes)", p.name, p.data.len())),
            };
        }
        list.finish()
    }
}

impl DocumentUpload {
    /// An empty form.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a file part: the part `name`, the file name the server sees, its MIME type
    /// (`image/jpeg`, `application/pdf`, ...) and its bytes.
    pub fn file(
        mut self,
        name: impl Into<String>,
        filename: impl Into<String>,
        content_type: impl Into<String>,
        data: impl Into<Vec<u8>>,
    ) -> Self {
        self.parts.push(Part {
            name: name.into(),
            file: Some(FileMeta {
                filename: filename.into(),
                content_type: content_type.into(),
            }),
            data: data.into(),
        });
        self
    }

    /// Add a text field.
    pub fn text(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parts.push(Part {
            name: name.into(),
            file: None,
            data: value.into().into_bytes(),
        });
        self
    }

    /// Number of parts.
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    /// Whether the form has no part.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// A text part named like a URL field (`callback_url`, `redirect_uri`, ...) must hold an
    /// absolute http(s) URL: it is normalized, or the message names the part (the runtime's
    /// rule for free-form bodies, `vandar_runtime::check::free_form`).
    fn check_urls(&mut self) -> Result<(), String> {
        for p in self.parts.iter_mut().filter(|p| p.file.is_none()) {
            // a text part is a `String`'s bytes
            let Ok(text) = std::str::from_utf8(&p.data) else {
                continue;
            };
            if let Some(normalized) = vandar_runtime::check::free_form::check_text(
                UPLOAD_CARDHOLDER_DOCUMENTS,
                &p.name,
                text,
            )? {
                p.data = normalized.into_bytes();
            }
        }
        Ok(())
    }

    /// Check the form and encode it with a fresh random boundary.
    pub(crate) fn encode(&self) -> Result<RawBody, String> {
        self.encode_using(new_boundary)
    }

    /// Check the form and encode it with the first boundary from `next_boundary` that occurs
    /// in no part.
    fn encode_using(&self, mut next_boundary: impl FnMut() -> String) -> Result<RawBody, String> {
        if self.parts.is_empty() {
            return Err(
                "the document upload has no part; add files with DocumentUpload::file".into(),
            );
        }
        for p in &self.parts {
            if p.name.is_empty() {
                return Err("a document upload part has an empty name".into());
            }
            if let Some(m) = &p.file {
                let valid = !m.content_type.is_empty()
                    && m.content_type
                        .bytes()
                        .all(|b| b.is_ascii_graphic() || b == b' ');
                if !valid {
                    return Err(format!(
                        "part `{}`: content type is empty or not printable ASCII",
                        escape(&p.name)
                    ));
                }
            }
        }
        let mut boundary = next_boundary();
        while self
            .parts
            .iter()
            .any(|p| contains(&p.data, boundary.as_bytes()))
        {
            boundary = next_boundary();
        }
        Ok(RawBody {
            content_type: format!("multipart/form-data; boundary={boundary}"),
            bytes: self.encode_with(&boundary),
        })
    }

    fn encode_with(&self, boundary: &str) -> Vec<u8> {
        let size: usize = self.parts.iter().map(|p| p.data.len() + 200).sum();
        let mut out = Vec::with_capacity(size + boundary.len() + 8);
        for p in &self.parts {
            out.extend_from_slice(b"--");
            out.extend_from_slice(boundary.as_bytes());
            out.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
            out.extend_from_slice(escape(&p.name).as_bytes());
            out.push(b'"');
            if let Some(m) = &p.file {
                out.extend_from_slice(b"; filename=\"");
                out.extend_from_slice(escape(&m.filename).as_bytes());
                out.extend_from_slice(b"\"\r\nContent-Type: ");
                out.extend_from_slice(m.content_type.as_bytes());
            }
            out.extend_from_slice(b"\r\n\r\n");
            out.extend_from_slice(&p.data);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"--\r\n");
        out
    }
}

/// Names and file names in a `Content-Disposition` header, escaped as browsers do (WHATWG
/// HTML, multipart/form-data encoding): `"` → `%22`, CR → `%0D`, LF → `%0A`. UTF-8 stays as is.
fn escape(s: &str) -> String {
    s.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A boundary of 32 random hex digits. Randomness from the standard library's per-instance
/// hash keys; the caller also checks the boundary occurs in no part.
fn new_boundary() -> String {
    let mut out = String::from("vandar-rs-");
    for salt in 0..2u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(salt);
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// Builder for [`Client::upload_cardholder_documents`], like the generated builders: set the
/// path parameters and the form, then [`send`](Self::send).
#[derive(Clone, Debug)]
pub struct UploadCardholderDocuments<'a> {
    client: &'a Client,
    business: Result<String, String>,
    provider: Result<String, String>,
    cardholder_id: Result<String, String>,
    body: Result<DocumentUpload, String>,
}

impl<'a> UploadCardholderDocuments<'a> {
    fn new(client: &'a Client) -> Self {
        Self {
            client,
            business: Err("business was not initialized".into()),
            provider: Err("provider was not initialized".into()),
            cardholder_id: Err("cardholder_id was not initialized".into()),
            body: Err("body was not initialized (a DocumentUpload)".into()),
        }
    }

    /// The business's English slug.
    pub fn business(mut self, value: impl Into<String>) -> Self {
        self.business = Ok(value.into());
        self
    }

    /// The card-issuing provider.
    pub fn provider(mut self, value: impl Into<String>) -> Self {
        self.provider = Ok(value.into());
        self
    }

    /// The cardholder from `create_cardholder`.
    pub fn cardholder_id(mut self, value: impl Into<String>) -> Self {
        self.cardholder_id = Ok(value.into());
        self
    }

    /// The documents.
    pub fn body(mut self, value: DocumentUpload) -> Self {
        self.body = Ok(value);
        self
    }

    /// Sends a `multipart/form-data` `POST` to
    /// `/v1/business/{business}/ravand/provider/{provider}/cardholder/{cardholder_id}/upload`.
    ///
    /// # Errors
    /// Like any generated operation: `InvalidRequest` (nothing sent) for a missing parameter
    /// or an empty or malformed form; `ErrorResponse` with the decoded `VandarError` for a
    /// 4xx; never retried, so a lost response is "outcome unknown" (convert with
    /// `vandar_ravand::Error::from`).
    pub async fn send(self) -> RawResult {
        self.send_with_response()
            .await
            .map(vandar_runtime::Answer::into_body)
    }

    /// [`send`](Self::send), also giving the HTTP status and headers of the answer.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn send_with_response(self) -> RawAnswer {
        let Self {
            client,
            business,
            provider,
            cardholder_id,
            body,
        } = self;
        let business = business.map_err(vandar_runtime::Error::InvalidRequest)?;
        let provider = provider.map_err(vandar_runtime::Error::InvalidRequest)?;
        let cardholder_id = cardholder_id.map_err(vandar_runtime::Error::InvalidRequest)?;
        let body = body
            .and_then(|mut form| {
                form.check_urls()?;
                form.encode()
            })
            .map_err(vandar_runtime::Error::InvalidRequest)?;
        // The client's binding (its runtime, and its own bearer token or token source and
        // call options) over the hand-written routes.
        let binding = client.binding().with_routes(HAND_WRITTEN_ROUTES);
        raw::send(
            &binding,
            &HAND_WRITTEN_ROUTES[0],
            &[
                ("business", &business),
                ("provider", &provider),
                ("cardholder_id", &cardholder_id),
            ],
            &[],
            Some(body),
        )
        .await
    }
}

impl Client {
    /// Upload the cardholder's identity documents (card issuing step 3, after
    /// [`update_cardholder`](Client::update_cardholder); next:
    /// [`get_video_caption`](Client::get_video_caption)).
    ///
    /// `POST /v1/business/{business}/ravand/provider/{provider}/cardholder/{cardholder_id}/upload`
    /// as `multipart/form-data`, with the bearer token, on the configured `api.vandar.io`
    /// host. Part names and the answer are undocumented (see [`DocumentUpload`]). Not retried.
    ///
    /// ```no_run
    /// # async fn f(ravand: &vandar_ravand::Client) -> Result<(), vandar_ravand::Error> {
    /// use vandar_ravand::DocumentUpload;
    /// let front = std::fs::read("national-card-front.jpg").unwrap_or_default();
    /// let answer = ravand
    ///     .upload_cardholder_documents()
    ///     .business("my-shop")
    ///     .provider("PROVIDER")
    ///     .cardholder_id("42")
    ///     .body(DocumentUpload::new().file("PART_NAME_FROM_VANDAR", "front.jpg", "image/jpeg", front))
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn upload_cardholder_documents(&self) -> UploadCardholderDocuments<'_> {
        UploadCardholderDocuments::new(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(form: &DocumentUpload) -> (String, String) {
        let raw = form.encode().unwrap();
        let boundary = raw
            .content_type
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap()
            .to_string();
        (boundary, String::from_utf8(raw.bytes).unwrap())
    }

    #[test]
    fn encodes_rfc7578() {
        let form = DocumentUpload::new()
            .file("front", "a.jpg", "image/jpeg", b"JPEG".to_vec())
            .text("note", "سلام");
        let (b, text) = body(&form);
        assert_eq!(
            text,
            format!(
                "--{b}\r\nContent-Disposition: form-data; name=\"front\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\nJPEG\r\n\
                 --{b}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nسلام\r\n--{b}--\r\n"
            )
        );
    }

    #[test]
    fn escapes_names_and_rejects_bad_forms() {
        let form = DocumentUpload::new().file("a\"b", "x\r\ny.jpg", "image/jpeg", vec![1]);
        let (_, text) = body(&form);
        assert!(
            text.contains("name=\"a%22b\"; filename=\"x%0D%0Ay.jpg\""),
            "{text}"
        );
        assert!(DocumentUpload::new().encode().is_err());
        assert!(DocumentUpload::new().text("", "x").encode().is_err());
        let injected = DocumentUpload::new().file("f", "f", "image/jpeg\r\nX-Evil: 1", vec![]);
        assert!(injected.encode().is_err());
    }

    #[test]
    fn url_text_parts_are_normalized_or_refused() {
        let mut form = DocumentUpload::new()
            .text("callback_url", "HTTPS://Shop.EXAMPLE/cb")
            .text("note", "javascript: is only text here")
            .file(
                "redirect_uri",
                "a.txt",
                "text/plain",
                b"javascript:x".to_vec(),
            );
        form.check_urls().unwrap();
        let (_, text) = body(&form);
        assert!(
            text.contains("\r\n\r\nhttps://shop.example/cb\r\n"),
            "{text}"
        );
        assert!(text.contains("javascript: is only text here"), "{text}");
        let mut bad = DocumentUpload::new().text("callbackUrl", "javascript:alert(1)");
        let e = bad.check_urls().unwrap_err();
        assert!(
            e.contains("`callbackUrl`")
                && e.contains(UPLOAD_CARDHOLDER_DOCUMENTS)
                && !e.contains("javascript"),
            "{e}"
        );
    }

    #[test]
    fn boundary_never_occurs_in_a_part() {
        let a = new_boundary();
        assert_ne!(a, new_boundary(), "boundaries differ");
        assert!(a.len() == 42 && a.is_ascii());
        let form = DocumentUpload::new().file("f", "f", "text/plain", b"..--B1--..".to_vec());
        let mut candidates = ["B1", "B2"].into_iter().map(String::from);
        let raw = form.encode_using(|| candidates.next().unwrap()).unwrap();
        assert_eq!(raw.content_type, "multipart/form-data; boundary=B2");
        assert!(raw.bytes.starts_with(b"--B2\r\n"));
    }

    #[test]
    fn debug_hides_file_names_and_contents() {
        let form = DocumentUpload::new()
            .file("front", "ali-rezaei.jpg", "image/jpeg", b"SECRET".to_vec())
            .text("national_code", "0499370899");
        let shown = format!("{form:?}");
        assert!(
            shown.contains("front (file, image/jpeg, 6 bytes)"),
            "{shown}"
        );
        for secret in ["ali-rezaei", "SECRET", "0499370899"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
