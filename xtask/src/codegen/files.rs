//! The generated files of the workspace, from the two prepared documents, generated and rendered
//! on several threads: rendering (syn parse, layout, prettyplease) is most of regen's time, and
//! the files do not depend on each other once the client has left out what progenitor fails on.

use super::{GeneratedFile, catalogue, client, drift, httpmock, render, server, types};
use crate::degrade::Report;
use crate::{Error, Result};
use quote::quote;
use serde_json::Value;
use std::thread::{Scope, ScopedJoinHandle};

const BP: &str = "spec/backpack.yaml";
const WH: &str = "spec/webhooks.yaml";

/// Every file regen writes, in a fixed order, with what was degraded recorded in `report`.
pub fn generate(
    backpack: &Value,
    webhooks: &Value,
    report: &mut Report,
) -> Result<Vec<GeneratedFile>> {
    // `generated/*/src/lib.rs` are hand-written (docs, `#[rustfmt::skip]` on the generated modules,
    // re-exports of the hand-written crates under `crates/`); the rest of `generated/*/src` is
    // produced here. Regen deletes only files that carry the generated header, so the hand-written
    // ones are safe.
    // The client decides what the server, the mocks and the drift schemas are generated from: an
    // operation progenitor fails on is left out of all of them, so they agree. That is rare, so
    // they are generated from `backpack` while progenitor runs (it is the slowest generator), and
    // generated again from the pruned document only when the client left something out.
    std::thread::scope(|s| {
        let client_file = s.spawn(move || -> Result<(GeneratedFile, Report, Option<Value>)> {
            let mut found = Report::default();
            let (tokens, pruned) =
                client::generate_or_prune(backpack, "::backpack_types::api", &mut found)?;
            let tokens = client::read_json_through_hooks(tokens)?;
            let hooks = client::hooks_impl();
            let file = file(
                "generated/backpack-client/src/generated.rs",
                render("client", BP, quote!(#tokens #hooks))?,
            );
            Ok((file, found, pruned))
        });
        let api = spawn(s, move || {
            types_file(
                "api",
                backpack,
                "BackpackWebhookEvent",
                BP,
                "Backpack API models and the Backpack webhooks (`spec/backpack.yaml`).",
            )
        });
        let hooks = spawn(s, move || {
            types_file(
                "webhooks",
                webhooks,
                "WebhookEvent",
                WH,
                "Payments and store webhooks (`spec/webhooks.yaml`).",
            )
        });
        let from_backpack = spawn_from_client_doc(s, backpack, webhooks);
        let catalogue_file = file(
            catalogue::PATH,
            catalogue::render(backpack, webhooks, &format!("{BP} and {WH}"))?,
        );
        let (client_file, found, pruned) = client_file.join().map_err(|_| panicked())??;
        let [server_file, mock_file, drift_file] = match &pruned {
            None => join_all(from_backpack)?,
            Some(pruned) => {
                // Made from the unpruned document: wrong now, but joined so an error surfaces.
                join_all(from_backpack)?;
                std::thread::scope(|again| {
                    join_all(spawn_from_client_doc(again, pruned, webhooks))
                })?
            }
        };
        let (api_file, mut api_found) = join(api)?;
        let (hooks_file, hooks_found) = join(hooks)?;
        let files = vec![
            api_file,
            hooks_file,
            catalogue_file,
            client_file,
            server_file,
            mock_file,
            drift_file,
        ];
        api_found.merge(found);
        report.extend_in(BP, api_found);
        report.extend_in(WH, hooks_found);
        Ok(files)
    })
}

/// Server, mocks and drift schemas, on their threads, from `doc`: what the client was generated
/// from.
fn spawn_from_client_doc<'scope, 'env>(
    s: &'scope Scope<'scope, 'env>,
    doc: &'scope Value,
    webhooks: &'scope Value,
) -> [ScopedJoinHandle<'scope, Made>; 3] {
    let server_file = spawn(s, move || {
        let tokens = server::generate(doc, &server::ServerPaths::backpack())?;
        Ok((
            file(
                "generated/backpack-server/src/generated.rs",
                render("server", BP, tokens)?,
            ),
            Report::default(),
        ))
    });
    let mock_file = spawn(s, move || {
        let tokens = httpmock::generate(doc, "::backpack_types::api")?;
        let when_ext = httpmock::when_ext();
        Ok((
            file(
                "generated/backpack-httpmock/src/generated.rs",
                render("httpmock", BP, quote!(#tokens #when_ext))?,
            ),
            Report::default(),
        ))
    });
    // The drift watch's schemas: what the generated client and receivers handle.
    let drift_file = spawn(s, move || {
        let tokens = drift::generate(doc, webhooks)?;
        Ok((
            file(
                drift::PATH,
                render("drift", &format!("{BP} and {WH}"), tokens)?,
            ),
            Report::default(),
        ))
    });
    [server_file, mock_file, drift_file]
}

fn join_all(handles: [ScopedJoinHandle<'_, Made>; 3]) -> Result<[GeneratedFile; 3]> {
    let [a, b, c] = handles;
    Ok([join(a)?.0, join(b)?.0, join(c)?.0])
}

type Made = Result<(GeneratedFile, Report)>;

fn spawn<'scope, 'env>(
    s: &'scope Scope<'scope, 'env>,
    work: impl FnOnce() -> Made + Send + 'scope,
) -> ScopedJoinHandle<'scope, Made> {
    s.spawn(work)
}

fn join(handle: ScopedJoinHandle<'_, Made>) -> Made {
    handle.join().map_err(|_| panicked())?
}

fn panicked() -> Error {
    Error::Generate {
        what: "regen".into(),
        reason: "a generator thread panicked".into(),
    }
}

fn types_file(module: &str, doc: &Value, event_enum: &str, source: &str, doc_text: &str) -> Made {
    let mut found = Report::default();
    let tokens = types::generate_module_reporting(
        &types::ModuleInput {
            module,
            doc,
            event_enum,
            doc_text,
        },
        &mut found,
    )?;
    let path = format!("generated/backpack-types/src/{module}.rs");
    Ok((
        file(
            &path,
            render(&format!("types {module}.rs"), source, tokens)?,
        ),
        found,
    ))
}

fn file(path: &str, contents: String) -> GeneratedFile {
    GeneratedFile {
        path: path.to_string(),
        contents,
    }
}
