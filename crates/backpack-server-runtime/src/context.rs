//! [`RequestContext`]: what an implementation may want to know about a request besides its typed
//! input.

use axum::http::{Extensions, HeaderMap, HeaderName, Method, Uri, request::Parts};

/// The request behind a `backpack_server::BackpackApi` call: method, URI, headers, and the
/// [`Extensions`] that middleware in front of the router filled in (a tenant, a trace id, the
/// authenticated principal…).
///
/// The typed, checked inputs are in the method's `…Input` argument; read the headers here only
/// for what the spec does not describe. `Debug` prints `***` for `Authorization`, `X-HOST-ID` and
/// every other header that carries credentials (see [`RequestContext::is_sensitive_header`]).
///
/// ```
/// use backpack_server_runtime::RequestContext;
/// use axum::http::{Method, Uri};
///
/// #[derive(Clone, Debug, PartialEq)]
/// struct Tenant(&'static str);
///
/// let ctx = RequestContext::new(Method::GET, Uri::from_static("/web/backpack/items"))
///     .with_extension(Tenant("acme"));
/// assert_eq!(ctx.extensions().get::<Tenant>(), Some(&Tenant("acme")));
/// ```
pub struct RequestContext {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    extensions: Extensions,
}

impl RequestContext {
    /// A context with no headers and no extensions (for calling an implementation directly).
    pub fn new(method: Method, uri: Uri) -> Self {
        Self {
            method,
            uri,
            headers: HeaderMap::new(),
            extensions: Extensions::new(),
        }
    }

    /// The context of a request, from its parts (the body is the typed input).
    pub fn from_parts(parts: Parts) -> Self {
        Self {
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            extensions: parts.extensions,
        }
    }

    /// Replaces the headers.
    #[must_use]
    pub fn with_headers(mut self, headers: HeaderMap) -> Self {
        self.headers = headers;
        self
    }

    /// Adds an extension, as a middleware layer would.
    #[must_use]
    pub fn with_extension<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.extensions.insert(value);
        self
    }

    /// The request method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The request URI as received (path and query).
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// All request headers, credentials included: do not log them as they are.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Values middleware attached to the request (`request.extensions_mut().insert(…)`).
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// The extensions, mutably (to take a value out).
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        &mut self.extensions
    }

    /// Whether `Debug` hides the value of the header `name`: credentials (`Authorization`,
    /// `Proxy-Authorization`, `Cookie`, `Set-Cookie`, `X-HOST-ID`) and any header whose name
    /// mentions a token, secret, key, password, signature or session.
    pub fn is_sensitive_header(name: &HeaderName) -> bool {
        const EXACT: &[&str] = &[
            "authorization",
            "proxy-authorization",
            "cookie",
            "set-cookie",
            "x-host-id",
        ];
        const PARTS: &[&str] = &[
            "token",
            "secret",
            "key",
            "password",
            "signature",
            "session",
            "auth",
        ];
        // `HeaderName` is lower case already.
        let name = name.as_str();
        EXACT.contains(&name) || PARTS.iter().any(|part| name.contains(part))
    }
}

impl std::fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Headers<'a>(&'a HeaderMap);
        impl std::fmt::Debug for Headers<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut map = f.debug_map();
                for (name, value) in self.0 {
                    if RequestContext::is_sensitive_header(name) || value.is_sensitive() {
                        map.entry(name, &"***");
                    } else {
                        map.entry(name, value);
                    }
                }
                map.finish()
            }
        }
        f.debug_struct("RequestContext")
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field("headers", &Headers(&self.headers))
            .field("extensions", &self.extensions.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn debug_hides_credentials() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("Bearer abc123"));
        headers.insert("x-host-id", HeaderValue::from_static("host-secret"));
        headers.insert("cookie", HeaderValue::from_static("sid=cookie-secret"));
        headers.insert("x-api-key", HeaderValue::from_static("key-secret"));
        let mut marked = HeaderValue::from_static("marked-secret");
        marked.set_sensitive(true);
        headers.insert("x-other", marked);
        headers.insert("accept", HeaderValue::from_static("application/json"));
        let ctx = RequestContext::new(Method::GET, Uri::from_static("/x")).with_headers(headers);
        let text = format!("{ctx:?}");
        for secret in [
            "abc123",
            "host-secret",
            "cookie-secret",
            "key-secret",
            "marked-secret",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert!(text.contains("application/json"), "{text}");
        assert!(text.contains("\"x-host-id\": \"***\""), "{text}");
    }
}
