//! The typed request checks: for every body type an operation sends, an
//! `impl vandar_runtime::CheckBody` that visits the typed fields themselves. The constraints
//! are the ones typify does not enforce ([`crate::generate::field_checks_of`]: numeric
//! `minimum`/`maximum`, `maxItems`, `minLength` of runtime types, non-empty required strings,
//! `format: uri`); the fields are found in typify's own output (the struct fields and their
//! `#[serde(rename)]`s), so a JSON path such as `items[].amount` becomes a loop over
//! `self.items` and a call on each item's `amount`. The credential a body carries
//! (`x-credential: body-api-key`) gets an accessor of the same kind.
//!
//! A path that does not lead to a field fails `cargo xtask gen` with the operation and the
//! path: a check that would silently not run is a bug.
//!
//! The free-form parts of a body (a newtype of a JSON object such as `Undocumented`, or a
//! field whose type is free-form JSON, [`crate::redact_debug::is_json_type`], at any depth of
//! the typed body) have no constraints in the spec: they get a call to the runtime's
//! `Checker::free_form`, which finds their URL fields by name and normalizes or refuses them.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow, bail};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::spec::{self, SpecFile};

/// One field of a generated struct.
struct Field {
    ident: syn::Ident,
    ty: syn::Type,
    /// `#[serde(flatten)]`: its members are the struct's own on the wire.
    flatten: bool,
}

/// The generated types: structs by name (fields by JSON name), and string newtypes.
struct Types {
    structs: BTreeMap<String, BTreeMap<String, Field>>,
    newtypes: std::collections::BTreeSet<String>,
    /// Every type name (structs, enums, newtypes).
    all: std::collections::BTreeSet<String>,
    /// Enums whose variants each wrap one generated type (typify's `oneOf`): variant → type.
    enums: BTreeMap<String, Vec<(syn::Ident, String)>>,
    /// The variants of those enums that wrap free-form JSON.
    json_variants: BTreeMap<String, Vec<syn::Ident>>,
    /// Enums of unit variants (typify's string `enum`s).
    plain_enums: std::collections::BTreeSet<String>,
    /// Newtypes of anything else than `String`: name → the wrapped type.
    wrappers: BTreeMap<String, syn::Type>,
}

impl Types {
    fn of(file: &syn::File) -> Result<Self> {
        let items = file
            .items
            .iter()
            .find_map(|item| match item {
                syn::Item::Mod(m) if m.ident == "types" => m.content.as_ref(),
                _ => None,
            })
            .ok_or_else(|| anyhow!("progenitor output has no `mod types`"))?;
        let mut structs = BTreeMap::new();
        let mut newtypes = std::collections::BTreeSet::new();
        let mut all = std::collections::BTreeSet::new();
        let mut enums = BTreeMap::new();
        let mut wrappers = BTreeMap::new();
        let mut plain_enums = std::collections::BTreeSet::new();
        let mut json_variants = BTreeMap::new();
        for item in &items.1 {
            match item {
                syn::Item::Enum(e) => {
                    all.insert(e.ident.to_string());
                    let variants: Option<Vec<(syn::Ident, String)>> = e
                        .variants
                        .iter()
                        .map(|v| match &v.fields {
                            syn::Fields::Unnamed(u) if u.unnamed.len() == 1 => {
                                last_segment(&u.unnamed[0].ty)
                                    .map(|s| (v.ident.clone(), s.ident.to_string()))
                            }
                            _ => None,
                        })
                        .collect();
                    let json: Vec<syn::Ident> = e
                        .variants
                        .iter()
                        .filter(|v| {
                            matches!(&v.fields, syn::Fields::Unnamed(u)
                                if u.unnamed.len() == 1
                                    && crate::redact_debug::is_json_type(&u.unnamed[0].ty))
                        })
                        .map(|v| v.ident.clone())
                        .collect();
                    if !json.is_empty() {
                        json_variants.insert(e.ident.to_string(), json);
                    }
                    if let Some(vs) = variants {
                        enums.insert(e.ident.to_string(), vs);
                    } else if e.variants.iter().all(|v| v.fields.is_empty()) {
                        plain_enums.insert(e.ident.to_string());
                    }
                }
                syn::Item::Struct(st) => {
                    all.insert(st.ident.to_string());
                }
                _ => {}
            }
            let syn::Item::Struct(st) = item else {
                continue;
            };
            match &st.fields {
                syn::Fields::Named(named) => {
                    let mut fields = BTreeMap::new();
                    for f in &named.named {
                        let ident = f.ident.clone().expect("named field");
                        let json = serde_rename(&f.attrs).unwrap_or_else(|| {
                            ident.to_string().trim_start_matches("r#").to_owned()
                        });
                        fields.insert(
                            json,
                            Field {
                                ident,
                                ty: f.ty.clone(),
                                flatten: serde_flatten(&f.attrs),
                            },
                        );
                    }
                    structs.insert(st.ident.to_string(), fields);
                }
                syn::Fields::Unnamed(u) if u.unnamed.len() == 1 && is_string(&u.unnamed[0].ty) => {
                    newtypes.insert(st.ident.to_string());
                }
                syn::Fields::Unnamed(u) if u.unnamed.len() == 1 => {
                    wrappers.insert(st.ident.to_string(), u.unnamed[0].ty.clone());
                }
                _ => {}
            }
        }
        Ok(Self {
            structs,
            newtypes,
            all,
            enums,
            json_variants,
            plain_enums,
            wrappers,
        })
    }
}

