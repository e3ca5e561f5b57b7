//! Generated types that do not fight the user (issue 23 item 6), as a pass over the parsed
//! output after [`crate::rewrite::rewrite`]:
//!
//! * **One `builder` per meaning.** progenitor's operation builders (crate root `mod
//!   builder`) become `mod request` (`request::StoreSettlement`, what `client.store_settlement()`
//!   returns); typify's body builders stay in `types::builder` and are named for what they are
//!   (`types::builder::SettlementRequestBuilder`, from `SettlementRequest::builder()`), so no
//!   doc page shows `impl From<SettlementRequest> for SettlementRequest`. Each body builder
//!   gets a `build()` that returns the value or the first field error.
//! * **Setters take what the caller holds.** A setter whose field is a string, a runtime
//!   type (`::vandar_runtime::…`: the domain types, `ApiKey`, `OAuthToken`), a string type the
//!   spec constrains (`types::X` with `FromStr`), or an `Option` of one, takes
//!   `impl vandar_runtime::IntoField<T>`: the type itself, a reference to it, `&str`, `String`
//!   or `&String` (parsed; a parse error is recorded and returned by `build()` / `send()`
//!   naming the field), and `Option<T>` for an optional field. Path parameters are plain
//!   strings (their `minLength` is the runtime's path check, see
//!   [`crate::generate`]), so they also take identifiers (`ApiId`, `TrackId`).
//! * **Builders that allocate nothing until a field is wrong.** A body builder holds each
//!   field's error as `Cow<'static, str>`: "must be set" is a borrowed literal, so a fresh
//!   builder, and every operation's `new()` that starts from one, costs no heap allocation.
//! * **True messages** for the setters that keep `TryInto` (`page: must be at least 1` for a
//!   `NonZeroU64`).

use std::collections::BTreeSet;

use anyhow::{Result, anyhow, bail};
use proc_macro2::{Ident, Span};
use quote::{format_ident, quote};
use syn::visit_mut::VisitMut;

/// The operation builders' module, after the pass.
pub const REQUEST_MODULE: &str = "request";

/// Apply the pass to a rewritten progenitor file.
pub fn apply(file: &mut syn::File) -> Result<()> {
    let types = module_mut(&mut file.items, "types")
        .ok_or_else(|| anyhow!("progenitor output has no `mod types`"))?;
    let parseable = from_str_types(types);
    let body_builders = body_builders(types);
    let types_items = &mut types.content.as_mut().expect("checked").1;
    for name in &parseable {
        let ident = format_ident!("{name}");
        types_items.push(syn::parse_quote! {
            impl ::vandar_runtime::FieldText for #ident {
                fn from_field_text(
                    text: &str,
                ) -> ::std::result::Result<Self, ::vandar_runtime::FieldError> {
                    ::vandar_runtime::parse_field_text(text)
                }
            }
        });
    }
    // A spec without object types has no body builders (typify emits no `mod builder`).
    if let Some(builder) = module_mut(types_items, "builder") {
        for item in &mut builder.content.as_mut().expect("checked").1 {
            if let syn::Item::Impl(imp) = item
                && imp.trait_.is_none()
            {
                body_setters(imp, &parseable)?;
            }
        }
        static_errors(builder)?;
        RenameLocal(&body_builders).visit_item_mod_mut(builder);
        if let Some(error) = module_mut(types_items, "error") {
            error
                .content
                .as_mut()
                .expect("checked")
                .1
                .push(syn::parse_quote! {
                    impl From<::std::borrow::Cow<'static, str>> for ConversionError {
                        fn from(value: ::std::borrow::Cow<'static, str>) -> Self {
                            Self(value)
                        }
                    }
                });
        }
    }
    for item in types_items.iter_mut() {
        if !matches!(item, syn::Item::Mod(m) if m.ident == "builder") {
            RenameQualified(&body_builders).visit_item_mut(item);
        }
        document_builder_fn(item);
    }

    let ops = module_mut(&mut file.items, "builder")
        .ok_or_else(|| anyhow!("progenitor output has no operation `mod builder`"))?;
    ops.ident = Ident::new(REQUEST_MODULE, Span::call_site());
    ops.attrs.retain(|a| !a.path().is_ident("doc"));
    ops.attrs.insert(
        0,
        syn::parse_quote!(#[doc = " The request builders: `client.<operation>()` returns one; set its parameters and body, then `send()` it."]),
    );
    for item in &mut ops.content.as_mut().expect("inline module").1 {
        if let syn::Item::Impl(imp) = item
            && imp.trait_.is_none()
        {
            operation_setters(imp, &parseable)?;
        }
    }
    RenameQualified(&body_builders).visit_item_mod_mut(ops);
    for item in file.items.iter_mut() {
        match item {
            syn::Item::Mod(m) if m.ident == "types" || m.ident == REQUEST_MODULE => {}
            other => ToRequest.visit_item_mut(other),
        }
    }
    Ok(())
}

