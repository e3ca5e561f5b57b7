//! `cargo xtask coverage`: every upstream endpoint against the specs.
//!
//! The endpoint lists come from the fact sheets: `reference/INDEX.md` (the 117 Vandar endpoints of
//! the seeds, ids like `I1`, `ST2`, `RV14`) and `reference/sanbod-appendix.md` (Sanbod; ids
//! `SN-authorize`, `SN-token-ac`, `SN-token-cc`, `SN-token-refresh`, `SN-revoke` and
//! `SN-<service>` such as `SN-achtransfer`). A spec claims an endpoint with `x-covers: [ID, ..]` on
//! an operation (one marked `x-hand-written: true` counts as hand-written), an `x-browser-pages`
//! entry or a (legacy) `x-hand-written-operations` entry; without a
//! claim, an operation or page with the same method and path (`:param` and `{param}` alike) covers
//! it.
//!
//! The extras (`reference/extras.md`: endpoints other sources document beyond the seeds, ids
//! like `XC-meta`, `XN-personal`) are matched the same way and reported apart, each with its
//! source. Every operation must match an endpoint of one of the two lists.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::spec::{self, SpecFile};

/// One upstream endpoint.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// Fact-sheet id (`I1`, `SN-statement`).
    pub id: String,
    /// Group in the fact sheet.
    pub group: String,
    /// Upper-case method.
    pub method: String,
    /// Path as documented.
    pub path: String,
    /// Where it is documented (extras only; the seeds' sources are in their fact sheets).
    pub source: String,
}

/// How a spec covers an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// An operation with typed request/response from the docs.
    Typed,
    /// An operation whose body or response is a free-form object marked undocumented.
    Undocumented,
    /// A browser page with a URL builder.
    BrowserPage,
    /// A call written by hand in the crate (e.g. multipart upload).
    HandWritten,
    /// Not covered.
    Missing,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Typed => "typed",
            Kind::Undocumented => "undocumented",
            Kind::BrowserPage => "browser page",
            Kind::HandWritten => "hand-written",
            Kind::Missing => "MISSING",
        }
    }
}

