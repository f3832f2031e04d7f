//! The traits you implement: one async method per `notification_type`, each defaulting to
//! "accept". Implement them with `async fn`. The methods are generated from the spec's webhook
//! catalogue ([`backpack_types::for_each_webhook!`]): a webhook added to the spec gets its method
//! (accepting by default) with the next regen, so existing handlers keep compiling.
//!
//! Return `Ok` to accept, [`HandlerError::Reject`] for a permanent refusal (answered 400 for
//! payments/store webhooks, 404 for Backpack webhooks, and replayed for duplicates), or
//! [`HandlerError::Temporary`] when Xsolla should retry (answered 500; the delivery is not
//! recorded, so the retry runs the handler again). Handlers that have side effects must still be
//! safe to run again after a `Temporary` failure.
//!
//! **Guarantee of these plain handlers**: a handler runs once per delivery key *while the process
//! lives*. The answer is recorded after the handler returns, in a separate write; if the process
//! dies in between (crash, `kill -9`, deploy), Xsolla's retry runs the handler again. Make your
//! grant idempotent (e.g. a unique order id in your grants table), or use a transactional handler
//! (`SqliteHandler` / `PostgresHandler` with `TransactionalReceiver`), whose writes commit together
//! with the recorded answer.

use std::borrow::Cow;
use std::future::Future;
use std::net::IpAddr;

use serde::Serialize;
use serde_json::Value;

use crate::response::ErrorCode;

/// What a handler returns.
pub type HandlerResult<T = ()> = Result<T, HandlerError>;

/// A handler's refusal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandlerError {
    /// Permanent refusal with a code; `message` is sent to Xsolla as `error.message`.
    #[error("rejected with {code}")]
    Reject {
        /// The code.
        code: ErrorCode,
        /// Public message (defaults to the code's standard text).
        message: Cow<'static, str>,
    },
    /// Temporary failure; the source is logged, never sent.
    #[error("temporary failure")]
    Temporary(#[source] Option<Box<dyn std::error::Error + Send + Sync>>),
}

impl HandlerError {
    /// Reject with `code` and its standard message.
    pub fn reject(code: ErrorCode) -> Self {
        Self::Reject {
            code,
            message: Cow::Borrowed(code.default_message()),
        }
    }

    /// Reject with `code` and your own public message (do not put secrets or internals in it).
    pub fn reject_with_message(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self::Reject {
            code,
            message: message.into(),
        }
    }

    /// `INVALID_USER`: the user does not exist.
    pub fn invalid_user() -> Self {
        Self::reject(ErrorCode::InvalidUser)
    }

    /// `INCORRECT_AMOUNT`.
    pub fn incorrect_amount() -> Self {
        Self::reject(ErrorCode::IncorrectAmount)
    }

    /// `INCORRECT_INVOICE`.
    pub fn incorrect_invoice() -> Self {
        Self::reject(ErrorCode::IncorrectInvoice)
    }

    /// `INVALID_PARAMETER`.
    pub fn invalid_parameter() -> Self {
        Self::reject(ErrorCode::InvalidParameter)
    }

    /// Temporary failure caused by `err` (logged, never sent to Xsolla): answered 500 so that
    /// Xsolla retries. **Not for `user_validation`**: Xsolla never re-sends it; after no answer,
    /// a 400 or a 5xx the payment fails (a warning is logged when a `user_validation` handler
    /// returns this).
    pub fn temporary(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Temporary(Some(Box::new(err)))
    }

    /// Temporary failure without a cause: answered 500 so that Xsolla retries. **Not for
    /// `user_validation`**, which Xsolla never re-sends (the payment fails; a warning is logged).
    pub fn retry_later() -> Self {
        Self::Temporary(None)
    }
}

/// Facts about one delivery, passed to every handler method.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Delivery {
    /// The `notification_type`.
    pub notification_type: String,
    /// The deduplication key, or `None` for types that are never deduplicated.
    pub dedup_key: Option<String>,
    /// Test delivery (`transaction.dry_run` = 1 or `order.mode` = `"sandbox"`).
    pub sandbox: bool,
    /// The client address, when known.
    pub client_ip: Option<IpAddr>,
}

impl Delivery {
    /// A delivery description with only a `notification_type` (no key, not sandbox, no client
    /// address): for unit-testing your handlers.
    pub fn new(notification_type: impl Into<String>) -> Self {
        Self {
            notification_type: notification_type.into(),
            dedup_key: None,
            sandbox: false,
            client_ip: None,
        }
    }
}

