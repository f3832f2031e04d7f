//! axum server for Xsolla's Backpack API, generated from `spec/backpack.yaml` in the style of
//! dropshot's API traits.
//!
//! This file and `runtime.rs` are **hand-written**; `generated.rs` is produced by
//! `cargo xtask regen` (`xtask/src/codegen/server.rs`) and must not be edited.
//!
//! * [`BackpackApi`] has one async method per operation. Its arguments are typed: the
//!   [`BearerToken`] (operations with `security: bearer`), the [`XHostId`] (operations that take the
//!   `X-HOST-ID` header upstream — read from the spec before the client overlay removes it), the
//!   path parameters, an `{Op}Query` struct when the operation has query parameters, and the JSON
//!   body as its `backpack_types::api` type.
//! * Each method returns an `{Op}Response` enum whose variants are exactly the documented statuses
//!   (`update-game-details`: `NoContent`, `Unauthorized(ApiError)`, `UnprocessableEntity(ApiError)`).
//!   A documented range such as `2XX` becomes a variant that carries the status
//!   (`Success(StatusCode, T)`), `default` becomes `Default(StatusCode, T)`.
//! * [`router`] / [`router_with_config`] serve exactly the spec's paths and methods ([`OPERATIONS`]
//!   lists them). As HTTP requires, a `GET` route also answers `HEAD` (axum drops the body).
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
//! | malformed or missing path, query or header value; missing or non-UUID `X-HOST-ID`; missing or non-JSON `Content-Type`; invalid JSON; a body of the wrong shape; an enum value the spec does not list | `400` if the operation documents it, else `422` if documented, else `400` (the operation documents no client error; `400` is HTTP's general answer) |
//! | missing or malformed `Authorization: Bearer <token>` | `401` if documented, else the operation's bad-input status above when that one is documented, else `401` |
//! | body larger than [`ServerConfig::body_limit`] (default 1 MiB) | `413` (checked against `Content-Length` first, then while reading) |
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
pub mod runtime;

/// The model types every operation uses (re-exported from `backpack-types`).
pub use backpack_types::api as types;
pub use generated::*;
pub use runtime::{BearerToken, ServerConfig, XHostId};
