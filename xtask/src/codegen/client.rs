//! `generated/backpack-client`: progenitor's builder-style client for every Backpack operation.
//!
//! Every component schema is replaced by the `backpack-types` type of the same name, so the client
//! reuses those types (forward-compatible enums, lenient numbers) instead of making its own.
//! `inner` is `crate::Hooks` (the hand-written `backpack_client_hooks::Hooks`, re-exported) and
//! `HooksMode::Expected` makes a missing `ClientHooks` impl a compile error, because X-HOST-ID
//! and the bearer token depend on it. The orphan rule puts that impl in the crate defining
//! `Client`, so regen emits it too ([`hooks_impl`]), as a fixed delegation to `Hooks`.

use super::names::type_name;
use super::progenitor_run::{catch_panic, replace_component_schemas};
use crate::degrade::{Report, prune};
use crate::openapi::METHODS;
use crate::simplify::progenitor_view::{MULTIPART_BOUNDARY, SEND_AS, view};
use crate::{Error, Result};
use proc_macro2::TokenStream;
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle};
use quote::quote;
use serde_json::Value;

/// [`generate`] on the client view of `doc`; when progenitor fails, each operation is tried alone
/// and those it fails on are left out of `doc` (so server and mocks, generated from `doc`
/// afterwards, agree) and reported. Fails only when progenitor fails with every operation fine
/// alone.
pub fn generate_or_leave_out(
    doc: &mut Value,
    types_module: &str,
    report: &mut Report,
) -> Result<TokenStream> {
    let (tokens, pruned) = generate_or_prune(doc, types_module, report)?;
    if let Some(pruned) = pruned {
        *doc = pruned;
    }
    Ok(tokens)
}

/// [`generate_or_leave_out`] without touching `doc`: the pruned copy is returned only when an
/// operation was left out, so the common case (progenitor takes everything) clones nothing and
/// regen can generate the other files from `doc` meanwhile.
pub fn generate_or_prune(
    doc: &Value,
    types_module: &str,
    report: &mut Report,
) -> Result<(TokenStream, Option<Value>)> {
    let whole = match generate(&view(doc), types_module) {
        Ok(tokens) => return Ok((tokens, None)),
        Err(e) => e,
    };
    let mut failing = Vec::new();
    for op in crate::openapi::path_operations(doc) {
        let mut alone = doc.clone();
        let mut item = doc
            .pointer(&format!(
                "/paths/{}",
                crate::simplify::refs::escape(op.path)
            ))
            .cloned()
            .unwrap_or(Value::Null);
        if let Value::Object(map) = &mut item {
            map.retain(|k, _| k == op.method || !METHODS.contains(&k.as_str()));
        }
        alone["paths"] = serde_json::json!({ op.path: item });
        if let Err(e) = generate(&view(&alone), types_module) {
            let reason = match e {
                Error::Generate { reason, .. } => reason,
                other => other.to_string(),
            };
            failing.push((op.path.to_string(), op.method, op.label(), reason));
        }
    }
    if failing.is_empty() {
        return Err(whole);
    }
    let mut pruned = doc.clone();
    for (path, method, label, reason) in failing {
        prune::leave_out(
            &mut pruned,
            &path,
            method,
            &label,
            &format!("client generator: {reason}"),
            report,
        );
    }
    let tokens = generate(&view(&pruned), types_module)?;
    Ok((tokens, Some(pruned)))
}

