//! Building responses: JSON bodies, the API error body, documented ranges, and the router's
//! fallbacks.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use backpack_types::api::ApiError;
use serde::Serialize;

use super::{Operation, ServerError};

/// A status from its number; an impossible number (the generator only emits 100–599) becomes 500.
pub fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// `{message_id, message}` with `status`.
pub fn error_response(status: StatusCode, message_id: String, message: String) -> Response {
    let body = ApiError::new(message).with_message_id(message_id);
    json_response(status, &body)
}

/// `body` as JSON with `status`. A serialization failure (a bug, not input) is logged and becomes 500.
pub fn json_response<B: Serialize>(status: StatusCode, body: &B) -> Response {
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
pub fn respond<R: IntoResponse>(operation: &Operation, result: Result<R, ServerError>) -> Response {
    match result {
        Ok(response) => response.into_response(),
        Err(error) => error.into_response_for(operation),
    }
}

/// An empty response with `status`.
pub fn empty_response(status: StatusCode) -> Response {
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
pub fn json_response_in_class<B: Serialize>(
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
pub fn empty_response_in_class(operation: &str, status: StatusCode, class: u16) -> Response {
    if in_class(operation, status, class) {
        empty_response(status)
    } else {
        internal_error("the implementation returned an undocumented status")
    }
}

/// Fallback for paths the spec does not have: `404` with the API error body.
pub async fn not_found() -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        uuid::Uuid::new_v4().to_string(),
        "no such route".into(),
    )
}

/// Fallback for a known path with a method the spec does not list: `405` with the API error body
/// (axum adds the `Allow` header).
pub async fn method_not_allowed() -> Response {
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
