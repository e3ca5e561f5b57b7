//! The one rewrite of progenitor's output: every operation's `send()` hands the request that
//! progenitor's builder made to the runtime (`Binding::send_json` / `call_raw`) and returns
//! `Result<T, vandar_runtime::Error>`; a new `send_with_response()` returns the answer with
//! its status and headers, and `send_as::<T>()` decodes the same answer into a type of the
//! caller's choosing (fields the API sends that its docs do not list). progenitor's `pre`/`exec`/`post` hooks, `ResponseValue` and error
//! type are no longer on any path a user can reach.
//!
//! What the rewrite relies on (checked here; a progenitor upgrade that changes it fails
//! `cargo xtask gen` with a message naming the operation):
//! * every builder in `mod builder` has `pub async fn send(self) -> Result<ResponseValue<T>,
//!   Error<E>>`;
//! * its body builds `request` and then declares `let info = OperationInfo { operation_id:
//!   "<id>" };`, after which it only sends and decodes (the part that is replaced).

use anyhow::{Context, Result, anyhow, bail};
use proc_macro2::TokenStream;
use quote::quote;
use syn::visit_mut::VisitMut;

/// Rewrite every builder's `send()` in a parsed progenitor file. Returns how many.
pub fn rewrite(file: &mut syn::File) -> Result<usize> {
    let builder = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "builder" => m.content.as_mut(),
            _ => None,
        })
        .ok_or_else(|| anyhow!("progenitor output has no `mod builder`"))?;
    typed_bodies(&mut builder.1)?;
    let mut count = 0;
    for item in builder.1.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        let mut extra = Vec::new();
        for it in imp.items.iter_mut() {
            let syn::ImplItem::Fn(f) = it else { continue };
            if f.sig.ident != "send" {
                continue;
            }
            let (send, with_response, send_as) = rewrite_send(f)?;
            *f = send;
            extra.push(syn::ImplItem::Fn(with_response));
            extra.extend(send_as.map(syn::ImplItem::Fn));
            count += 1;
        }
        imp.items.extend(extra);
    }
    if count == 0 {
        bail!("progenitor output has no `send` methods to rewrite");
    }
    hide_internals(file);
    RenameType.visit_file_mut(file);
    ByteLengthFirst.visit_file_mut(file);
    // progenitor asserts `Client: ClientHooks<..>`; the hooks are not used any more.
    file.items.retain(|item| {
        !matches!(item, syn::Item::Const(c)
            if c.ident == "_" && quote!(#c).to_string().contains("assert_client_hooks"))
    });
    Ok(count)
}

/// progenitor keeps a builder-typed body as its builder: `body(value)` turns the typed body
/// into a builder and `send()` turns it back (the conversion and the builder's checks run
/// twice on every call). Such a builder holds a [`vandar_runtime::BodyInput`] instead: the
/// typed body as given, or the builder for `body_map(..)`. Returns how many.
fn typed_bodies(items: &mut [syn::Item]) -> Result<usize> {
    use std::collections::BTreeMap;
    let mut typed: BTreeMap<String, syn::Type> = BTreeMap::new();
    for item in items.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        let syn::Type::Path(self_ty) = &*imp.self_ty else {
            continue;
        };
        let Some(name) = self_ty.path.segments.last().map(|s| s.ident.to_string()) else {
            continue;
        };
        let Some(ty) = imp.items.iter().find_map(|it| match it {
            syn::ImplItem::Fn(f) if f.sig.ident == "body" => builder_body_type(f),
            _ => None,
        }) else {
            continue;
        };
        let mut done = [false; 3];
        for it in imp.items.iter_mut() {
            let syn::ImplItem::Fn(f) = it else { continue };
            let method = f.sig.ident.to_string();
            for stmt in f.block.stmts.iter_mut() {
                let text = quote!(#stmt).to_string();
                match method.as_str() {
                    "body" if text.contains("value . try_into () . map (From :: from)") => {
                        *stmt =
                            syn::parse_quote!(self.body = ::vandar_runtime::BodyInput::set(value););
                        done[0] = true;
                    }
                    "new" => {
                        let mut start = BodyStart(false);
                        start.visit_stmt_mut(stmt);
                        done[1] |= start.0;
                    }
                    "send" if text.starts_with("let body = body . and_then") => {
                        *stmt = syn::parse_quote! {
                            let body = body.typed().map_err(Error::InvalidRequest)?;
                        };
                        done[2] = true;
                    }
                    _ => {}
                }
            }
        }
        if done != [true; 3] {
            bail!(
                "`{name}`: its builder body is not set, started and sent as expected: progenitor changed"
            );
        }
        typed.insert(name, ty);
    }
    let mut fields = 0;
    for item in items.iter_mut() {
        let syn::Item::Struct(st) = item else {
            continue;
        };
        let Some(ty) = typed.get(&st.ident.to_string()) else {
            continue;
        };
        for field in st.fields.iter_mut() {
            if field.ident.as_ref().is_some_and(|i| i == "body") {
                let syn::Type::Path(p) = &field.ty else {
                    continue;
                };
                let Some(builder) = p.path.segments.last().and_then(first_type_arg).cloned() else {
                    continue;
                };
                field.ty = syn::parse_quote!(::vandar_runtime::BodyInput<#ty, #builder>);
                fields += 1;
            }
        }
    }
    if fields != typed.len() {
        bail!(
            "{} builder bodies but {fields} `body` fields rewritten: progenitor changed",
            typed.len()
        );
    }
    Ok(fields)
}

/// `body: Ok(Default::default())` in a builder's `new()` → `body: Default::default()` (an
/// empty [`vandar_runtime::BodyInput`] builder); whether it was there.
struct BodyStart(bool);

impl VisitMut for BodyStart {
    fn visit_field_value_mut(&mut self, f: &mut syn::FieldValue) {
        let is_body = matches!(&f.member, syn::Member::Named(i) if i == "body");
        let expr = &f.expr;
        if is_body && quote!(#expr).to_string() == "Ok (:: std :: default :: Default :: default ())"
        {
            f.expr = syn::parse_quote!(::std::default::Default::default());
            self.0 = true;
        }
    }
}

/// `T` of a builder's `body<V>(value: V) where V: TryInto<T>` when it converts the value into
/// a builder (`value.try_into().map(From::from)`); `None` for a body kept as its type.
fn builder_body_type(f: &syn::ImplItemFn) -> Option<syn::Type> {
    let converts = f.block.stmts.iter().any(|s| {
        quote!(#s)
            .to_string()
            .contains("value . try_into () . map (From :: from)")
    });
    if !converts {
        return None;
    }
    f.sig
        .generics
        .where_clause
        .as_ref()?
        .predicates
        .iter()
        .find_map(|p| {
            let syn::WherePredicate::Type(t) = p else {
                return None;
            };
            if !matches!(&t.bounded_ty, syn::Type::Path(v) if v.path.is_ident("V")) {
                return None;
            }
            t.bounds.iter().find_map(|b| {
                let syn::TypeParamBound::Trait(tr) = b else {
                    return None;
                };
                let last = tr.path.segments.last()?;
                if last.ident != "TryInto" {
                    return None;
                }
                first_type_arg(last).cloned()
            })
        })
}

/// The success type of `Result<ResponseValue<T>, Error<E>>`.
fn success_type(f: &syn::ImplItemFn) -> Option<syn::Type> {
    let syn::ReturnType::Type(_, ty) = &f.sig.output else {
        return None;
    };
    let syn::Type::Path(p) = &**ty else {
        return None;
    };
    let syn::Type::Path(rv) = first_type_arg(p.path.segments.last()?)? else {
        return None;
    };
    let rv = rv.path.segments.last()?;
    if rv.ident != "ResponseValue" {
        return None;
    }
    first_type_arg(rv).cloned()
}

/// `T` of `Name<T, ..>`.
fn first_type_arg(segment: &syn::PathSegment) -> Option<&syn::Type> {
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

fn rewrite_send(
    f: &syn::ImplItemFn,
) -> Result<(syn::ImplItemFn, syn::ImplItemFn, Option<syn::ImplItemFn>)> {
    let ty = success_type(f).ok_or_else(|| {
        anyhow!("a `send` does not return Result<ResponseValue<T>, Error<E>>: progenitor changed")
    })?;
    let stmts = &f.block.stmts;
    let at = stmts
        .iter()
        .position(|s| matches!(s, syn::Stmt::Local(l) if pat_is(&l.pat, "info")))
        .ok_or_else(|| anyhow!("a `send` has no `let info = OperationInfo {{ .. }}`"))?;
    let op = operation_id(&stmts[at])
        .ok_or_else(|| anyhow!("a `send` declares `info` without an operation_id literal"))?;
    let mut prefix: Vec<syn::Stmt> = stmts[..at].to_vec();
    let mut fix = FixErrors::default();
    for s in &mut prefix {
        fix.visit_stmt_mut(s);
    }
    if fix.builds != 1 {
        bail!(
            "`{op}`: expected one `.build()?` before `info`, found {}",
            fix.builds
        );
    }
    let route = crate::generate::route_const(&op);
    let route = quote!(super::routes::#route);
    build_url_on_route(&op, &mut prefix, &route)?;
    headers_in_chain(&op, &mut prefix)?;
    let has_body = check_body(&mut prefix, &route);
    let body = if has_body {
        quote!(::std::option::Option::Some(&body))
    } else {
        quote!(::std::option::Option::None)
    };
    let raw = matches!(&ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "ByteStream"));
    let answer_ty = if raw {
        quote!(::vandar_runtime::__Bytes)
    } else {
        quote!(#ty)
    };
    // Only an untyped answer is sent from `send_with_response()` itself; a typed one goes
    // through `send_as()` (see below).
    let with_response: syn::ImplItemFn = if raw {
        let call = quote!(client.inner.call_raw(request, #route, #body).await);
        syn::parse2(quote! {
            /// Sends the request and returns the answer with its HTTP status and headers.
            ///
            /// # Errors
            /// [`vandar_runtime::Error`]: invalid input (nothing sent), transport, API, decode or
            /// "outcome unknown" (a money call that may have taken effect).
            pub async fn send_with_response(
                self,
            ) -> ::std::result::Result<::vandar_runtime::Answer<#answer_ty>, ::vandar_runtime::Error> {
                #call
            }
        })
        .map(|f| with_prefix(f, prefix.clone()))?
    } else {
        syn::parse2(quote! {
            /// Sends the request and returns the decoded answer with its HTTP status and headers.
            ///
            /// # Errors
            /// [`vandar_runtime::Error`]: invalid input (nothing sent), transport, API, decode or
            /// "outcome unknown" (a money call that may have taken effect).
            pub async fn send_with_response(
                self,
            ) -> ::std::result::Result<::vandar_runtime::Answer<#answer_ty>, ::vandar_runtime::Error> {
                self.send_as().await
            }
        })?
    };
    // The same exchange, decoded into a type of the caller's choosing: for fields the API
    // sends that its docs do not list (the request side stays typed and checked).
    // The request is prepared (body checked, URL built) before the future exists, and the
    // checked body is moved into the call's one box (`Binding::send_json`): no future is
    // built and then copied into a box around it.
    let send_as: Option<syn::ImplItemFn> = if raw {
        None
    } else {
        let (parts, body_arg) = if has_body {
            (
                quote!((client, request, body)),
                quote!(::std::option::Option::Some(body)),
            )
        } else {
            (
                quote!((client, request)),
                quote!(::std::option::Option::<::vandar_runtime::NoBody>::None),
            )
        };
        Some(
            syn::parse2(quote! {
                /// Sends the request and decodes a successful answer into `T` instead of the
                /// documented type: your own struct (fields the API sends that its docs do not
                /// list) or `serde_json::Value`. Checks, credential, retries and errors are those of
                /// [`send`](Self::send).
                ///
                /// # Errors
                /// [`vandar_runtime::Error`]: invalid input (nothing sent), transport, API, decode or
                /// "outcome unknown" (a money call that may have taken effect).
                pub fn send_as<T: ::serde::de::DeserializeOwned + 'a>(
                    self,
                ) -> ::vandar_runtime::SendFuture<'a, T> {
                    let prepared = (move || -> ::std::result::Result<_, ::vandar_runtime::Error> {
                        ::std::result::Result::Ok(#parts)
                    })();
                    match prepared {
                        ::std::result::Result::Ok(#parts) => {
                            client.inner.send_json(request, #route, #body_arg)
                        }
                        ::std::result::Result::Err(e) => ::vandar_runtime::Binding::refused(e),
                    }
                }
            })
            .map(|f| with_prefix_in_closure(f, prefix))?,
        )
    };
    let attrs = &f.attrs;
    let send: syn::ImplItemFn = syn::parse2(quote! {
        #(#attrs)*
        ///
        /// Returns the decoded answer; [`send_with_response`](Self::send_with_response) also
        /// gives the HTTP status and headers.
        ///
        /// # Errors
        /// [`vandar_runtime::Error`]: invalid input (nothing sent), transport, API, decode or
        /// "outcome unknown" (a money call that may have taken effect).
        pub async fn send(self) -> ::std::result::Result<#answer_ty, ::vandar_runtime::Error> {
            self.send_with_response()
                .await
                .map(::vandar_runtime::Answer::into_body)
        }
    })?;
    Ok((send, with_response, send_as))
}

/// `f` (`let prepared = (move || { Ok(..) })(); ..`) with the request-building statements
/// put before the closure's `Ok(..)` (moved, not printed and parsed again).
fn with_prefix_in_closure(mut f: syn::ImplItemFn, prefix: Vec<syn::Stmt>) -> syn::ImplItemFn {
    let closure = f.block.stmts.first_mut().and_then(|s| match s {
        syn::Stmt::Local(l) => match l.init.as_mut().map(|i| &mut *i.expr) {
            Some(syn::Expr::Call(call)) => match &mut *call.func {
                syn::Expr::Paren(p) => match &mut *p.expr {
                    syn::Expr::Closure(c) => Some(&mut *c.body),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        },
        _ => None,
    });
    if let Some(syn::Expr::Block(b)) = closure {
        let mut stmts = prefix;
        stmts.append(&mut b.block.stmts);
        b.block.stmts = stmts;
    }
    f
}

/// `f` with the request-building statements put before its one statement (moved, not printed
/// and parsed again: this runs for every operation).
fn with_prefix(mut f: syn::ImplItemFn, mut prefix: Vec<syn::Stmt>) -> syn::ImplItemFn {
    prefix.append(&mut f.block.stmts);
    f.block.stmts = prefix;
    f
}

/// Replace progenitor's `let url = format!("{}/a/{}/b", client.baseurl, encode_path(&x.to_string()), ..)`
/// by `let url = client.inner.url(ROUTE, &[&x.to_string(), ..])?`: the runtime builds the URL
/// once, on the route's own host, with its one path encoder. The values are taken in template
/// order, as progenitor formats them.
fn build_url_on_route(op: &str, prefix: &mut [syn::Stmt], route: &TokenStream) -> Result<()> {
    let at = prefix
        .iter()
        .position(|s| matches!(s, syn::Stmt::Local(l) if pat_is(&l.pat, "url")))
        .ok_or_else(|| anyhow!("`{op}`: no `let url = format!(..)`: progenitor changed"))?;
    let syn::Stmt::Local(local) = &prefix[at] else {
        unreachable!()
    };
    let init = local
        .init
        .as_ref()
        .ok_or_else(|| anyhow!("`{op}`: `let url` without a value"))?;
    let syn::Expr::Macro(m) = &*init.expr else {
        bail!("`{op}`: `let url` is not a `format!`: progenitor changed");
    };
    let args = m
        .mac
        .parse_body_with(syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
        .with_context(|| format!("`{op}`: the URL's `format!` does not parse"))?;
    let mut values = Vec::new();
    for arg in args.iter().skip(2) {
        // `encode_path(&<value>.to_string())`
        let syn::Expr::Call(call) = arg else {
            bail!("`{op}`: a URL argument is not `encode_path(..)`: progenitor changed");
        };
        let is_encode = matches!(&*call.func, syn::Expr::Path(p) if p.path.is_ident("encode_path"));
        if !is_encode || call.args.len() != 1 {
            bail!("`{op}`: a URL argument is not `encode_path(..)`: progenitor changed");
        }
        values.push(call.args[0].clone());
    }
    prefix[at] = syn::parse_quote! {
        let url = client.inner.url(#route, &[#(#values),*])?;
    };
    Ok(())
}

/// progenitor collects an operation's header parameters in a map of their own and merges it
/// into the request (`let mut header_map = HeaderMap::with_capacity(n); header_map.append(k,
/// v); .. .headers(header_map)`): a second map allocated, walked and dropped on every call
/// (issue 22: the code one call runs). Each `append(k, v)` becomes `.header(k, v)` in the
/// builder chain, in the same place and order. Only plain appends are moved (every header the
/// specs declare is the constant `api-version`); anything else is an error, so a new kind of
/// header parameter is looked at rather than silently left behind.
fn headers_in_chain(op: &str, prefix: &mut Vec<syn::Stmt>) -> Result<()> {
    let Some(at) = prefix
        .iter()
        .position(|s| matches!(s, syn::Stmt::Local(l) if pat_is(&l.pat, "header_map")))
    else {
        return Ok(());
    };
    let mut pairs = Vec::new();
    let mut end = at + 1;
    while let Some(syn::Stmt::Expr(syn::Expr::MethodCall(m), Some(_))) = prefix.get(end) {
        let on_map = matches!(&*m.receiver, syn::Expr::Path(p) if p.path.is_ident("header_map"));
        if !on_map || m.method != "append" || m.args.len() != 2 {
            break;
        }
        pairs.push((m.args[0].clone(), m.args[1].clone()));
        end += 1;
    }
    prefix.drain(at..end);
    let mut chain = HeadersInChain { pairs, replaced: 0 };
    for s in prefix.iter_mut() {
        chain.visit_stmt_mut(s);
    }
    if chain.replaced != 1 {
        bail!(
            "`{op}`: expected `header_map` to be filled by plain `append`s and merged once \
             with `.headers(header_map)`: progenitor changed"
        );
    }
    let left = prefix
        .iter()
        .any(|s| quote!(#s).to_string().contains("header_map"));
    if left {
        bail!("`{op}`: `header_map` is used beyond its plain `append`s: progenitor changed");
    }
    Ok(())
}

/// `.headers(header_map)` → `.header(k, v)` for each collected append.
struct HeadersInChain {
    pairs: Vec<(syn::Expr, syn::Expr)>,
    replaced: usize,
}

impl VisitMut for HeadersInChain {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        syn::visit_mut::visit_expr_mut(self, e);
        let syn::Expr::MethodCall(m) = e else { return };
        let merges = m.method == "headers"
            && m.args.len() == 1
            && matches!(&m.args[0], syn::Expr::Path(p) if p.path.is_ident("header_map"));
        if !merges {
            return;
        }
        let mut chained = (*m.receiver).clone();
        for (k, v) in &self.pairs {
            chained = syn::parse_quote!(#chained.header(#k, #v));
        }
        *e = chained;
        self.replaced += 1;
    }
}

/// After progenitor's `let body = ..?;`, check the typed body against its route and keep the
/// checked form (what is serialized and sent): `let body = CheckedBody::new(ROUTE, body)?;`
/// (the body type's `CheckBody` impl is generated by [`crate::checks`]).
/// Returns whether the operation has a body.
fn check_body(prefix: &mut Vec<syn::Stmt>, route: &TokenStream) -> bool {
    let Some(at) = prefix.iter().rposition(
        |s| matches!(s, syn::Stmt::Local(l) if pat_is(&l.pat, "body") && l.init.is_some()),
    ) else {
        return false;
    };
    prefix.insert(
        at + 1,
        syn::parse_quote! {
            let body = ::vandar_runtime::CheckedBody::new(#route, body)?;
        },
    );
    true
}

fn pat_is(p: &syn::Pat, name: &str) -> bool {
    matches!(p, syn::Pat::Ident(i) if i.ident == name)
}

fn operation_id(s: &syn::Stmt) -> Option<String> {
    let syn::Stmt::Local(l) = s else { return None };
    let syn::Expr::Struct(st) = &*l.init.as_ref()?.expr else {
        return None;
    };
    st.fields
        .iter()
        .find_map(|fv| match (&fv.member, &fv.expr) {
            (
                syn::Member::Named(n),
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }),
            ) if n == "operation_id" => Some(s.value()),
            _ => None,
        })
}

/// `Error::InvalidRequest` → the runtime's; `.build()?` → `.build().map_err(from_build)?`.
#[derive(Default)]
struct FixErrors {
    builds: usize,
}

impl VisitMut for FixErrors {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        syn::visit_mut::visit_expr_mut(self, e);
        match e {
            syn::Expr::Path(p)
                if p.path.segments.len() == 2
                    && p.path.segments[0].ident == "Error"
                    && p.path.segments[1].ident == "InvalidRequest" =>
            {
                *e = syn::parse_quote!(::vandar_runtime::Error::InvalidRequest);
            }
            syn::Expr::Try(t) => {
                if let syn::Expr::MethodCall(m) = &*t.expr {
                    let inner = (*t.expr).clone();
                    if m.method == "build" && m.args.is_empty() {
                        *t.expr =
                            syn::parse_quote!(#inner.map_err(::vandar_runtime::Error::from_build));
                        self.builds += 1;
                    } else if m.method != "map_err" {
                        // e.g. `.form_urlencoded(&body)?`: progenitor's error type
                        *t.expr = syn::parse_quote!(
                            #inner.map_err(::vandar_runtime::Error::from_progenitor::<()>)
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

/// progenitor's constructors and `ClientInfo` are internals: `Client::new` builds its own
/// HTTP client and unwraps the result (a panic path) and bypasses the runtime's configuration,
/// so it is dropped; `new_with_client` is kept for the generated `with_runtime` only
/// (`pub(crate)`); the `ClientInfo` impl is hidden from the docs.
fn hide_internals(file: &mut syn::File) {
    for item in file.items.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        let is_client = matches!(&*imp.self_ty, syn::Type::Path(p) if p.path.is_ident("Client"));
        if !is_client {
            continue;
        }
        if imp.trait_.is_some() {
            imp.attrs.push(syn::parse_quote!(#[doc(hidden)]));
            continue;
        }
        imp.items
            .retain(|it| !matches!(it, syn::ImplItem::Fn(f) if f.sig.ident == "new"));
        for it in imp.items.iter_mut() {
            if let syn::ImplItem::Fn(f) = it
                && f.sig.ident == "new_with_client"
            {
                f.vis = syn::parse_quote!(pub(crate));
            }
        }
    }
}

/// What the doc of one operation's client method shows: a complete call.
pub struct CallDoc {
    /// Builder methods for the parameters, with example values (`business`, `"my-shop"`).
    pub params: Vec<(String, String)>,
    /// The body type (`types::PaymentRequest`) and an example body (JSON text).
    pub body: Option<(String, String)>,
    /// Whether the answer is a raw body (no JSON type).
    pub raw: bool,
}

/// Replace the short usage block progenitor puts in each client method's doc with a complete
/// call: every parameter with an example value, the body from the spec's request example, and
/// the `?` on the `vandar_runtime::Error` result.
pub fn document_calls(file: &mut syn::File, docs: &std::collections::BTreeMap<String, CallDoc>) {
    for item in file.items.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        let is_client = matches!(&*imp.self_ty, syn::Type::Path(p) if p.path.is_ident("Client"));
        if !is_client || imp.trait_.is_some() {
            continue;
        }
        for it in imp.items.iter_mut() {
            let syn::ImplItem::Fn(f) = it else { continue };
            let name = f.sig.ident.to_string();
            let Some(doc) = docs.get(&name) else { continue };
            for attr in f.attrs.iter_mut() {
                let syn::Meta::NameValue(nv) = &mut attr.meta else {
                    continue;
                };
                if !nv.path.is_ident("doc") {
                    continue;
                }
                let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }) = &nv.value
                else {
                    continue;
                };
                let old = text.value();
                let Some(start) = old.find("```ignore") else {
                    continue;
                };
                let Some(len) = old[start + 9..].find("```") else {
                    continue;
                };
                let end = start + 9 + len + 3;
                let mut call = String::from("```ignore\n");
                if let Some((ty, json)) = &doc.body {
                    call.push_str(&format!(
                        "let body: {ty} = serde_json::from_value(serde_json::json!({json}))?;\n"
                    ));
                }
                call.push_str(&format!("let answer = client\n    .{name}()\n"));
                for (p, v) in &doc.params {
                    call.push_str(&format!("    .{p}({v})\n"));
                }
                if doc.body.is_some() {
                    call.push_str("    .body(body)\n");
                }
                call.push_str("    .send()\n    .await?;\n");
                if !doc.raw {
                    call.push_str("// `answer` is the decoded success body; `.send_with_response()` also gives\n// the HTTP status and headers. Errors are `vandar_runtime::Error`.\n");
                }
                call.push_str("```");
                let new = format!("{}{}{}", &old[..start], call, &old[end..]);
                nv.value = syn::parse_quote!(#new);
            }
        }
    }
}

/// typify checks a string's `maxLength` / `minLength` as `value.chars().count() > N` (or `< N`),
/// counting every character of every value. A character is at least one byte, so the byte
/// length decides first: `value.len() > N && value.chars().count() > N` and `value.len() < N ||
/// value.chars().count() < N` give the same answers, and count only a long text of non-ASCII
/// characters (issue 22: the code and time of every constrained string a call builds).
struct ByteLengthFirst;

impl VisitMut for ByteLengthFirst {
    fn visit_expr_if_mut(&mut self, e: &mut syn::ExprIf) {
        syn::visit_mut::visit_expr_if_mut(self, e);
        let syn::Expr::Binary(b) = &*e.cond else {
            return;
        };
        let greater = match b.op {
            syn::BinOp::Gt(_) => true,
            syn::BinOp::Lt(_) => false,
            _ => return,
        };
        let syn::Expr::MethodCall(count) = &*b.left else {
            return;
        };
        let syn::Expr::MethodCall(chars) = &*count.receiver else {
            return;
        };
        if count.method != "count" || chars.method != "chars" || !count.args.is_empty() {
            return;
        }
        if !matches!(&*b.right, syn::Expr::Lit(_)) {
            return;
        }
        let (text, limit, counted) = (&chars.receiver, &b.right, &b.left);
        *e.cond = if greater {
            syn::parse_quote!(#text.len() > #limit && #counted > #limit)
        } else {
            syn::parse_quote!(#text.len() < #limit || #counted < #limit)
        };
    }
}

/// typify spells a property named `type` as `type_` (a keyword otherwise); the SDK calls it
/// `kind` everywhere (fields, builder methods), keeping `#[serde(rename = "type")]` on the wire.
struct RenameType;

impl VisitMut for RenameType {
    fn visit_ident_mut(&mut self, i: &mut proc_macro2::Ident) {
        if i == "type_" {
            *i = proc_macro2::Ident::new("kind", i.span());
        }
    }

    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        fn fix(ts: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
            ts.into_iter()
                .map(|tt| match tt {
                    proc_macro2::TokenTree::Group(g) => {
                        let mut n = proc_macro2::Group::new(g.delimiter(), fix(g.stream()));
                        n.set_span(g.span());
                        proc_macro2::TokenTree::Group(n)
                    }
                    proc_macro2::TokenTree::Literal(l) => {
                        match syn::parse_str::<syn::LitStr>(&l.to_string()) {
                            Ok(s) => {
                                let v = s.value().replace("for type_", "for type");
                                let v = user_message(&v).unwrap_or(v);
                                if v == s.value() {
                                    proc_macro2::TokenTree::Literal(l)
                                } else {
                                    proc_macro2::TokenTree::Literal(proc_macro2::Literal::string(
                                        &v,
                                    ))
                                }
                            }
                            _ => proc_macro2::TokenTree::Literal(l),
                        }
                    }
                    other => other,
                })
                .collect()
        }
        m.tokens = fix(std::mem::take(&mut m.tokens));
        syn::visit_mut::visit_macro_mut(self, m);
    }

    fn visit_lit_str_mut(&mut self, l: &mut syn::LitStr) {
        // the builders' messages name the field: say `type`, as on the wire
        let v = l.value();
        let fixed = v
            .replace("for type_", "for type")
            .replace("`type_`", "`kind`");
        let fixed = user_message(&fixed).unwrap_or(fixed);
        if fixed != v {
            *l = syn::LitStr::new(&fixed, l.span());
        }
    }
}

/// The message a user reads for one of progenitor's or typify's conversion messages: it names
/// the field and the rule, never a generated type (issue 23 item 6). `None`: leave it.
///
/// * ``conversion to `TokenRequest` for body failed: {}`` → `{}` (the inner message names
///   the field);
/// * ``conversion to `RefundTransactionTransactionId` for transaction_id failed`` →
///   `transaction_id: not a valid value` (the setters rewritten by [`crate::ergonomic`] get
///   a message true for their type);
/// * `error converting supplied value for token: {e}` → `token: {e}`;
/// * `no value supplied for token` → `token: must be set`;
/// * `shorter than 1 characters` → `must not be empty`; `shorter than N characters` →
///   `must have at least N characters`; `longer than N characters` → `must have at most N
///   characters`.
fn user_message(s: &str) -> Option<String> {
    if let Some(rest) = s.strip_prefix("conversion to `") {
        let (_, rest) = rest.split_once("` for ")?;
        if let Some(inner) = rest.strip_prefix("body failed: ") {
            return Some(inner.to_owned());
        }
        let field = rest.strip_suffix(" failed")?;
        return Some(format!("{field}: not a valid value"));
    }
    if let Some(rest) = s.strip_prefix("error converting supplied value for ") {
        let (field, inner) = rest.split_once(": ")?;
        return Some(format!("{field}: {inner}"));
    }
    if let Some(field) = s.strip_prefix("no value supplied for ") {
        return Some(format!("{field}: must be set"));
    }
    let chars = |rest: &str| rest.strip_suffix(" characters").map(str::to_owned);
    if let Some(n) = s.strip_prefix("shorter than ").and_then(chars) {
        return Some(if n == "1" {
            "must not be empty".to_owned()
        } else {
            format!("must have at least {n} characters")
        });
    }
    if let Some(n) = s.strip_prefix("longer than ").and_then(chars) {
        return Some(format!("must have at most {n} characters"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::user_message;

    #[test]
    fn length_checks_look_at_the_byte_length_first() {
        use quote::ToTokens;
        use syn::visit_mut::VisitMut;
        let mut f: syn::File = syn::parse_quote! {
            fn f(value: &str) -> bool {
                if value.chars().count() > 254usize { return false; }
                if value.chars().count() < 3usize { return false; }
                if value.len() > 9usize { return false; }
                true
            }
        };
        super::ByteLengthFirst.visit_file_mut(&mut f);
        let text = f.into_token_stream().to_string();
        assert!(
            text.contains("value . len () > 254usize && value . chars () . count () > 254usize"),
            "{text}"
        );
        assert!(
            text.contains("value . len () < 3usize || value . chars () . count () < 3usize"),
            "{text}"
        );
        assert!(text.contains("if value . len () > 9usize {"), "{text}");
    }

    #[test]
    fn header_parameters_go_into_the_builder_chain() {
        use quote::ToTokens;
        let f: syn::ItemFn = syn::parse_quote! {
            fn f() {
                let url = client.inner.url(ROUTE, &[])?;
                let mut header_map = ::reqwest::header::HeaderMap::with_capacity(2usize);
                header_map.append(A, ::reqwest::header::HeaderValue::from_static("1"));
                header_map.append(B, ::reqwest::header::HeaderValue::from_static("2"));
                let mut request = client.client.post(url).header(ACCEPT, J).json(&body)
                    .headers(header_map).build()?;
            }
        };
        let mut stmts = f.block.stmts;
        super::headers_in_chain("op", &mut stmts).unwrap();
        let text = stmts
            .iter()
            .map(|s| s.to_token_stream().to_string())
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(stmts.len(), 2, "{text}");
        assert!(!text.contains("header_map"), "{text}");
        assert!(
            text.contains(
                ". json (& body) . header (A , :: reqwest :: header :: HeaderValue :: from_static (\"1\")) \
                 . header (B , :: reqwest :: header :: HeaderValue :: from_static (\"2\")) . build ()"
            ),
            "{text}"
        );
        // A header the map gets in any other way is refused, not left behind.
        let g: syn::ItemFn = syn::parse_quote! {
            fn g() {
                let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                if let Some(v) = x { header_map.append(A, v.try_into()?); }
                let mut request = client.client.get(url).headers(header_map).build()?;
            }
        };
        let mut stmts = g.block.stmts;
        assert!(super::headers_in_chain("op", &mut stmts).is_err());
    }

    #[test]
    fn messages_name_the_field_not_a_generated_type() {
        assert_eq!(
            user_message("conversion to `TokenRequest` for body failed: {}").as_deref(),
            Some("{}")
        );
        assert_eq!(
            user_message(
                "conversion to `RefundTransactionTransactionId` for transaction_id failed"
            )
            .as_deref(),
            Some("transaction_id: not a valid value")
        );
        assert_eq!(
            user_message("error converting supplied value for token: {e}").as_deref(),
            Some("token: {e}")
        );
        assert_eq!(
            user_message("shorter than 1 characters").as_deref(),
            Some("must not be empty")
        );
        assert_eq!(
            user_message("longer than 254 characters").as_deref(),
            Some("must have at most 254 characters")
        );
        assert_eq!(
            user_message("no value supplied for amount").as_deref(),
            Some("amount: must be set")
        );
        assert_eq!(user_message("anything else"), None);
    }
}
