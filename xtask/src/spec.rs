//! Discovery and loading of `spec/*.yaml`, and the facts every later step reads from a spec:
//! operations with their host, auth scheme and retry safety, and the browser pages.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use openapiv3::{OpenAPI, Operation, PathItem, ReferenceOr, SecurityScheme};
use serde_json::Value;

/// One spec file, parsed twice: as typed OpenAPI and as raw JSON (for `x-` extensions and lints).
pub struct SpecFile {
    /// Path relative to the workspace root, with forward slashes (`spec/vandar-ipg.yaml`).
    pub rel_path: String,
    /// File stem: the name of the generated crate (`vandar-ipg`).
    pub name: String,
    /// The typed document.
    pub api: OpenAPI,
    /// The same document as JSON.
    pub raw: Value,
}

impl SpecFile {
    /// The crate directory this spec generates into.
    pub fn crate_dir(&self, root: &Path) -> PathBuf {
        root.join("crates").join(&self.name)
    }

    /// The generated file of this spec.
    pub fn generated_path(&self, root: &Path) -> PathBuf {
        self.crate_dir(root).join("src").join("generated.rs")
    }
}

/// The workspace root (the parent of the xtask package).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Every `spec/*.yaml`, sorted by name, parsed.
pub fn discover(root: &Path) -> Result<Vec<SpecFile>> {
    spec_paths(root)?.iter().map(|p| load(root, p)).collect()
}

/// Every `spec/*.yaml` path, sorted by name, not parsed.
pub fn spec_paths(root: &Path) -> Result<Vec<PathBuf>> {
    let dir = root.join("spec");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!("no spec/*.yaml found under {}", root.display());
    }
    Ok(paths)
}

/// The generated file of the spec at `path` (`crates/<stem>/src/generated.rs`), and the
/// spec's path relative to `root`, without parsing it.
pub fn generated_path_of(root: &Path, path: &Path) -> Option<(PathBuf, String)> {
    let stem = path.file_stem()?.to_str()?;
    let rel = path
        .strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/");
    Some((
        root.join("crates")
            .join(stem)
            .join("src")
            .join("generated.rs"),
        rel,
    ))
}

/// Parse one spec file.
pub fn load(root: &Path, path: &Path) -> Result<SpecFile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let rel_path = path
        .strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/");
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| anyhow!("{rel_path}: file name is not UTF-8"))?
        .to_string();
    let raw: Value =
        serde_yaml::from_str(&text).with_context(|| format!("{rel_path}: not valid YAML"))?;
    let api: OpenAPI = serde_json::from_value(raw.clone())
        .with_context(|| format!("{rel_path}: not a valid OpenAPI 3.0 document"))?;
    Ok(SpecFile {
        rel_path,
        name,
        api,
        raw,
    })
}

/// How an operation authenticates, resolved from `security` + `components.securitySchemes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthKind {
    /// No credentials.
    None,
    /// `Authorization: Bearer <token>` from the named scheme.
    Bearer(String),
    /// `Authorization: Basic <client id:secret>` from the named scheme.
    Basic(String),
}

/// One operation with everything the generator and the tests need to know about it.
pub struct Op<'a> {
    /// `operationId` as written.
    pub id: &'a str,
    /// Upper-case HTTP method.
    pub method: String,
    /// Path template.
    pub path: &'a str,
    /// The operation.
    pub op: &'a Operation,
    /// The path item holding it (for path-level parameters and servers).
    pub item: &'a PathItem,
    /// The operation as raw JSON (for `x-` extensions).
    pub raw: &'a Value,
    /// Marked `x-hand-written: true`: described for the docs, other languages and the sandbox,
    /// but written by hand in the crate (multipart upload); the generator skips it.
    pub hand_written: bool,
}

