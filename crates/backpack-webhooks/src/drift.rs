//! The drift watch on webhook bodies (feature `drift`): every verified body whose
//! `notification_type` was read is compared with its webhook's schema in `spec/`, or reported as
//! an unknown `notification_type`.
//!
//! One watch per process, set with [`set_watch`]: the receivers and the free functions
//! ([`verify_and_parse`](crate::verify_and_parse), [`parse`](fn@crate::parse), …) all feed it.
//! Without one, the check is a single atomic load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{PoisonError, RwLock};

use backpack_drift::DriftWatch;

use backpack_types::WebhookFamily;

static WATCH: RwLock<Option<DriftWatch>> = RwLock::new(None);
static SET: AtomicBool = AtomicBool::new(false);

/// Feeds every webhook body parsed from now on to `watch` (`None`: to none). Switch a set watch
/// off and on at run time with [`DriftWatch::set_enabled`].
pub fn set_watch(watch: Option<DriftWatch>) {
    let mut slot = WATCH.write().unwrap_or_else(PoisonError::into_inner);
    SET.store(watch.is_some(), Ordering::Relaxed);
    *slot = watch;
}

/// The watch set with [`set_watch`].
pub fn watch() -> Option<DriftWatch> {
    WATCH.read().unwrap_or_else(PoisonError::into_inner).clone()
}

/// Pass 1 of parsing with the check folded in: the members `keep` lists, read in the same walk
/// of the JSON that checks the body. `None` when no watch checks on this thread (none set,
/// switched off, or a background one): then parse skims alone and calls [`observe`].
pub(crate) fn skim(
    family: WebhookFamily,
    body: &[u8],
    keep: backpack_drift::Keep,
) -> Option<Result<serde_json::Value, serde_json::Error>> {
    if !SET.load(Ordering::Relaxed) {
        return None;
    }
    let slot = WATCH.read().unwrap_or_else(PoisonError::into_inner);
    slot.as_ref()?
        .check_webhook_keeping(family.into(), body, keep)
}

/// Checks one body (called where its `notification_type` has been read, when [`skim`] did not).
pub(crate) fn observe(family: WebhookFamily, notification_type: &str, body: &[u8]) {
    if !SET.load(Ordering::Relaxed) {
        return;
    }
    let slot = WATCH.read().unwrap_or_else(PoisonError::into_inner);
    if let Some(watch) = slot.as_ref() {
        watch.check_webhook(family.into(), notification_type, body);
    }
}
