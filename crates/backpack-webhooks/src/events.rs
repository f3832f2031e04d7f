//! The event types, re-exported from ONE place: the generated `backpack-types` crate.

pub use backpack_types::api::{BackpackWebhookEvent, MoveItemToGameWebhook, UserValidationWebhook};
pub use backpack_types::webhooks::{
    AfsReject, CancelSubscription, CreateSubscription, NonRenewalSubscription, OrderCanceled,
    OrderPaid, PartialRefund, Payment, PaymentAccountAdd, PaymentAccountRemove, Refund,
    UpdateSubscription, UserSearch, UserValidation, WebhookEvent,
};
