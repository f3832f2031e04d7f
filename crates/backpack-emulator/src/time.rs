//! The emulator's clock, and RFC 3339 timestamps (UTC, second precision) without a date-time
//! dependency.
//!
//! Every "now" in the emulator (token lifetimes, `created_at`, when a webhook retry is due)
//! comes from one [`EmulatorClock`]. The system clock is for interactive use (retry delays can still be
//! shortened with a time scale); a manual clock stands still until [`EmulatorClock::advance`] moves it,
//! which makes retry schedules deterministic in tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where the emulator's time comes from. Cheap to clone; clones share the same time.
#[derive(Debug, Clone)]
pub struct EmulatorClock {
    kind: Arc<ClockKind>,
}

#[derive(Debug)]
enum ClockKind {
    System,
    /// Unix milliseconds; moves only through [`EmulatorClock::advance`].
    Manual(AtomicI64),
}

fn system_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn duration_millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl EmulatorClock {
    /// The system clock.
    pub fn system() -> Self {
        Self {
            kind: Arc::new(ClockKind::System),
        }
    }

    /// A clock that starts at the current system time (rounded down to a whole second) and
    /// then stands still until [`EmulatorClock::advance`] moves it.
    pub fn manual() -> Self {
        let start = system_millis() / 1000 * 1000;
        Self {
            kind: Arc::new(ClockKind::Manual(AtomicI64::new(start))),
        }
    }

    /// Whether this is a manual clock.
    pub fn is_manual(&self) -> bool {
        matches!(*self.kind, ClockKind::Manual(_))
    }

    /// Moves a manual clock forward by `by`; `false` (and no effect) on the system clock.
    pub fn advance(&self, by: Duration) -> bool {
        match &*self.kind {
            ClockKind::System => false,
            ClockKind::Manual(now) => {
                let by = duration_millis(by);
                let _ = now.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                    Some(t.saturating_add(by))
                });
                true
            }
        }
    }

    /// Moves a manual clock forward to `at_ms` (Unix ms), or leaves it where it is if it is
    /// there already; `false` (and no effect) on the system clock.
    pub(crate) fn advance_to(&self, at_ms: i64) -> bool {
        match &*self.kind {
            ClockKind::System => false,
            ClockKind::Manual(now) => {
                now.fetch_max(at_ms, Ordering::SeqCst);
                true
            }
        }
    }

    /// The current time in Unix milliseconds.
    pub fn now_millis(&self) -> i64 {
        match &*self.kind {
            ClockKind::System => system_millis(),
            ClockKind::Manual(now) => now.load(Ordering::SeqCst),
        }
    }

    /// The current time in whole Unix seconds.
    pub fn now_secs(&self) -> u64 {
        u64::try_from(self.now_millis() / 1000).unwrap_or(0)
    }

    /// The current time as `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn rfc3339_now(&self) -> String {
        rfc3339(self.now_secs())
    }
}

/// Milliseconds in `d`, saturating.
pub fn millis(d: Duration) -> i64 {
    duration_millis(d)
}

/// `secs` after the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX);
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let clock = EmulatorClock::manual();
        let start = clock.now_millis();
        let shared = clock.clone();
        assert_eq!(clock.now_millis(), start);
        assert!(shared.advance(Duration::from_secs(300)));
        assert_eq!(clock.now_millis(), start + 300_000);
        assert!(clock.advance_to(start + 360_000));
        assert_eq!(clock.now_millis(), start + 360_000);
        assert!(clock.advance_to(start));
        assert_eq!(clock.now_millis(), start + 360_000, "never backwards");
        assert!(!EmulatorClock::system().advance(Duration::from_secs(1)));
        assert!(!EmulatorClock::system().advance_to(i64::MAX));
        assert!(!EmulatorClock::system().is_manual());
    }

    #[test]
    fn known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }
}
