//! axum server for Xsolla's Backpack API, generated from `spec/backpack.yaml` in the style of
//! dropshot's API traits.
//!
//! `generated.rs` is produced by `cargo xtask regen` (`xtask/src/codegen/server/`) and must not
//! be edited; this file is **hand-written** and holds only these docs, module declarations and
//! re-exports. What the generated code calls ([`runtime`]: input checks, secrets, error answers)
//! is the hand-written crate `backpack-server-runtime`, re-exported.
//!
//! # Implementing the server
//!
//! ```
//! use std::sync::Arc;
//! use backpack_server::{
//!     BackpackApi, GetUserBackpackItemInput, GetUserBackpackItemResponse, RequestContext,
//!     ServerError,
//! };
//! use backpack_server::types::ApiError;
//!
//! struct MyMock;
//!
//! impl BackpackApi for MyMock {
//!     async fn get_user_backpack_item(
//!         &self,
//!         _ctx: RequestContext,
//!         input: GetUserBackpackItemInput,
//!     ) -> Result<GetUserBackpackItemResponse, ServerError> {
//!         // `input.bearer`, `input.item_id`: checked and typed before this is called.
//!         let missing = ApiError::new(format!("no item {}", input.item_id));
//!         Ok(GetUserBackpackItemResponse::NotFound(missing))
//!     }
//!     // Every other operation answers `501 Not Implemented`.
//! }
//!
//! let app: axum::Router = backpack_server::router(Arc::new(MyMock));
//! # drop(app);
//! ```
//!
//! * [`BackpackApi`] has one async method per operation, each taking a [`RequestContext`]
//!   (method, URI, headers, and the extensions middleware attached) and one `{Op}Input` struct
//!   with the operation's checked inputs: the [`BearerToken`] (operations with
//!   `security: bearer`), the [`XHostId`] (operations that take the `X-HOST-ID` header upstream —
//!   read from the spec before the client overlay removes it), the header, path and query
//!   parameters (a query parameter with a spec default holds the default when absent), and the
//!   JSON body as its `backpack_types::api` type.
//! * Each method returns `Result<{Op}Response, ServerError>`. The `{Op}Response` enum's variants
//!   are exactly the documented statuses (`update-game-details`: `NoContent`,
//!   `Unauthorized(ApiError)`, `UnprocessableEntity(ApiError)`). A documented range such as `2XX`
//!   becomes a variant that carries the status (`Success(StatusCode, T)`), `default` becomes
//!   `Default(StatusCode, T)`. A [`ServerError`] is the answer for everything the operation does
//!   not document — a storage failure becomes `500 {message_id, message}` with the cause logged,
//!   not echoed.
//! * Every method has a default body answering `501 {message_id, message}`: implement only the
//!   operations you serve (a mock, a partial backend), and a new upstream operation does not
//!   break your implementation.
//! * [`router`] / [`router_with_config`] serve exactly the spec's paths and methods ([`OPERATIONS`]
//!   lists them). As HTTP requires, a `GET` route also answers `HEAD` (axum drops the body).
//!   Middleware (`tower` layers, `axum::middleware::from_fn`) goes around the returned router;
//!   what it inserts into the request's extensions reaches the method in
//!   [`RequestContext::extensions`].
//!
//! # Growing with the spec
//!
//! Upstream additions are minor releases for implementors:
//!
//! | upstream change | here | an implementor |
//! |---|---|---|
//! | new operation | new trait method with a default body (`501`) | compiles unchanged |
//! | new optional parameter | new field of the `#[non_exhaustive]` input, with a `with_…` setter | compiles unchanged (inputs are read, or built with `new` + setters) |
//! | new documented status | new variant of the `#[non_exhaustive]` response enum | compiles unchanged: an implementation *constructs* responses, and constructing a variant is unaffected |
//!
//! The response enums are `#[non_exhaustive]` although the implementor is the one that builds
//! them: what the attribute forbids — an exhaustive `match` outside this crate — is what would
//! break on a new variant, e.g. a test or a middleware inspecting a response. Only the generated
//! router matches them exhaustively, and it is regenerated with the enum. A new *required*
//! parameter changes `{Op}Input::new`'s arguments; that is a breaking change upstream too.
//!
//! # Bad input
//!
//! Every input is checked before the implementation is called; a failed check never calls it and
//! answers with the API error body `{"message_id": "<uuid>", "message": "<what was wrong>"}`
//! (`message_id` is fresh per response and is logged with the reason at `debug` level, so a
//! report can be matched to the log line). The status is the one the **operation documents** for
//! that kind of problem, so a generated client sees a declared error rather than an unexpected
//! response:
//!
//! | problem | status |
//! |---|---|
//! | malformed or missing path, query or header value; missing or non-UUID `X-HOST-ID`; invalid JSON (or form, or UTF-8 text); a body of the wrong shape; an enum value the spec does not list | `400` if the operation documents it, else `422` if documented, else `400` (the operation documents no client error; `400` is HTTP's general answer) |
//! | missing or malformed `Authorization: Bearer <token>` | `401` if documented, else the operation's bad-input status above when that one is documented, else `401` |
//! | body larger than [`ServerConfig::body_limit`] (default 1 MiB) | `413` (checked against `Content-Length` first, then while reading) |
//! | body sent without the operation's `Content-Type` (JSON: `application/json` or `…+json`; else the media type the spec gives, parameters aside) | `415` |
//! | no route for the path | `404` |
//! | route exists, method does not | `405` (with `Allow`) |
//!
//! Other 4xx statuses an operation documents (`404`) are not used for bad input because they mean
//! something else. Checks run in this order: bearer token, `X-HOST-ID`, other headers, path,
//! query, body — so an unauthenticated request is refused before its body is read.
//!
//! Request enums are strict (a value not in the type's `KNOWN` list is bad input), while the model
//! types stay lenient for responses (`Unknown(String)`), because a server must not accept values
//! its implementation cannot know, but a client must survive new ones.
//!
//! Secrets: [`BearerToken`] and [`XHostId`] print as `***` with `Debug`, have no `Display`, and
//! their values never appear in error messages or logs (messages name the header, never echo it).
#![warn(missing_docs)]

// Generated code is formatted by prettyplease (`regen --check` compares it byte for byte), so
// rustfmt must leave it alone.
#[rustfmt::skip]
#[allow(missing_docs)]
mod generated;

/// What the generated handlers call (the hand-written `backpack-server-runtime` crate).
pub use backpack_server_runtime as runtime;

/// The `http` types in this crate's API (`Method`, `Uri`, `HeaderMap`, `Extensions`, …).
pub use axum::http;
/// The model types every operation uses (re-exported from `backpack-types`).
pub use backpack_types::api as types;
pub use generated::*;
pub use runtime::{BearerToken, Operation, RequestContext, ServerConfig, ServerError, XHostId};
