//! The rate limit of the watch's `tracing` warnings.

use backpack_drift::{DriftWatch, Family};
use std::time::Duration;

use crate::Buffer;
use crate::fixture::watch;

fn warnings(w: &DriftWatch, times: usize) -> usize {
    let logs = Buffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..times {
            w.check_webhook(Family::Store, "x", b"{}");
        }
    });
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    text.matches("traffic differs from spec/").count()
}

#[test]
fn a_finding_is_logged_once_per_interval_and_switching_off_stops_checks() {
    let w = watch();
    assert_eq!(warnings(&w, 5), 1);
    assert_eq!(w.report().findings[0].count, 5);
    // A zero interval logs every occurrence (the limit is the interval, not a count).
    let every = watch().with_warn_interval(Duration::ZERO);
    assert_eq!(warnings(&every, 3), 3);
    w.set_enabled(false);
    assert_eq!(warnings(&w, 2), 0);
    assert_eq!(w.report().findings[0].count, 5);
}
