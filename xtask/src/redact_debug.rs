//! Secrets never appear in `Debug` (CONTRIBUTING.md, Standards), also in the generated code:
//! a pass over the finished file, after [`crate::rewrite`], [`crate::ergonomic`] and the
//! emitted checks and tables.
//!
//! * **Structs with named fields** (typify's types, its body builders in `types::builder`,
//!   progenitor's operation builders in `mod request`, anything else in the file) that derive
//!   `Debug` and have a sensitive field ([`is_sensitive_name`] on the Rust name or the
//!   `#[serde(rename)]` wire name) lose the derive and get an `impl Debug` that prints every
//!   field as the derive did, except the sensitive ones, printed as `[redacted]`.
//! * **Enums** get the same for a variant's sensitive named field, or a tuple variant whose
//!   own name (an externally tagged variant's wire key) is sensitive.
//! * **Newtypes** (tuple structs, typify's constrained strings such as
//!   `RefreshTokenRequestRefreshtoken`) that are the type of a sensitive field print
//!   `Name([redacted])`: they hold the secret itself.
//!
//! * **Free-form JSON** (a field or newtype whose type is a `serde_json::Value`, a
//!   `serde_json::Map`, a map of strings or values, or an `Option`, `Vec`, `Box` or `Result`
//!   (a builder's field) of one: [`is_json_type`]; typify's `Undocumented`, the error
//!   bodies' `extra`) has no field names to go by: the rewritten `Debug` prints it through
//!   the runtime's `vandar_runtime::redact::RedactedJson`, which hides the values of
//!   sensitive keys at any depth (the same rule) and masks card, IBAN and national-code
//!   shapes.
//!
//! Only a plain `#[derive(.., Debug, ..)]` is taken apart. Any other way a secret-holding type
//! could still get `Debug` (a `cfg_attr` derive, a derive this pass cannot parse) is named by
//! [`leaks`], and [`apply`] fails on it: nothing is left silently.

use std::collections::BTreeSet;

use anyhow::{Result, bail};
use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use syn::ext::IdentExt;
use syn::punctuated::Punctuated;

/// Field names whose values are secrets or personal data. The same list as `SENSITIVE_FIELDS`
/// in `crates/vandar-runtime/src/redact.rs` (what the runtime cuts out of error text and hides
/// in free-form JSON); keep the two in step (`tests/debug_redaction.rs` compares them).
/// Compared after [`normalize`], on the whole name or its end (`individual_national_code`,
/// `destination_iban`, `cardNumber`), except [`WHOLE_NAME_ONLY`] and [`LAST_WORD_ONLY`].
pub const SENSITIVE_NAMES: &[&str] = &[
    "api_key",
    "apikey",
    "access_token",
    "refresh_token",
    "refreshtoken",
    "id_token",
    "client_secret",
    "password",
    "secret",
    "pin",
    "cvv2",
    "otp",
    "code_verifier",
    "card_number",
    "cardnumber",
    "valid_card_number",
    "source_card",
    "destination_card",
    "national_code",
    "nationalcode",
    "national_id",
    "nationalid",
    "iban",
    "sheba",
    "pan",
];

/// Entries of [`SENSITIVE_NAMES`] matched only as the whole name: as an ending they would
/// catch ordinary words (`shipping`, `laptop`).
pub const WHOLE_NAME_ONLY: &[&str] = &["pin", "otp"];

/// Entries of [`SENSITIVE_NAMES`] matched as the whole name or as the name's last word (after
/// `_`, `-`, or a lower-case letter or digit followed by an upper-case one): `pan`,
/// `card_pan`, `cardPan`; not `span`, `japan` or `timespan`, which merely end with it.
pub const LAST_WORD_ONLY: &[&str] = &["pan"];

/// What a sensitive field prints instead of its value (the runtime's `REDACTED`).
pub const REDACTED: &str = "[redacted]";

/// ASCII lowercase without `_` and `-` (`cardNumber`, `card_number` and `card-number` are one
/// name).
pub fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// How an entry of [`SENSITIVE_NAMES`] may match besides the whole name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Any ending (`destination_iban`).
    Any,
    /// Only the whole name ([`WHOLE_NAME_ONLY`]).
    None,
    /// The last word ([`LAST_WORD_ONLY`]).
    LastWord,
}

