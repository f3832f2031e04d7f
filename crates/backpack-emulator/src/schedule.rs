//! Re-send schedules: how often, and how far apart, the outbox sends a webhook that was not
//! acknowledged ([`ResendSchedule`]: Xsolla's schedule per webhook type; [`ScaledSchedule`]: its
//! waits divided by the emulator's time scale).
//!
//! | schedule | used for | attempts | waits between attempts |
//! |---|---|---|---|
//! | [`ResendSchedule::Order`] | `order_paid`, `order_canceled`, Backpack `move_to_game` | 20 | 2 × 5 min, 7 × 15 min, 10 × 60 min (documented) |
//! | [`ResendSchedule::Payment`] | `payment`, `refund`, `partial_refund`, `afs_reject`, `payment_account_*`, the subscription webhooks | 12 | 1, 2, 4, 8, 15, 30, 60, 60, 120, 120, 120 min (**an emulator choice**) |
//! | [`ResendSchedule::Once`] | `user_validation`, `user_search`, Backpack `user_validation` | 1 | — |
//!
//! Sources: the `order_paid` schedule is documented on
//! <https://developers.xsolla.com/webhooks/operation/successful-order-payment> and applies to
//! `order_canceled` per
//! <https://developers.xsolla.com/doc/in-game-store/webhooks-universal-protocol/overview/>.
//! For payment webhooks Xsolla documents only a count and a window (at most 12 retries at
//! increasing intervals, whether the first delivery counts among them is not said;
//! <https://developers.xsolla.com/webhooks/operation/payment/>,
//! <https://xsolla.redoc.ly/deprecated-webhooks/overview>); the intervals above are the
//! emulator's choice: increasing, 12 attempts in all (the first and 11 re-sends), the last one
//! 540 min (9 h) after the first. The other payments webhooks have no documented schedule; the emulator gives them the
//! payment schedule (the deprecated overview's general rule). Validation webhooks answer a
//! question while the player waits, so they are never re-sent.
//!
//! The answer rules are the same for every schedule: 200/201/204 delivered; 400, 401, 402, 403,
//! 404, 409, 415, 422 stop; anything else (or no answer) is retried.

use std::time::Duration;

use backpack_types::{WebhookFamily, WebhookKind};

/// Which of Xsolla's re-send schedules a webhook follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResendSchedule {
    /// 20 attempts: 2 × 5 min, 7 × 15 min, 10 × 60 min apart.
    Order,
    /// 12 attempts at increasing intervals within 12 hours (intervals chosen by the emulator).
    Payment,
    /// One attempt, never re-sent.
    Once,
}

impl ResendSchedule {
    /// The schedule `kind` follows (the table above). A kind this list does not name (one the
    /// spec gained later) follows its family's usual schedule: [`Payment`](Self::Payment) for
    /// payments webhooks (the deprecated overview's general rule), [`Order`](Self::Order) for
    /// Backpack webhooks (like `move_to_game`).
    pub fn of(kind: WebhookKind) -> Self {
        match kind {
            WebhookKind::OrderPaid
            | WebhookKind::OrderCanceled
            | WebhookKind::BackpackMoveToGame => Self::Order,
            WebhookKind::UserValidation
            | WebhookKind::UserSearch
            | WebhookKind::BackpackUserValidation => Self::Once,
            _ => match kind.family() {
                WebhookFamily::Backpack => Self::Order,
                _ => Self::Payment,
            },
        }
    }

    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Order => "order",
            Self::Payment => "payment",
            Self::Once => "once",
        }
    }

    /// The schedule stored as `word` (rows written before schedules were stored are `order`).
    pub fn from_word(word: &str) -> Option<Self> {
        match word {
            "order" => Some(Self::Order),
            "payment" => Some(Self::Payment),
            "once" => Some(Self::Once),
            _ => None,
        }
    }

    /// Minutes to wait after each failed attempt (one entry per re-send).
    fn minutes(self) -> Vec<u64> {
        match self {
            Self::Order => std::iter::repeat_n(5u64, 2)
                .chain(std::iter::repeat_n(15, 7))
                .chain(std::iter::repeat_n(60, 10))
                .collect(),
            Self::Payment => vec![1, 2, 4, 8, 15, 30, 60, 60, 120, 120, 120],
            Self::Once => Vec::new(),
        }
    }
}