/// `X::builder()` says what it returns and what to do with it.
fn document_builder_fn(item: &mut syn::Item) {
    let syn::Item::Impl(imp) = item else { return };
    if imp.trait_.is_some() {
        return;
    }
    let syn::Type::Path(p) = &*imp.self_ty else {
        return;
    };
    let Some(name) = p.path.get_ident().map(ToString::to_string) else {
        return;
    };
    for it in imp.items.iter_mut() {
        if let syn::ImplItem::Fn(f) = it
            && f.sig.ident == "builder"
            && !f.attrs.iter().any(|a| a.path().is_ident("doc"))
        {
            let doc = format!(
                " A [`{0}Builder`](builder::{0}Builder): set the fields, then `build()` it or \
                 pass it to an operation's `.body(..)`.",
                name
            );
            f.attrs.push(syn::parse_quote!(#[doc = #doc]));
        }
    }
}

fn module_mut<'a>(items: &'a mut [syn::Item], name: &str) -> Option<&'a mut syn::ItemMod> {
    items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == name && m.content.is_some() => Some(m),
        _ => None,
    })
}

/// The types of `mod types` with a `FromStr` impl (typify's constrained strings and string
/// enums).
fn from_str_types(types: &syn::ItemMod) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for item in &types.content.as_ref().expect("inline module").1 {
        let syn::Item::Impl(imp) = item else { continue };
        let Some((path, _)) = &imp.trait_ else {
            continue;
        };
        if path.segments.last().is_some_and(|s| s.ident == "FromStr")
            && let syn::Type::Path(p) = &*imp.self_ty
            && let Some(ident) = p.path.get_ident()
        {
            out.insert(ident.to_string());
        }
    }
    out
}

