//! The 16 webhook types the emulator can send ([`WebhookType`]), their names and retry policies.

use std::fmt;
use std::str::FromStr;

use crate::schedule::RetryPolicy;

/// A webhook type: the 14 payments/store webhooks and the 2 Backpack webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WebhookType {
    /// `user_validation` (payments).
    UserValidation,
    /// `user_search`.
    UserSearch,
    /// `payment`.
    Payment,
    /// `order_paid`.
    OrderPaid,
    /// `order_canceled`.
    OrderCanceled,
    /// `refund`.
    Refund,
    /// `partial_refund`.
    PartialRefund,
    /// `payment_account_add`.
    PaymentAccountAdd,
    /// `payment_account_remove`.
    PaymentAccountRemove,
    /// `afs_reject`.
    AfsReject,
    /// `create_subscription`.
    CreateSubscription,
    /// `update_subscription`.
    UpdateSubscription,
    /// `cancel_subscription`.
    CancelSubscription,
    /// `non_renewal_subscription`.
    NonRenewalSubscription,
    /// Backpack `user_validation` (named `backpack.user_validation`).
    BackpackUserValidation,
    /// Backpack `move_to_game` (named `backpack.move_to_game`, alias `move_to_game`).
    BackpackMoveToGame,
}

impl WebhookType {
    /// Every type.
    pub const ALL: [Self; 16] = [
        Self::UserValidation,
        Self::UserSearch,
        Self::Payment,
        Self::OrderPaid,
        Self::OrderCanceled,
        Self::Refund,
        Self::PartialRefund,
        Self::PaymentAccountAdd,
        Self::PaymentAccountRemove,
        Self::AfsReject,
        Self::CreateSubscription,
        Self::UpdateSubscription,
        Self::CancelSubscription,
        Self::NonRenewalSubscription,
        Self::BackpackUserValidation,
        Self::BackpackMoveToGame,
    ];

    /// The name used by the CLI, the HTTP route and [`crate::samples`]
    /// (`order_paid`, …, `backpack.move_to_game`).
    pub fn name(self) -> &'static str {
        match self {
            Self::UserValidation => "user_validation",
            Self::UserSearch => "user_search",
            Self::Payment => "payment",
            Self::OrderPaid => "order_paid",
            Self::OrderCanceled => "order_canceled",
            Self::Refund => "refund",
            Self::PartialRefund => "partial_refund",
            Self::PaymentAccountAdd => "payment_account_add",
            Self::PaymentAccountRemove => "payment_account_remove",
            Self::AfsReject => "afs_reject",
            Self::CreateSubscription => "create_subscription",
            Self::UpdateSubscription => "update_subscription",
            Self::CancelSubscription => "cancel_subscription",
            Self::NonRenewalSubscription => "non_renewal_subscription",
            Self::BackpackUserValidation => "backpack.user_validation",
            Self::BackpackMoveToGame => "backpack.move_to_game",
        }
    }

    /// The `notification_type` in the body.
    pub fn notification_type(self) -> &'static str {
        let name = self.name();
        name.strip_prefix("backpack.").unwrap_or(name)
    }

    /// How it is re-sent (see [`crate::schedule`]).
    pub fn retry_policy(self) -> RetryPolicy {
        match self {
            Self::OrderPaid | Self::OrderCanceled | Self::BackpackMoveToGame => RetryPolicy::Order,
            Self::UserValidation | Self::UserSearch | Self::BackpackUserValidation => {
                RetryPolicy::Once
            }
            Self::Payment
            | Self::Refund
            | Self::PartialRefund
            | Self::PaymentAccountAdd
            | Self::PaymentAccountRemove
            | Self::AfsReject
            | Self::CreateSubscription
            | Self::UpdateSubscription
            | Self::CancelSubscription
            | Self::NonRenewalSubscription => RetryPolicy::Payment,
        }
    }
}

impl fmt::Display for WebhookType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a webhook type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown webhook type `{0}`")]
pub struct UnknownWebhookType(pub String);

impl FromStr for WebhookType {
    type Err = UnknownWebhookType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = if s == "move_to_game" {
            "backpack.move_to_game"
        } else {
            s
        };
        Self::ALL
            .into_iter()
            .find(|t| t.name() == name)
            .ok_or_else(|| UnknownWebhookType(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_samples_and_parse_back() {
        let names: Vec<&str> = WebhookType::ALL.iter().map(|t| t.name()).collect();
        assert_eq!(names, crate::samples::type_names());
        for t in WebhookType::ALL {
            assert_eq!(t.name().parse::<WebhookType>(), Ok(t));
        }
        assert_eq!(
            "move_to_game".parse::<WebhookType>(),
            Ok(WebhookType::BackpackMoveToGame)
        );
        assert!("nope".parse::<WebhookType>().is_err());
    }

    #[test]
    fn validation_types_are_never_resent() {
        assert_eq!(
            WebhookType::UserValidation.retry_policy(),
            RetryPolicy::Once
        );
        assert_eq!(
            WebhookType::BackpackUserValidation.retry_policy(),
            RetryPolicy::Once
        );
        assert_eq!(
            WebhookType::OrderCanceled.retry_policy(),
            RetryPolicy::Order
        );
        assert_eq!(WebhookType::Refund.retry_policy(), RetryPolicy::Payment);
    }
}
