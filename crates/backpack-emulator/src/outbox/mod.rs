//! The durable webhook outbox: delivery notifications wait in the `outbox` table with their
//! `next_attempt_at` and `attempts`, and a worker sends what is due on Xsolla's schedule.
//!
//! Before each request the worker commits the attempt number and when the next attempt is due;
//! after the answer it commits the result. So after a crash or SIGKILL at any point, a restarted
//! emulator on the same database resumes the remaining attempts on schedule: a delivery is never
//! lost, and an attempt interrupted mid-request counts as a failed attempt instead of being
//! repeated early (receivers still see at-least-once delivery, as from Xsolla).
//!
//! Each row carries its re-send schedule ([`crate::schedule`]); waits are divided by the time scale
//! and measured on the emulator's [`EmulatorClock`]. [`Outbox::settle`] waits until every attempt that is
//! due has been made and answered, which is how tests synchronise without sleeping;
//! [`Outbox::advance_to`] moves a manual clock from one due time to the next, settling at each.

pub mod store;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::db::{Db, DbError};
use crate::schedule::ScaledSchedule;

use self::store::{DeliveryState, DueDelivery};
use crate::time::{EmulatorClock, millis};
use crate::webhooks::{self, Answer, Target, Verdict};

/// Rows picked per round.
const BATCH: u32 = 32;
/// Longest idle sleep (the worker also wakes when a delivery is queued).
const IDLE: Duration = Duration::from_secs(3600);
/// Pause after a database error, so that a broken database does not spin.
const DB_ERROR_PAUSE: Duration = Duration::from_millis(500);

/// What the delivery worker works with.
pub struct OutboxConfig {
    /// The state holding the outbox table.
    pub db: Arc<Db>,
    /// HTTP client for webhooks.
    pub client: reqwest::Client,
    /// Where webhooks go.
    pub target: Target,
    /// Retry waits are divided by this.
    pub time_scale: f64,
    /// The emulator's time.
    pub clock: EmulatorClock,
    /// Notified when a delivery is queued.
    pub wake: Arc<Notify>,
}

/// The delivery worker.
pub struct Outbox {
    config: OutboxConfig,
    in_flight: Mutex<HashSet<i64>>,
    /// Settle requests so far (see [`Outbox::settle`]).
    requested: AtomicU64,
    /// The last settle request a round found nothing due for.
    settled: watch::Sender<u64>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("target", &self.config.target)
            .finish_non_exhaustive()
    }
}

impl Outbox {
    /// A worker sending to `config.target`.
    pub fn new(config: OutboxConfig) -> Arc<Self> {
        Arc::new(Self {
            config,
            in_flight: Mutex::new(HashSet::new()),
            requested: AtomicU64::new(0),
            settled: watch::Sender::new(0),
        })
    }

    /// Completes once every delivery that is due now (on the emulator's clock) has been
    /// attempted and its answer recorded. Deliveries queued before the call are included.
    pub async fn settle(&self) {
        let ticket = self.requested.fetch_add(1, Ordering::SeqCst) + 1;
        self.config.wake.notify_one();
        let mut settled = self.settled.subscribe();
        // The sender lives as long as `self`, so this only ends when the ticket is served.
        let _ = settled.wait_for(|served| *served >= ticket).await;
    }

    /// Moves the manual clock to `until` (Unix ms), stopping at each due time on the way: every
    /// attempt that falls due in between is made at its due time, in order, and answered before
    /// the clock moves on; then settles at `until`.
    pub async fn advance_to(&self, until: i64) -> Result<(), DbError> {
        loop {
            self.settle().await;
            let next = store::next_due_at(&mut *self.config.db.reader().await?, &[]).await?;
            match next {
                // Due now (queued after the settle) or later on the way: stop there.
                Some(at) if at <= until => {
                    self.config.clock.advance_to(at);
                }
                _ => break,
            }
        }
        self.config.clock.advance_to(until);
        self.settle().await;
        Ok(())
    }

    fn in_flight(&self) -> Vec<i64> {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .copied()
            .collect()
    }

    fn set_in_flight(&self, id: i64, flying: bool) {
        let mut set = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if flying {
            set.insert(id);
        } else {
            set.remove(&id);
        }
    }

    async fn pending(&self) -> Result<i64, DbError> {
        store::pending_count(&mut *self.config.db.reader().await?).await
    }