/// The body builders hold a field's error as `Cow<'static, str>`, not `String`: a fresh builder
/// (every required field "must be set") allocates nothing, and neither does an operation's
/// `new()`, which starts from one (issue 22: allocations per call). A setter's error is still
/// the formatted message naming the field.
fn static_errors(builder: &mut syn::ItemMod) -> Result<()> {
    let cow: syn::Type = syn::parse_quote!(::std::borrow::Cow<'static, str>);
    for item in &mut builder.content.as_mut().expect("checked").1 {
        match item {
            syn::Item::Struct(st) => {
                for field in st.fields.iter_mut() {
                    let syn::Type::Path(p) = &mut field.ty else {
                        continue;
                    };
                    let Some(last) = p.path.segments.last_mut() else {
                        continue;
                    };
                    let syn::PathArguments::AngleBracketed(args) = &mut last.arguments else {
                        continue;
                    };
                    if last.ident != "Result" || args.args.len() != 2 {
                        continue;
                    }
                    let syn::GenericArgument::Type(err) = &mut args.args[1] else {
                        continue;
                    };
                    if quote!(#err).to_string().replace(' ', "") != "::std::string::String" {
                        bail!(
                            "builder `{}`: a field's error type is not `String`",
                            st.ident
                        );
                    }
                    *err = cow.clone();
                }
            }
            syn::Item::Impl(imp) if imp.trait_.is_some() => {
                let is_default = imp.trait_.as_ref().is_some_and(|(path, _)| {
                    path.segments.last().is_some_and(|s| s.ident == "Default")
                });
                if is_default {
                    BorrowedLiterals.visit_item_impl_mut(imp);
                }
            }
            syn::Item::Impl(imp) => {
                for it in imp.items.iter_mut() {
                    let syn::ImplItem::Fn(f) = it else { continue };
                    if f.sig.inputs.len() == 2 {
                        IntoCow.visit_block_mut(&mut f.block);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// `Err("…".to_string())` → `Err(Cow::Borrowed("…"))`.
struct BorrowedLiterals;

impl VisitMut for BorrowedLiterals {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        syn::visit_mut::visit_expr_mut(self, e);
        if let syn::Expr::MethodCall(m) = e
            && m.method == "to_string"
            && m.args.is_empty()
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(lit),
                ..
            }) = &*m.receiver
        {
            *e = syn::parse_quote!(::std::borrow::Cow::Borrowed(#lit));
        }
    }
}

/// A setter's `.map_err(|e| <message>)` → `.map_err(|e| Cow::Owned(<message>))`.
struct IntoCow;

impl VisitMut for IntoCow {
    fn visit_expr_method_call_mut(&mut self, m: &mut syn::ExprMethodCall) {
        syn::visit_mut::visit_expr_method_call_mut(self, m);
        if m.method == "map_err"
            && let Some(syn::Expr::Closure(c)) = m.args.first_mut()
        {
            let body = std::mem::replace(&mut *c.body, syn::parse_quote!(()));
            *c.body = syn::parse_quote!(::std::borrow::Cow::Owned(#body));
        }
    }
}

/// The names of typify's body builders (the structs of `types::builder`; none without it).
fn body_builders(types: &syn::ItemMod) -> BTreeSet<String> {
    let items = &types.content.as_ref().expect("inline module").1;
    items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "builder" => m.content.as_ref(),
            _ => None,
        })
        .flat_map(|(_, items)| items.iter())
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some(s.ident.to_string()),
            _ => None,
        })
        .collect()
}

fn builder_name(name: &str) -> String {
    format!("{name}Builder")
}

/// `Some(field type)` when a setter bound `TryInto<field type>` may become `IntoField`.
fn into_field_type(bound: &syn::TraitBound, parseable: &BTreeSet<String>) -> Option<syn::Type> {
    let last = bound.path.segments.last()?;
    if last.ident != "TryInto" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let syn::GenericArgument::Type(ty) = args.args.first()? else {
        return None;
    };
    let inner = option_inner(ty).unwrap_or(ty);
    parseable_type(inner, parseable).then(|| ty.clone())
}

fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    crate::checks::unwrap(ty, "Option")
}

/// A string, a runtime type without generics, or a generated type with `FromStr`.
fn parseable_type(ty: &syn::Type, parseable: &BTreeSet<String>) -> bool {
    let syn::Type::Path(p) = ty else { return false };
    let segs: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let plain = p
        .path
        .segments
        .iter()
        .all(|s| matches!(s.arguments, syn::PathArguments::None));
    if !plain {
        return false;
    }
    match segs.as_slice() {
        [.., std, string, s] if std == "std" && string == "string" && s == "String" => true,
        [first, ..] if first == "vandar_runtime" => p.path.leading_colon.is_some(),
        [module, name] if (module == "super" || module == "types") => parseable.contains(name),
        _ => false,
    }
}

/// typify's setters (`T: TryInto<F>, T::Error: Display`, `value.try_into().map_err(..)`)
/// → `T: IntoField<F>`, `value.into_field().map_err(..)` where `F` qualifies; and `build()`.
fn body_setters(imp: &mut syn::ItemImpl, parseable: &BTreeSet<String>) -> Result<()> {
    for it in imp.items.iter_mut() {
        let syn::ImplItem::Fn(f) = it else { continue };
        if f.sig.ident == "build" {
            bail!("a body field named `build` would clash with the builder's `build()`");
        }
        if f.sig.inputs.len() != 2 {
            continue;
        }
        let Some(ty) = setter_bound(&f.sig.generics, parseable) else {
            continue;
        };
        f.sig.generics.where_clause = Some(syn::parse_quote! {
            where T: ::vandar_runtime::IntoField<#ty>
        });
        ReplaceTryInto.visit_block_mut(&mut f.block);
    }
    let syn::Type::Path(p) = &*imp.self_ty else {
        return Ok(());
    };
    let Some(name) = p.path.get_ident().cloned() else {
        return Ok(());
    };
    let doc = format!(
        " Checks every field and returns the [`{name}`](super::{name}); a field that is \
         missing or was set from a value that does not parse is an error naming the field \
         (`Error::InvalidRequest`)."
    );
    imp.items.push(syn::parse_quote! {
        #[doc = #doc]
        pub fn build(self) -> ::std::result::Result<super::#name, ::vandar_runtime::Error> {
            super::#name::try_from(self)
                .map_err(|e| ::vandar_runtime::Error::InvalidRequest(e.to_string()))
        }
    });
    Ok(())
}

/// The `F` of a qualifying `TryInto<F>` bound among a setter's where-predicates or generics.
fn setter_bound(generics: &syn::Generics, parseable: &BTreeSet<String>) -> Option<syn::Type> {
    let preds = generics.where_clause.as_ref()?.predicates.iter();
    for pred in preds {
        let syn::WherePredicate::Type(pt) = pred else {
            continue;
        };
        for b in &pt.bounds {
            if let syn::TypeParamBound::Trait(tb) = b
                && let Some(ty) = into_field_type(tb, parseable)
            {
                return Some(ty);
            }
        }
    }
    None
}

/// `value.try_into()` → `value.into_field()`; a `.map_err(|_| "<message>")` that discarded
/// progenitor's error becomes `.map_err(|e| format!("<field>: {e}"))`.
struct ReplaceTryInto;

impl VisitMut for ReplaceTryInto {
    fn visit_expr_method_call_mut(&mut self, m: &mut syn::ExprMethodCall) {
        syn::visit_mut::visit_expr_method_call_mut(self, m);
        if m.method == "try_into" && m.args.is_empty() {
            m.method = Ident::new("into_field", m.method.span());
        }
    }
}

/// progenitor's operation setters: the qualifying ones take `IntoField` (their error is the
/// parse error, after the field's name); the others keep `TryInto` with a message that is
/// true for their type.
fn operation_setters(imp: &mut syn::ItemImpl, parseable: &BTreeSet<String>) -> Result<()> {
    for it in imp.items.iter_mut() {
        let syn::ImplItem::Fn(f) = it else { continue };
        let name = f.sig.ident.to_string();
        if f.sig.inputs.len() != 2 || name == "body_map" {
            continue;
        }
        let Some(pred) = f.sig.generics.where_clause.as_ref().and_then(|w| {
            w.predicates.iter().find_map(|p| match p {
                syn::WherePredicate::Type(pt) => pt.bounds.iter().find_map(|b| match b {
                    syn::TypeParamBound::Trait(tb) => Some(tb.clone()),
                    _ => None,
                }),
                _ => None,
            })
        }) else {
            continue;
        };
        let field = name.clone();
        let wanted = if name == "body" {
            None // a body is a typed value or its builder: `TryInto`, as progenitor has it
        } else {
            into_field_type(&pred, parseable)
        };
        match wanted {
            Some(ty) => {
                f.sig.generics.where_clause = Some(syn::parse_quote! {
                    where V: ::vandar_runtime::IntoField<#ty>
                });
                ReplaceTryInto.visit_block_mut(&mut f.block);
                let message = format!("{field}: {{e}}");
                let mut fix = FieldMessage {
                    replacement: syn::parse_quote!(|e| format!(#message)),
                    replaced: 0,
                };
                fix.visit_block_mut(&mut f.block);
                if fix.replaced != 1 {
                    bail!("setter `{field}`: expected one `.map_err(|_| ..)`: progenitor changed");
                }
            }
            None => {
                let ty = pred
                    .path
                    .segments
                    .last()
                    .map(|s| quote!(#s).to_string())
                    .unwrap_or_default();
                let rule = if ty.contains("NonZero") {
                    "must be at least 1"
                } else {
                    "not a valid value"
                };
                let text = format!("{field}: {rule}");
                let mut fix = FieldMessage {
                    replacement: syn::parse_quote!(|_| #text.to_string()),
                    replaced: 0,
                };
                fix.visit_block_mut(&mut f.block);
            }
        }
    }
    Ok(())
}

/// Replace the closure of a `.map_err(|_| ..)`.
struct FieldMessage {
    replacement: syn::Expr,
    replaced: usize,
}

impl VisitMut for FieldMessage {
    fn visit_expr_method_call_mut(&mut self, m: &mut syn::ExprMethodCall) {
        syn::visit_mut::visit_expr_method_call_mut(self, m);
        if m.method == "map_err"
            && let Some(syn::Expr::Closure(c)) = m.args.first()
            && matches!(c.inputs.first(), Some(syn::Pat::Wild(_)))
        {
            m.args[0] = self.replacement.clone();
            self.replaced += 1;
        }
    }
}

/// Inside `types::builder`: the builders' own names (`SettlementRequest` → …`Builder`), not
/// the `super::` types they build.
struct RenameLocal<'a>(&'a BTreeSet<String>);

impl VisitMut for RenameLocal<'_> {
    fn visit_item_struct_mut(&mut self, s: &mut syn::ItemStruct) {
        if self.0.contains(&s.ident.to_string()) {
            let name = builder_name(&s.ident.to_string());
            let doc = format!(
                " Builder for [`{0}`](super::{0}): from [`{0}::builder()`](super::{0}::builder), \
                 or from a `{0}` to change it; `build()` it, or pass it to `.body(..)`.",
                s.ident
            );
            s.attrs.insert(0, syn::parse_quote!(#[doc = #doc]));
            s.ident = Ident::new(&name, s.ident.span());
        }
        syn::visit_mut::visit_item_struct_mut(self, s);
    }

    fn visit_path_mut(&mut self, p: &mut syn::Path) {
        if p.leading_colon.is_none()
            && p.segments.len() == 1
            && self.0.contains(&p.segments[0].ident.to_string())
        {
            let seg = &mut p.segments[0];
            seg.ident = Ident::new(&builder_name(&seg.ident.to_string()), seg.ident.span());
        }
        syn::visit_mut::visit_path_mut(self, p);
    }
}

/// Elsewhere: `builder::X` and `types::builder::X` → `…::XBuilder`.
struct RenameQualified<'a>(&'a BTreeSet<String>);

impl VisitMut for RenameQualified<'_> {
    fn visit_path_mut(&mut self, p: &mut syn::Path) {
        let n = p.segments.len();
        if n >= 2
            && p.segments[n - 2].ident == "builder"
            && self.0.contains(&p.segments[n - 1].ident.to_string())
        {
            let seg = &mut p.segments[n - 1];
            seg.ident = Ident::new(&builder_name(&seg.ident.to_string()), seg.ident.span());
        }
        syn::visit_mut::visit_path_mut(self, p);
    }
}

/// Outside the modules: `builder::Op` (the client methods' return types) → `request::Op`.
struct ToRequest;

impl VisitMut for ToRequest {
    fn visit_path_mut(&mut self, p: &mut syn::Path) {
        if p.leading_colon.is_none() && p.segments.len() >= 2 && p.segments[0].ident == "builder" {
            p.segments[0].ident = Ident::new(REQUEST_MODULE, p.segments[0].ident.span());
        }
        syn::visit_mut::visit_path_mut(self, p);
    }
}
