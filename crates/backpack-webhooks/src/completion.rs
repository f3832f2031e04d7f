//! A delivery's work runs to its end even if the client hangs up, without a task per delivery.
//!
//! Spawning the work and awaiting its `JoinHandle` costs a task, a wake-up of the runtime's other
//! worker (which may steal it) and the context switches that follow, on every delivery. Instead
//! the caller polls the boxed work in place, and only if the caller is dropped first (hyper drops
//! the service future when the connection closes) is the unfinished work moved into a task of its
//! own, where it finishes: commits or rolls back, records its answer. It takes the delivery's span
//! and "replayed" flag along ([`observe::carry`]): the wrappers that set them drop their inner
//! future inside them.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::FutureExt;

use crate::observe;

type Work<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// `work`, polled by its caller; moved into a task of its own if the caller drops it early.
/// Resolves to `None` if the work panicked (the panic is not propagated to the caller).
pub(crate) struct RunToCompletion<T: Send + 'static> {
    work: Option<Work<std::thread::Result<T>>>,
}

impl<T: Send + 'static> RunToCompletion<T> {
    pub(crate) fn new(work: impl Future<Output = T> + Send + 'static) -> Self {
        Self {
            work: Some(Box::pin(AssertUnwindSafe(work).catch_unwind())),
        }
    }
}

impl<T: Send + 'static> Future for RunToCompletion<T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let Some(work) = self.work.as_mut() else {
            return Poll::Ready(None); // polled after it finished
        };
        let done = std::task::ready!(work.as_mut().poll(cx));
        self.work = None;
        Poll::Ready(done.ok())
    }
}

impl<T: Send + 'static> Drop for RunToCompletion<T> {
    fn drop(&mut self) {
        let Some(work) = self.work.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(observe::carry(work))),
            // Dropped outside a runtime (the runtime is shutting down): nothing can poll it; a
            // transaction in it is rolled back when its connection is dropped.
            Err(_) => tracing::warn!("a delivery was cut short as the runtime shut down"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use tokio::sync::oneshot;

    use super::*;

    #[tokio::test]
    async fn resolves_to_the_work_output_in_place() {
        assert_eq!(RunToCompletion::new(async { 7 }).await, Some(7));
    }

    #[tokio::test]
    async fn a_panic_becomes_none() {
        let work = RunToCompletion::new(async {
            if true {
                panic!("handler bug");
            }
            1
        });
        assert_eq!(work.await, None);
    }

    #[tokio::test]
    async fn dropped_early_the_work_still_finishes() {
        let (go, wait) = oneshot::channel::<()>();
        let (done_tx, done_rx) = oneshot::channel::<()>();
        let finished = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&finished);
        let mut work = Box::pin(RunToCompletion::new(async move {
            let _ = wait.await;
            flag.store(true, Ordering::SeqCst);
            let _ = done_tx.send(());
        }));
        // Poll once so the work is under way, then drop it, as hyper does on a hang-up.
        assert!(futures::poll!(work.as_mut()).is_pending());
        drop(work);
        assert!(!finished.load(Ordering::SeqCst));
        go.send(()).unwrap();
        done_rx.await.unwrap();
        assert!(finished.load(Ordering::SeqCst));
    }
}
