//! Request bodies that are not JSON: `text/plain` as a `String`, form-encoded bodies as the model
//! type, and every other media type (octet streams, multipart, XML, …) as [`RawBody`]. Each reader
//! accepts exactly the operation's media type (parameters such as `charset` or `boundary` aside)
//! and answers any other `Content-Type` with `415`.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::body::read_body;
use super::rejection::Rejection;

/// A request body the server does not decode: its bytes, and the `Content-Type` it came with
/// (parameters such as a multipart `boundary` included, so the parts can be read from it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RawBody {
    /// The `Content-Type` header as sent.
    pub content_type: String,
    /// The body.
    pub bytes: Bytes,
}

impl RawBody {
    /// A body of `bytes` sent as `content_type` (for tests and mocks that call a method directly).
    pub fn new(content_type: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        Self {
            content_type: content_type.into(),
            bytes: bytes.into(),
        }
    }
}

/// The `Content-Type` when its essence is `expected` (case-insensitive); else a `415`.
fn content_type<'a>(headers: &'a HeaderMap, expected: &str) -> Result<&'a str, Rejection> {
    let wrong = || Rejection::unsupported_media_type(expected);
    let value = headers.get(header::CONTENT_TYPE).ok_or_else(wrong)?;
    let text = value.to_str().map_err(|_| wrong())?;
    let essence = text.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case(expected) {
        Ok(text)
    } else {
        Err(wrong())
    }
}

/// Reads the body; `None` when it is empty (an optional body not sent).
async fn read_non_empty(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    expected: &str,
) -> Result<Option<(String, Bytes)>, Rejection> {
    let bytes = read_body(headers, body, limit).await?;
    if bytes.is_empty() {
        return Ok(None);
    }
    let content_type = content_type(headers, expected)?.to_string();
    Ok(Some((content_type, bytes)))
}

fn missing() -> Rejection {
    Rejection::input("missing request body")
}

fn text(bytes: &Bytes) -> Result<String, Rejection> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| Rejection::input("request body is not valid UTF-8 text"))
}

fn form<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, Rejection> {
    serde_urlencoded::from_bytes(bytes)
        .map_err(|e| Rejection::input(format!("request body does not match the schema: {e}")))
}

/// The required `text/plain` body.
pub async fn text_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<String, Rejection> {
    let (_, bytes) = read_non_empty(headers, body, limit, "text/plain")
        .await?
        .ok_or_else(missing)?;
    text(&bytes)
}

/// An optional `text/plain` body: an empty body is `None`.
pub async fn text_body_optional(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Option<String>, Rejection> {
    match read_non_empty(headers, body, limit, "text/plain").await? {
        Some((_, bytes)) => text(&bytes).map(Some),
        None => Ok(None),
    }
}

/// The required `application/x-www-form-urlencoded` body as `T`.
pub async fn form_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<T, Rejection> {
    let (_, bytes) = read_non_empty(headers, body, limit, FORM)
        .await?
        .ok_or_else(missing)?;
    form(&bytes)
}

/// An optional form-encoded body: an empty body is `None`.
pub async fn form_body_optional<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Option<T>, Rejection> {
    match read_non_empty(headers, body, limit, FORM).await? {
        Some((_, bytes)) => form(&bytes).map(Some),
        None => Ok(None),
    }
}

const FORM: &str = "application/x-www-form-urlencoded";

/// The required body of media type `expected`, undecoded.
pub async fn raw_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    expected: &str,
) -> Result<RawBody, Rejection> {
    let (content_type, bytes) = read_non_empty(headers, body, limit, expected)
        .await?
        .ok_or_else(missing)?;
    Ok(RawBody {
        content_type,
        bytes,
    })
}

/// An optional body of media type `expected`, undecoded: an empty body is `None`.
pub async fn raw_body_optional(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    expected: &str,
) -> Result<Option<RawBody>, Rejection> {
    Ok(read_non_empty(headers, body, limit, expected)
        .await?
        .map(|(content_type, bytes)| RawBody {
            content_type,
            bytes,
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(content_type: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        h
    }

    #[tokio::test]
    async fn each_kind_takes_only_its_media_type() {
        let h = headers("Text/Plain; charset=utf-8");
        let got = text_body(&h, Body::from("héllo"), 100).await.unwrap();
        assert_eq!(got, "héllo");
        let err = text_body(&headers("application/json"), Body::from("x"), 100)
            .await
            .unwrap_err();
        assert_eq!(
            err.message(),
            "request body must be sent with `Content-Type: text/plain`"
        );

        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Login {
            user: String,
            n: u32,
        }
        let got: Login = form_body(&headers(FORM), Body::from("user=a%20b&n=3"), 100)
            .await
            .unwrap();
        assert_eq!(
            got,
            Login {
                user: "a b".into(),
                n: 3
            }
        );
        let bad = form_body::<Login>(&headers(FORM), Body::from("user=a&n=x"), 100).await;
        assert!(
            bad.unwrap_err()
                .message()
                .contains("does not match the schema")
        );

        let multipart = "multipart/form-data; boundary=XyZ";
        let raw = raw_body(
            &headers(multipart),
            Body::from("--XyZ--"),
            100,
            "multipart/form-data",
        )
        .await
        .unwrap();
        assert_eq!(raw, RawBody::new(multipart, "--XyZ--"));
        let wrong = raw_body(
            &headers("text/plain"),
            Body::from("x"),
            100,
            "application/xml",
        )
        .await;
        assert!(wrong.unwrap_err().message().contains("application/xml"));
        let none =
            raw_body_optional(&HeaderMap::new(), Body::empty(), 100, "application/xml").await;
        assert_eq!(none.unwrap(), None);
        assert!(text_body(&h, Body::empty(), 100).await.is_err());
    }
}
