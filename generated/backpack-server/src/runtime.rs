//! What the generated handlers and middleware in front of the router use: the settings, the
//! secret-holding newtypes, credential parsing and the operation's error answers.
//!
//! Public here (and re-exported at the crate root where implementors need them):
//! [`ServerConfig`], [`RequestContext`], [`ServerError`], [`BearerToken`], [`XHostId`],
//! [`Operation`], and, for an authentication layer that must answer in an operation's documented
//! error shape, [`bearer_token`], [`x_host_id`], [`HeaderFormat`] and [`Rejection`]. The rest
//! (input extraction and checking, response building) is crate-private: only the generated code
//! calls it, so it can change without a breaking release.
//!
//! Every function that reads request data returns `Result<_, Rejection>`; a generated handler
//! turns a [`Rejection`] into the operation's error response with
//! [`Rejection::into_response_for`] (see the crate docs for the status rule).
//! Messages name the offending input but never echo header values, so secrets cannot leak through
//! them.
// Helpers for spec shapes the current document does not use (optional bearer, optional body, …)
// are emitted only when needed.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use backpack_types::api::ApiError;
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;

pub use crate::context::RequestContext;
pub use crate::error::ServerError;

/// Server settings for [`crate::router_with_config`].
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

/// The router's state: the implementation and the settings the handlers need.
pub(crate) struct Shared<T> {
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

/// The bearer token from `Authorization: Bearer <token>`. `Debug` prints `***`; there is no
/// `Display`, so it cannot end up in a log line by accident.
#[derive(Clone)]
pub struct BearerToken(String);

impl BearerToken {
    /// Wraps a token (for calling an implementation directly, e.g. in tests).
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token itself. Do not log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(***)")
    }
}

/// The `X-HOST-ID` header value (a secret issued by Xsolla). `Debug` prints `***`; no `Display`.
#[derive(Clone)]
pub struct XHostId(String);

impl XHostId {
    /// Wraps a value (for calling an implementation directly, e.g. in tests).
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value exactly as sent. Do not log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for XHostId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("XHostId(***)")
    }
}

/// Where a parameter comes from (for messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    /// A path segment.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
}

impl Location {
    fn noun(self) -> &'static str {
        match self {
            Location::Path => "path parameter",
            Location::Query => "query parameter",
            Location::Header => "header",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Input,
    Auth,
    TooLarge,
}

/// Why a request was refused before reaching the implementation.
#[derive(Debug)]
pub struct Rejection {
    kind: Kind,
    message: Cow<'static, str>,
}

impl Rejection {
    /// Malformed or missing input (the operation's bad-input status).
    pub fn input(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind: Kind::Input,
            message: message.into(),
        }
    }