/// Whether a field called `name` (a Rust or a wire name) holds a secret or personal data: its
/// [`normalize`]d form equals an entry or ends with one, except [`WHOLE_NAME_ONLY`] and
/// [`LAST_WORD_ONLY`]. The runtime's `vandar_runtime::redact::is_sensitive_name` is the same
/// rule (a workspace test compares them).
pub fn is_sensitive_name(name: &str) -> bool {
    /// The entries normalized once (a generated file has thousands of fields), with which
    /// endings count.
    static ENTRIES: std::sync::LazyLock<Vec<(String, Ending)>> = std::sync::LazyLock::new(|| {
        SENSITIVE_NAMES
            .iter()
            .map(|entry| {
                let ending = if WHOLE_NAME_ONLY.contains(entry) {
                    Ending::None
                } else if LAST_WORD_ONLY.contains(entry) {
                    Ending::LastWord
                } else {
                    Ending::Any
                };
                (normalize(entry), ending)
            })
            .collect()
    });
    let raw = name.trim_start_matches("r#");
    let name = normalize(raw);
    ENTRIES.iter().any(|(entry, ending)| {
        name == *entry
            || match ending {
                Ending::Any => name.ends_with(entry.as_str()),
                Ending::None => false,
                Ending::LastWord => {
                    name.ends_with(entry.as_str()) && normalize(last_word(raw)) == *entry
                }
            }
    })
}

/// The last word of a name: after its last `_` or `-`, or from its last upper-case letter
/// that follows a lower-case letter or a digit (`cardPan` → `Pan`).
fn last_word(name: &str) -> &str {
    let b = name.as_bytes();
    let mut start = 0;
    for i in 0..b.len() {
        if matches!(b[i], b'_' | b'-') {
            start = i + 1;
        } else if i > 0
            && b[i].is_ascii_uppercase()
            && (b[i - 1].is_ascii_lowercase() || b[i - 1].is_ascii_digit())
        {
            start = i;
        }
    }
    &name[start..]
}

/// Whether a type is free-form JSON (see the module docs): `serde_json::Value`,
/// `serde_json::Map<String, Value>`, a `HashMap`/`BTreeMap` from strings to strings or to
/// free-form JSON, or an `Option`, `Vec`, `Box` or `Result` (a builder's field) of one. The
/// runtime's `RedactedJson` prints exactly these.
pub fn is_json_type(ty: &syn::Type) -> bool {
    let syn::Type::Path(p) = ty else {
        return false;
    };
    let Some(last) = p.path.segments.last() else {
        return false;
    };
    let mut args = match &last.arguments {
        syn::PathArguments::AngleBracketed(a) => Some(a.args.iter().filter_map(|g| match g {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        })),
        _ => None,
    }
    .into_iter()
    .flatten();
    let (first, second, more) = (args.next(), args.next(), args.next().is_some());
    let ident = &last.ident;
    let in_serde_json = || p.path.segments.iter().any(|s| s.ident == "serde_json");
    match (first, second) {
        (None, None) if ident == "Value" => in_serde_json(),
        (Some(k), Some(_)) if ident == "Map" && !more => in_serde_json() && is_string(k),
        (Some(k), Some(v)) if ident == "HashMap" || ident == "BTreeMap" => {
            is_string(k) && (is_string(v) || is_json_type(v))
        }
        (Some(t), None) if ident == "Option" || ident == "Vec" || ident == "Box" => is_json_type(t),
        // a builder's field; the error is a message
        (Some(t), Some(_)) if ident == "Result" && !more => is_json_type(t),
        _ => false,
    }
}

fn is_string(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "String"))
}

/// Whether a type mentions `serde_json` anywhere (a free-form value [`is_json_type`] may not
/// know how to print), and whether it mentions a `HashMap` or `BTreeMap`: one walk.
fn mentions(ty: &syn::Type) -> (bool, bool) {
    fn walk(ty: &syn::Type, found: &mut (bool, bool)) {
        match ty {
            syn::Type::Path(p) => {
                for s in &p.path.segments {
                    if s.ident == "serde_json" {
                        found.0 = true;
                    } else if s.ident == "HashMap" || s.ident == "BTreeMap" {
                        found.1 = true;
                    }
                    if let syn::PathArguments::AngleBracketed(a) = &s.arguments {
                        for g in &a.args {
                            if let syn::GenericArgument::Type(t) = g {
                                walk(t, found);
                            }
                        }
                    }
                }
            }
            syn::Type::Reference(r) => walk(&r.elem, found),
            syn::Type::Tuple(t) => t.elems.iter().for_each(|t| walk(t, found)),
            syn::Type::Array(a) => walk(&a.elem, found),
            syn::Type::Slice(s) => walk(&s.elem, found),
            syn::Type::Paren(p) => walk(&p.elem, found),
            syn::Type::Group(g) => walk(&g.elem, found),
            _ => {}
        }
    }
    let mut found = (false, false);
    walk(ty, &mut found);
    found
}

