//! The answers sent back to Xsolla: error codes, the `{"error":{"code","message"}}` body, and the
//! per-family status mapping (tables in the crate docs).

use std::fmt;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderValue};

use crate::dedup::StoredAnswer;
use backpack_types::WebhookFamily;

/// Error codes put in `error.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The signature is missing or wrong (documented).
    InvalidSignature,
    /// The body is not a usable webhook (documented by the SDKs).
    InvalidParameter,
    /// The user does not exist (documented).
    InvalidUser,
    /// The amount is wrong (documented).
    IncorrectAmount,
    /// The invoice is wrong (documented by the SDKs).
    IncorrectInvoice,
    /// The caller's IP address is not allowed (PHP SDK code; Xsolla never sees it).
    InvalidClientIp,
    /// Temporary failure on our side; Xsolla should retry (PHP SDK code).
    ServerError,
}

impl ErrorCode {
    /// The code text, e.g. `INVALID_USER`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidSignature => "INVALID_SIGNATURE",
            ErrorCode::InvalidParameter => "INVALID_PARAMETER",
            ErrorCode::InvalidUser => "INVALID_USER",
            ErrorCode::IncorrectAmount => "INCORRECT_AMOUNT",
            ErrorCode::IncorrectInvoice => "INCORRECT_INVOICE",
            ErrorCode::InvalidClientIp => "INVALID_CLIENT_IP",
            ErrorCode::ServerError => "SERVER_ERROR",
        }
    }

    /// The default `error.message`.
    pub const fn default_message(self) -> &'static str {
        match self {
            ErrorCode::InvalidSignature => "Invalid signature",
            ErrorCode::InvalidParameter => "Invalid parameter",
            ErrorCode::InvalidUser => "Invalid user",
            ErrorCode::IncorrectAmount => "Incorrect amount",
            ErrorCode::IncorrectInvoice => "Incorrect invoice",
            ErrorCode::InvalidClientIp => "Client IP address is not allowed",
            ErrorCode::ServerError => "Temporary error, retry later",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to a delivery, before it is mapped to a status for its family.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// Handled; optional JSON body (only `user_search` has one).
    Accepted(Option<Bytes>),
    /// Refused with a code and message (signature, parameters, handler rejections).
    Rejected(ErrorCode, String),
    /// The body is larger than the configured limit.
    TooLarge,
    /// The caller's IP address is not allowed.
    ForbiddenIp,
    /// Temporary failure; Xsolla should retry.
    Temporary(&'static str),
}

/// Maps an outcome to the status and body documented for `family`.
pub(crate) fn answer(family: WebhookFamily, outcome: Outcome) -> StoredAnswer {
    match (family, outcome) {
        (WebhookFamily::Backpack, Outcome::Accepted(_)) => StoredAnswer::empty(200),
        (WebhookFamily::Backpack, Outcome::Rejected(code, message)) => {
            StoredAnswer::json(404, error_body(code, &message))
        }
        // Payments/store (and any family added later): 204 / 400.
        (_, Outcome::Accepted(None)) => StoredAnswer::empty(204),
        (_, Outcome::Accepted(Some(body))) => StoredAnswer::json(200, body),
        (_, Outcome::Rejected(code, message)) => {
            StoredAnswer::json(400, error_body(code, &message))
        }
        (_, Outcome::TooLarge) => StoredAnswer::json(
            413,
            error_body(ErrorCode::InvalidParameter, "Request body is too large"),
        ),
        (_, Outcome::ForbiddenIp) => StoredAnswer::json(
            403,
            error_body(
                ErrorCode::InvalidClientIp,
                ErrorCode::InvalidClientIp.default_message(),
            ),
        ),
        (_, Outcome::Temporary(message)) => {
            StoredAnswer::json(500, error_body(ErrorCode::ServerError, message))
        }
    }
}

/// `{"error":{"code":…,"message":…}}`.
pub(crate) fn error_body(code: ErrorCode, message: &str) -> Bytes {
    let value = serde_json::json!({ "error": { "code": code.as_str(), "message": message } });
    Bytes::from(value.to_string())
}

impl StoredAnswer {
    /// Builds the HTTP response (JSON content type when there is a body).
    pub fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if self.body.is_empty() {
            (status, Body::empty()).into_response()
        } else {
            (
                status,
                [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
                Body::from(self.body),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_shape() {
        let body = error_body(ErrorCode::InvalidUser, "Invalid user");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"error":{"code":"INVALID_USER","message":"Invalid user"}})
        );
    }

    #[test]
    fn family_mapping() {
        let reject = || Outcome::Rejected(ErrorCode::InvalidUser, "x".into());
        assert_eq!(
            answer(WebhookFamily::Payments, Outcome::Accepted(None)).status,
            204
        );
        assert_eq!(
            answer(WebhookFamily::Backpack, Outcome::Accepted(None)).status,
            200
        );
        assert_eq!(answer(WebhookFamily::Payments, reject()).status, 400);
        assert_eq!(answer(WebhookFamily::Backpack, reject()).status, 404);
        assert_eq!(
            answer(WebhookFamily::Payments, Outcome::Temporary("t")).status,
            500
        );
        assert_eq!(
            answer(WebhookFamily::Backpack, Outcome::Temporary("t")).status,
            500
        );
        assert_eq!(
            answer(WebhookFamily::Payments, Outcome::TooLarge).status,
            413
        );
        assert_eq!(
            answer(WebhookFamily::Payments, Outcome::ForbiddenIp).status,
            403
        );
    }
}
