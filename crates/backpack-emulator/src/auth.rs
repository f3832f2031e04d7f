//! Tokens: a Login-style `POST /api/oauth2/token` that issues HS256 JWTs, and the middleware
//! that checks them (and `X-HOST-ID`) in front of the generated router.
//!
//! # Rules
//!
//! * `grant_type=client_credentials` with the emulator's `client_id`/`client_secret` → a
//!   **merchant** token (`"kind": "merchant"`, `sub` = client ID). Game and Items operations
//!   (`/web/backpack/merchants/…`) need one, plus `X-HOST-ID` equal to `--host-id`.
//! * The same grant **plus the emulator-only form field `user_id=<UUID>`** → a **user** token
//!   (`"kind": "user"`, `sub` = that user ID) and a `refresh_token`. The user-facing operations
//!   (`/web/backpack/items…`, `…/move_to_game`, `…/receive`) need one; they act on that user's
//!   Backpack.
//! * `grant_type=refresh_token` with `client_id` (and `client_secret`) and an unused refresh
//!   token → a new user token and a new refresh token (the old one is used up).
//! * Tokens expire after `--token-ttl` seconds (no leeway). They are signed with a key kept in
//!   the database, so tokens survive an emulator restart.
//! * A token that is not the emulator's, is expired, or is of the wrong kind is refused with
//!   the status the operation documents for bad credentials (see `backpack-server`'s rule:
//!   `401` where documented, else the operation's bad-input status), like a missing one.

use std::sync::Arc;

use axum::extract::{Form, Request, State, rejection::FormRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use backpack_server::runtime::{self, HeaderFormat, Operation, Rejection};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::db::{self, Db};
use crate::time::EmulatorClock;

/// Issuer claim of emulator tokens.
pub const ISSUER: &str = "backpack-emulator";

/// What a token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// Server-side (client credentials): Game and Items operations.
    Merchant,
    /// An end user: the user-facing Backpack operations.
    User,
}

/// The JWT claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer: [`ISSUER`].
    pub iss: String,
    /// Client ID (merchant) or user ID (user).
    pub sub: String,
    /// Token kind.
    pub kind: TokenKind,
    /// The OAuth client that asked for it.
    pub client_id: String,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// Expires at (Unix seconds).
    pub exp: u64,
    /// Unique token ID.
    pub jti: String,
}

/// Why a token was refused (public messages: no token content).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    /// Expired.
    #[error("the access token has expired")]
    Expired,
    /// Not an emulator token (bad signature, garbage, other issuer).
    #[error("the access token is not valid")]
    Invalid,
}

/// Token issuing and checking.
pub struct Auth {
    encoding: EncodingKey,
    decoding: DecodingKey,
    client_id: String,
    client_secret: String,
    host_id: Option<Uuid>,
    ttl_secs: u64,
    db: Arc<Db>,
    clock: EmulatorClock,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("client_id", &self.client_id)
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

/// Settings for [`Auth`].
pub struct AuthConfig {
    /// Signing key (kept in the database).
    pub signing_key: Vec<u8>,
    /// The accepted OAuth client ID.
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// The `X-HOST-ID` to require; `None` accepts any well-formed one.
    pub host_id: Option<Uuid>,
    /// Token lifetime in seconds.
    pub ttl_secs: u64,
}

impl Auth {
    /// Token issuing and checking with `config`, storing refresh tokens in `db`; token times
    /// come from `clock`.
    pub fn new(config: AuthConfig, db: Arc<Db>, clock: EmulatorClock) -> Self {
        Self {
            encoding: EncodingKey::from_secret(&config.signing_key),
            decoding: DecodingKey::from_secret(&config.signing_key),
            client_id: config.client_id,
            client_secret: config.client_secret,
            host_id: config.host_id,
            ttl_secs: config.ttl_secs,
            db,
            clock,
        }
    }

    /// Issues a token.
    pub fn issue(&self, kind: TokenKind, sub: &str) -> Result<String, jsonwebtoken::errors::Error> {
        let now_ms = u64::try_from(self.clock.now_millis()).unwrap_or(0);
        // `exp` has whole seconds: round up, so a token never dies before the `expires_in` the
        // client was told (it may live up to one second longer).
        let exp = (now_ms + self.ttl_secs.saturating_mul(1000)).div_ceil(1000);
        let claims = Claims {
            iss: ISSUER.to_owned(),
            sub: sub.to_owned(),
            kind,
            client_id: self.client_id.clone(),
            iat: now_ms / 1000,
            exp,
            jti: Uuid::new_v4().to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    fn validation() -> Validation {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked against the emulator's clock (which tests may move), not here.
        validation.validate_exp = false;
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation
    }

    /// Checks a token: signature, issuer, expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenRefusal> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &Self::validation())
            .map_err(|_| TokenRefusal::Invalid)?;
        // `exp` is checked with second precision and no leeway: a token is dead at `exp`.
        if data.claims.exp <= self.clock.now_secs() {
            return Err(TokenRefusal::Expired);
        }
        Ok(data.claims)
    }

    /// The claims of a token the middleware already accepted (expiry not re-checked, so a token
    /// that expires between the middleware and the handler still reaches a consistent answer).
    pub fn claims(&self, token: &str) -> Result<Claims, TokenRefusal> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &Self::validation())
            .map(|data| data.claims)
            .map_err(|_| TokenRefusal::Invalid)
    }

