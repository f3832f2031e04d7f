//! Xsolla webhook signatures: `Authorization: Signature <hex(sha1(raw body ‖ secret key))>`.
//!
//! Rules applied by [`verify`] (see the crate docs for the reasoning):
//!
//! * the digest is SHA-1 over the **raw request body bytes followed by the secret key**, no separator;
//! * the header value must be the scheme word, **exactly one space**, and **exactly 40 hex digits**,
//!   nothing before, between or after (no tabs, no trailing spaces, no second header);
//! * the scheme word `Signature` is matched **case-insensitively** (HTTP auth schemes are
//!   case-insensitive tokens, RFC 9110 §11.1; Xsolla always sends `Signature`);
//! * the hex digits are accepted in **either case** (Xsolla sends lowercase);
//! * the digests are compared in constant time ([`subtle`]).

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use crate::secret::{WebhookSecret, WebhookSecrets};

/// The authorization scheme word Xsolla sends.
pub const SCHEME: &str = "Signature";

/// Length of a SHA-1 digest in bytes.
pub const DIGEST_LEN: usize = 20;

/// Length of a hex-encoded SHA-1 digest.
pub const DIGEST_HEX_LEN: usize = 2 * DIGEST_LEN;

/// Why a signature was refused. The messages never contain the received signature or the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// No `Authorization` header.
    #[error("the Authorization header is missing")]
    MissingHeader,
    /// More than one `Authorization` header.
    #[error("more than one Authorization header")]
    MultipleHeaders,
    /// The value is not `<scheme> <digest>` with exactly one space (empty value, leading or
    /// trailing whitespace, several spaces, tabs, scheme without digest).
    #[error("the Authorization header is malformed (expected `Signature <40 hex digits>`)")]
    MalformedHeader,
    /// The scheme word is not `Signature` (compared case-insensitively).
    #[error("the Authorization scheme is not `Signature`")]
    WrongScheme,
    /// The digest does not have 40 characters.
    #[error("the signature has {actual} characters, expected 40 hex digits")]
    WrongLength {
        /// Number of bytes after the space.
        actual: usize,
    },
    /// The digest has 40 characters but not all are hex digits.
    #[error("the signature is not hexadecimal")]
    NonHex,
    /// Well-formed, but not the signature of this body with this secret.
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Raw SHA-1 digest of `body ‖ secret`.
pub fn digest(body: &[u8], secret: &WebhookSecret) -> [u8; DIGEST_LEN] {
    let mut hasher = Sha1::new();
    hasher.update(body);
    hasher.update(secret.expose());
    hasher.finalize().into()
}

/// Lowercase hex signature of `body` (what Xsolla puts after `Signature `). For tests and tools.
pub fn sign(body: &[u8], secret: &WebhookSecret) -> String {
    hex::encode(digest(body, secret))
}

/// Full `Authorization` header value for `body`: `Signature <hex>`. For tests and tools.
pub fn authorization_value(body: &[u8], secret: &WebhookSecret) -> String {
    format!("{SCHEME} {}", sign(body, secret))
}

/// Verifies the value of the `Authorization` header (`None` = header absent) against the raw body.
pub fn verify(
    raw_body: &[u8],
    authorization: Option<&str>,
    secret: &WebhookSecret,
) -> Result<(), SignatureError> {
    verify_bytes(raw_body, authorization.map(str::as_bytes), secret)
}

/// Like [`verify`], for a header value that may not be valid UTF-8.
pub fn verify_bytes(
    raw_body: &[u8],
    authorization: Option<&[u8]>,
    secret: &WebhookSecret,
) -> Result<(), SignatureError> {
    let value = authorization.ok_or(SignatureError::MissingHeader)?;
    let provided = parse_authorization(value)?;
    let expected = digest(raw_body, secret);
    if bool::from(expected.ct_eq(&provided)) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The `Authorization` header of `headers`, if any; two or more are refused.
fn single_authorization(headers: &HeaderMap) -> Result<Option<&HeaderValue>, SignatureError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(SignatureError::MultipleHeaders);
    }
    Ok(first)
}