/// `#[serde(rename = "x")]` on a field.
pub(crate) fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    let mut found = None;
    for a in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = a.parse_nested_meta(|m| {
            if m.path.is_ident("rename") {
                let s: syn::LitStr = m.value()?.parse()?;
                found = Some(s.value());
            } else if m.input.peek(syn::Token![=]) {
                let _: syn::Expr = m.value()?.parse()?;
            }
            Ok(())
        });
    }
    found
}

/// `#[serde(flatten)]` on a field.
fn serde_flatten(attrs: &[syn::Attribute]) -> bool {
    let mut found = false;
    for a in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = a.parse_nested_meta(|m| {
            if m.path.is_ident("flatten") {
                found = true;
            } else if m.input.peek(syn::Token![=]) {
                let _: syn::Expr = m.value()?.parse()?;
            }
            Ok(())
        });
    }
    found
}

fn last_segment(ty: &syn::Type) -> Option<&syn::PathSegment> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last(),
        _ => None,
    }
}

fn is_string(ty: &syn::Type) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == "String")
}

/// `Wrapper<T>` → `T` when the wrapper is `name` (`Option`, `Vec`).
pub(crate) fn unwrap<'t>(ty: &'t syn::Type, name: &str) -> Option<&'t syn::Type> {
    let seg = last_segment(ty)?;
    if seg.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

/// The name of a type of this module (`Foo`, `super::Foo`, `types::Foo`), if it is one.
fn local_name(ty: &syn::Type, types: &Types) -> Option<String> {
    let seg = last_segment(ty)?;
    let name = seg.ident.to_string();
    (types.structs.contains_key(&name) || types.newtypes.contains(&name)).then_some(name)
}