    fn client_matches(&self, client_id: &str, client_secret: Option<&str>) -> bool {
        let id_ok = client_id.as_bytes().ct_eq(self.client_id.as_bytes());
        let secret_ok = client_secret
            .unwrap_or_default()
            .as_bytes()
            .ct_eq(self.client_secret.as_bytes());
        bool::from(id_ok & secret_ok)
    }
}

/// The `POST /api/oauth2/token` form.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    /// Emulator-only: ask for a user token for this Backpack user (a UUID).
    user_id: Option<String>,
    refresh_token: Option<String>,
}

/// Login's error body: `{"error": {"code", "description"}}`.
fn login_error(status: StatusCode, code: &'static str, description: &str) -> Response {
    let body = serde_json::json!({
        "error": { "code": code, "description": description }
    });
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `400 invalid_request`: a parameter is missing or malformed.
fn invalid_request(description: &str) -> Response {
    login_error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

/// `401 invalid_client`: the client credentials do not match.
fn invalid_client() -> Response {
    login_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "unknown client_id or wrong client_secret",
    )
}

/// `500 server_error`: signing or storing the token failed (the cause is logged).
fn not_issued() -> Response {
    login_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "token could not be issued",
    )
}

fn token_response(access_token: String, ttl: u64, refresh_token: Option<String>) -> Response {
    let mut body = serde_json::json!({
        "access_token": access_token,
        "expires_in": ttl,
        "token_type": "bearer",
    });
    if let (Some(refresh), Some(map)) = (refresh_token, body.as_object_mut()) {
        map.insert("refresh_token".into(), serde_json::Value::String(refresh));
    }
    let mut response = (StatusCode::OK, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

async fn issue_user_token(auth: &Auth, user_id: &str) -> Response {
    let access = match auth.issue(TokenKind::User, user_id) {
        Ok(token) => token,
        Err(e) => {
            tracing::error!(error = %e, "could not sign a token");
            return not_issued();
        }
    };
    let refresh = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let hash = hash_refresh_token(&refresh);
    let now_ms = auth.clock.now_millis();
    let stored = async {
        db::insert_refresh_token(
            &mut *auth.db.writer().await?,
            &hash,
            user_id,
            &auth.client_id,
            now_ms,
        )
        .await
    }
    .await;
    if let Err(e) = stored {
        tracing::error!(error = %e, "could not store a refresh token");
        return not_issued();
    }
    tracing::info!(kind = "user", "issued an access token");
    token_response(access, auth.ttl_secs, Some(refresh))
}

/// `POST /api/oauth2/token` (form-encoded), Xsolla Login style.
pub async fn token_endpoint(
    State(auth): State<Arc<Auth>>,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return invalid_request("send the parameters as application/x-www-form-urlencoded");
    };
    let Some(client_id) = form.client_id.as_deref().filter(|s| !s.is_empty()) else {
        return invalid_request("client_id is required");
    };
    match form.grant_type.as_deref() {
        Some("client_credentials") => {
            if !auth.client_matches(client_id, form.client_secret.as_deref()) {
                return invalid_client();
            }
            match form.user_id.as_deref() {
                Some(user) => match Uuid::try_parse(user) {
                    Ok(user) => issue_user_token(&auth, &user.to_string()).await,
                    Err(_) => invalid_request("user_id must be a UUID"),
                },
                None => match auth.issue(TokenKind::Merchant, client_id) {
                    Ok(token) => {
                        tracing::info!(kind = "merchant", "issued an access token");
                        token_response(token, auth.ttl_secs, None)
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "could not sign a token");
                        not_issued()
                    }
                },
            }
        }
        Some("refresh_token") => {
            // Public clients may refresh without a secret; a secret, when sent, must match.
            let secret_ok = form.client_secret.is_none()
                || auth.client_matches(client_id, form.client_secret.as_deref());
            if client_id != auth.client_id || !secret_ok {
                return invalid_client();
            }
            let Some(refresh) = form.refresh_token.as_deref().filter(|s| !s.is_empty()) else {
                return invalid_request("refresh_token is required");
            };
            let hash = hash_refresh_token(refresh);
            let used = async {
                db::use_refresh_token(&mut *auth.db.writer().await?, &hash, client_id).await
            };
            match used.await {
                Ok(Some(user)) => issue_user_token(&auth, &user).await,
                Ok(None) => login_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "the refresh token is unknown or was already used",
                ),
                Err(e) => {
                    tracing::error!(error = %e, "refresh token lookup failed");
                    not_issued()
                }
            }
        }
        Some(_) => login_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "the emulator supports grant_type=client_credentials and grant_type=refresh_token",
        ),
        None => invalid_request("grant_type is required"),
    }
}

