//! The project secret key, wrapped so that it never shows up in `Debug` output or logs.

use std::fmt;

/// The Xsolla project secret key (Publisher Account → Project settings → Webhooks → "Secret key").
///
/// The value is only reachable inside this crate (to compute signatures). `Debug` prints `***`,
/// there is no `Display`, and the bytes are overwritten (best effort) when the value is dropped.
#[derive(Clone)]
pub struct WebhookSecret(Box<[u8]>);

/// Why a secret could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The environment variable is not set or is not valid Unicode.
    #[error("environment variable `{0}` is not set (or not valid Unicode)")]
    MissingEnv(String),
    /// The secret is empty.
    #[error("the webhook secret is empty")]
    Empty,
}

impl WebhookSecret {
    /// Wraps a secret key. An empty key is accepted here (it signs nothing useful);
    /// use [`WebhookSecret::try_new`] to reject it.
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self(secret.into().into_boxed_slice())
    }

    /// Wraps a secret key, rejecting an empty one.
    pub fn try_new(secret: impl Into<Vec<u8>>) -> Result<Self, SecretError> {
        let secret = Self::new(secret);
        if secret.0.is_empty() {
            Err(SecretError::Empty)
        } else {
            Ok(secret)
        }
    }

    /// Reads the secret key from an environment variable (which must be set and non-empty).
    /// The error names the variable but never contains its value.
    pub fn from_env(var: &str) -> Result<Self, SecretError> {
        let value = std::env::var(var).map_err(|_| SecretError::MissingEnv(var.to_owned()))?;
        Self::try_new(value)
    }

    /// The key bytes, for signing inside this crate only.
    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }
}

/// The secret keys a receiver accepts: the current one first, then previous ones. Rotating the
/// project secret key in Publisher Account without losing a webhook: deploy with
/// `WebhookSecrets::new(new_key).with_previous(old_key)`, regenerate the key in Publisher
/// Account, and once no delivery signed with the old key can arrive any more (Xsolla retries for
/// up to 48 hours, `spec/NOTES.md` W38), deploy with the new key alone. Every key is tried, in constant time each and
/// without stopping at the first match, so the answer time does not tell which key matched.
#[derive(Clone, Debug)]
pub struct WebhookSecrets(Vec<WebhookSecret>);

impl WebhookSecrets {
    /// Only `current`.
    pub fn new(current: WebhookSecret) -> Self {
        Self(vec![current])
    }

    /// Also accepts `previous` (tried after the keys already held).
    pub fn with_previous(mut self, previous: WebhookSecret) -> Self {
        self.0.push(previous);
        self
    }

    /// The keys, current first.
    pub fn iter(&self) -> impl Iterator<Item = &WebhookSecret> {
        self.0.iter()
    }

    /// The current key (the one to sign with).
    pub fn current(&self) -> &WebhookSecret {
        &self.0[0]
    }

    /// Refuses an empty secret (current or previous): with it anyone can sign a body.
    pub(crate) fn check(&self) -> Result<(), SecretError> {
        if self.0.iter().any(|secret| secret.0.is_empty()) {
            Err(SecretError::Empty)
        } else {
            Ok(())
        }
    }
}

impl From<WebhookSecret> for WebhookSecrets {
    fn from(secret: WebhookSecret) -> Self {
        Self::new(secret)
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

impl From<String> for WebhookSecret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for WebhookSecret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl Drop for WebhookSecret {
    fn drop(&mut self) {
        // Best effort without `unsafe`: overwrite the bytes and keep the writes observable.
        self.0.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value() {
        let s = WebhookSecret::new("PROJECT_SECRET_KEY");
        let shown = format!("{s:?} {s:#?}");
        assert!(!shown.contains("PROJECT"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn empty_is_rejected_by_try_new() {
        assert_eq!(WebhookSecret::try_new("").err(), Some(SecretError::Empty));
        assert!(WebhookSecret::try_new("k").is_ok());
    }

    #[test]
    fn from_env_error_names_the_variable_only() {
        let err = WebhookSecret::from_env("BACKPACK_WEBHOOKS_SURELY_UNSET_VAR").unwrap_err();
        assert_eq!(
            err,
            SecretError::MissingEnv("BACKPACK_WEBHOOKS_SURELY_UNSET_VAR".into())
        );
    }
}