/// A [`ResendSchedule`] with every wait divided by a time scale.
#[derive(Debug, Clone)]
pub struct ScaledSchedule {
    delays: Vec<Duration>,
}

impl ScaledSchedule {
    /// `schedule` with every wait divided by `time_scale` (must be positive and finite).
    pub fn new(schedule: ResendSchedule, time_scale: f64) -> Self {
        let delays = schedule
            .minutes()
            .into_iter()
            .map(|m| Duration::from_secs_f64((m * 60) as f64 / time_scale))
            .collect();
        Self { delays }
    }

    /// Attempts in all (first + re-sends).
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.delays.len() + 1).unwrap_or(u32::MAX)
    }

    /// Wait after attempt number `attempt` (1-based) before the next one; zero after the last.
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let index = usize::try_from(attempt.saturating_sub(1)).unwrap_or(usize::MAX);
        self.delays.get(index).copied().unwrap_or_default()
    }

    /// Time from the first attempt to the last.
    pub fn span(&self) -> Duration {
        self.delays.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn validation_types_are_never_resent_and_others_follow_their_family() {
        use super::ResendSchedule;
        use backpack_types::WebhookKind;
        assert_eq!(
            ResendSchedule::of(WebhookKind::UserValidation),
            ResendSchedule::Once
        );
        assert_eq!(
            ResendSchedule::of(WebhookKind::BackpackUserValidation),
            ResendSchedule::Once
        );
        assert_eq!(
            ResendSchedule::of(WebhookKind::OrderCanceled),
            ResendSchedule::Order
        );
        assert_eq!(
            ResendSchedule::of(WebhookKind::Refund),
            ResendSchedule::Payment
        );
        assert_eq!(
            ResendSchedule::of(WebhookKind::NonRenewalSubscription),
            ResendSchedule::Payment
        );
    }

    use super::*;

    #[test]
    fn order_schedule_is_2_7_10() {
        let s = ScaledSchedule::new(ResendSchedule::Order, 1.0);
        assert_eq!(s.max_attempts(), 20);
        let minutes: Vec<u64> = (1..20).map(|a| s.delay_after(a).as_secs() / 60).collect();
        assert_eq!(&minutes[..2], &[5, 5]);
        assert!(minutes[2..9].iter().all(|m| *m == 15));
        assert!(minutes[9..].iter().all(|m| *m == 60));
        assert_eq!(s.span(), Duration::from_secs(715 * 60));
        assert_eq!(s.delay_after(20), Duration::ZERO);
        assert_eq!(
            ScaledSchedule::new(ResendSchedule::Order, 6000.0).delay_after(1),
            Duration::from_millis(50)
        );
    }

    #[test]
    fn payment_schedule_is_12_attempts_within_12_hours_increasing() {
        let s = ScaledSchedule::new(ResendSchedule::Payment, 1.0);
        assert_eq!(s.max_attempts(), 12);
        assert!(s.span() < Duration::from_secs(12 * 3600));
        let delays: Vec<Duration> = (1..12).map(|a| s.delay_after(a)).collect();
        assert!(delays.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(s.delay_after(12), Duration::ZERO);
    }

    #[test]
    fn validation_is_sent_once() {
        let s = ScaledSchedule::new(ResendSchedule::Once, 1.0);
        assert_eq!(s.max_attempts(), 1);
        assert_eq!(s.span(), Duration::ZERO);
        for schedule in [
            ResendSchedule::Order,
            ResendSchedule::Payment,
            ResendSchedule::Once,
        ] {
            assert_eq!(ResendSchedule::from_word(schedule.as_str()), Some(schedule));
        }
    }
}