    /// Missing or malformed credentials (the operation's auth status).
    pub fn auth(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind: Kind::Auth,
            message: message.into(),
        }
    }

    /// The body is over the limit (`413`).
    pub fn too_large() -> Self {
        Self {
            kind: Kind::TooLarge,
            message: "request body is larger than the server accepts".into(),
        }
    }

    /// The message sent to the client (never contains a header value).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error response for `operation`.
    pub fn into_response_for(self, operation: &Operation) -> Response {
        let code = match self.kind {
            Kind::Input => operation.input_status,
            Kind::Auth => operation.auth_status,
            Kind::TooLarge => 413,
        };
        let status = status(code);
        let message_id = uuid::Uuid::new_v4().to_string();
        tracing::debug!(
            operation = operation.id,
            status = status.as_u16(),
            message_id = %message_id,
            reason = %self.message,
            "request rejected before reaching the implementation"
        );
        let mut response = error_response(status, message_id, self.message.into_owned());
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// A status from its number; an impossible number (the generator only emits 100–599) becomes 500.
pub(crate) fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// `value`, or a "missing" rejection for the parameter `name`.
pub(crate) fn required<T>(
    value: Option<T>,
    location: Location,
    name: &'static str,
) -> Result<T, Rejection> {
    value.ok_or_else(|| Rejection::input(format!("missing {} `{name}`", location.noun())))
}

fn parse_scalar<T: FromStr>(
    location: Location,
    name: &str,
    raw: &str,
    expected: &str,
) -> Result<T, Rejection> {
    // The value is not echoed: headers may be secret, and a name plus expectation is enough.
    raw.parse()
        .map_err(|_| Rejection::input(format!("{} `{name}` must be {expected}", location.noun())))
}

fn parse_enum<T: for<'a> From<&'a str>>(
    location: Location,
    name: &str,
    raw: &str,
    known: &[&str],
) -> Result<T, Rejection> {
    if known.contains(&raw) {
        Ok(T::from(raw))
    } else {
        Err(Rejection::input(format!(
            "{} `{name}` must be one of: {}",
            location.noun(),
            known.join(", ")
        )))
    }
}

/// The path parameters of the matched route (percent-decoded by axum).
pub(crate) struct PathParams(axum::extract::RawPathParams);

impl PathParams {
    /// Reads the matched route's parameters from the request.
    pub async fn extract(parts: &mut axum::http::request::Parts) -> Result<Self, Rejection> {
        use axum::extract::FromRequestParts;
        axum::extract::RawPathParams::from_request_parts(parts, &())
            .await
            .map(Self)
            .map_err(|_| Rejection::input("path parameters are not valid percent-encoded UTF-8"))
    }

    /// An empty segment (`/merchants//projects`) matches a route but is a missing value.
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
            .filter(|value| !value.is_empty())
    }

    /// The parameter `name` parsed as `T`.
    pub fn scalar<T: FromStr>(&self, name: &'static str, expected: &str) -> Result<T, Rejection> {
        let raw = required(self.get(name), Location::Path, name)?;
        parse_scalar(Location::Path, name, raw, expected)
    }

    /// The parameter `name` as an enum; values outside `known` are rejected.
    pub fn enumeration<T: for<'a> From<&'a str>>(
        &self,
        name: &'static str,
        known: &[&str],
    ) -> Result<T, Rejection> {
        let raw = required(self.get(name), Location::Path, name)?;
        parse_enum(Location::Path, name, raw, known)
    }
}

/// The query string as decoded `(name, value)` pairs. Unknown names are ignored.
pub(crate) struct QueryPairs(Vec<(String, String)>);

impl QueryPairs {
    /// Decodes the query string of `uri`.
    pub fn parse(uri: &Uri) -> Result<Self, Rejection> {
        if uri.query().is_none_or(str::is_empty) {
            return Ok(Self(Vec::new()));
        }
        axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map(|q| Self(q.0))
            .map_err(|_| Rejection::input("malformed query string"))
    }

    fn single(&self, name: &str) -> Result<Option<&str>, Rejection> {
        let mut values = self.0.iter().filter(|(key, _)| key == name);
        let first = values.next();
        if values.next().is_some() {
            return Err(Rejection::input(format!(
                "query parameter `{name}` is given more than once"
            )));
        }
        Ok(first.map(|(_, value)| value.as_str()))
    }

    /// The single value of `name` parsed as `T`; repeating the parameter is an error.
    pub fn scalar<T: FromStr>(&self, name: &str, expected: &str) -> Result<Option<T>, Rejection> {
        self.single(name)?
            .map(|raw| parse_scalar(Location::Query, name, raw, expected))
            .transpose()
    }

    /// The single value of `name` as an enum; values outside `known` are rejected.
    pub fn enumeration<T: for<'a> From<&'a str>>(
        &self,
        name: &str,
        known: &[&str],
    ) -> Result<Option<T>, Rejection> {
        self.single(name)?
            .map(|raw| parse_enum(Location::Query, name, raw, known))
            .transpose()
    }