/// `impl ClientHooks<Hooks> for Client`: every generated call passes through `Hooks::prepare`
/// before it is sent and `Hooks::send` to send it (`crates/backpack-client-hooks`). It must live
/// in the crate that defines `Client` (the orphan rule), so it is generated next to it.
pub fn hooks_impl() -> TokenStream {
    quote! {
        impl ::progenitor_client::ClientHooks<crate::Hooks> for Client {
            async fn pre<E>(
                &self,
                request: &mut ::reqwest::Request,
                info: &::progenitor_client::OperationInfo,
            ) -> ::std::result::Result<(), ::progenitor_client::Error<E>> {
                self.inner
                    .prepare(request, info.operation_id)
                    .await
                    .map_err(::progenitor_client::Error::Custom)
            }

            async fn exec(
                &self,
                request: ::reqwest::Request,
                _info: &::progenitor_client::OperationInfo,
            ) -> ::reqwest::Result<::reqwest::Response> {
                self.inner.send(&self.client, request).await
            }
        }

        impl Client {
            /// progenitor's `ResponseValue::from_response`, with the body shown to
            /// `Hooks::inspect` between reading and decoding it.
            async fn read_json_response<T: ::serde::de::DeserializeOwned, E>(
                &self,
                mut response: ::reqwest::Response,
            ) -> ::std::result::Result<
                ::progenitor_client::ResponseValue<T>,
                ::progenitor_client::Error<E>,
            > {
                let status = response.status();
                let headers = response.headers().clone();
                let extensions = ::std::mem::take(response.extensions_mut());
                let bytes = response
                    .bytes()
                    .await
                    .map_err(::progenitor_client::Error::ResponseBodyError)?;
                self.inner
                    .inspect(crate::ResponseBody::new(status, &headers, &extensions, &bytes));
                let inner = ::serde_json::from_slice(&bytes)
                    .map_err(|e| ::progenitor_client::Error::InvalidResponsePayload(bytes, e))?;
                Ok(::progenitor_client::ResponseValue::new(inner, status, headers))
            }
        }
    }
}

/// The client with every JSON response body read by `Client::read_json_response` (emitted by
/// [`hooks_impl`], so only where that is emitted too) instead of progenitor's
/// `ResponseValue::from_response`: the middleware sees the bytes the client reads (the SDK's drift
/// watch checks them there, reading the body once).
pub fn read_json_through_hooks(tokens: TokenStream) -> Result<TokenStream> {
    const FROM: &str = "ResponseValue :: from_response (response)";
    let fail = |reason: String| Error::Generate {
        what: "backpack-client".into(),
        reason,
    };
    let text = tokens.to_string();
    let replaced = text.replace(FROM, "client . read_json_response (response)");
    // Another spelling of the call (a progenitor update) would bypass the hooks without a
    // sound: the SDK's drift watch would then skip those bodies. Refuse it instead.
    if replaced.contains("ResponseValue :: from_response") {
        return Err(fail(
            "progenitor calls `ResponseValue::from_response` in a form regen does not route              through `read_json_response`"
                .into(),
        ));
    }
    if replaced == text {
        return Ok(tokens);
    }
    replaced.parse().map_err(|e| {
        fail(format!(
            "re-reading the client after routing responses through the hooks: {e}"
        ))
    })
}

