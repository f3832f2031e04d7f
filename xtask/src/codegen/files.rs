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
    // `generated/*/src/lib.rs` are hand-written (they hold `#[rustfmt::skip]` on the generated
    // modules, and the client's hooks), as is `backpack-types/src/support.rs` (it does not depend
    // on the spec); the rest of `generated/*/src` is produced here. Regen deletes only files that
    // carry the generated header, so the hand-written ones are safe.
    // The client goes first: an operation progenitor fails on is left out of the document the
    // server and the mocks are generated from, so all three agree.
    let mut found = Report::default();
    let mut pruned = backpack.clone();
    let client_tokens =
        client::generate_or_leave_out(&mut pruned, "::backpack_types::api", &mut found)?;
    let pruned = &pruned;
    std::thread::scope(|s| {
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
        let server_file = spawn(s, move || {
            let tokens = server::generate(pruned)?;
            Ok((
                file(
                    "generated/backpack-server/src/generated.rs",
                    render("server", BP, tokens)?,
                ),
                Report::default(),
            ))
        });
        let mock_file = spawn(s, move || {
            let tokens = httpmock::generate(pruned, "::backpack_types::api")?;
            Ok((
                file(
                    "generated/backpack-httpmock/src/generated.rs",
                    render("httpmock", BP, quote!(#tokens))?,
                ),
                Report::default(),
            ))
        });
        // The drift watch's schemas: what the generated client and receivers handle.
        let drift_file = spawn(s, move || {
            let tokens = drift::generate(pruned, webhooks)?;
            Ok((
                file(
                    drift::PATH,
                    render("drift", &format!("{BP} and {WH}"), tokens)?,
                ),
                Report::default(),
            ))
        });
        let catalogue_file = file(
            catalogue::PATH,
            catalogue::render(backpack, webhooks, &format!("{BP} and {WH}"))?,
        );
        let client_file = file(
            "generated/backpack-client/src/generated.rs",
            render("client", BP, quote!(#client_tokens))?,
        );
        let (api_file, mut api_found) = join(api)?;
        let (hooks_file, hooks_found) = join(hooks)?;
        let files = vec![
            api_file,
            hooks_file,
            catalogue_file,
            client_file,
            join(server_file)?.0,
            join(mock_file)?.0,
            join(drift_file)?.0,
        ];
        api_found.merge(found);
        report.extend_in(BP, api_found);
        report.extend_in(WH, hooks_found);
        Ok(files)
    })
}

type Made = Result<(GeneratedFile, Report)>;

fn spawn<'scope, 'env>(
    s: &'scope Scope<'scope, 'env>,
    work: impl FnOnce() -> Made + Send + 'scope,
) -> ScopedJoinHandle<'scope, Made> {
    s.spawn(work)
}

fn join(handle: ScopedJoinHandle<'_, Made>) -> Made {
    handle.join().map_err(|_| Error::Generate {
        what: "regen".into(),
        reason: "a generator thread panicked".into(),
    })?
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