/// Whether a field holds free-form JSON that `Debug` must print through `RedactedJson`, or
/// mentions `serde_json` in a shape it cannot print (then named by [`leaks`]).
fn holds_json(f: &syn::Field) -> bool {
    match mentions(&f.ty) {
        (true, _) => true,
        (false, true) => is_json_type(&f.ty),
        (false, false) => false,
    }
}

/// Whether a field or variant with these attributes and this Rust name is sensitive: by its
/// name or by its `#[serde(rename = "..")]`.
fn is_sensitive(ident: &syn::Ident, attrs: &[syn::Attribute]) -> bool {
    is_sensitive_name(&ident.unraw().to_string())
        || crate::checks::serde_rename(attrs).is_some_and(|wire| is_sensitive_name(&wire))
}

/// Whether a named field is sensitive (by its Rust name or its `#[serde(rename)]`).
pub fn field_is_sensitive(field: &syn::Field) -> bool {
    field
        .ident
        .as_ref()
        .is_some_and(|ident| is_sensitive(ident, &field.attrs))
}

/// Whether a whole tuple variant is a secret: its name (an externally tagged variant's wire
/// key) or its `#[serde(rename)]` is sensitive.
fn variant_is_secret(v: &syn::Variant) -> bool {
    matches!(v.fields, syn::Fields::Unnamed(_)) && is_sensitive(&v.ident, &v.attrs)
}

