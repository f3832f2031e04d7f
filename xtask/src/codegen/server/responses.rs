//! An operation's documented responses: one variant per status, range or `default`, named after
//! the RFC 9110 reason phrase.

use super::ir::{Response, StatusKey};
use crate::codegen::schema::{Paths, rust_type};
use crate::openapi::is_json;
use crate::{Error, Result};
use quote::format_ident;
use serde_json::Value;

pub(super) fn read_responses(op: &Value, paths: &Paths, label: &str) -> Result<Vec<Response>> {
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::invalid(label, "no responses"))?;
    let mut out = Vec::new();
    for (status, response) in responses {
        let key = parse_status(status).ok_or_else(|| {
            Error::invalid(
                label,
                format!("response key {status:?} is not a status, a range or `default`"),
            )
        })?;
        let body = match response.get("content").and_then(Value::as_object) {
            None => None,
            Some(content) if content.is_empty() => None,
            Some(content) => {
                let (media_type, media) = match content.iter().next() {
                    Some(entry) if content.len() == 1 => entry,
                    _ => {
                        return Err(Error::invalid(
                            label,
                            format!("response {status}: several media types"),
                        ));
                    }
                };
                if !is_json(media_type) {
                    return Err(Error::invalid(
                        label,
                        format!(
                            "response {status}: media type {media_type:?} is not supported; only JSON is"
                        ),
                    ));
                }
                let schema = media.get("schema").unwrap_or(&Value::Null);
                Some(rust_type(
                    schema,
                    paths,
                    &format!("{label}: response {status}"),
                )?)
            }
        };
        let variant = match key {
            StatusKey::Code(code) => match reason(code) {
                Some(name) => format_ident!("{name}"),
                None => format_ident!("Status{code}"),
            },
            StatusKey::Class(1) => format_ident!("Informational"),
            StatusKey::Class(2) => format_ident!("Success"),
            StatusKey::Class(3) => format_ident!("Redirection"),
            // Not `ClientError`/`ServerError`: those read as the runtime's error type
            // (`ServerError`), which an implementation returns in `Err`, not in a response.
            StatusKey::Class(4) => format_ident!("Other4xx"),
            StatusKey::Class(_) => format_ident!("Other5xx"),
            StatusKey::Default => format_ident!("Default"),
        };
        out.push(Response {
            key,
            variant,
            body,
            description: response
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        });
    }
    Ok(out)
}

pub(super) fn parse_status(key: &str) -> Option<StatusKey> {
    if key == "default" {
        return Some(StatusKey::Default);
    }
    let bytes = key.as_bytes();
    if bytes.len() == 3 && (b'1'..=b'5').contains(&bytes[0]) && key[1..].eq_ignore_ascii_case("XX")
    {
        return Some(StatusKey::Class(u16::from(bytes[0] - b'0')));
    }
    let code: u16 = key.parse().ok()?;
    (100..=599).contains(&code).then_some(StatusKey::Code(code))
}

/// Variant names: the RFC 9110 reason phrases, as `http::StatusCode` names its constants.
pub(super) fn reason(code: u16) -> Option<&'static str> {
    Some(match code {
        100 => "Continue",
        101 => "SwitchingProtocols",
        200 => "Ok",
        201 => "Created",
        202 => "Accepted",
        203 => "NonAuthoritativeInformation",
        204 => "NoContent",
        205 => "ResetContent",
        206 => "PartialContent",
        300 => "MultipleChoices",
        301 => "MovedPermanently",
        302 => "Found",
        303 => "SeeOther",
        304 => "NotModified",
        307 => "TemporaryRedirect",
        308 => "PermanentRedirect",
        400 => "BadRequest",
        401 => "Unauthorized",
        402 => "PaymentRequired",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        407 => "ProxyAuthenticationRequired",
        408 => "RequestTimeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "LengthRequired",
        412 => "PreconditionFailed",
        413 => "PayloadTooLarge",
        414 => "UriTooLong",
        415 => "UnsupportedMediaType",
        416 => "RangeNotSatisfiable",
        417 => "ExpectationFailed",
        418 => "ImATeapot",
        421 => "MisdirectedRequest",
        422 => "UnprocessableEntity",
        423 => "Locked",
        424 => "FailedDependency",
        426 => "UpgradeRequired",
        428 => "PreconditionRequired",
        429 => "TooManyRequests",
        431 => "RequestHeaderFieldsTooLarge",
        451 => "UnavailableForLegalReasons",
        500 => "InternalServerError",
        501 => "NotImplemented",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        505 => "HttpVersionNotSupported",
        _ => return None,
    })
}
