//! The secret-holding newtypes ([`BearerToken`], [`XHostId`]) and the functions that read them
//! from a request's headers. `Debug` prints `***`; there is no `Display`; messages name the
//! header, never its value.

use axum::http::{HeaderMap, header};

use super::params::single_header;
use super::rejection::Rejection;

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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
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
}
