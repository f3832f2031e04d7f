//! Verify, parse, deduplicate and answer Xsolla webhooks: the payments/store family
//! (`payment`, `order_paid`, …) and the Backpack family (`user_validation`, `move_to_game`).
//!
//! A receiver is built from the project's secret key, your handler and a deduplication store;
//! it is a tower service, so mount it in axum with `Router::route_service`. Here one signed
//! delivery goes through it in process:
//!
//! ```
//! use axum::body::Body;
//! use backpack_webhooks::{
//!     Delivery, HandlerError, HandlerResult, MemoryStore, OrderPaid, UserValidation,
//!     WebhookHandler, WebhookReceiver, WebhookSecret, authorization_value,
//! };
//! use tower::ServiceExt;
//!
//! /// Your game: one method per webhook type you care about; the others accept.
//! struct Game;
//!
//! impl WebhookHandler for Game {
//!     async fn user_validation(&self, event: UserValidation, _: &Delivery) -> HandlerResult {
//!         match event.user {
//!             Some(user) if user.id.to_string() == "player-1" => Ok(()), // 204
//!             _ => Err(HandlerError::invalid_user()), // 400 INVALID_USER
//!         }
//!     }
//!
//!     async fn order_paid(&self, event: OrderPaid, _: &Delivery) -> HandlerResult {
//!         for item in &event.items {
//!             println!("grant {} × {} (order {})", item.quantity, item.sku, event.order.id);
//!         }
//!         Ok(()) // 204; a retry of this order is answered 204 without calling you again
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = WebhookSecret::try_new("project secret key")?; // WebhookSecret::from_env(…) in production
//! let receiver = WebhookReceiver::new(secret.clone(), Game, MemoryStore::new())?;
//! let app = axum::Router::new().route_service("/xsolla/webhook", receiver);
//!
//! // What Xsolla sends: the body, signed with the secret key.
//! let body = br#"{"notification_type":"user_validation","settings":{"project_id":1,"merchant_id":2},"user":{"id":"player-1"}}"#;
//! let request = http::Request::post("/xsolla/webhook")
//!     .header("authorization", authorization_value(body, &secret))
//!     .body(Body::from(&body[..]))?;
//! let response = app.clone().oneshot(request).await?;
//! assert_eq!(response.status(), 204);
//!
//! // A wrong signature never reaches the handler.
//! let forged = http::Request::post("/xsolla/webhook")
//!     .header("authorization", "Signature 0000000000000000000000000000000000000000")
//!     .body(Body::from(&body[..]))?;
//! assert_eq!(app.oneshot(forged).await?.status(), 400);
//! # Ok(()) }
//! ```
//!
//! The guide in the repository, `docs/guide/webhooks.md`, covers exactly-once grants with a
//! transactional handler, the stores and deployment; this page is the reference.
//!
//! * [`verify`] / [`sign`]: the `Authorization: Signature <sha1(raw body ‖ secret)>` check.
//! * [`parse()`] / [`parse_backpack`] / [`verify_and_parse`]: typed events ([`WebhookEvent`],
//!   [`BackpackWebhookEvent`]) plus deduplication key and sandbox flag.
//! * [`WebhookReceiver`] / [`BackpackReceiver`]: axum routers / tower services running the whole
//!   pipeline and calling your [`WebhookHandler`] / [`BackpackHandler`] (one method per webhook
//!   of the spec's generated catalogue, [`backpack_types::WebhookKind`]).
//! * `TransactionalReceiver` with a `TransactionalHandler<DB>`: the delivery's claim, your
//!   writes (through `&mut sqlx::Transaction`) and the recorded answer commit in one database
//!   transaction — exactly once, even across `kill -9`, one commit per first delivery (see the
//!   `transactional` module for what each path does).
//! * [`DedupStore`] with [`MemoryStore`] and the sqlx stores [`SqliteStore`] (feature `sqlite`,
//!   default), `PostgresStore` (feature `postgres`) and `MySqlStore` (feature `mysql`, MySQL and
//!   MariaDB), configured with `PoolSettings` (pool size, lock and statement timeouts; TLS in
//!   the URL); [`sqlx`] is re-exported. Recorded answers are purged after a retention period
//!   (7 days by default, [`ReceiverConfig::with_retention`]).
//! * [`observe`]: one `tracing` span per delivery and metrics through the `metrics` facade.
//! * [`WebhookSecrets`]: the current and previous secret keys, for rotating the key without
//!   losing a webhook.
//!
//! # What "exactly once" means here
//!
//! * **Transactional handler** (`TransactionalReceiver`): the claim of the delivery, the
//!   handler's writes and the record of the answer are one transaction. A crash at any point
//!   leaves all or nothing; a retry after "nothing" runs the handler on a clean slate, a retry
//!   after "all" gets the recorded answer. Grants must live in the store's database.
//! * **Plain handler** ([`WebhookHandler`]): runs once per delivery key while the process lives.
//!   The answer is recorded in a separate write after the handler returns, so if the process dies
//!   after the handler succeeded and before that write, Xsolla's retry runs the handler again.
//!   Make such a handler idempotent (e.g. a unique constraint on the order id in your grants), or
//!   use the transactional handler. `tests/crash.rs` measures both.
//!
//! # Signature rules
//!
//! SHA-1 over the **raw body bytes followed by the project secret key** (no separator), hex,
//! in `Authorization: Signature <40 hex>`. Accepted: hex digits in either case; the scheme word
//! `Signature` in any case (HTTP auth schemes are case-insensitive, RFC 9110 §11.1 — Xsolla
//! sends `Signature`, the PHP SDK only accepts that spelling). Refused: anything but exactly one
//! space between scheme and digest, leading/trailing whitespace, a digest that is not exactly 40
//! characters ([`SignatureError::WrongLength`]) or not hex ([`SignatureError::NonHex`]), two
//! `Authorization` headers. Digests are compared in constant time. Header names are
//! case-insensitive (`http::HeaderMap`). The secret lives in [`WebhookSecret`], whose `Debug`
//! prints `***`.
//!
//! # Pipeline and answers
//!
//! Order: method → IP allowlist → body limit → signature → parse → deduplicate → handler.
//! Error bodies are `{"error":{"code":…,"message":…}}` with fixed messages: they never contain
//! the received signature, the secret, body content or internal error text (those are logged at
//! `debug`/`warn` without the header or secret).
//!
//! | case | payments/store ([`WebhookReceiver`]) | Backpack ([`BackpackReceiver`]) |
//! |---|---|---|
//! | handled (handler `Ok`) | 204, empty | 200, empty |
//! | `user_search` handler returns `Some(user)` | 200 `{"user":{…}}` | — |
//! | duplicate of a handled delivery | the recorded answer again (handler not called) | same |
//! | not POST | 405, `Allow: POST` | 405 |
//! | client IP not in the allowlist (when enabled) | 403 `INVALID_CLIENT_IP` | 403 `INVALID_CLIENT_IP` |
//! | body over the limit (default 1 MiB) | 413 `INVALID_PARAMETER` | 413 `INVALID_PARAMETER` |
//! | missing / malformed / wrong-scheme / non-hex / wrong-length / mismatched signature | 400 `INVALID_SIGNATURE` | 404 `INVALID_SIGNATURE` |
//! | empty body, not JSON, not an object, `notification_type` missing or not a string, dedup-key field of the wrong type | 400 `INVALID_PARAMETER` | 404 `INVALID_PARAMETER` |
//! | known `notification_type` whose body does not match its documented schema (required field missing, field of the wrong type), incl. the older flat Backpack schema | 400 `INVALID_PARAMETER` | 404 `INVALID_PARAMETER` |
//! | unknown `notification_type` | handler's `unknown` (default: accept → 204) | `unknown` (default: accept → 200) |
//! | handler rejects (`INVALID_USER`, `INCORRECT_AMOUNT`, `INCORRECT_INVOICE`, `INVALID_PARAMETER`) | 400 with that code (recorded, replayed) | 404 with that code (recorded, replayed) |
//! | handler temporary failure or panic; dedup store down | 500 `SERVER_ERROR` (not recorded: the retry runs the handler) | 500 `SERVER_ERROR` |
//! | empty webhook secret | refused when the receiver is built ([`SecretError::Empty`]) | same |
//! | same event still being handled elsewhere after the wait (default 5 s) | 500 `SERVER_ERROR` | 500 `SERVER_ERROR` |
//!
//! Choices behind the table:
//!
//! * **400 vs the PHP SDK's 422/401**: Xsolla's pages and its example repository answer 400 for
//!   bad data and invalid signatures; 422/401 are PHP SDK choices. For `order_paid`, 400/401/403/
//!   404/409/415/422 all stop retries.
//! * **Backpack** documents only 200 / 404 ("user not found or invalid signature") / 500, so an
//!   unusable body is also answered 404 (a definite "no" within the documented codes).
//! * **Two receivers, two URLs.** Both families have a `user_validation` with different
//!   expected answers (204 vs 200), so one endpoint cannot serve both unambiguously. A project has
//!   one webhook URL in Publisher Account, but Xsolla's integration team can set up a second
//!   webhook URL for a project that already has a Metaframe (Backpack) webhook
//!   (<https://developers.xsolla.com/doc/metaframe/backpack/set-up-recieve-webhooks>). Backpack's
//!   docs mark its `user_validation` (and, on the overview, `move_to_game`) as deprecated in
//!   favour of the main `user_validation` and `order_paid`: use [`WebhookReceiver`] for the
//!   project's webhook URL, and [`BackpackReceiver`] on the second URL only where Xsolla still
//!   sends the Backpack variants.
//! * **`user_validation` is never re-sent**: after no answer, a 400 or a 5xx the payment fails
//!   (<https://developers.xsolla.com/webhooks/operation/user-validation/>). A temporary error
//!   from a `user_validation` handler is answered 500 like any other and logged as a warning.
//! * **Schema mismatch → `INVALID_PARAMETER`**: a known type is parsed into its generated
//!   payload type, which enforces the required fields and field types of `spec/webhooks.yaml` /
//!   `spec/backpack.yaml` (the handler is not called, nothing is recorded). The schemas stay
//!   open: unknown members are ignored (they do not reach the handler: only modelled fields do,
//!   so e.g. free-form `custom_parameters` members other than `saved_payment_method` and
//!   `payment_type` are dropped), unknown enum values (`order.mode`, `items[].type`, …) are
//!   kept, and fields whose docs and samples disagree (`spec/NOTES.md`, union-type table: `user.id`,
//!   `transaction.external_id`, `settings.*`, subscription ids, `payment_method`, amounts)
//!   accept both integer (or number) and string. Fields documented only as integers, such as
//!   `transaction.id` and `order.id`, are refused as strings.
//! * **Older flat Backpack schema not accepted**: bodies like
//!   `{"notification_type":"user_validation","project_id":0,"game_player_id":"…"}` (older captures
//!   of the Backpack pages, recorded only in `spec/NOTES.md`) lack the required `settings` and
//!   `user` and get 404 `INVALID_PARAMETER`; a receiver that must accept them has to translate
//!   them before calling [`BackpackReceiver`].
//! * **Unknown `notification_type` → accept**: a 5xx would be retried for hours (at most 12
//!   retries within 48 hours for payment webhooks, at most 20 within about 12 hours for
//!   `order_paid`/`order_canceled`:
//!   2 × 5 min, 7 × 15 min, 10 × 60 min; <https://developers.xsolla.com/webhooks/overview/>) for a type
//!   we will never understand, and a 400 can trigger an automatic refund (`order_paid`) or mark a
//!   payment as failed. Accepting stops retries; the default `unknown` method logs a warning and
//!   you can override it. Unknown types are still deduplicated (body hash).
//! * **403 for a refused IP**: the caller is not Xsolla, so the code only has to be a clear "no".
//! * **413** even for Backpack: the body was never read, so no webhook semantics apply.
//!
//! # Deduplication keys
//!
//! Xsolla's docs require that a repeated delivery of an already-processed transaction gets the
//! same answer without being processed again. Every key starts with the family and the
//! `notification_type` (`store:` / `backpack:`), so e.g. the `payment` and the `refund` of one
//! transaction never collide. IDs are read from the parsed JSON by path; a number and the same
//! number as a string (`1` / `"1"`) give the same key, since docs and samples disagree on such
//! types (e.g. `subscription.subscription_id`; where the schema allows only one of them, the
//! typed payload refuses the other anyway). A key field that is present with an unusable type (float, bool, object, array, empty
//! string, longer than 256 bytes) is refused with `INVALID_PARAMETER`; an absent (or `null`) key
//! field falls back to the SHA-256 of the raw body.
//!
//! | `notification_type` | key | why |
//! |---|---|---|
//! | `user_validation` (both families), `user_search` | none — never deduplicated | queries; Xsolla sends `user_validation` several times per payment and each needs a fresh answer |
//! | `payment`, `refund`, `afs_reject` | `transaction.id` | one of each per transaction (docs: idempotency by transaction ID) |
//! | `partial_refund` | `transaction.id` + SHA-256 of body | one transaction may be partly refunded more than once; a retry carries the identical body |
//! | `order_paid`, `order_canceled` | `order.id` | one of each per order |
//! | `payment_account_add`, `payment_account_remove` | `payment_account.id` | documented key; recording the other one of the pair forgets this record, so adding an account again after removing it is handled (not replayed) |
//! | `create_subscription` | `subscription.subscription_id` | created once per subscription |
//! | `update_subscription` | SHA-256 of body | sent on every plan change **and every renewal** for the same subscription; keying by subscription ID would drop real updates, while an identical body is a retry (or a no-op update) |
//! | `cancel_subscription`, `non_renewal_subscription` | SHA-256 of body | a subscription can change state more than once; processing a byte-identical retry twice is harmless, dropping a real change is not |
//! | Backpack `move_to_game` | SHA-256 of body | no delivery or transaction ID in the payload; `items[].id` could repeat for partial moves of one currency item |
//! | any unknown type | SHA-256 of body (key `…:unknown:sha256=…`) | no known ID |
//!
//! # Claim / complete / release
//!
//! See [`dedup`]. In short: the first delivery *claims* the key (with a lease renewed while the
//! handler runs), a concurrent duplicate *waits* for the outcome (in-process: woken by a
//! notification; SQL stores: polling), a success or rejection is *completed* (recorded and
//! replayed to every later duplicate), a temporary failure or panic *releases* the key so that
//! Xsolla's retry can succeed, and a claim whose lease expired (crashed process) is taken over.
//! If the client hangs up while the handler runs, the delivery moves into a task of its own and
//! finishes there, so a hang-up does not leave a half-done claim (no task is spawned otherwise).
//! If the store fails, the receiver answers 500 without calling the handler (never risk a double
//! grant); if only recording the answer fails after a plain handler succeeded, the handler's
//! answer is still sent (logged at `error`). With the transactional handler, recording the answer
//! is part of the handler's transaction, and so is the claim: there is no lease, a concurrent
//! duplicate waits on the key inside the database (see the `transactional` module). If the commit
//! fails, the handler's writes are rolled back and the answer is 500.
//!
//! Recorded answers are deleted after the retention ([`ReceiverConfig::with_retention`], 7 days
//! by default: Xsolla's retries end within 48 hours of the first attempt, `spec/NOTES.md` W38). The purge runs on
//! write, at most once an hour.
//!
//! # Event types
//!
//! All event types come through [`events`], one module that re-exports them from the generated
//! `backpack-types` crate (`backpack_types::webhooks` for the payments/store family, the Backpack
//! webhook types of `backpack_types::api`).