/// Normalise a documented path for comparison: no query, placeholders as `{}`.
fn norm_path(p: &str) -> String {
    let p = p.split('?').next().unwrap_or(p).trim().trim_matches('`');
    p.split('/')
        .map(|seg| {
            if seg.starts_with(':') || (seg.starts_with('{') && seg.ends_with('}')) {
                "{}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Parse the endpoint lists from the reference directory.
pub fn endpoints(reference: &Path) -> Result<Vec<Endpoint>> {
    let index = std::fs::read_to_string(reference.join("INDEX.md"))
        .with_context(|| format!("reading {}/INDEX.md", reference.display()))?;
    let mut out = Vec::new();
    for line in index.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | # | group | ID | method | host | path | detail | source |
        if cells.len() >= 9 && cells[1].parse::<u32>().is_ok() {
            out.push(Endpoint {
                id: cells[3].to_string(),
                group: cells[2].to_string(),
                method: cells[4].to_ascii_uppercase(),
                path: cells[6].trim_matches('`').to_string(),
                source: String::new(),
            });
        }
    }
    if out.len() != 117 {
        bail!(
            "INDEX.md lists {} endpoints; expected the 117 of the seeds (format changed?)",
            out.len()
        );
    }
    let sanbod = std::fs::read_to_string(reference.join("sanbod-appendix.md"))
        .with_context(|| format!("reading {}/sanbod-appendix.md", reference.display()))?;
    let oauth = [
        ("SN-authorize", "/oautht/v1/authorize"),
        ("SN-token-ac", "/oauth/v1/token"),
        ("SN-token-cc", "/oauth/v1/token"),
        ("SN-token-refresh", "/oauth/v1/token"),
        ("SN-revoke", "/oauth/v1/revoke"),
    ];
    for (id, path) in oauth {
        out.push(Endpoint {
            id: id.into(),
            group: "sanbod".into(),
            method: "POST".into(),
            path: path.into(),
            source: String::new(),
        });
    }
    let mut services = 0;
    for line in sanbod.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if let Some(name) = cells.get(1).and_then(|c| c.strip_prefix("POST /")) {
            let name = name.split_whitespace().next().unwrap_or(name);
            out.push(Endpoint {
                id: format!("SN-{name}"),
                group: "sanbod".into(),
                method: "POST".into(),
                path: format!("/{name}"),
                source: String::new(),
            });
            services += 1;
        }
    }
    if services != 10 {
        bail!("sanbod-appendix.md lists {services} services; expected 10 (format changed?)");
    }
    Ok(out)
}

/// The number of endpoints the seeds list (117 Vandar + 5 Sanbod OAuth steps + 10 services).
pub const SEED_ENDPOINTS: usize = 132;

/// Parse the extras list (`extras.md`): endpoints beyond the seeds, with their sources.
pub fn extras(reference: &Path) -> Result<Vec<Endpoint>> {
    let text = std::fs::read_to_string(reference.join("extras.md"))
        .with_context(|| format!("reading {}/extras.md", reference.display()))?;
    let mut out: Vec<Endpoint> = Vec::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | # | id | group | method | host | path | status | source |
        if cells.len() >= 10 && cells[1].parse::<u32>().is_ok() {
            let id = cells[2].to_string();
            if out.iter().any(|e| e.id == id) {
                bail!("extras.md lists `{id}` twice");
            }
            out.push(Endpoint {
                id,
                group: cells[3].to_string(),
                method: cells[4].to_ascii_uppercase(),
                path: cells[6].trim_matches('`').to_string(),
                source: format!("{}; {}", cells[7], cells[8]),
            });
        }
    }
    if out.is_empty() {
        bail!("extras.md lists no endpoint (format changed?)");
    }
    Ok(out)
}

struct Claim {
    spec: String,
    what: String,
    kind: Kind,
    method: String,
    path: String,
    covers: Vec<String>,
}

fn covers_of(v: &Value) -> Vec<String> {
    v.get("x-covers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn is_undocumented(spec: &SpecFile, schema_ref: Option<&str>) -> bool {
    let Some(name) = schema_ref.and_then(spec::ref_name) else {
        return false;
    };
    spec.raw["components"]["schemas"][name]
        .get("x-undocumented")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn claims(specs: &[SpecFile]) -> Vec<Claim> {
    let mut out = Vec::new();
    for s in specs {
        for op in spec::operations(s) {
            let success = op.raw["responses"]
                .as_object()
                .and_then(|m| {
                    m.iter()
                        .find(|(k, _)| k.starts_with('2') || k.starts_with('3'))
                        .map(|(_, r)| r)
                })
                .and_then(|r| r["content"].as_object())
                .and_then(|c| c.values().next())
                .and_then(|m| m["schema"]["$ref"].as_str());
            let body = op.raw["requestBody"]["content"]
                .as_object()
                .and_then(|c| c.values().next())
                .and_then(|m| m["schema"]["$ref"].as_str());
            let undocumented = is_undocumented(s, success) || is_undocumented(s, body);
            out.push(Claim {
                spec: s.name.clone(),
                what: op.id.to_string(),
                kind: if op.hand_written {
                    Kind::HandWritten
                } else if undocumented {
                    Kind::Undocumented
                } else {
                    Kind::Typed
                },
                method: op.method.clone(),
                path: op.path.to_string(),
                covers: covers_of(op.raw),
            });
        }
        for (i, page) in s.raw["x-browser-pages"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            out.push(Claim {
                spec: s.name.clone(),
                what: page["name"].as_str().unwrap_or("page").to_string(),
                kind: Kind::BrowserPage,
                method: "GET".into(),
                path: page["path"].as_str().unwrap_or("").to_string(),
                covers: covers_of(&s.raw["x-browser-pages"][i]),
            });
        }
        for hw in s.raw["x-hand-written-operations"]
            .as_array()
            .into_iter()
            .flatten()
        {
            out.push(Claim {
                spec: s.name.clone(),
                what: hw["name"].as_str().unwrap_or("hand-written").to_string(),
                kind: Kind::HandWritten,
                method: hw["method"].as_str().unwrap_or("").to_ascii_uppercase(),
                path: hw["path"].as_str().unwrap_or("").to_string(),
                covers: covers_of(hw),
            });
        }
    }
    out
}

/// One row of the report.
pub struct Row {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// From the extras list (not the seeds).
    pub extra: bool,
    /// How it is covered.
    pub kind: Kind,
    /// `spec: operation` that covers it.
    pub by: String,
}

/// Match every endpoint (seeds, then extras) against the specs. Fails when an operation,
/// page or hand-written call matches no endpoint of either list.
pub fn report(reference: &Path, specs: &[SpecFile]) -> Result<Vec<Row>> {
    let claims = claims(specs);
    let seeds = endpoints(reference)?;
    let n_seeds = seeds.len();
    let mut all = seeds;
    let extra = extras(reference)?;
    for e in &extra {
        if all.iter().any(|s| s.id == e.id) {
            bail!("extras.md reuses the seed id `{}`", e.id);
        }
    }
    all.extend(extra);
    for c in &claims {
        for id in &c.covers {
            if !all.iter().any(|e| &e.id == id) {
                bail!(
                    "{}: {} claims x-covers `{id}`, which is not an endpoint id of the fact sheets",
                    c.spec,
                    c.what
                );
            }
        }
    }
    let mut used = vec![false; claims.len()];
    let mut rows = Vec::new();
    for (i, e) in all.into_iter().enumerate() {
        let explicit = claims
            .iter()
            .position(|c| c.covers.iter().any(|x| x == &e.id));
        let by_path = || {
            claims.iter().position(|c| {
                c.covers.is_empty()
                    && c.method == e.method
                    && norm_path(&c.path) == norm_path(&e.path)
            })
        };
        let extra = i >= n_seeds;
        let row = match explicit.or_else(by_path) {
            Some(k) => {
                used[k] = true;
                let c = &claims[k];
                Row {
                    kind: c.kind,
                    by: format!("{}: {}", c.spec, c.what),
                    endpoint: e,
                    extra,
                }
            }
            None => Row {
                kind: Kind::Missing,
                by: String::new(),
                endpoint: e,
                extra,
            },
        };
        rows.push(row);
    }
    let unlisted: Vec<String> = claims
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(c, _)| format!("{}: {} ({} {})", c.spec, c.what, c.method, c.path))
        .collect();
    if !unlisted.is_empty() {
        bail!(
            "{} operation(s) match no endpoint of the seeds (INDEX.md, sanbod-appendix.md) or of extras.md; list them in extras.md with their source: {}",
            unlisted.len(),
            unlisted.join(", ")
        );
    }
    Ok(rows)
}

/// Print the table and the totals; `Err` when anything is missing.
pub fn run(root: &Path, reference: Option<&Path>) -> Result<()> {
    let default = root.join("docs/reference");
    let reference = reference.unwrap_or(&default);
    let specs = spec::discover(root)?;
    let rows = report(reference, &specs)?;
    let (extras, seeds): (Vec<&Row>, Vec<&Row>) = rows.iter().partition(|r| r.extra);
    if seeds.len() != SEED_ENDPOINTS {
        bail!(
            "the seeds list {} endpoints; expected {SEED_ENDPOINTS}",
            seeds.len()
        );
    }
    println!("## The seeds' endpoints\n");
    println!("| id | group | method | path | coverage | by |");
    println!("|---|---|---|---|---|---|");
    for r in &seeds {
        println!(
            "| {} | {} | {} | `{}` | {} | {} |",
            r.endpoint.id,
            r.endpoint.group,
            r.endpoint.method,
            r.endpoint.path,
            r.kind.label(),
            r.by
        );
    }
    let seed_missing = summary("seed endpoints", &seeds);
    println!("\n## Extras beyond the seeds (docs/reference/extras.md)\n");
    println!("| id | group | method | path | coverage | by | source |");
    println!("|---|---|---|---|---|---|---|");
    for r in &extras {
        println!(
            "| {} | {} | {} | `{}` | {} | {} | {} |",
            r.endpoint.id,
            r.endpoint.group,
            r.endpoint.method,
            r.endpoint.path,
            r.kind.label(),
            r.by,
            r.endpoint.source
        );
    }
    let extra_missing = summary("extras", &extras);
    if seed_missing + extra_missing > 0 {
        bail!(
            "{seed_missing} seed endpoint(s) and {extra_missing} extra(s) are not covered by any spec"
        );
    }
    Ok(())
}

/// Print the totals of one list; the number missing.
fn summary(what: &str, rows: &[&Row]) -> usize {
    let mut totals: BTreeMap<Kind, usize> = BTreeMap::new();
    for r in rows {
        *totals.entry(r.kind).or_default() += 1;
    }
    let line: Vec<String> = totals
        .iter()
        .map(|(k, n)| format!("{} {n}", k.label()))
        .collect();
    println!("\n{} {what}: {}", rows.len(), line.join(", "));
    totals.get(&Kind::Missing).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::norm_path;

    #[test]
    fn paths_compare_by_shape() {
        assert_eq!(
            norm_path("/v2/business/:business/customers/:customer"),
            norm_path("/v2/business/{business}/customers/{customer_id}")
        );
        assert_eq!(
            norm_path("/v1/x/status?card_number=:card_number"),
            norm_path("/v1/x/status")
        );
        assert_ne!(norm_path("/a/:b"), norm_path("/a/b"));
    }
}