/// The sensitive fields of a struct or enum, as `Type.field` (`Type::Variant.field`, or
/// `Type::Variant` for a secret tuple variant); empty when the type holds no secret by name.
fn sensitive_fields(item: &syn::Item) -> Vec<String> {
    match item {
        syn::Item::Struct(s) => named(&s.fields)
            .filter(|f| field_is_sensitive(f))
            .map(|f| format!("{}.{}", s.ident, field_name(f)))
            .collect(),
        syn::Item::Enum(e) => e
            .variants
            .iter()
            .flat_map(|v| {
                let fields = named(&v.fields)
                    .filter(|f| field_is_sensitive(f))
                    .map(move |f| format!("{}::{}.{}", e.ident, v.ident, field_name(f)));
                variant_is_secret(v)
                    .then(|| format!("{}::{}", e.ident, v.ident))
                    .into_iter()
                    .chain(fields)
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The free-form JSON fields of a struct or enum ([`holds_json`]), as `Type.field`, `Type.0`
/// or `Type::Variant.0`.
fn json_fields(item: &syn::Item) -> Vec<String> {
    fn of(prefix: &str, fields: &syn::Fields, out: &mut Vec<String>) {
        for (i, f) in fields.iter().enumerate() {
            if holds_json(f) {
                match &f.ident {
                    Some(ident) => out.push(format!("{prefix}.{}", ident.unraw())),
                    None => out.push(format!("{prefix}.{i}")),
                }
            }
        }
    }
    let mut out = Vec::new();
    match item {
        syn::Item::Struct(s) => of(&s.ident.to_string(), &s.fields, &mut out),
        syn::Item::Enum(e) => {
            for v in &e.variants {
                of(&format!("{}::{}", e.ident, v.ident), &v.fields, &mut out);
            }
        }
        _ => {}
    }
    out
}

/// The fields that mention `serde_json` in a shape [`is_json_type`] does not know (the
/// runtime cannot print them redacted).
fn unprintable_json(item: &syn::Item) -> Vec<String> {
    let fields: Vec<&syn::Field> = match item {
        syn::Item::Struct(s) => s.fields.iter().collect(),
        syn::Item::Enum(e) => e.variants.iter().flat_map(|v| v.fields.iter()).collect(),
        _ => Vec::new(),
    };
    let unknown = fields
        .iter()
        .any(|f| mentions(&f.ty).0 && !is_json_type(&f.ty));
    if unknown {
        json_fields(item)
    } else {
        Vec::new()
    }
}

fn named(fields: &syn::Fields) -> impl Iterator<Item = &syn::Field> {
    match fields {
        syn::Fields::Named(n) => Some(n.named.iter()),
        _ => None,
    }
    .into_iter()
    .flatten()
}

/// The name `derive(Debug)` prints for a field (`type` for `r#type`).
fn field_name(f: &syn::Field) -> String {
    f.ident.as_ref().expect("named field").unraw().to_string()
}

fn attrs_of(item: &syn::Item) -> Option<&Vec<syn::Attribute>> {
    match item {
        syn::Item::Struct(s) => Some(&s.attrs),
        syn::Item::Enum(e) => Some(&e.attrs),
        _ => None,
    }
}

fn attrs_of_mut(item: &mut syn::Item) -> Option<&mut Vec<syn::Attribute>> {
    match item {
        syn::Item::Struct(s) => Some(&mut s.attrs),
        syn::Item::Enum(e) => Some(&mut e.attrs),
        _ => None,
    }
}

/// The paths of a `#[derive(..)]` attribute; `None` for any other attribute.
fn derive_paths(attr: &syn::Attribute) -> Option<Punctuated<syn::Path, syn::Token![,]>> {
    if !attr.path().is_ident("derive") {
        return None;
    }
    attr.parse_args_with(Punctuated::parse_terminated).ok()
}

fn is_debug(path: &syn::Path) -> bool {
    path.segments.last().is_some_and(|s| s.ident == "Debug")
}

/// Whether the item derives `Debug`.
fn derives_debug(item: &syn::Item) -> bool {
    attrs_of(item).is_some_and(|attrs| {
        attrs
            .iter()
            .filter_map(derive_paths)
            .any(|paths| paths.iter().any(is_debug))
    })
}

/// Whether any attribute of the item could derive `Debug`: a `derive` or `cfg_attr` that
/// mentions it, parsed or not. Looser than [`derives_debug`], for [`leaks`].
fn may_derive_debug(item: &syn::Item) -> bool {
    attrs_of(item).is_some_and(|attrs| {
        attrs
            .iter()
            .filter(|a| a.path().is_ident("derive") || a.path().is_ident("cfg_attr"))
            .any(|a| {
                let mut found = BTreeSet::new();
                idents(a.meta.to_token_stream(), &mut found);
                found.contains("Debug")
            })
    })
}

/// Remove `Debug` from the item's derives (and a derive left empty).
fn drop_debug_derive(item: &mut syn::Item) {
    let Some(attrs) = attrs_of_mut(item) else {
        return;
    };
    attrs.retain_mut(|attr| {
        let Some(paths) = derive_paths(attr) else {
            return true;
        };
        if !paths.iter().any(is_debug) {
            return true;
        }
        let kept: Punctuated<syn::Path, syn::Token![,]> =
            paths.into_iter().filter(|p| !is_debug(p)).collect();
        if kept.is_empty() {
            return false;
        }
        *attr = syn::parse_quote!(#[derive(#kept)]);
        true
    });
}

/// The identifiers in some tokens, at any depth (`Option<super::X>` mentions `Option` and
/// `X`).
fn idents(tokens: TokenStream, out: &mut BTreeSet<String>) {
    for tree in tokens {
        match tree {
            proc_macro2::TokenTree::Ident(i) => {
                out.insert(i.to_string());
            }
            proc_macro2::TokenTree::Group(g) => idents(g.stream(), out),
            _ => {}
        }
    }
}

/// The type names held by sensitive fields anywhere in `items` (at any module depth).
fn secret_holders(items: &[syn::Item], out: &mut BTreeSet<String>) {
    for item in items {
        match item {
            syn::Item::Struct(s) => {
                for f in named(&s.fields).filter(|f| field_is_sensitive(f)) {
                    idents(f.ty.to_token_stream(), out);
                }
            }
            syn::Item::Enum(e) => {
                for f in e
                    .variants
                    .iter()
                    .flat_map(|v| named(&v.fields))
                    .filter(|f| field_is_sensitive(f))
                {
                    idents(f.ty.to_token_stream(), out);
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    secret_holders(inner, out);
                }
            }
            _ => {}
        }
    }
}

/// Whether the item is a tuple struct whose whole value is a secret: the type of a
/// sensitive field (`RefreshTokenRequest.refreshtoken: RefreshTokenRequestRefreshtoken`).
fn is_secret_newtype(item: &syn::Item, holders: &BTreeSet<String>) -> bool {
    matches!(item, syn::Item::Struct(s)
        if matches!(s.fields, syn::Fields::Unnamed(_)) && holders.contains(&s.ident.to_string()))
}

/// The `impl Debug` of a struct or enum, `[redacted]` for every sensitive field (every field
/// of a secret newtype). Type parameters get the `T: Debug` bound the derive would add.
fn debug_impl(item: &syn::Item, newtype: bool) -> TokenStream {
    let (ident, generics) = match item {
        syn::Item::Struct(s) => (&s.ident, &s.generics),
        syn::Item::Enum(e) => (&e.ident, &e.generics),
        _ => unreachable!("only structs and enums are rewritten"),
    };
    let mut generics = generics.clone();
    let params: Vec<syn::Ident> = generics.type_params().map(|p| p.ident.clone()).collect();
    if !params.is_empty() {
        let clause = generics.make_where_clause();
        for p in params {
            clause
                .predicates
                .push(syn::parse_quote!(#p: ::std::fmt::Debug));
        }
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let body = match item {
        syn::Item::Struct(s) => {
            let shown = ident.unraw().to_string();
            let access = s.fields.members().map(|m| quote!(&self.#m));
            fields_debug(&shown, &s.fields, access, newtype)
        }
        syn::Item::Enum(e) => {
            let arms = e.variants.iter().map(|v| {
                let name = &v.ident;
                let shown = name.unraw().to_string();
                let whole =
                    matches!(v.fields, syn::Fields::Unnamed(_)) && is_sensitive(&v.ident, &v.attrs);
                let binds: Vec<syn::Ident> = v
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| f.ident.clone().unwrap_or_else(|| format_ident!("f{i}")))
                    .collect();
                let pats = v.fields.iter().zip(&binds).map(|(f, b)| {
                    let hidden = whole || field_is_sensitive(f);
                    match (&f.ident, hidden) {
                        (Some(name), true) => quote!(#name: _),
                        (Some(_), false) => quote!(#b),
                        (None, true) => quote!(_),
                        (None, false) => quote!(#b),
                    }
                });
                let pattern = match &v.fields {
                    syn::Fields::Named(_) => quote!(Self::#name { #(#pats),* }),
                    syn::Fields::Unnamed(_) => quote!(Self::#name(#(#pats),*)),
                    syn::Fields::Unit => quote!(Self::#name),
                };
                let body = fields_debug(&shown, &v.fields, binds.iter().map(|b| quote!(#b)), whole);
                quote!(#pattern => #body,)
            });
            quote!(match self { #(#arms)* })
        }
        _ => unreachable!(),
    };
    quote! {
        impl #impl_generics ::std::fmt::Debug for #ident #ty_generics #where_clause {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                #body
            }
        }
    }
}

/// `f.debug_struct(..)` / `f.debug_tuple(..)` / `f.write_str(..)` over the fields, as the
/// derive prints them; `access` yields each field's expression (a reference).
fn fields_debug(
    shown: &str,
    fields: &syn::Fields,
    access: impl Iterator<Item = TokenStream>,
    all_hidden: bool,
) -> TokenStream {
    let values: Vec<TokenStream> = fields
        .iter()
        .zip(access)
        .map(|(f, value)| {
            if all_hidden || (f.ident.is_some() && field_is_sensitive(f)) {
                quote!(&format_args!(#REDACTED))
            } else if is_json_type(&f.ty) {
                quote!(&::vandar_runtime::redact::RedactedJson(#value))
            } else {
                value
            }
        })
        .collect();
    match fields {
        syn::Fields::Named(_) => {
            let names = fields.iter().map(field_name);
            quote!(f.debug_struct(#shown) #(.field(#names, #values))* .finish())
        }
        syn::Fields::Unnamed(_) => quote!(f.debug_tuple(#shown) #(.field(#values))* .finish()),
        syn::Fields::Unit => quote!(f.write_str(#shown)),
    }
}

/// Rewrite every type of the file that would print a secret with its derived `Debug` (see
/// the module docs); returns the rewritten types, `module::path::Type`, in file order.
///
/// # Errors
/// A type with a sensitive field that still has a `Debug` derive this pass cannot take apart
/// (named, with the field, in the message).
pub fn apply(file: &mut syn::File) -> Result<Vec<String>> {
    let mut holders = BTreeSet::new();
    secret_holders(&file.items, &mut holders);
    let mut done = Vec::new();
    rewrite_items(&mut file.items, "", &holders, &mut done)?;
    let left = leaks(file);
    if !left.is_empty() {
        bail!(
            "these generated types would print a secret in Debug and could not be rewritten: {}",
            left.join(", ")
        );
    }
    Ok(done)
}

fn rewrite_items(
    items: &mut Vec<syn::Item>,
    prefix: &str,
    holders: &BTreeSet<String>,
    done: &mut Vec<String>,
) -> Result<()> {
    let mut out = Vec::with_capacity(items.len());
    for mut item in std::mem::take(items) {
        if let syn::Item::Mod(m) = &mut item
            && let Some((_, inner)) = &mut m.content
        {
            let prefix = format!("{prefix}{}::", m.ident);
            rewrite_items(inner, &prefix, holders, done)?;
            out.push(item);
            continue;
        }
        let newtype = is_secret_newtype(&item, holders);
        let target =
            newtype || !sensitive_fields(&item).is_empty() || !json_fields(&item).is_empty();
        if !(target && derives_debug(&item)) {
            out.push(item);
            continue;
        }
        let unknown = unprintable_json(&item);
        if !unknown.is_empty() {
            bail!(
                "free-form JSON of a shape `vandar_runtime::redact::RedactedJson` cannot print: {}",
                unknown.join(", ")
            );
        }
        let imp: syn::Item = syn::parse2(debug_impl(&item, newtype))?;
        drop_debug_derive(&mut item);
        if let syn::Item::Struct(syn::ItemStruct { ident, .. })
        | syn::Item::Enum(syn::ItemEnum { ident, .. }) = &item
        {
            done.push(format!("{prefix}{ident}"));
        }
        out.push(item);
        out.push(imp);
    }
    *items = out;
    Ok(())
}

/// The sensitive and free-form JSON fields (`Type.field`; `Type.0` for a secret newtype or a
/// JSON newtype) of every type in the file that may still derive `Debug` (a `derive` or
/// `cfg_attr` naming it), at any module depth; empty once [`apply`] has run. The workspace tests run it on every `generated.rs`.
pub fn leaks(file: &syn::File) -> Vec<String> {
    let mut holders = BTreeSet::new();
    secret_holders(&file.items, &mut holders);
    let mut out = Vec::new();
    leaks_in(&file.items, &holders, &mut out);
    out
}

/// [`leaks`] of a file's text (a `generated.rs`).
///
/// # Errors
/// The text does not parse as Rust.
pub fn leaks_in_source(text: &str) -> Result<Vec<String>> {
    Ok(leaks(&syn::parse_file(text)?))
}

fn leaks_in(items: &[syn::Item], holders: &BTreeSet<String>, out: &mut Vec<String>) {
    for item in items {
        if let syn::Item::Mod(m) = item {
            if let Some((_, inner)) = &m.content {
                leaks_in(inner, holders, out);
            }
            continue;
        }
        // the fields first: looking at the derives prints them, and few items hold a secret
        let mut fields = sensitive_fields(item);
        fields.extend(json_fields(item));
        let newtype = fields.is_empty() && is_secret_newtype(item, holders);
        if (newtype || !fields.is_empty()) && may_derive_debug(item) {
            if !fields.is_empty() {
                out.extend(fields);
            } else if let syn::Item::Struct(s) = item {
                out.push(format!("{}.0", s.ident));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_matches_whole_names_and_endings() {
        for name in [
            "access_token",
            "refresh_token",
            "refreshtoken",
            "refreshToken",
            "individual_national_code",
            "destination_iban",
            "cardNumber",
            "card-number",
            "IBAN",
            "sheba",
            "national_id",
            "nationalId",
            "api_key",
            "client_secret",
            "pin",
            "otp",
            "id_token",
            "cvv2",
            "code_verifier",
            "r#iban",
        ] {
            assert!(is_sensitive_name(name), "{name}");
        }
        for name in [
            "iban_compatibility",
            "shipping",
            "laptop",
            "pin_code",
            "token",
            "token_type",
            "expires_in",
            "card",
            "national",
            "amount",
            "traceid",
        ] {
            assert!(!is_sensitive_name(name), "{name}");
        }
    }

    #[test]
    fn pan_counts_as_the_whole_name_or_the_last_word() {
        for name in [
            "pan",
            "PAN",
            "card_pan",
            "cardPan",
            "cardPAN",
            "payer-pan",
            "r#pan",
        ] {
            assert!(is_sensitive_name(name), "{name}");
        }
        for name in [
            "span",
            "time_span",
            "timespan",
            "TIMESPAN",
            "japan",
            "company",
            "panel",
            "pane",
        ] {
            assert!(!is_sensitive_name(name), "{name}");
        }
    }

    #[test]
    fn json_types_are_known_by_shape() {
        let known: Vec<syn::Type> = vec![
            syn::parse_quote!(::serde_json::Value),
            syn::parse_quote!(::serde_json::Map<::std::string::String, ::serde_json::Value>),
            syn::parse_quote!(::std::option::Option<::serde_json::Value>),
            syn::parse_quote!(::std::vec::Vec<::serde_json::Value>),
            syn::parse_quote!(Result<::std::option::Option<::serde_json::Value>, String>),
            syn::parse_quote!(
                ::std::collections::HashMap<::std::string::String, ::std::string::String>
            ),
            syn::parse_quote!(::std::collections::BTreeMap<String, ::serde_json::Value>),
        ];
        for ty in &known {
            assert!(is_json_type(ty), "{}", ty.to_token_stream());
        }
        let other: Vec<syn::Type> = vec![
            syn::parse_quote!(String),
            syn::parse_quote!(Value),
            syn::parse_quote!(::std::collections::HashMap<String, super::BusinessTool>),
            syn::parse_quote!(Option<super::Undocumented>),
        ];
        for ty in &other {
            assert!(!is_json_type(ty), "{}", ty.to_token_stream());
        }
    }

    #[test]
    fn free_form_json_prints_through_the_runtime() {
        let (file, done) = rewritten(syn::parse_quote! {
            #[derive(Clone, Debug)]
            #[serde(transparent)]
            pub struct Undocumented(pub ::serde_json::Map<::std::string::String, ::serde_json::Value>);
            #[derive(Debug, Default)]
            pub struct VandarError {
                pub message: Option<String>,
                pub errors: Option<::serde_json::Value>,
                #[serde(flatten)]
                pub extra: ::serde_json::Map<String, ::serde_json::Value>,
            }
            #[derive(Debug)]
            pub enum Either { Raw(::serde_json::Value), Plain(u8) }
            #[derive(Debug)]
            pub struct Tools { pub tools: ::std::collections::HashMap<String, BusinessTool> }
        });
        assert_eq!(done, ["Undocumented", "VandarError", "Either"]);
        let newtype = item_text(&file, "for Undocumented");
        assert!(
            newtype.contains(
                "f . debug_tuple (\"Undocumented\") \
                 . field (& :: vandar_runtime :: redact :: RedactedJson (& self . 0)) . finish ()"
            ),
            "{newtype}"
        );
        let error = item_text(&file, "for VandarError");
        assert!(
            error.contains("(\"message\" , & self . message)")
                && error.contains(
                    "(\"errors\" , & :: vandar_runtime :: redact :: RedactedJson (& self . errors))"
                )
                && error.contains(
                    "(\"extra\" , & :: vandar_runtime :: redact :: RedactedJson (& self . extra))"
                ),
            "{error}"
        );
        let either = item_text(&file, "for Either");
        assert!(
            either.contains(
                "Self :: Raw (f0) => f . debug_tuple (\"Raw\") \
                 . field (& :: vandar_runtime :: redact :: RedactedJson (f0)) . finish ()"
            ),
            "{either}"
        );
        assert!(item_text(&file, "struct Tools").contains("Debug"));
        assert!(leaks(&file).is_empty());
    }

    #[test]
    fn free_form_json_of_an_unknown_shape_fails_the_pass() {
        let mut file: syn::File = syn::parse_quote! {
            #[derive(Debug)]
            pub struct Odd { pub by_id: ::std::collections::HashMap<u64, ::serde_json::Value> }
        };
        let e = apply(&mut file).unwrap_err().to_string();
        assert!(e.contains("Odd.by_id"), "{e}");
        let file: syn::File = syn::parse_quote! {
            #[derive(Debug)]
            pub struct Answer(pub ::serde_json::Map<String, ::serde_json::Value>);
        };
        assert_eq!(leaks(&file), ["Answer.0"]);
    }

    #[test]
    fn the_wire_name_counts_too() {
        let s: syn::ItemStruct = syn::parse_quote! {
            struct S {
                #[serde(rename = "nationalCode")]
                pub who: String,
                #[serde(default, rename = "amount")]
                pub cardnumber_copy: u64,
                pub plain: String,
            }
        };
        let sensitive: Vec<bool> = named(&s.fields).map(field_is_sensitive).collect();
        assert_eq!(sensitive, [true, false, false]);
    }

    fn rewritten(file: syn::File) -> (syn::File, Vec<String>) {
        let mut file = file;
        let done = apply(&mut file).unwrap();
        (file, done)
    }

    fn item_text(file: &syn::File, needle: &str) -> String {
        file.items
            .iter()
            .map(|i| i.to_token_stream().to_string())
            .filter(|t| t.contains(needle))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_struct_with_a_secret_gets_a_manual_debug_and_one_without_keeps_its_derive() {
        let (file, done) = rewritten(syn::parse_quote! {
            #[derive(::serde::Deserialize, Clone, Debug, Default)]
            pub struct IssuedTokens {
                #[serde(skip_serializing_if = "::std::option::Option::is_none")]
                pub access_token: Option<String>,
                pub expires_in: Option<u64>,
                pub r#type: Option<String>,
            }
            #[derive(Clone, Debug)]
            pub struct Plain {
                pub iban_compatibility: Option<String>,
            }
        });
        assert_eq!(done, ["IssuedTokens"]);
        let text = item_text(&file, "IssuedTokens");
        assert!(
            text.contains("# [derive (:: serde :: Deserialize , Clone , Default)]"),
            "{text}"
        );
        assert!(
            text.contains(
                "f . debug_struct (\"IssuedTokens\") \
                 . field (\"access_token\" , & format_args ! (\"[redacted]\")) \
                 . field (\"expires_in\" , & self . expires_in) \
                 . field (\"type\" , & self . r#type) . finish ()"
            ),
            "{text}"
        );
        let plain = item_text(&file, "Plain");
        assert!(plain.contains("# [derive (Clone , Debug)]"), "{plain}");
        assert!(!plain.contains("impl"), "{plain}");
        assert!(leaks(&file).is_empty());
    }

    #[test]
    fn generics_and_lifetimes_survive() {
        let (file, done) = rewritten(syn::parse_quote! {
            pub mod request {
                #[derive(Debug, Clone)]
                pub struct PersonalInquiry<'a, T: Clone> where T: Default {
                    client: &'a super::Client,
                    national_id: Result<Option<String>, String>,
                    extra: T,
                }
            }
        });
        assert_eq!(done, ["request::PersonalInquiry"]);
        let syn::Item::Mod(m) = &file.items[0] else {
            panic!("module")
        };
        let items = &m.content.as_ref().unwrap().1;
        assert_eq!(items.len(), 2);
        let imp = items[1].to_token_stream().to_string();
        assert!(
            imp.starts_with(
                "impl < 'a , T : Clone > :: std :: fmt :: Debug for PersonalInquiry < 'a , T > \
                 where T : Default , T : :: std :: fmt :: Debug"
            ),
            "{imp}"
        );
        assert!(imp.contains("\"national_id\" , & format_args !"), "{imp}");
        assert!(imp.contains("(\"client\" , & self . client)"), "{imp}");
        assert!(
            items[0]
                .to_token_stream()
                .to_string()
                .starts_with("# [derive (Clone)]")
        );
    }

    #[test]
    fn a_newtype_holding_a_secret_field_and_an_enum_are_rewritten() {
        let (file, done) = rewritten(syn::parse_quote! {
            #[derive(Debug)]
            pub struct RefreshTokenRequest { pub refreshtoken: RefreshTokenRequestRefreshtoken }
            #[derive(Clone, Debug)]
            pub struct RefreshTokenRequestRefreshtoken(String);
            #[derive(Debug)]
            pub struct Other(String);
            #[derive(Debug)]
            #[serde(untagged)]
            pub enum Grant {
                Refresh { refresh_token: String, scope: String },
                #[serde(rename = "iban")]
                Account(String),
                Plain(u8, u8),
                Nothing,
            }
        });
        assert_eq!(
            done,
            [
                "RefreshTokenRequest",
                "RefreshTokenRequestRefreshtoken",
                "Grant"
            ]
        );
        let newtype = item_text(&file, "for RefreshTokenRequestRefreshtoken");
        assert!(
            newtype.contains(
                "f . debug_tuple (\"RefreshTokenRequestRefreshtoken\") \
                 . field (& format_args ! (\"[redacted]\")) . finish ()"
            ),
            "{newtype}"
        );
        assert!(item_text(&file, "struct Other").contains("Debug"));
        let en = item_text(&file, "for Grant");
        for want in [
            "Self :: Refresh { refresh_token : _ , scope } => f . debug_struct (\"Refresh\") \
             . field (\"refresh_token\" , & format_args ! (\"[redacted]\")) \
             . field (\"scope\" , scope) . finish ()",
            "Self :: Account (_) => f . debug_tuple (\"Account\") \
             . field (& format_args ! (\"[redacted]\")) . finish ()",
            "Self :: Plain (f0 , f1) => f . debug_tuple (\"Plain\") . field (f0) . field (f1) . finish ()",
            "Self :: Nothing => f . write_str (\"Nothing\")",
        ] {
            assert!(en.contains(want), "{want}\n{en}");
        }
        assert!(leaks(&file).is_empty());
    }

    #[test]
    fn a_debug_it_cannot_take_apart_fails_the_pass() {
        let mut file: syn::File = syn::parse_quote! {
            #[cfg_attr(test, derive(Debug))]
            pub struct Login { pub password: String }
        };
        let e = apply(&mut file).unwrap_err().to_string();
        assert!(e.contains("Login.password"), "{e}");
    }

    #[test]
    fn leaks_names_type_and_field() {
        let file: syn::File = syn::parse_quote! {
            pub mod types {
                #[derive(Debug)]
                pub struct CardIban { pub card_number: Option<String>, pub iban: Option<String>, pub ok: bool }
            }
        };
        assert_eq!(leaks(&file), ["CardIban.card_number", "CardIban.iban"]);
    }
}