    /// Runs until `shutdown` turns true.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        match self.pending().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(pending = n, "resuming webhook deliveries from the outbox"),
            Err(e) => tracing::error!(error = %e, "could not read the outbox"),
        }
        loop {
            // A round that starts after a settle request sees every row committed before it.
            let ticket = self.requested.load(Ordering::SeqCst);
            let pause = match self.round().await {
                Ok((pause, idle)) => {
                    if idle {
                        self.settled.send_if_modified(|served| {
                            let newer = ticket > *served;
                            if newer {
                                *served = ticket;
                            }
                            newer
                        });
                    }
                    pause
                }
                Err(e) => {
                    tracing::error!(error = %e, "outbox round failed");
                    DB_ERROR_PAUSE
                }
            };
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = self.config.wake.notified() => {}
                _ = shutdown.changed() => break,
            }
            if *shutdown.borrow() {
                break;
            }
        }
    }

    /// Starts every due attempt; returns how long to sleep until the next one, and whether
    /// nothing was due and nothing is in flight.
    async fn round(self: &Arc<Self>) -> Result<(Duration, bool), DbError> {
        let now = self.config.clock.now_millis();
        store::fail_exhausted(&mut *self.config.db.writer().await?, now).await?;
        let skip = self.in_flight();
        let nothing_in_flight = skip.is_empty();
        let due =
            store::due_deliveries(&mut *self.config.db.reader().await?, now, &skip, BATCH).await?;
        let full_batch = due.len() == BATCH as usize;
        let idle = due.is_empty() && nothing_in_flight;
        for delivery in due {
            self.set_in_flight(delivery.id, true);
            let worker = Arc::clone(self);
            tokio::spawn(async move {
                let id = delivery.id;
                worker.attempt(delivery).await;
                worker.set_in_flight(id, false);
                worker.config.wake.notify_one();
            });
        }
        if full_batch {
            return Ok((Duration::ZERO, false));
        }
        let skip = self.in_flight();
        let next = store::next_due_at(&mut *self.config.db.reader().await?, &skip).await?;
        let pause = match next {
            // A manual clock moves only when advanced, and advancing wakes the worker.
            Some(_) if self.config.clock.is_manual() => IDLE,
            Some(at) => Duration::from_millis(
                u64::try_from(at - self.config.clock.now_millis()).unwrap_or(0),
            ),
            None => IDLE,
        };
        Ok((pause, idle))
    }

    async fn attempt(&self, delivery: DueDelivery) {
        let id = delivery.id;
        let attempt = delivery.attempts.saturating_add(1);
        let max = delivery.max_attempts;
        let started = self.config.clock.now_millis();
        let schedule = ScaledSchedule::new(delivery.schedule, self.config.time_scale);
        let retry_at = started.saturating_add(millis(schedule.delay_after(attempt)));
        let started_attempt = async {
            store::start_attempt(
                &mut *self.config.db.writer().await?,
                id,
                attempt,
                retry_at,
                started,
            )
            .await
        };
        if let Err(e) = started_attempt.await {
            tracing::error!(delivery = id, error = %e, "could not record a delivery attempt");
            tokio::time::sleep(DB_ERROR_PAUSE).await;
            return;
        }
        let answer =
            webhooks::post_signed(&self.config.client, &self.config.target, delivery.body).await;
        let verdict = webhooks::classify(&answer);
        let (state, outcome) = match verdict {
            Verdict::Delivered => (DeliveryState::Delivered, "delivered"),
            Verdict::Stop => (DeliveryState::Rejected, "rejected"),
            Verdict::Retry if attempt >= max => (DeliveryState::Failed, "failed"),
            Verdict::Retry => (DeliveryState::Pending, "retry"),
        };
        let (status, error) = match &answer {
            Answer::Status(status) => (Some(*status), None),
            Answer::NoAnswer(reason) => (None, Some(reason.clone())),
        };
        let finished = self.config.clock.now_millis();
        let recorded = async {
            store::finish_attempt(
                &mut *self.config.db.writer().await?,
                id,
                state,
                status,
                error.as_deref(),
                finished,
            )
            .await
        };
        if let Err(e) = recorded.await {
            tracing::error!(delivery = id, error = %e, "could not record a delivery result");
            return;
        }
        let status_text = status.map_or_else(|| "none".to_owned(), |s| s.to_string());
        let next_in_ms = if state == DeliveryState::Pending {
            retry_at.saturating_sub(finished).max(0)
        } else {
            0
        };
        tracing::info!(
            delivery = id,
            notification_type = %delivery.notification_type,
            attempt,
            max_attempts = max,
            status = %status_text,
            error = %error.as_deref().unwrap_or("none"),
            outcome = %outcome,
            next_in_ms,
            "webhook delivery attempt"
        );
    }
}
