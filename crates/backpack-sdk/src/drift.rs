//! The drift watch on API responses (feature `drift`): the final response of each call is read,
//! checked against its operation's schema ([`backpack_drift::DriftWatch::check_response`]), and
//! handed to the generated client rebuilt from the same bytes.

use backpack_drift::DriftWatch;
use http::header::CONTENT_TYPE;
use http_body_util::BodyExt as _;
use reqwest::ResponseBuilderExt as _;

/// Checks `response` (to a `method` request for URL path `path`) and returns it unchanged. A
/// body that cannot be read gives the error the generated client would have got reading it.
pub(crate) async fn observe(
    watch: &DriftWatch,
    method: &str,
    path: &str,
    response: reqwest::Response,
) -> reqwest::Result<reqwest::Response> {
    if !watch.is_enabled() {
        return Ok(response);
    }
    // The parts are moved, not copied; only the URL (not part of an `http::Response`) is kept
    // aside and put back as reqwest's own extension.
    let url = response.url().clone();
    let (mut parts, body) = http::Response::from(response).into_parts();
    let body = body.collect().await?.to_bytes();
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    watch.check_response(method, path, parts.status.as_u16(), content_type, &body);
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
