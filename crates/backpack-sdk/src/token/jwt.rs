//! Reads the `exp` claim of a JWT without verifying it: the SDK only needs to
//! know when to refresh, and the API verifies the signature anyway.

use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Time left until the token's `exp` claim, `Duration::ZERO` if it has passed;
/// `None` if the token is not a JWT or carries no numeric `exp`.
pub(crate) fn remaining_lifetime(token: &str, now: SystemTime) -> Option<Duration> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let decoded = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&decoded).ok()?;
    let exp = claims.get("exp")?.as_f64()?;
    if !exp.is_finite() {
        return None;
    }
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?
        .as_secs_f64();
    Some(Duration::try_from_secs_f64((exp - now).max(0.0)).unwrap_or(Duration::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn reads_exp() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(
            remaining_lifetime(&jwt(r#"{"exp":1600}"#), now),
            Some(Duration::from_secs(600))
        );
        assert_eq!(
            remaining_lifetime(&jwt(r#"{"exp":10}"#), now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            remaining_lifetime(&jwt(r#"{"exp":1000.5}"#), now),
            Some(Duration::from_millis(500))
        );
    }

    #[test]
    fn rejects_non_jwts() {
        let now = SystemTime::now();
        assert_eq!(remaining_lifetime("opaque-token", now), None);
        assert_eq!(remaining_lifetime("a.b.c", now), None);
        assert_eq!(remaining_lifetime(&jwt(r#"{"sub":"x"}"#), now), None);
        assert_eq!(remaining_lifetime(&jwt(r#"{"exp":"soon"}"#), now), None);
        assert_eq!(remaining_lifetime(&format!("{}.x", jwt("{}")), now), None);
    }
}