/// Whether a leaf's type is a runtime domain type that is validated when it is made (a
/// `Mobile`, an `Iban`, an amount, a date: never empty), or a newtype of one; `ApiId` is not
/// (its string form may be empty). A `minLength` on such a field has nothing left to check.
fn validated(ty: &syn::Type, types: &Types) -> bool {
    let text = quote!(#ty).to_string().replace(' ', "");
    if text.starts_with("::vandar_runtime::domain::") {
        return !text.ends_with("::ApiId");
    }
    let Some(name) = local_name_any(ty, types) else {
        return false;
    };
    // A string enum (typify's `enum` of documented values) holds one of its values.
    if types.enums.contains_key(&name) || types.plain_enums.contains(&name) {
        return true;
    }
    types
        .wrappers
        .get(&name)
        .is_some_and(|inner| validated(inner, types))
}

/// The name of any type of this module.
fn local_name_any(ty: &syn::Type, types: &Types) -> Option<String> {
    let seg = last_segment(ty)?;
    let name = seg.ident.to_string();
    types.all.contains(&name).then_some(name)
}

/// One constraint of the spec, on a JSON path of the body.
struct Constraint {
    path: String,
    min: Option<i64>,
    max: Option<i64>,
    max_items: Option<usize>,
    min_length: Option<usize>,
    http_url: bool,
}

/// The statements that check `path` (a JSON path: `a`, `a.b`, `items[].amount`) on `expr`, a
/// place of type `ty_name`.
fn statements(
    types: &Types,
    ty_name: &str,
    expr: TokenStream,
    steps: &[(&str, bool)],
    c: &Constraint,
    newtypes_used: &mut std::collections::BTreeSet<String>,
) -> Result<TokenStream> {
    if let Some(variants) = types.enums.get(ty_name) {
        // `oneOf`: the check applies to every variant that has the field.
        let ty = format_ident!("{ty_name}");
        let mut out = TokenStream::new();
        let mut found = false;
        for (v, inner) in variants {
            let has = types
                .structs
                .get(inner)
                .is_some_and(|f| f.contains_key(steps[0].0));
            found |= has;
            if has {
                let x = format_ident!("v{}", steps.len());
                let body = statements(types, inner, quote!(#x), steps, c, newtypes_used)?;
                if body.is_empty() {
                    continue;
                }
                let place = if expr.to_string() == "self" {
                    quote!(self)
                } else {
                    quote!(&mut #expr)
                };
                out.extend(quote!(if let types::#ty::#v(#x) = #place { #body }));
            }
        }
        if !found {
            bail!(
                "`{}`: no variant of `{ty_name}` has `{}`",
                c.path,
                steps[0].0
            );
        }
        return Ok(out);
    }
    let fields = types
        .structs
        .get(ty_name)
        .ok_or_else(|| anyhow!("`{}`: `{ty_name}` is not a struct", c.path))?;
    let (name, each) = steps[0];
    let field = fields
        .get(name)
        .ok_or_else(|| anyhow!("`{}`: `{ty_name}` has no field `{name}`", c.path))?;
    let ident = &field.ident;
    let place = quote!(#expr.#ident);
    let rest = &steps[1..];
    // Peel `Option` (absent is not checked) and, for `[]`, `Vec`.
    let mut ty = &field.ty;
    let mut optional = false;
    if let Some(inner) = unwrap(ty, "Option") {
        ty = inner;
        optional = true;
    }
    if rest.is_empty() && !each {
        let path = &c.path;
        let mut out = TokenStream::new();
        if c.min.is_some() || c.max.is_some() {
            let opt = |v: Option<i64>| match v {
                Some(v) => quote!(::std::option::Option::Some(#v)),
                None => quote!(::std::option::Option::None),
            };
            let (min, max) = (opt(c.min), opt(c.max));
            out.extend(quote!(c.range(#path, &#place, #min, #max);));
        }
        if let Some(n) = c.max_items {
            out.extend(quote!(c.max_items(#path, &#place, #n);));
        }
        let leaf = if unwrap(ty, "Vec").is_some() {
            None
        } else {
            local_name(ty, types)
        };
        if let Some(n) = &leaf
            && (c.min_length.is_some() || c.http_url)
        {
            if !types.newtypes.contains(n) {
                bail!("`{}`: `{n}` is not a string type", c.path);
            }
            newtypes_used.insert(n.clone());
        }
        if let Some(n) = c.min_length
            && !validated(ty, types)
        {
            out.extend(quote!(c.min_length(#path, &#place, #n);));
        }
        if c.http_url {
            out.extend(quote!(c.http_url(#path, &mut #place);));
        }
        return Ok(out);
    }
    let x = format_ident!("x{}", steps.len());
    let inner_ty = if each {
        unwrap(ty, "Vec").ok_or_else(|| anyhow!("`{}`: `{name}` is not a list", c.path))?
    } else {
        ty
    };
    let inner_name = local_name(inner_ty, types)
        .ok_or_else(|| anyhow!("`{}`: `{name}` is not a generated struct", c.path))?;
    let body = if rest.is_empty() {
        bail!("`{}`: a check on list items that are not objects", c.path)
    } else {
        statements(types, &inner_name, quote!(#x), rest, c, newtypes_used)?
    };
    if body.is_empty() {
        return Ok(body);
    }
    let visit = if each {
        quote!(for #x in list.iter_mut() { #body })
    } else {
        quote!({ let #x = node; #body })
    };
    let bind = if each { quote!(list) } else { quote!(node) };
    Ok(if optional {
        quote!(if let ::std::option::Option::Some(#bind) = &mut #place { #visit })
    } else {
        quote!({ let #bind = &mut #place; #visit })
    })
}

/// The statements that hand every free-form JSON part of `expr` (a place of type `ty_name`) to
/// `Checker::free_form`, named by its JSON path (`prefix` is the path of `expr`; `""` for the
/// body): the newtype's content, each JSON field, and the JSON inside nested generated
/// structs, lists, options and `oneOf` variants. Empty when the type holds no free-form JSON.
fn free_form_statements(
    types: &Types,
    ty_name: &str,
    expr: &TokenStream,
    prefix: &str,
    seen: &mut Vec<String>,
) -> TokenStream {
    if seen.iter().any(|s| s == ty_name) {
        return TokenStream::new();
    }
    seen.push(ty_name.to_owned());
    let json = crate::redact_debug::is_json_type;
    let mut out = TokenStream::new();
    if let Some(inner) = types.wrappers.get(ty_name) {
        if json(inner) {
            out.extend(quote!(c.free_form(#prefix, &mut #expr.0);));
        }
    } else if let Some(variants) = types.enums.get(ty_name) {
        let ty = format_ident!("{ty_name}");
        let x = format_ident!("ff{}", seen.len());
        let json_variants = types.json_variants.get(ty_name);
        for (v, inner) in variants {
            let body = if json_variants.is_some_and(|j| j.contains(v)) {
                quote!(c.free_form(#prefix, #x);)
            } else {
                free_form_statements(types, inner, &quote!(#x), prefix, seen)
            };
            if !body.is_empty() {
                out.extend(quote!(if let types::#ty::#v(#x) = #expr { #body }));
            }
        }
    } else if let Some(fields) = types.structs.get(ty_name) {
        for (name, field) in fields {
            let path = match (field.flatten, prefix) {
                (true, _) => prefix.to_owned(),
                (false, "") => name.clone(),
                (false, p) => format!("{p}.{name}"),
            };
            let ident = &field.ident;
            if json(&field.ty) {
                out.extend(quote!(c.free_form(#path, &mut #expr.#ident);));
                continue;
            }
            let mut ty = &field.ty;
            let optional = unwrap(ty, "Option").inspect(|inner| ty = inner).is_some();
            let list = unwrap(ty, "Vec").inspect(|inner| ty = inner).is_some();
            let Some(inner) = local_name_any(ty, types) else {
                continue;
            };
            let x = format_ident!("ff{}", seen.len());
            let path = if list { format!("{path}[]") } else { path };
            let body = free_form_statements(types, &inner, &quote!(#x), &path, seen);
            if body.is_empty() {
                continue;
            }
            let visit = if list {
                quote!(for #x in list.iter_mut() { #body })
            } else {
                quote!({ let #x = node; #body })
            };
            let bind = if list { quote!(list) } else { quote!(node) };
            out.extend(if optional {
                quote!(if let ::std::option::Option::Some(#bind) = &mut #expr.#ident { #visit })
            } else {
                quote!({ let #bind = &mut #expr.#ident; #visit })
            });
        }
    }
    seen.pop();
    out
}

/// The `CheckBody` impls (and the `Text`/`UrlText` impls of the string newtypes they read) for
/// every body type of `spec`'s generated operations.
pub fn emit(spec: &SpecFile, file: &syn::File) -> Result<TokenStream> {
    let types = Types::of(file)?;
    // body type → (checks, credential field), the same for every operation that sends it
    let mut bodies: BTreeMap<String, (TokenStream, Option<String>, String)> = BTreeMap::new();
    let mut newtypes_used = std::collections::BTreeSet::new();
    for op in spec::generated_operations(spec) {
        let Some(content) = op.raw["requestBody"]["content"].as_object() else {
            continue;
        };
        let Some(component) = content
            .values()
            .next()
            .and_then(|m| m["schema"]["$ref"].as_str())
            .and_then(spec::ref_name)
        else {
            continue;
        };
        let ty_name = type_name(&types, component)
            .ok_or_else(|| anyhow!("{}: no generated type for `{component}`", op.label()))?;
        let mut stmts = TokenStream::new();
        for (path, v) in crate::generate::field_checks_of(spec, &op) {
            let c = Constraint {
                min: v["minimum"].as_i64(),
                max: v["maximum"].as_i64(),
                max_items: v["maxItems"].as_u64().map(|n| n as usize),
                min_length: v["minLength"].as_u64().map(|n| n as usize),
                http_url: v["uri"].as_bool().unwrap_or(false),
                path,
            };
            let steps: Vec<(&str, bool)> = c
                .path
                .split('.')
                .map(|s| match s.strip_suffix("[]") {
                    Some(n) => (n, true),
                    None => (s, false),
                })
                .collect();
            let s = statements(
                &types,
                &ty_name,
                quote!(self),
                &steps,
                &c,
                &mut newtypes_used,
            )
            .map_err(|e| anyhow!("{}: check {e}", op.label()))?;
            stmts.extend(s);
        }
        stmts.extend(free_form_statements(
            &types,
            &ty_name,
            &quote!(self),
            "",
            &mut Vec::new(),
        ));
        let credential = op.credential_field(&spec.raw);
        let key = (stmts.to_string(), credential.clone());
        match bodies.get(&ty_name) {
            Some((s, cred, first)) if (s.to_string(), cred.clone()) != key => bail!(
                "{} and `{first}` send `{ty_name}` with different checks or credentials",
                op.label()
            ),
            Some(_) => {}
            None => {
                bodies.insert(ty_name.clone(), (stmts, credential, op.label()));
            }
        }
    }
    let mut impls = Vec::new();
    for (ty_name, (stmts, credential, _)) in &bodies {
        let ty = format_ident!("{ty_name}");
        let api_key = match credential {
            None => quote!(),
            Some(json) => {
                let field = types
                    .structs
                    .get(ty_name)
                    .and_then(|f| f.get(json))
                    .ok_or_else(|| anyhow!("`{ty_name}` has no credential field `{json}`"))?;
                let ident = &field.ident;
                if let Some(n) = local_name(&field.ty, &types) {
                    newtypes_used.insert(n);
                }
                quote! {
                    fn api_key(&self, _route: &::vandar_runtime::Route) -> ::std::option::Option<&str> {
                        ::vandar_runtime::check::Text::text(&self.#ident)
                    }
                }
            }
        };
        let c = if stmts.is_empty() {
            quote!(_c)
        } else {
            quote!(c)
        };
        impls.push(quote! {
            impl ::vandar_runtime::CheckBody for types::#ty {
                fn check(&mut self, _route: &::vandar_runtime::Route, #c: &mut ::vandar_runtime::Checker) {
                    #stmts
                }
                #api_key
            }
        });
    }
    let newtypes = newtypes_used
        .iter()
        .filter(|n| types.newtypes.contains(*n))
        .map(|n| {
            let ty = format_ident!("{n}");
            quote!(types::#ty)
        });
    impls.push(quote!(::vandar_runtime::__string_newtype_checks!(#(#newtypes),*);));
    Ok(quote! {
        /// The typed request checks (`vandar_runtime::CheckBody`) of every body type, generated
        /// from the spec's constraints.
        mod checks {
            use super::types;
            #(#impls)*
        }
    })
}

/// typify's name for a component.
fn type_name(types: &Types, component: &str) -> Option<String> {
    use heck::ToUpperCamelCase;
    [component.to_owned(), component.to_upper_camel_case()]
        .into_iter()
        .find(|n| types.all.contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free_form_of(file: &syn::File, ty: &str) -> String {
        let types = Types::of(file).unwrap();
        free_form_statements(&types, ty, &quote!(self), "", &mut Vec::new()).to_string()
    }

    #[test]
    fn free_form_parts_are_found_at_any_depth() {
        let file: syn::File = syn::parse_quote! {
            pub mod types {
                pub struct Undocumented(pub ::serde_json::Map<String, ::serde_json::Value>);
                pub struct Order {
                    pub amount: i64,
                    pub meta: Option<::serde_json::Value>,
                    pub items: Vec<Item>,
                    #[serde(flatten)]
                    pub extra: ::serde_json::Map<String, ::serde_json::Value>,
                    pub plain: Plain,
                    pub next: Option<Order>,
                }
                pub struct Item {
                    #[serde(rename = "hook")]
                    pub hook_: Option<::serde_json::Value>,
                    pub n: i64,
                }
                pub struct Plain { pub n: i64 }
                pub enum Either { A(Item), B(::serde_json::Value), C(Plain) }
            }
        };
        assert_eq!(
            free_form_of(&file, "Undocumented"),
            "c . free_form (\"\" , & mut self . 0) ;"
        );
        let order = free_form_of(&file, "Order");
        for want in [
            "c . free_form (\"\" , & mut self . extra) ;",
            "{ let list = & mut self . items ; for ff1 in list . iter_mut () { \
             c . free_form (\"items[].hook\" , & mut ff1 . hook_) ; } }",
            "c . free_form (\"meta\" , & mut self . meta) ;",
        ] {
            assert!(order.contains(want), "{want}\n{order}");
        }
        assert!(
            !order.contains("plain") && !order.contains("next"),
            "{order}"
        );
        assert_eq!(
            free_form_of(&file, "Either"),
            "if let types :: Either :: A (ff1) = self { c . free_form (\"hook\" , & mut ff1 . hook_) ; } \
             if let types :: Either :: B (ff1) = self { c . free_form (\"\" , ff1) ; }"
        );
        assert_eq!(free_form_of(&file, "Plain"), "");
    }
}