/// The user found by a `user_search` handler; sent as `200 {"user": {…}}` (the PHP SDK's shape;
/// Xsolla's docs do not describe the 200 body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FoundUser {
    /// User ID in your system.
    pub id: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The public user ID that was searched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_id: Option<String>,
    /// E-mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl FoundUser {
    /// A user with only an ID.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            ..Self::default()
        }
    }

    /// Sets the public ID.
    pub fn with_public_id(mut self, public_id: impl Into<String>) -> Self {
        self.public_id = Some(public_id.into());
        self
    }

    /// Sets the name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the e-mail address.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the phone number.
    pub fn with_phone(mut self, phone: impl Into<String>) -> Self {
        self.phone = Some(phone.into());
        self
    }
}

/// Defines a handler trait from one family of [`backpack_types::for_each_webhook!`]: one method
/// per webhook, each accepting by default, then `unknown`. The spec decides which methods exist;
/// [`method_advice!`] and [`handler_method!`] hold what the spec does not say.
macro_rules! handler_trait {
    (
        [$(#[$attr:meta])* $name:ident, unknown: $unknown_doc:literal, warn: $warning:literal]
        $({
            kind: $kind:ident,
            event: $event:ident,
            method: $method:ident,
            notification_type: $notification_type:literal,
            payload: $payload:ty,
            summary: $summary:literal
        })*
    ) => {
        $(#[$attr])*
        pub trait $name: Send + Sync + 'static {
            $(handler_method!($method, $notification_type, $payload, $summary);)*

            #[doc = $unknown_doc]
            fn unknown(
                &self,
                payload: Value,
                delivery: &Delivery,
            ) -> impl Future<Output = HandlerResult> + Send {
                let _ = &payload;
                tracing::warn!(notification_type = %delivery.notification_type, $warning);
                std::future::ready(Ok(()))
            }
        }
    };
}

/// One handler method. `user_search` answers with a user (`Some` → 200, `None` → 204); every
/// other method answers nothing and accepts by default.
macro_rules! handler_method {
    (user_search, $notification_type:literal, $payload:ty, $summary:literal) => {
        #[doc = concat!("`", $notification_type, "`: ", $summary, ".")]
        ///
        #[doc = method_advice!(user_search)]
        fn user_search(
            &self,
            event: $payload,
            delivery: &Delivery,
        ) -> impl Future<Output = HandlerResult<Option<FoundUser>>> + Send {
            let _ = (&event, &delivery);
            std::future::ready(Ok(None))
        }
    };
    ($method:ident, $notification_type:literal, $payload:ty, $summary:literal) => {
        #[doc = concat!("`", $notification_type, "`: ", $summary, ".")]
        ///
        #[doc = method_advice!($method)]
        fn $method(
            &self,
            event: $payload,
            delivery: &Delivery,
        ) -> impl Future<Output = HandlerResult> + Send {
            let _ = (&event, &delivery);
            std::future::ready(Ok(()))
        }
    };
}

/// What a handler method should do, where the spec's summary does not say (hand-written: Xsolla's
/// delivery rules). A webhook without advice gets the default sentence.
macro_rules! method_advice {
    (user_validation) => {
        "Reject with [`HandlerError::invalid_user`] for unknown users (answered 400 for \
         payments, 404 for Backpack). Never deduplicated (Xsolla sends it several times per \
         payment): keep it side-effect free. The payments one is never re-sent: a 500 there fails \
         the payment."
    };
    (user_search) => {
        "`Some(user)` → 200 with the user, `None` (the default) → 204. Never deduplicated."
    };
    (order_paid) => {
        "Grant the items. Accepts by default."
    };
    (order_canceled) => {
        "Take the items back. Accepts by default."
    };
    (update_subscription) => {
        "Also sent on every renewal. Accepts by default."
    };
    (move_to_game) => {
        "Deliver the items to the player. Accepts by default."
    };
    ($other:ident) => {
        "Accepts by default."
    };
}

backpack_types::for_each_webhook!(
    Payments,
    handler_trait,
    /// Handler for payments/store webhooks: one method per webhook of `spec/webhooks.yaml`,
    /// each accepting by default.
    ///
    /// Runs once per delivery key while the process lives; may run again for a delivery whose
    /// handler succeeded if the process dies before the answer is recorded (see the
    /// [module docs](self)). For grants that must happen exactly once, use a transactional
    /// handler.
    WebhookHandler,
    unknown: "Any other `notification_type` (raw JSON). Accepted by default (204) so that \
              Xsolla does not retry a type this SDK does not know yet; logged at `warn`.",
    warn: "accepting a webhook with an unknown notification_type"
);

backpack_types::for_each_webhook!(
    Backpack,
    handler_trait,
    /// Handler for Backpack webhooks: one method per webhook of `spec/backpack.yaml`
    /// (`x-webhooks`), each accepting by default.
    BackpackHandler,
    unknown: "Any other `notification_type` (raw JSON). Accepted by default (200); logged at \
              `warn`.",
    warn: "accepting a Backpack webhook with an unknown notification_type"
);