    /// Every value of `name` (form style, exploded: `name=a&name=b`), each parsed as `T`.
    pub fn list<T: FromStr>(&self, name: &str, expected: &str) -> Result<Vec<T>, Rejection> {
        self.0
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, raw)| parse_scalar(Location::Query, name, raw, expected))
            .collect()
    }

    /// Every value of `name` as an enum; any value outside `known` is rejected.
    pub fn enumeration_list<T: for<'a> From<&'a str>>(
        &self,
        name: &str,
        known: &[&str],
    ) -> Result<Vec<T>, Rejection> {
        self.0
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, raw)| parse_enum(Location::Query, name, raw, known))
            .collect()
    }
}

/// The single visible-ASCII value of header `name`, if present.
fn single_header<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, Rejection> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Rejection::input(format!(
            "header `{name}` is given more than once"
        )));
    }
    first
        .to_str()
        .map(Some)
        .map_err(|_| Rejection::input(format!("header `{name}` is not visible ASCII")))
}

/// Typed access to non-secret header parameters.
pub(crate) struct Headers<'h>(&'h HeaderMap);

impl<'h> Headers<'h> {
    /// Wraps the request headers.
    pub fn new(headers: &'h HeaderMap) -> Self {
        Self(headers)
    }

    /// The header `name` parsed as `T`.
    pub fn scalar<T: FromStr>(&self, name: &str, expected: &str) -> Result<Option<T>, Rejection> {
        single_header(self.0, name)?
            .map(|raw| parse_scalar(Location::Header, name, raw, expected))
            .transpose()
    }

    /// The header `name` as an enum; values outside `known` are rejected.
    pub fn enumeration<T: for<'a> From<&'a str>>(
        &self,
        name: &str,
        known: &[&str],
    ) -> Result<Option<T>, Rejection> {
        single_header(self.0, name)?
            .map(|raw| parse_enum(Location::Header, name, raw, known))
            .transpose()
    }
}

/// The declared format of a secret header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderFormat {
    /// `format: uuid`.
    Uuid,
    /// Any non-empty visible-ASCII text.
    Text,
}

/// The required `X-HOST-ID`-style secret header `name`.
pub fn x_host_id(
    headers: &HeaderMap,
    name: &'static str,
    format: HeaderFormat,
) -> Result<XHostId, Rejection> {
    x_host_id_optional(headers, name, format)?
        .ok_or_else(|| Rejection::input(format!("missing header `{name}`")))
}

/// The optional `X-HOST-ID`-style secret header `name`; present but malformed is an error.
pub fn x_host_id_optional(
    headers: &HeaderMap,
    name: &'static str,
    format: HeaderFormat,
) -> Result<Option<XHostId>, Rejection> {
    let Some(raw) = single_header(headers, name)? else {
        return Ok(None);
    };
    let valid = match format {
        HeaderFormat::Uuid => uuid::Uuid::try_parse(raw).is_ok(),
        HeaderFormat::Text => !raw.trim().is_empty(),
    };
    if !valid {
        let expected = match format {
            HeaderFormat::Uuid => "a UUID",
            HeaderFormat::Text => "non-empty",
        };
        return Err(Rejection::input(format!(
            "header `{name}` must be {expected}"
        )));
    }
    Ok(Some(XHostId(raw.to_owned())))
}

/// The required `Authorization: Bearer <token>`.
pub fn bearer_token(headers: &HeaderMap) -> Result<BearerToken, Rejection> {
    bearer_token_optional(headers)?
        .ok_or_else(|| Rejection::auth("missing `Authorization: Bearer <token>` header"))
}

/// An optional `Authorization: Bearer <token>`; present but malformed is an error.
pub fn bearer_token_optional(headers: &HeaderMap) -> Result<Option<BearerToken>, Rejection> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Rejection::auth(
            "`Authorization` header is given more than once",
        ));
    }
    let malformed =
        || Rejection::auth("malformed `Authorization` header; expected `Bearer <token>`");
    let text = value.to_str().map_err(|_| malformed())?;
    let (scheme, token) = text.split_once(' ').ok_or_else(malformed)?;
    let token = token.trim_start_matches(' ');
    // RFC 6750 b64token: the characters a JWT uses, plus `~+/` and trailing `=`.
    let body = token.trim_end_matches('=');
    let valid = scheme.eq_ignore_ascii_case("bearer")
        && !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    if !valid {
        return Err(malformed());
    }
    Ok(Some(BearerToken(token.to_owned())))
}

