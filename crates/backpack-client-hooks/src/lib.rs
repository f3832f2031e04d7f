//! The hand-written half of the generated `backpack-client`: the [`Middleware`] every generated
//! operation calls around its HTTP request, and [`Hooks`], the generated `Client`'s inner value
//! that holds one.
//!
//! **Why a crate of its own.** `generated/` holds only what `cargo xtask regen` writes, and this
//! code does not depend on the spec. Rust's orphan rule puts one piece back in the generated
//! crate: `impl progenitor_client::ClientHooks<Hooks> for Client` must live where `Client` is
//! defined, so regen emits it (a fixed template that only delegates to the methods here, see
//! [`Hooks::prepare`] and [`Hooks::send`]), together with the client's JSON body reader, which
//! shows each body to [`Hooks::inspect`] before decoding it. `backpack-client` re-exports [`Middleware`], [`Hooks`]
//! and [`BoxFuture`]; depend on it (or on `backpack-sdk`, which provides the middleware: tokens,
//! X-HOST-ID, retries), not on this crate.
#![warn(missing_docs)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed, sendable future (what [`Middleware`] methods return).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What every generated operation calls around its HTTP request.
pub trait Middleware: Send + Sync + 'static {
    /// Adjusts the request before it is sent (auth headers, X-HOST-ID). An error aborts the call and
    /// reaches the caller as `Error::Custom` with this message, which must hold no secret.
    fn prepare<'a>(
        &'a self,
        request: &'a mut reqwest::Request,
        operation_id: &'static str,
    ) -> BoxFuture<'a, Result<(), String>>;

    /// Sends the request (and may resend it: a 401 refresh, retries).
    fn send<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
    ) -> BoxFuture<'a, reqwest::Result<reqwest::Response>>;

    /// Sees a response body the generated client has read and is about to decode as JSON: its
    /// status, headers, the response's extensions (set by [`send`](Self::send)) and bytes. The
    /// default does nothing. (The SDK's drift watch checks the body here, so the body is read
    /// once.)
    fn inspect(&self, response: ResponseBody<'_>) {
        let _ = response;
    }
}

/// A response body the generated client has read, with the response's head (see
/// [`Middleware::inspect`]).
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct ResponseBody<'a> {
    /// The status.
    pub status: reqwest::StatusCode,
    /// The headers.
    pub headers: &'a reqwest::header::HeaderMap,
    /// The response's extensions, as the middleware's `send` left them.
    pub extensions: &'a http::Extensions,
    /// The body's bytes.
    pub bytes: &'a [u8],
}

impl<'a> ResponseBody<'a> {
    /// A body and its response's head.
    pub fn new(
        status: reqwest::StatusCode,
        headers: &'a reqwest::header::HeaderMap,
        extensions: &'a http::Extensions,
        bytes: &'a [u8],
    ) -> Self {
        Self {
            status,
            headers,
            extensions,
            bytes,
        }
    }
}