/// The operation a routed request belongs to.
fn operation_for(request: &Request) -> Option<&'static Operation> {
    let matched = request.extensions().get::<axum::extract::MatchedPath>()?;
    let method = request.method().as_str();
    backpack_server::OPERATIONS
        .iter()
        .find(|op| op.path == matched.as_str() && op.method == method)
}

/// Which token kind an operation needs.
pub fn required_kind(operation: &Operation) -> TokenKind {
    if operation.path.starts_with("/web/backpack/merchants/") {
        TokenKind::Merchant
    } else {
        TokenKind::User
    }
}

/// Middleware: refuses requests whose (well-formed) bearer token is not a live emulator token of
/// the kind the operation needs, or whose `X-HOST-ID` is not the configured one. Missing or
/// malformed headers are left to the generated handlers, which refuse them with the same
/// statuses.
pub async fn enforce(State(auth): State<Arc<Auth>>, request: Request, next: Next) -> Response {
    let Some(operation) = operation_for(&request) else {
        return next.run(request).await;
    };
    let Ok(bearer) = runtime::bearer_token(request.headers()) else {
        return next.run(request).await;
    };
    let claims = match auth.verify(bearer.expose_secret()) {
        Ok(claims) => claims,
        Err(e) => {
            tracing::debug!(operation = operation.id, reason = %e, "token refused");
            return Rejection::auth(e.to_string()).into_response_for(operation);
        }
    };
    let needed = required_kind(operation);
    if claims.kind != needed {
        let message = match needed {
            TokenKind::Merchant => {
                "this operation needs a merchant (client_credentials) token, not a user token"
            }
            TokenKind::User => "this operation needs a user token, not a merchant token",
        };
        return Rejection::auth(message).into_response_for(operation);
    }
    if needed == TokenKind::Merchant
        && let Some(expected) = auth.host_id
        && let Ok(given) = runtime::x_host_id(request.headers(), "X-HOST-ID", HeaderFormat::Uuid)
        && Uuid::try_parse(given.expose_secret()).ok() != Some(expected)
    {
        return Rejection::auth("X-HOST-ID is not the one issued for this project")
            .into_response_for(operation);
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn auth(ttl: u64, clock: EmulatorClock) -> Auth {
        Auth::new(
            AuthConfig {
                signing_key: b"k".to_vec(),
                client_id: "c".into(),
                client_secret: "s".into(),
                host_id: None,
                ttl_secs: ttl,
            },
            Db::open_in_memory().await.unwrap(),
            clock,
        )
    }

    #[tokio::test]
    async fn issued_tokens_verify_and_foreign_ones_do_not() {
        let auth = auth(60, EmulatorClock::system()).await;
        let token = auth.issue(TokenKind::User, "u").unwrap();
        let claims = auth.verify(&token).unwrap();
        assert_eq!(claims.kind, TokenKind::User);
        assert_eq!(claims.sub, "u");
        assert_eq!(auth.verify("a.b.c"), Err(TokenRefusal::Invalid));
        let other = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"other"),
        )
        .unwrap();
        assert_eq!(auth.verify(&other), Err(TokenRefusal::Invalid));
    }

    #[tokio::test]
    async fn expired_tokens_are_refused_without_leeway() {
        let clock = EmulatorClock::system();
        let auth = auth(60, clock.clone()).await;
        let token = auth.issue(TokenKind::Merchant, "c").unwrap();
        let mut claims = auth.verify(&token).unwrap();
        assert!(
            claims.exp >= clock.now_secs() + 60,
            "never shorter than the ttl"
        );
        claims.exp = clock.now_secs();
        let expired = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"k"),
        )
        .unwrap();
        assert_eq!(auth.verify(&expired), Err(TokenRefusal::Expired));
        assert!(auth.claims(&expired).is_ok());
    }

    #[tokio::test]
    async fn tokens_expire_on_the_emulator_clock() {
        let clock = EmulatorClock::manual();
        let auth = auth(60, clock.clone()).await;
        let token = auth.issue(TokenKind::User, "u").unwrap();
        clock.advance(std::time::Duration::from_secs(59));
        assert!(auth.verify(&token).is_ok());
        clock.advance(std::time::Duration::from_secs(1));
        assert_eq!(auth.verify(&token), Err(TokenRefusal::Expired));
    }

    #[tokio::test]
    async fn client_check() {
        let auth = auth(1, EmulatorClock::system()).await;
        assert!(auth.client_matches("c", Some("s")));
        assert!(!auth.client_matches("c", Some("x")));
        assert!(!auth.client_matches("c", None));
        assert!(!auth.client_matches("d", Some("s")));
    }
}