/// Generates the client module for the (normalized, overlaid) Backpack document.
pub fn generate(doc: &Value, types_module: &str) -> Result<TokenStream> {
    let fail = |reason: String| Error::Generate {
        what: "backpack-client".into(),
        reason,
    };
    // Read from the borrowed `Value`: cloning the whole document first costs a copy of it.
    let spec = <openapiv3::OpenAPI as serde::Deserialize>::deserialize(doc)
        .map_err(|e| fail(format!("openapiv3 cannot read the document: {e}")))?;
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_inner_type(quote!(crate::Hooks))
        .with_hooks(HooksMode::Expected);
    let replaced = replace_component_schemas(&mut settings, doc, types_module);
    let mut generator = Generator::new(&settings);
    let tokens = catch_panic(|| generator.generate_tokens(&spec)).map_err(fail)?;
    let tokens = send_raw_bodies_as_published(doc, tokens).map_err(fail)?;
    // progenitor silently re-generates a type whose replacement did not apply; refuse that. Only
    // its `types` module counts: the `builder` module names structs after operations.
    let text = types_module_text(&tokens);
    let defined: std::collections::BTreeSet<&str> = ["pub struct ", "pub enum "]
        .iter()
        .flat_map(|kind| text.split(kind).skip(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    if let Some(name) = replaced.iter().find(|n| defined.contains(n.as_str())) {
        return Err(fail(format!(
            "progenitor generated its own `{name}` instead of reusing {types_module}::{name}"
        )));
    }
    Ok(tokens)
}

/// The text of progenitor's `pub mod types { … }`, empty when it has none (found among the
/// top-level token trees: parsing the whole client would cost more than the rest of this check).
fn types_module_text(tokens: &TokenStream) -> String {
    use proc_macro2::TokenTree;
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    trees
        .windows(3)
        .find_map(|w| match w {
            [
                TokenTree::Ident(kw),
                TokenTree::Ident(name),
                TokenTree::Group(body),
            ] if kw == "mod" && name == "types" => Some(body.stream().to_string()),
            _ => None,
        })
        .unwrap_or_default()
}

/// progenitor sends every raw body as `application/octet-stream`; an operation whose body was
/// published as another media type (`progenitor_view::SEND_AS`) sends it with that one, so the
/// client and the server agree. The literal is replaced inside that operation's builder only.
fn send_raw_bodies_as_published(
    doc: &Value,
    tokens: TokenStream,
) -> std::result::Result<TokenStream, String> {
    let targets: Vec<(String, String)> = crate::openapi::path_operations(doc)
        .filter_map(|op| {
            let content = op.op.pointer("/requestBody/content")?.as_object()?;
            let send_as = content.values().next()?.get(SEND_AS)?.as_str()?;
            Some((type_name(op.id()?), send_as.to_string()))
        })
        .collect();
    if targets.is_empty() {
        return Ok(tokens);
    }
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("progenitor output does not parse: {e}"))?;
    let mut done = 0;
    for item in &mut file.items {
        let syn::Item::Mod(module) = item else {
            continue;
        };
        if module.ident != "builder" {
            continue;
        }
        for inner in module
            .content
            .iter_mut()
            .flat_map(|(_, items)| items.iter_mut())
        {
            let syn::Item::Impl(imp) = inner else {
                continue;
            };
            let syn::Type::Path(path) = imp.self_ty.as_ref() else {
                continue;
            };
            let Some(name) = path.path.segments.last().map(|s| s.ident.to_string()) else {
                continue;
            };
            let Some((_, send_as)) = targets.iter().find(|(t, _)| *t == name) else {
                continue;
            };
            let text = quote!(#imp).to_string();
            let octet = "\"application/octet-stream\"";
            if !text.contains(octet) {
                return Err(format!("progenitor's builder {name} sends no octet stream"));
            }
            let replaced = text.replace(octet, &format!("{send_as:?}"));
            *imp = syn::parse_str(&replaced)
                .map_err(|e| format!("builder {name} does not parse after the rewrite: {e}"))?;
            done += 1;
        }
    }
    if done != targets.len() {
        return Err(format!(
            "found {done} of the {} builders whose raw body needs its published media type",
            targets.len()
        ));
    }
    let boundary = MULTIPART_BOUNDARY;
    let uses_multipart = targets.iter().any(|(_, m)| m.contains(boundary));
    let boundary_const = uses_multipart.then(|| {
        quote! {
            /// The boundary every raw `multipart/form-data` body this client sends must use
            /// (it is sent in the `Content-Type`).
            pub const MULTIPART_BOUNDARY: &str = #boundary;
        }
    });
    Ok(quote!(#file #boundary_const))
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::read_json_through_hooks;

    #[test]
    fn json_reads_go_through_the_hooks_or_regen_refuses() {
        let routed = read_json_through_hooks(quote! {
            match status { 200u16 => ResponseValue::from_response(response).await, _ => todo() }
        })
        .map(|t| t.to_string())
        .unwrap_or_default();
        assert!(
            routed.contains("client . read_json_response (response)"),
            "{routed}"
        );
        assert!(!routed.contains("from_response"), "{routed}");

        let other_form = quote! { ResponseValue::from_response(response).await; ResponseValue::from_response::<T>(r) };
        assert!(read_json_through_hooks(other_form).is_err());
        let only_other_form = quote! { ResponseValue::from_response::<T>(r) };
        assert!(read_json_through_hooks(only_other_form).is_err());

        let nothing_to_route = quote! { ResponseValue::empty(response) };
        assert!(read_json_through_hooks(nothing_to_route).is_ok());
    }
}