/// Verifies the `Authorization` header found in `headers` (names are case-insensitive there).
/// Two or more `Authorization` headers are refused.
pub fn verify_headers(
    raw_body: &[u8],
    headers: &HeaderMap,
    secret: &WebhookSecret,
) -> Result<(), SignatureError> {
    let first = single_authorization(headers)?;
    verify_bytes(raw_body, first.map(|v| v.as_bytes()), secret)
}

/// Like [`verify_headers`], accepting a signature made with any of `secrets` (key rotation).
/// Every key is checked (constant-time comparisons, no early exit).
pub fn verify_headers_any(
    raw_body: &[u8],
    headers: &HeaderMap,
    secrets: &WebhookSecrets,
) -> Result<(), SignatureError> {
    let first = single_authorization(headers)?;
    let value = first.ok_or(SignatureError::MissingHeader)?;
    let provided = parse_authorization(value.as_bytes())?;
    let mut matched = subtle::Choice::from(0);
    for secret in secrets.iter() {
        matched |= digest(raw_body, secret).ct_eq(&provided);
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Parses `Signature <40 hex>` into the 20 digest bytes.
fn parse_authorization(value: &[u8]) -> Result<[u8; DIGEST_LEN], SignatureError> {
    let Some(space) = value.iter().position(|&b| b == b' ') else {
        return Err(
            if value.eq_ignore_ascii_case(SCHEME.as_bytes()) || value.is_empty() {
                SignatureError::MalformedHeader
            } else {
                SignatureError::WrongScheme
            },
        );
    };
    let (scheme, rest) = (&value[..space], &value[space + 1..]);
    if scheme.is_empty() {
        return Err(SignatureError::MalformedHeader);
    }
    if !scheme.eq_ignore_ascii_case(SCHEME.as_bytes()) {
        return Err(SignatureError::WrongScheme);
    }
    if rest.is_empty() || rest.iter().any(u8::is_ascii_whitespace) {
        return Err(SignatureError::MalformedHeader);
    }
    if rest.len() != DIGEST_HEX_LEN {
        return Err(SignatureError::WrongLength { actual: rest.len() });
    }
    let mut out = [0u8; DIGEST_LEN];
    hex::decode_to_slice(rest, &mut out).map_err(|_| SignatureError::NonHex)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> WebhookSecret {
        WebhookSecret::new("PROJECT_SECRET_KEY")
    }

    #[test]
    fn parse_rules() {
        let hex40 = "89404631c86da9f508954da7b50799199a6b1d3a";
        assert!(parse_authorization(format!("Signature {hex40}").as_bytes()).is_ok());
        assert!(parse_authorization(format!("signature {hex40}").as_bytes()).is_ok());
        assert!(
            parse_authorization(format!("SIGNATURE {}", hex40.to_uppercase()).as_bytes()).is_ok()
        );
        assert_eq!(
            parse_authorization(format!("Signature  {hex40}").as_bytes()),
            Err(SignatureError::MalformedHeader)
        );
        assert_eq!(
            parse_authorization(format!("Signature {hex40} ").as_bytes()),
            Err(SignatureError::MalformedHeader)
        );
        assert_eq!(
            parse_authorization(format!(" Signature {hex40}").as_bytes()),
            Err(SignatureError::MalformedHeader)
        );
        assert_eq!(
            parse_authorization(b"Signature"),
            Err(SignatureError::MalformedHeader)
        );
        assert_eq!(
            parse_authorization(b""),
            Err(SignatureError::MalformedHeader)
        );
        assert_eq!(
            parse_authorization(format!("Bearer {hex40}").as_bytes()),
            Err(SignatureError::WrongScheme)
        );
        assert_eq!(
            parse_authorization(format!("Signature\t{hex40}").as_bytes()),
            Err(SignatureError::WrongScheme)
        );
        assert_eq!(
            parse_authorization(format!("Signature {}", &hex40[..39]).as_bytes()),
            Err(SignatureError::WrongLength { actual: 39 })
        );
        assert_eq!(
            parse_authorization(format!("Signature {}g", &hex40[..39]).as_bytes()),
            Err(SignatureError::NonHex)
        );
    }

    #[test]
    fn sign_matches_vector() {
        assert_eq!(
            sign(br#"{"notification_type": "payment"}"#, &key()),
            "89404631c86da9f508954da7b50799199a6b1d3a"
        );
    }
}