/// One step from a JSON value towards an enum-typed position.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step {
    /// The named member of an object.
    Field(&'static str),
    /// Every element of an array.
    Each,
    /// Every member value of a map.
    Values,
}

/// What must hold at one place in a request body.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Object,
    OneOf(&'static [&'static str]),
}

/// A check on a request body, made on the parsed JSON before it becomes the model type:
/// an object where the spec has an object (serde would also build a struct from a positional
/// array), a listed value where the spec has an enum (the model types keep unknown values, so
/// that responses stay forward-compatible; a request must not carry them).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Check {
    path: &'static [Step],
    expect: Expect,
}

impl Check {
    /// The value at `path`, when present and not `null`, must be a JSON object.
    pub const fn object(path: &'static [Step]) -> Self {
        Self {
            path,
            expect: Expect::Object,
        }
    }

    /// The string at `path`, when present, must be one of `known`.
    pub const fn one_of(path: &'static [Step], known: &'static [&'static str]) -> Self {
        Self {
            path,
            expect: Expect::OneOf(known),
        }
    }
}

fn location_text(at: &str) -> &str {
    if at.is_empty() { "(root)" } else { at }
}

fn check_at(
    value: &serde_json::Value,
    steps: &[Step],
    expect: Expect,
    at: &mut String,
) -> Result<(), Rejection> {
    let Some((step, rest)) = steps.split_first() else {
        // Other mismatches (a number for a string, `null` for a required field) are left to
        // deserialization, which names the expected type.
        return match (expect, value) {
            (Expect::Object, serde_json::Value::Array(_)) => Err(Rejection::input(format!(
                "request body does not match the schema: `{}` must be an object",
                location_text(at)
            ))),
            (Expect::OneOf(known), serde_json::Value::String(s))
                if !known.contains(&s.as_str()) =>
            {
                Err(Rejection::input(format!(
                    "request body `{}` must be one of: {}",
                    location_text(at),
                    known.join(", ")
                )))
            }
            _ => Ok(()),
        };
    };
    let len = at.len();
    match (step, value) {
        (Step::Field(name), serde_json::Value::Object(map)) => {
            if let Some(inner) = map.get(*name) {
                at.push('.');
                at.push_str(name);
                check_at(inner, rest, expect, at)?;
            }
        }
        (Step::Each, serde_json::Value::Array(items)) => {
            for (i, inner) in items.iter().enumerate() {
                at.push_str(&format!("[{i}]"));
                check_at(inner, rest, expect, at)?;
                at.truncate(len);
            }
        }
        (Step::Values, serde_json::Value::Object(map)) => {
            for (key, inner) in map {
                at.push('.');
                at.push_str(key);
                check_at(inner, rest, expect, at)?;
                at.truncate(len);
            }
        }
        _ => {}
    }
    at.truncate(len);
    Ok(())
}

/// Runs `checks` on a parsed body.
pub(crate) fn check_body(value: &serde_json::Value, checks: &[Check]) -> Result<(), Rejection> {
    let mut at = String::new();
    for check in checks {
        check_at(value, check.path, check.expect, &mut at)?;
    }
    Ok(())
}

fn is_json_content_type(headers: &HeaderMap) -> Result<(), Rejection> {
    let wrong =
        || Rejection::input("request body must be sent with `Content-Type: application/json`");
    let value = headers.get(header::CONTENT_TYPE).ok_or_else(wrong)?;
    let text = value.to_str().map_err(|_| wrong())?;
    let essence = text.split(';').next().unwrap_or_default().trim();
    let json = essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 5
            && essence.is_char_boundary(essence.len() - 5)
            && essence[essence.len() - 5..].eq_ignore_ascii_case("+json"));
    if json { Ok(()) } else { Err(wrong()) }
}

