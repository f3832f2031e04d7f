//! Retry policy: which failures are retried, and how long to wait between
//! attempts (jittered exponential backoff, or what `Retry-After` asks for).

use std::time::{Duration, SystemTime};

use http::{HeaderMap, Method, StatusCode};
use rand::Rng;

/// Bounds and backoff for automatic retries.
///
/// Used by [`Transport::send`](crate::Transport::send) for API requests
/// (connection errors, 429 and 5xx on idempotent methods only) and by
/// [`TokenCache`](crate::TokenCache) for token requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_elapsed: Duration,
}

impl Default for RetryPolicy {
    /// 3 attempts, backoff 200 ms doubling up to 5 s, at most 30 s in total.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries (one attempt).
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the maximum number of attempts, the first one included
    /// (values below 1 are treated as 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the backoff before the first retry; each further retry doubles it.
    pub fn with_initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// Caps a single backoff delay.
    pub fn with_max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// Caps the time from the first attempt after which no retry is started
    /// (a retry whose delay would end past this bound is not made).
    pub fn with_max_elapsed(mut self, elapsed: Duration) -> Self {
        self.max_elapsed = elapsed;
        self
    }

    /// Maximum number of attempts, the first one included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Backoff before the first retry.
    pub fn initial_backoff(&self) -> Duration {
        self.initial_backoff
    }

    /// Cap of a single backoff delay.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// Cap of the total time spent retrying.
    pub fn max_elapsed(&self) -> Duration {
        self.max_elapsed
    }

    /// The jittered delay before retry number `retry` (1 = first retry):
    /// `initial * 2^(retry-1)`, capped at the maximum, then drawn uniformly
    /// from its upper half so that many clients failing together spread out.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(31);
        let base = self
            .initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_backoff);
        let half = base / 2;
        let jitter_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let jitter = if jitter_nanos == 0 {
            0
        } else {
            rand::rng().random_range(0..=jitter_nanos)
        };
        half + Duration::from_nanos(jitter)
    }

    /// Whether a retry after `delay` still fits the bounds, given that
    /// `attempts_made` attempts were made since `elapsed` ago.
    pub(crate) fn allows_retry(
        &self,
        attempts_made: u32,
        elapsed: Duration,
        delay: Duration,
    ) -> bool {
        attempts_made < self.max_attempts && elapsed.saturating_add(delay) <= self.max_elapsed
    }
}

/// Whether `method` may be sent again without changing the outcome
/// (GET, PUT, DELETE, HEAD, OPTIONS). POST and PATCH are never retried.
pub fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::PUT | Method::DELETE | Method::HEAD | Method::OPTIONS
    )
}

/// Whether a status is worth retrying: 429 and 5xx, except 501 and 505,
/// which describe what the server supports rather than a passing condition.
pub fn is_retryable_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || (status.is_server_error()
            && status != StatusCode::NOT_IMPLEMENTED
            && status != StatusCode::HTTP_VERSION_NOT_SUPPORTED)
}

/// The delay a `Retry-After` header asks for, either as delay-seconds or as an
/// HTTP-date (a date in the past means "now"). `None` when the header is
/// absent or unreadable.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let policy = RetryPolicy::default()
            .with_initial_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_millis(350));
        for _ in 0..100 {
            let first = policy.backoff(1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let second = policy.backoff(2);
            assert!(second >= Duration::from_millis(100) && second <= Duration::from_millis(200));
            let capped = policy.backoff(10);
            assert!(capped >= Duration::from_millis(175) && capped <= Duration::from_millis(350));
            assert!(policy.backoff(u32::MAX) <= Duration::from_millis(350));
        }
        let zero = RetryPolicy::default().with_initial_backoff(Duration::ZERO);
        assert_eq!(zero.backoff(3), Duration::ZERO);
    }

    #[test]
    fn bounds() {
        let policy = RetryPolicy::default()
            .with_max_attempts(3)
            .with_max_elapsed(Duration::from_secs(10));
        assert!(policy.allows_retry(1, Duration::ZERO, Duration::from_secs(1)));
        assert!(policy.allows_retry(2, Duration::from_secs(8), Duration::from_secs(2)));
        assert!(!policy.allows_retry(3, Duration::ZERO, Duration::ZERO));
        assert!(!policy.allows_retry(1, Duration::from_secs(9), Duration::from_secs(2)));
        assert_eq!(
            RetryPolicy::default().with_max_attempts(0).max_attempts(),
            1
        );
    }

    #[test]
    fn idempotent_methods() {
        for method in [
            Method::GET,
            Method::PUT,
            Method::DELETE,
            Method::HEAD,
            Method::OPTIONS,
        ] {
            assert!(is_idempotent(&method), "{method}");
        }
        for method in [Method::POST, Method::PATCH, Method::CONNECT] {
            assert!(!is_idempotent(&method), "{method}");
        }
    }

    #[test]
    fn retryable_statuses() {
        for status in [429, 500, 502, 503, 504] {
            assert!(is_retryable_status(StatusCode::from_u16(status).unwrap()));
        }
        for status in [200, 400, 401, 404, 409, 501, 505] {
            assert!(!is_retryable_status(StatusCode::from_u16(status).unwrap()));
        }
    }

    #[test]
    fn retry_after_seconds_and_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None);
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("0"));
        assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static(" 7 "));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(42));
        headers.insert(
            http::header::RETRY_AFTER,
            HeaderValue::from_str(&later).unwrap(),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(42)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(42));
        headers.insert(
            http::header::RETRY_AFTER,
            HeaderValue::from_str(&earlier).unwrap(),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("-1"));
        assert_eq!(retry_after(&headers, now), None);
    }
}