#![warn(missing_docs)]

mod completion;
pub mod config;
pub mod dedup;
pub mod dedup_key;
mod dispatch;
#[cfg(feature = "drift")]
pub mod drift;
pub mod events;
pub mod handler;
pub mod ip;
pub mod observe;
pub mod parse;
mod pipeline;
pub mod receiver;
pub mod response;
pub mod secret;
pub mod signature;
#[cfg(feature = "_sql")]
pub mod transactional;

pub use config::{Clock, ReceiverConfig, SystemClock};
#[cfg(feature = "mysql")]
pub use dedup::MySqlStore;
#[cfg(feature = "_sql")]
pub use dedup::PoolSettings;
#[cfg(feature = "postgres")]
pub use dedup::PostgresStore;
#[cfg(feature = "sqlite")]
pub use dedup::SqliteStore;
pub use dedup::{Claim, ClaimToken, DedupStore, MemoryStore, StoreError, StoredAnswer};
pub use dedup_key::{DedupKey, DedupPolicy};
pub use events::*;
pub use handler::{
    BackpackHandler, Delivery, FoundUser, HandlerError, HandlerResult, WebhookHandler,
};
pub use ip::{ClientIpSource, IpAllowlist};
pub use parse::{
    ParseError, Parsed, VerifyAndParseError, parse, parse_backpack, verify_and_parse,
    verify_and_parse_backpack,
};
#[cfg(feature = "_sql")]
pub use receiver::TransactionalReceiver;
pub use receiver::{BackpackReceiver, WebhookReceiver};
pub use response::ErrorCode;
pub use secret::{SecretError, WebhookSecret, WebhookSecrets};
pub use signature::{
    SignatureError, authorization_value, sign, verify, verify_headers, verify_headers_any,
};
/// The sqlx version the stores and [`TransactionalHandler`] are built on: use it (or the same
/// version) so that your `sqlx::Transaction` is the type the handler receives.
#[cfg(feature = "_sql")]
pub use sqlx;
#[cfg(feature = "_sql")]
pub use transactional::{SqlStore, TransactionalHandler};