/// Reads at most `limit` bytes of `body`; more is a `413`.
pub(crate) async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, Rejection> {
    // A declared length over the limit is refused without reading anything.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(Rejection::too_large());
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(Rejection::too_large()),
        Err(_) => Err(Rejection::input("the request body could not be read")),
    }
}

fn deserialize<T: DeserializeOwned>(bytes: &[u8], checks: &[Check]) -> Result<T, Rejection> {
    let describe = |e: serde_json::Error| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => {
                Rejection::input(format!("request body does not match the schema: {e}"))
            }
            Category::Syntax | Category::Eof | Category::Io => {
                Rejection::input(format!("request body is not valid JSON: {e}"))
            }
        }
    };
    // "The body is an object" needs only its first byte; parsing into a `Value` first (for the
    // checks further down) roughly doubles the cost of reading a body.
    let at_root = |c: &&Check| c.path.is_empty() && matches!(c.expect, Expect::Object);
    if checks.iter().any(|c| at_root(&c)) {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'[') {
            return Err(Rejection::input(
                "request body does not match the schema: `(root)` must be an object",
            ));
        }
    }
    if checks.iter().all(|c| at_root(&c)) {
        return serde_json::from_slice(bytes).map_err(describe);
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(describe)?;
    for check in checks.iter().filter(|c| !at_root(c)) {
        check_at(&value, check.path, check.expect, &mut String::new())?;
    }
    T::deserialize(value).map_err(describe)
}

/// The required JSON body as `T`, after `checks`.
pub(crate) async fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    checks: &[Check],
) -> Result<T, Rejection> {
    is_json_content_type(headers)?;
    let bytes = read_body(headers, body, limit).await?;
    if bytes.is_empty() {
        return Err(Rejection::input("missing request body"));
    }
    deserialize(&bytes, checks)
}

/// An optional JSON body: an empty body is `None`.
pub(crate) async fn json_body_optional<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    checks: &[Check],
) -> Result<Option<T>, Rejection> {
    let bytes = read_body(headers, body, limit).await?;
    if bytes.is_empty() {
        return Ok(None);
    }
    is_json_content_type(headers)?;
    deserialize(&bytes, checks).map(Some)
}

/// `{message_id, message}` with `status`.
pub(crate) fn error_response(status: StatusCode, message_id: String, message: String) -> Response {
    let body = ApiError {
        message_id: Some(message_id),
        message,
    };
    json_response(status, &body)
}

/// `body` as JSON with `status`. A serialization failure (a bug, not input) is logged and becomes 500.
pub(crate) fn json_response<B: Serialize>(status: StatusCode, body: &B) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "response body could not be serialized");
            internal_error("response body could not be serialized")
        }
    }
}

/// The implementation's answer: its response, or the [`ServerError`]'s `500`/`501`.
pub(crate) fn respond<R: IntoResponse>(
    operation: &Operation,
    result: Result<R, ServerError>,
) -> Response {
    match result {
        Ok(response) => response.into_response(),
        Err(error) => error.into_response_for(operation),
    }
}

/// An empty response with `status`.
pub(crate) fn empty_response(status: StatusCode) -> Response {
    status.into_response()
}

fn internal_error(message: &str) -> Response {
    let body = format!(
        r#"{{"message_id":"{}","message":"{message}"}}"#,
        uuid::Uuid::new_v4()
    );
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

fn in_class(operation: &str, status: StatusCode, class: u16) -> bool {
    let ok = status.as_u16() / 100 == class;
    if !ok {
        // The implementation returned a status outside the documented range: a bug on our side.
        tracing::error!(
            operation,
            status = status.as_u16(),
            "implementation returned a status outside the documented {class}XX range"
        );
    }
    ok
}

/// `body` as JSON for a documented range (`2XX`): a status outside `class` becomes 500.
pub(crate) fn json_response_in_class<B: Serialize>(
    operation: &str,
    status: StatusCode,
    class: u16,
    body: &B,
) -> Response {
    if in_class(operation, status, class) {
        json_response(status, body)
    } else {
        internal_error("the implementation returned an undocumented status")
    }
}

/// An empty response for a documented range: a status outside `class` becomes 500.
pub(crate) fn empty_response_in_class(operation: &str, status: StatusCode, class: u16) -> Response {
    if in_class(operation, status, class) {
        empty_response(status)
    } else {
        internal_error("the implementation returned an undocumented status")
    }
}

/// Fallback for paths the spec does not have: `404` with the API error body.
pub(crate) async fn not_found() -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        uuid::Uuid::new_v4().to_string(),
        "no such route".into(),
    )
}

