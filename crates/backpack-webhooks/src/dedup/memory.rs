//! In-process store: a map behind a mutex, with a [`Notify`] per in-flight claim so that a waiting
//! duplicate wakes up as soon as the first delivery completes or releases.
//!
//! Forgets everything on restart; recorded answers are kept until the receiver purges them
//! (retention, 7 days by default). For tests, development and single-process deployments that
//! accept losing the records on restart. Use the SQLite or PostgreSQL store otherwise.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use tokio::sync::Notify;
use tokio::time::Instant;

use super::{Claim, ClaimToken, DedupStore, StoreError, StoredAnswer};

#[derive(Debug)]
enum Entry {
    Claimed {
        token: ClaimToken,
        /// `None` when `now + lease` overflows (never expires).
        until: Option<Instant>,
        notify: Arc<Notify>,
    },
    Done {
        answer: StoredAnswer,
        /// When it was recorded (wall clock, compared with purge cutoffs).
        at: SystemTime,
    },
}

/// In-memory [`DedupStore`].
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, Entry>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of keys held (claimed or done).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// `true` when no key is held.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // No critical section below can panic half-way, so a poisoned map is still consistent.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn claim_now(&self, key: &str, lease: Duration) -> Claim {
        let now = Instant::now();
        let mut map = self.lock();
        let notify = match map.get(key) {
            Some(Entry::Done { answer, .. }) => return Claim::Done(answer.clone()),
            Some(Entry::Claimed { until, notify, .. }) => {
                if until.is_none_or(|t| t > now) {
                    return Claim::InProgress;
                }
                // Expired: take over, keeping the waiters' Notify.
                notify.clone()
            }
            None => Arc::new(Notify::new()),
        };
        let token = ClaimToken::new();
        map.insert(
            key.to_owned(),
            Entry::Claimed {
                token: token.clone(),
                until: now.checked_add(lease),
                notify,
            },
        );
        Claim::Acquired(token)
    }

    /// Applies `f` to the claim of `key` if `token` still owns it.
    fn with_owned_claim(
        &self,
        key: &str,
        token: &ClaimToken,
        f: impl FnOnce(&mut HashMap<String, Entry>, Arc<Notify>),
    ) -> Result<(), StoreError> {
        let mut map = self.lock();
        match map.get(key) {
            Some(Entry::Claimed {
                token: held,
                notify,
                ..
            }) if held == token => {
                let notify = notify.clone();
                f(&mut map, notify);
                Ok(())
            }
            _ => Err(StoreError::ClaimLost),
        }
    }
}

impl DedupStore for MemoryStore {
    fn claim(
        &self,
        key: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send {
        std::future::ready(Ok(self.claim_now(key, lease)))
    }

    fn complete(
        &self,
        key: &str,
        token: &ClaimToken,
        answer: &StoredAnswer,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let result = self.with_owned_claim(key, token, |map, notify| {
            let done = Entry::Done {
                answer: answer.clone(),
                at: SystemTime::now(),
            };
            map.insert(key.to_owned(), done);
            notify.notify_waiters();
        });
        std::future::ready(result)
    }

    fn release(
        &self,
        key: &str,
        token: &ClaimToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let result = self.with_owned_claim(key, token, |map, notify| {
            map.remove(key);
            notify.notify_waiters();
        });
        std::future::ready(result)
    }

    fn renew(
        &self,
        key: &str,
        token: &ClaimToken,
        lease: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let result = self.with_owned_claim(key, token, |map, _| {
            if let Some(Entry::Claimed { until, .. }) = map.get_mut(key) {
                *until = Instant::now().checked_add(lease);
            }
        });
        std::future::ready(result)
    }

    fn forget(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        let mut map = self.lock();
        if matches!(map.get(key), Some(Entry::Done { .. })) {
            map.remove(key);
        }
        std::future::ready(Ok(()))
    }

    fn purge_completed_before(
        &self,
        cutoff: SystemTime,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        let mut map = self.lock();
        let before = map.len();
        map.retain(|_, entry| !matches!(entry, Entry::Done { at, .. } if *at <= cutoff));
        std::future::ready(Ok((before - map.len()) as u64))
    }

    fn wait_for_change(&self, key: &str, max: Duration) -> impl Future<Output = ()> + Send {
        let state = match self.lock().get(key) {
            Some(Entry::Claimed { notify, until, .. }) => Some((notify.clone(), *until)),
            _ => None,
        };
        async move {
            let Some((notify, until)) = state else {
                return;
            };
            let notified = notify.notified();
            tokio::pin!(notified);
            // Register before re-checking, so a completion in between is not missed.
            notified.as_mut().enable();
            let still_claimed = matches!(
                self.lock().get(key),
                Some(Entry::Claimed { notify: n, .. }) if Arc::ptr_eq(n, &notify)
            );
            if !still_claimed {
                return;
            }
            // Also wake when the lease runs out, so a crashed claimer is taken over.
            let deadline = match (Instant::now().checked_add(max), until) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            match deadline {
                Some(deadline) => {
                    let _ = tokio::time::timeout_at(deadline, notified).await;
                }
                None => notified.await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_secs(30);

    #[tokio::test]
    async fn claim_complete_replay() {
        let store = MemoryStore::new();
        let Claim::Acquired(t) = store.claim("k", LEASE).await.unwrap() else {
            panic!("expected Acquired")
        };
        assert_eq!(store.claim("k", LEASE).await.unwrap(), Claim::InProgress);
        store
            .complete("k", &t, &StoredAnswer::empty(204))
            .await
            .unwrap();
        assert_eq!(
            store.claim("k", LEASE).await.unwrap(),
            Claim::Done(StoredAnswer::empty(204))
        );
    }

    #[tokio::test]
    async fn release_allows_reclaim_and_old_token_is_dead() {
        let store = MemoryStore::new();
        let Claim::Acquired(t) = store.claim("k", LEASE).await.unwrap() else {
            panic!("expected Acquired")
        };
        store.release("k", &t).await.unwrap();
        assert!(matches!(
            store.claim("k", LEASE).await.unwrap(),
            Claim::Acquired(_)
        ));
        assert!(matches!(
            store.complete("k", &t, &StoredAnswer::empty(204)).await,
            Err(StoreError::ClaimLost)
        ));
    }

    #[tokio::test]
    async fn expired_lease_is_taken_over() {
        let store = MemoryStore::new();
        // A zero lease has expired by the next claim (Instant is monotonic).
        let Claim::Acquired(old) = store.claim("k", Duration::ZERO).await.unwrap() else {
            panic!("expected Acquired")
        };
        assert!(matches!(
            store.claim("k", LEASE).await.unwrap(),
            Claim::Acquired(_)
        ));
        assert!(matches!(
            store.renew("k", &old, LEASE).await,
            Err(StoreError::ClaimLost)
        ));
    }

    #[tokio::test]
    async fn waiter_wakes_on_complete() {
        let store = Arc::new(MemoryStore::new());
        let Claim::Acquired(t) = store.claim("k", LEASE).await.unwrap() else {
            panic!("expected Acquired")
        };
        let waiter = {
            let store = store.clone();
            tokio::spawn(async move {
                store.wait_for_change("k", Duration::from_secs(3600)).await;
                store.claim("k", LEASE).await.unwrap()
            })
        };
        // Whether the waiter registered before or after this completes, it must see Done
        // (a missed wake-up would hang for an hour and time the test out).
        store
            .complete("k", &t, &StoredAnswer::empty(204))
            .await
            .unwrap();
        assert_eq!(waiter.await.unwrap(), Claim::Done(StoredAnswer::empty(204)));
    }
}
