//! Path, query and header parameters: reading, parsing into the generated types, and the
//! rejection when one is missing, repeated or malformed.

use std::str::FromStr;

use axum::http::{HeaderMap, Uri};

use super::rejection::Rejection;

/// Where a parameter comes from (for messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
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

/// `value`, or a "missing" rejection for the parameter `name`.
pub fn required<T>(
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
pub struct PathParams(axum::extract::RawPathParams);

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

/// Where [`OptionalParams`] reads from: a location whose parameters may be absent and are
/// given at most once each.
pub trait Source {
    /// The location (for messages).
    const LOCATION: Location;
    /// The single raw value of `name`, if present; a repeated parameter is a rejection.
    fn single(&self, name: &str) -> Result<Option<&str>, Rejection>;
}

/// Typed access to parameters that may be absent: [`QueryPairs`] and [`Headers`].
pub struct OptionalParams<S>(S);

impl<S: Source> OptionalParams<S> {
    fn optional<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, Rejection>,
    ) -> Result<Option<T>, Rejection> {
        self.0.single(name)?.map(parse).transpose()
    }

    /// The single value of `name` parsed as `T`; repeating the parameter is an error.
    pub fn scalar<T: FromStr>(&self, name: &str, expected: &str) -> Result<Option<T>, Rejection> {
        self.optional(name, |raw| parse_scalar(S::LOCATION, name, raw, expected))
    }

    /// The single value of `name` as an enum; values outside `known` are rejected.
    pub fn enumeration<T: for<'a> From<&'a str>>(
        &self,
        name: &str,
        known: &[&str],
    ) -> Result<Option<T>, Rejection> {
        self.optional(name, |raw| parse_enum(S::LOCATION, name, raw, known))
    }
}

/// The query string as decoded `(name, value)` pairs. Unknown names are ignored.
pub struct Query(Vec<(String, String)>);

impl Source for Query {
    const LOCATION: Location = Location::Query;

    fn single(&self, name: &str) -> Result<Option<&str>, Rejection> {
        let mut values = self.values(name);
        let first = values.next();
        if values.next().is_some() {
            return Err(Rejection::input(format!(
                "query parameter `{name}` is given more than once"
            )));
        }
        Ok(first)
    }
}

impl Query {
    fn values<'q>(&'q self, name: &str) -> impl Iterator<Item = &'q str> {
        self.0
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Typed access to query parameters.
pub type QueryPairs = OptionalParams<Query>;

impl QueryPairs {
    /// Decodes the query string of `uri`.
    pub fn parse(uri: &Uri) -> Result<Self, Rejection> {
        if uri.query().is_none_or(str::is_empty) {
            return Ok(Self(Query(Vec::new())));
        }
        axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map(|q| Self(Query(q.0)))
            .map_err(|_| Rejection::input("malformed query string"))
    }

    fn every<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, Rejection>,
    ) -> Result<Vec<T>, Rejection> {
        self.0.values(name).map(parse).collect()
    }

    /// Every value of `name` (form style, exploded: `name=a&name=b`), each parsed as `T`.
    pub fn list<T: FromStr>(&self, name: &str, expected: &str) -> Result<Vec<T>, Rejection> {
        self.every(name, |raw| {
            parse_scalar(Location::Query, name, raw, expected)
        })
    }

    /// Every value of `name` as an enum; any value outside `known` is rejected.
    pub fn enumeration_list<T: for<'a> From<&'a str>>(
        &self,
        name: &str,
        known: &[&str],
    ) -> Result<Vec<T>, Rejection> {
        self.every(name, |raw| parse_enum(Location::Query, name, raw, known))
    }
}

/// The single visible-ASCII value of header `name`, if present.
pub(super) fn single_header<'h>(
    headers: &'h HeaderMap,
    name: &str,
) -> Result<Option<&'h str>, Rejection> {
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

/// The request headers, as a [`Source`] of non-secret header parameters.
pub struct HeaderValues<'h>(&'h HeaderMap);

impl Source for HeaderValues<'_> {
    const LOCATION: Location = Location::Header;

    fn single(&self, name: &str) -> Result<Option<&str>, Rejection> {
        single_header(self.0, name)
    }
}

/// Typed access to non-secret header parameters.
pub type Headers<'h> = OptionalParams<HeaderValues<'h>>;

impl<'h> Headers<'h> {
    /// Wraps the request headers.
    pub fn new(headers: &'h HeaderMap) -> Self {
        Self(HeaderValues(headers))
    }
}