impl Op<'_> {
    /// Human name used in lint messages: `` `verify_payment` (POST /api/v4/verify) ``.
    pub fn label(&self) -> String {
        format!("`{}` ({} {})", self.id, self.method, self.path)
    }

    /// The base URL this operation is sent to: operation `servers`, else path `servers`, else
    /// the first document `servers` entry.
    pub fn host(&self, api: &OpenAPI) -> Option<String> {
        self.op
            .servers
            .first()
            .or_else(|| self.item.servers.first())
            .or_else(|| api.servers.first())
            .map(|s| s.url.trim_end_matches('/').to_string())
    }

    /// The auth scheme of this operation.
    pub fn auth(&self, api: &OpenAPI) -> Result<AuthKind> {
        let reqs = self.op.security.as_ref().or(api.security.as_ref());
        let Some(first) = reqs.and_then(|r| r.first()) else {
            return Ok(AuthKind::None);
        };
        let Some((name, _scopes)) = first.iter().next() else {
            return Ok(AuthKind::None);
        };
        let scheme = api
            .components
            .as_ref()
            .and_then(|c| c.security_schemes.get(name))
            .ok_or_else(|| {
                anyhow!("security scheme `{name}` is not in components.securitySchemes")
            })?;
        match scheme {
            ReferenceOr::Item(SecurityScheme::HTTP { scheme, .. })
                if scheme.eq_ignore_ascii_case("bearer") =>
            {
                Ok(AuthKind::Bearer(name.clone()))
            }
            ReferenceOr::Item(SecurityScheme::HTTP { scheme, .. })
                if scheme.eq_ignore_ascii_case("basic") =>
            {
                Ok(AuthKind::Basic(name.clone()))
            }
            _ => bail!("security scheme `{name}` is neither HTTP bearer nor HTTP basic"),
        }
    }

    /// The body field that carries this operation's credential: `x-credential: {kind:
    /// body-api-key, field: <name>}` on the operation, else at the top of the spec.
    pub fn credential_field(&self, spec_raw: &Value) -> Option<String> {
        let ext = self
            .raw
            .get(CREDENTIAL)
            .or_else(|| spec_raw.get(CREDENTIAL))?;
        (ext["kind"].as_str() == Some(BODY_API_KEY))
            .then(|| ext["field"].as_str().map(str::to_owned))
            .flatten()
    }

    /// Whether the runtime may retry this operation after a transient failure. GET is safe
    /// unless the spec says otherwise; everything else must say `x-idempotent: true`.
    pub fn idempotent(&self) -> bool {
        match self.raw.get("x-idempotent").and_then(Value::as_bool) {
            Some(v) => v,
            None => self.method == "GET",
        }
    }
}

/// The extension that says where a credential travels when it is not a security scheme
/// (`x-credential: {kind: body-api-key, field: api_key}`: the IPG's api_key in the body).
pub const CREDENTIAL: &str = "x-credential";

/// The one `x-credential` kind: an api key in a named body field.
pub const BODY_API_KEY: &str = "body-api-key";

/// The schema extension for fields the SDK requires although the wire format does not
/// (`x-sdk-required: [track_id]`): required in the generated builders, optional in the schema
/// (and so in the sandbox's validation).
pub const SDK_REQUIRED: &str = "x-sdk-required";

/// The operation extension that marks a call written by hand in the crate (`x-hand-written:
/// true`): the generator skips it; the lint accepts a multipart body only there.
pub const HAND_WRITTEN: &str = "x-hand-written";

/// Every operation the generator compiles: [`operations`] without the hand-written ones.
pub fn generated_operations(spec: &SpecFile) -> Vec<Op<'_>> {
    operations(spec)
        .into_iter()
        .filter(|op| !op.hand_written)
        .collect()
}

/// Every operation of a spec, in document order (hand-written ones included).
pub fn operations(spec: &SpecFile) -> Vec<Op<'_>> {
    let mut out = Vec::new();
    for (path, item) in spec.api.paths.paths.iter() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (method, op) in item.iter() {
            let raw = &spec.raw["paths"][path][method];
            out.push(Op {
                id: op.operation_id.as_deref().unwrap_or(""),
                method: method.to_ascii_uppercase(),
                path,
                op,
                item,
                raw,
                hand_written: raw.get(HAND_WRITTEN).and_then(Value::as_bool) == Some(true),
            });
        }
    }
    out
}

/// A page the user's browser opens (not an API call), from `x-browser-pages`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BrowserPage {
    /// Stable name (`payment_page`).
    pub name: String,
    /// Base URL (`https://ipg.vandar.io`).
    pub host: String,
    /// Path template with `{param}` placeholders.
    pub path: String,
}

/// The browser pages a spec lists under `x-browser-pages`.
pub fn browser_pages(spec: &SpecFile) -> Result<Vec<BrowserPage>> {
    let Some(list) = spec.raw.get("x-browser-pages") else {
        return Ok(Vec::new());
    };
    let list = list
        .as_array()
        .ok_or_else(|| anyhow!("x-browser-pages must be a list"))?;
    list.iter()
        .map(|p| {
            let field = |k: &str| {
                p.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| anyhow!("x-browser-pages entry lacks string field `{k}`: {p}"))
            };
            Ok(BrowserPage {
                name: field("name")?,
                host: field("host")?.trim_end_matches('/').to_string(),
                path: field("path")?,
            })
        })
        .collect()
}

/// A schema, or the component its `$ref` points to.
pub fn resolve_schema<'a>(schemas: &'a Value, s: &'a Value) -> &'a Value {
    match s["$ref"].as_str().and_then(ref_name) {
        Some(n) => &schemas[n],
        None => s,
    }
}

/// A schema (resolved) and its `oneOf`/`anyOf`/`allOf` variants (resolved), one level deep.
pub fn schema_variants<'a>(schemas: &'a Value, s: &'a Value) -> Vec<&'a Value> {
    let s = resolve_schema(schemas, s);
    let mut out = vec![s];
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(vs) = s[key].as_array() {
            out.extend(vs.iter().map(|v| resolve_schema(schemas, v)));
        }
    }
    out
}

/// The component schema name a `$ref` points at.
pub fn ref_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/components/schemas/")
}