/// Fallback for a known path with a method the spec does not list: `405` with the API error body
/// (axum adds the `Allow` header).
pub(crate) async fn method_not_allowed() -> Response {
    error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        uuid::Uuid::new_v4().to_string(),
        "method not allowed for this route".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", BearerToken::new("abc")), "BearerToken(***)");
        assert_eq!(format!("{:?}", XHostId::new("abc")), "XHostId(***)");
    }

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        assert!(bearer_token_optional(&h).unwrap().is_none());
        for (value, ok) in [
            ("Bearer abc.def-ghi_", true),
            ("bearer abc==", true),
            ("Bearer  abc", true),
            ("Bearer", false),
            ("Bearer ", false),
            ("Basic abc", false),
            ("Bearer a b", false),
            ("Bearer ===", false),
        ] {
            h.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            let result = bearer_token(&h);
            assert_eq!(result.is_ok(), ok, "{value}");
            if let Err(e) = result {
                assert!(!e.message().contains("abc"), "{}", e.message());
            }
        }
    }

    #[test]
    fn body_checks_reject_unknown_enum_values_and_arrays_for_objects() {
        static CHECKS: &[Check] = &[
            Check::object(&[Step::Each]),
            Check::one_of(&[Step::Each, Step::Field("kind")], &["a", "b"]),
        ];
        let ok = serde_json::json!([{"kind": "a"}, {"other": 1}, {"kind": null}, null]);
        assert!(check_body(&ok, CHECKS).is_ok());
        let bad = serde_json::json!([{"kind": "a"}, {"kind": "zzz"}]);
        let err = check_body(&bad, CHECKS).unwrap_err();
        assert_eq!(
            err.message(),
            "request body `[1].kind` must be one of: a, b"
        );
        let positional = serde_json::json!([{"kind": "a"}, ["a"]]);
        let err = check_body(&positional, CHECKS).unwrap_err();
        assert_eq!(
            err.message(),
            "request body does not match the schema: `[1]` must be an object"
        );
        let root: &[Check] = &[Check::object(&[])];
        assert!(
            check_body(&serde_json::json!(["x"]), root)
                .unwrap_err()
                .message()
                .contains("(root)")
        );
        let map: &[Check] = &[Check::one_of(&[Step::Values], &["a"])];
        let bad = serde_json::json!({"x": "a", "y": "b"});
        assert!(
            check_body(&bad, map)
                .unwrap_err()
                .message()
                .contains("`.y`")
        );
    }

    #[test]
    fn content_type_must_be_json() {
        let mut h = HeaderMap::new();
        assert!(is_json_content_type(&h).is_err());
        for (value, ok) in [
            ("application/json", true),
            ("Application/JSON; charset=utf-8", true),
            ("application/problem+json", true),
            ("text/plain", false),
            ("application/x-www-form-urlencoded", false),
        ] {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            assert_eq!(is_json_content_type(&h).is_ok(), ok, "{value}");
        }
    }

    #[test]
    fn range_responses_refuse_statuses_outside_their_class() {
        assert_eq!(
            empty_response_in_class("x", StatusCode::CREATED, 2).status(),
            StatusCode::CREATED
        );
        assert_eq!(
            json_response_in_class("x", StatusCode::NOT_FOUND, 2, &1).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
