//! The hand-written runtime of the generated `backpack-server` crate: what its handlers call to
//! read and check a request, the secret-holding newtypes, the error an implementation returns,
//! and building the operation's responses.
//!
//! **Why a crate of its own.** `generated/` holds only what `cargo xtask regen` writes; this code
//! does not depend on the spec, so it is written by hand here and the generated router calls it
//! as `runtime::…`. `backpack-server` re-exports it as `backpack_server::runtime`, and its main
//! types at its root (`backpack_server::ServerError`, …): depend on `backpack-server`, not on this
//! crate. The construct corpus (`xtask/corpus`) generates servers from other documents against
//! the same runtime.
//!
//! Public here (and re-exported at `backpack-server`'s root where implementors need them):
//! [`ServerConfig`], [`RequestContext`], [`ServerError`], [`BearerToken`], [`XHostId`],
//! [`Operation`], and, for an authentication layer that must answer in an operation's documented
//! error shape, [`bearer_token`], [`x_host_id`], [`HeaderFormat`] and [`Rejection`]. The rest
//! (input extraction and checking, response building) is `#[doc(hidden)]`: only generated code
//! calls it, so it can change without a breaking release of `backpack-server`'s API.
//!
//! Every function that reads request data returns `Result<_, Rejection>`; a generated handler
//! turns a [`Rejection`] into the operation's error response with
//! [`Rejection::into_response_for`] (see `backpack-server`'s docs for the status rule).
//! Messages name the offending input but never echo header values, so secrets cannot leak through
//! them.
#![warn(missing_docs)]

mod body;
mod context;
mod error;
mod media;
mod params;
mod rejection;
mod respond;
mod secrets;

use std::sync::Arc;

// What the generated code calls, under the names it uses (`runtime::…`); some only for spec
// shapes the current document does not have. Public but hidden: only generated code calls them;
// they are not part of the API.
#[doc(hidden)]
pub use body::{Check, Step, json_body, json_body_optional};
pub use context::RequestContext;
pub use error::ServerError;
pub use media::RawBody;
#[doc(hidden)]
pub use media::{
    form_body, form_body_optional, raw_body, raw_body_optional, text_body, text_body_optional,
};
#[doc(hidden)]
pub use params::{
    HeaderValues, Headers, Location, OptionalParams, PathParams, Query, QueryPairs, Source,
    required,
};
pub use rejection::Rejection;
#[doc(hidden)]
pub use respond::{
    empty_response, empty_response_in_class, json_response, json_response_in_class,
    method_not_allowed, not_found, respond, status,
};
pub use secrets::{
    BearerToken, HeaderFormat, XHostId, bearer_token, bearer_token_optional, x_host_id,
    x_host_id_optional,
};

/// Server settings for `backpack_server::router_with_config`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Largest accepted request body in bytes; larger bodies get `413`. Default 1 MiB.
    pub body_limit: usize,
}

impl ServerConfig {
    /// The default request body limit (1 MiB).
    pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

    /// Sets the request body limit in bytes.
    #[must_use]
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            body_limit: Self::DEFAULT_BODY_LIMIT,
        }
    }
}

/// What the generated code knows about one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Operation {
    /// The spec's `operationId`, e.g. `create-game`.
    pub id: &'static str,
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path template in the spec's (and axum 0.8's) `{param}` syntax.
    pub path: &'static str,
    /// Status for malformed input (see the crate docs).
    pub input_status: u16,
    /// Status for a missing or malformed bearer token.
    pub auth_status: u16,
}

impl Operation {
    /// An operation's description; generated code makes one constant per operation.
    pub const fn new(
        id: &'static str,
        method: &'static str,
        path: &'static str,
        input_status: u16,
        auth_status: u16,
    ) -> Self {
        Self {
            id,
            method,
            path,
            input_status,
            auth_status,
        }
    }
}

/// The router's state: the implementation and the settings the handlers need.
#[doc(hidden)]
pub struct Shared<T> {
    api: Arc<T>,
    body_limit: usize,
}

impl<T> Shared<T> {
    /// State for `api` with `config`.
    pub fn new(api: Arc<T>, config: ServerConfig) -> Self {
        Self {
            api,
            body_limit: config.body_limit,
        }
    }

    /// The implementation.
    pub fn api(&self) -> &T {
        &self.api
    }

    /// The request body limit in bytes.
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }
}

// Manual impl: deriving would require `T: Clone`.
impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self {
            api: Arc::clone(&self.api),
            body_limit: self.body_limit,
        }
    }
}