impl std::fmt::Debug for ResponseBody<'_> {
    // Never the headers or the bytes: they may hold tokens and user data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseBody")
            .field("status", &self.status)
            .field("bytes", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// The generated client's `inner` value: the middleware, if any.
#[derive(Clone, Default)]
pub struct Hooks {
    middleware: Option<Arc<dyn Middleware>>,
}

impl Hooks {
    /// Hooks that delegate to `middleware`.
    pub fn new(middleware: impl Middleware) -> Self {
        Self {
            middleware: Some(Arc::new(middleware)),
        }
    }

    /// No middleware: requests go out exactly as built (no auth), e.g. for tests.
    pub fn none() -> Self {
        Self::default()
    }

    /// What the generated client does before sending `request` for `operation_id`: removes the
    /// `api-version` header progenitor adds, then lets the middleware (if any) adjust the request.
    ///
    /// progenitor sends `api-version: <info.version>` on every call; Xsolla documents no such
    /// header, so it is not sent. This is the only place that removes it: every generated call
    /// passes here, with or without a middleware.
    ///
    /// # Errors
    ///
    /// The middleware's message when it refuses the request (it must hold no secret).
    pub async fn prepare(
        &self,
        request: &mut reqwest::Request,
        operation_id: &'static str,
    ) -> Result<(), String> {
        request.headers_mut().remove("api-version");
        match &self.middleware {
            Some(middleware) => middleware.prepare(request, operation_id).await,
            None => Ok(()),
        }
    }

    /// Sends `request` with `client`: through the middleware if there is one, else as is.
    ///
    /// # Errors
    ///
    /// reqwest's error for the request (after the middleware's retries, if any).
    pub async fn send(
        &self,
        client: &reqwest::Client,
        request: reqwest::Request,
    ) -> reqwest::Result<reqwest::Response> {
        match &self.middleware {
            Some(middleware) => middleware.send(client, request).await,
            None => client.execute(request).await,
        }
    }
}

impl Hooks {
    /// What the generated client does with a response body it read before decoding it: shows it
    /// to the middleware, if any ([`Middleware::inspect`]).
    pub fn inspect(&self, response: ResponseBody<'_>) {
        if let Some(middleware) = &self.middleware {
            middleware.inspect(response);
        }
    }
}

impl std::fmt::Debug for Hooks {
    // Never prints the middleware: it holds secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = if self.middleware.is_some() {
            "middleware"
        } else {
            "none"
        };
        f.debug_struct("Hooks").field("with", &state).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adds a header in `prepare`; `send` answers without the network (an error naming itself);
    /// counts the bodies `inspect` is shown.
    #[derive(Default)]
    struct Tagging(std::sync::atomic::AtomicUsize);

    impl Middleware for Tagging {
        fn prepare<'a>(
            &'a self,
            request: &'a mut reqwest::Request,
            operation_id: &'static str,
        ) -> BoxFuture<'a, Result<(), String>> {
            Box::pin(async move {
                let value = reqwest::header::HeaderValue::from_static(operation_id);
                request.headers_mut().insert("x-operation", value);
                Ok(())
            })
        }

        fn send<'a>(
            &'a self,
            client: &'a reqwest::Client,
            request: reqwest::Request,
        ) -> BoxFuture<'a, reqwest::Result<reqwest::Response>> {
            Box::pin(client.execute(request))
        }

        fn inspect(&self, body: ResponseBody<'_>) {
            assert_eq!(body.bytes, b"{}");
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn request() -> reqwest::Request {
        let url = reqwest::Url::parse("http://127.0.0.1:9/x").unwrap_or_else(|_| unreachable!());
        let mut request = reqwest::Request::new(reqwest::Method::GET, url);
        let version = reqwest::header::HeaderValue::from_static("1.0");
        request.headers_mut().insert("api-version", version);
        request
    }

    #[tokio::test]
    async fn prepare_drops_api_version_with_and_without_middleware() {
        let mut plain = request();
        assert_eq!(Hooks::none().prepare(&mut plain, "get-games").await, Ok(()));
        assert!(plain.headers().get("api-version").is_none());

        let mut tagged = request();
        assert_eq!(
            Hooks::new(Tagging::default())
                .prepare(&mut tagged, "get-games")
                .await,
            Ok(())
        );
        assert!(tagged.headers().get("api-version").is_none());
        assert_eq!(
            tagged.headers().get("x-operation").map(|v| v.as_bytes()),
            Some(&b"get-games"[..])
        );
    }

    #[test]
    fn inspect_reaches_the_middleware_and_debug_hides_the_body() {
        let headers = reqwest::header::HeaderMap::new();
        let extensions = http::Extensions::new();
        let body = ResponseBody::new(reqwest::StatusCode::OK, &headers, &extensions, b"{}");
        let counting = std::sync::Arc::new(Tagging::default());
        let hooks = Hooks {
            middleware: Some(counting.clone()),
        };
        hooks.inspect(body);
        Hooks::none().inspect(body); // no middleware: nothing to show it to
        assert_eq!(counting.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(
            format!("{body:?}"),
            "ResponseBody { status: 200, bytes: 2, .. }"
        );
    }

    #[test]
    fn debug_never_prints_the_middleware() {
        assert_eq!(
            format!("{:?}", Hooks::new(Tagging::default())),
            r#"Hooks { with: "middleware" }"#
        );
        assert_eq!(format!("{:?}", Hooks::none()), r#"Hooks { with: "none" }"#);
    }
}
