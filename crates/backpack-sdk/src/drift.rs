//! The drift watch on API responses (feature `drift`). Each final response is checked against
//! its operation's schema ([`backpack_drift::DriftWatch::check_response`]):
//!
//! * a body the generated client reads as JSON (the spec documents that status with a JSON
//!   schema) is checked where the client reads it ([`inspect`]), so it is read once;
//! * any other response (an undocumented status, another media type, or a response of
//!   [`Transport::send`](crate::Transport::send) called directly) is read here first and handed
//!   on rebuilt from the same bytes.
//!
//! A caller that drops a response before reading its body leaves that body unchecked.

use backpack_drift::DriftWatch;
use http::header::CONTENT_TYPE;
use http_body_util::BodyExt as _;
use reqwest::ResponseBuilderExt as _;

use crate::transport::Reader;

/// Where [`observe`] left a response's check for [`inspect`]: the request it answers.
#[derive(Clone)]
struct PendingCheck {
    method: reqwest::Method,
    path: String,
}

/// Checks `response` (to a `method` request for URL path `path`), or leaves the check of its body
/// to [`inspect`] when the generated client will read it, and returns it unchanged. A body that
/// cannot be read gives the error the generated client would have got reading it.
pub(crate) async fn observe(
    watch: &DriftWatch,
    method: reqwest::Method,
    path: String,
    mut response: reqwest::Response,
    reader: Reader,
) -> reqwest::Result<reqwest::Response> {
    if !watch.is_enabled() {
        return Ok(response);
    }
    let status = response.status().as_u16();
    if reader == Reader::GeneratedClient && watch.checks_json_body(method.as_str(), &path, status) {
        response
            .extensions_mut()
            .insert(PendingCheck { method, path });
        return Ok(response);
    }
    // The parts are moved, not copied; only the URL (not part of an `http::Response`) is kept
    // aside and put back as reqwest's own extension.
    let url = response.url().clone();
    let (mut parts, body) = http::Response::from(response).into_parts();
    let body = body.collect().await?.to_bytes();
    let content_type = content_type(&parts.headers);
    watch.check_response(method.as_str(), &path, status, content_type, &body);
    // The builder only fails on invalid parts, and these come from a response.
    let (with_url, ()) = http::Response::builder()
        .url(url)
        .body(())
        .unwrap_or_default()
        .into_parts();
    parts.extensions.extend(with_url.extensions);
    Ok(reqwest::Response::from(http::Response::from_parts(
        parts, body,
    )))
}

/// A body the generated client read: checked if [`observe`] left its check here.
pub(crate) fn inspect(watch: &DriftWatch, body: backpack_client::ResponseBody<'_>) {
    let Some(pending) = body.extensions.get::<PendingCheck>() else {
        return;
    };
    watch.check_response(
        pending.method.as_str(),
        &pending.path,
        body.status.as_u16(),
        content_type(body.headers),
        body.bytes,
    );
}

/// The response's `Content-Type`, when it is text.
fn content_type(headers: &http::HeaderMap) -> Option<&str> {
    headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())
}
