//! When a request is tried again, and how long to wait first: exponential backoff with a cap
//! and a total deadline, `Retry-After` honoured, and which failures are worth another attempt.
//!
//! A failure is retried when a later attempt can succeed without anything changing on this side:
//! the connection could not be made or broke (the server restarting, a load balancer dropping an
//! idle connection), a timeout, `408`, `429` (rate limited), `500`, `502`, `503` (queue full)
//! and `504`. Everything else — a refused key, a bad argument, a TLS certificate that does not
//! verify — fails at once: repeating it would only delay the same answer.

use std::time::Duration;

/// How often and for how long one request is tried, and how long one attempt may stall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts of one request, the first included (at least 1).
    pub attempts: u32,
    /// The wait before the second attempt; each further wait doubles, up to `max_backoff`.
    pub initial_backoff: Duration,
    /// The longest wait between two attempts (unless the server's `Retry-After` asks longer).
    pub max_backoff: Duration,
    /// How long one request may take over all its attempts: no attempt starts whose wait
    /// would end after it.
    pub deadline: Duration,
    /// How long establishing a connection (and the TLS handshake) may take.
    pub connect_timeout: Duration,
    /// How long one read or write may make no progress, including the wait for the server's
    /// answer once the request is sent.
    pub io_timeout: Duration,
}

impl Default for RetryPolicy {
    /// 6 attempts, waits of 1, 2, 4, 8 and 16 s (at most 30 s), 10 minutes in all; 30 s to
    /// connect, 5 minutes without progress on a read or write.
    fn default() -> RetryPolicy {
        RetryPolicy {
            attempts: 6,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            deadline: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(30),
            io_timeout: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `failed`-th attempt failed (1 for the first): `initial_backoff`
    /// doubled `failed - 1` times, at most `max_backoff`.
    pub fn backoff(&self, failed: u32) -> Duration {
        let doublings = failed.saturating_sub(1).min(31);
        self.initial_backoff
            .saturating_mul(1u32 << doublings)
            .min(self.max_backoff)
    }
}

/// Whether an answer with this status is worth another attempt.
pub(crate) fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// Whether a failure of the transport is worth another attempt: a connection not made or
/// broken, a timeout, a name not resolved; not a bad URL or a certificate that does not verify.
pub(crate) fn retryable_transport(error: &ureq::Error) -> bool {
    matches!(
        error,
        ureq::Error::Io(_)
            | ureq::Error::Timeout(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::HostNotFound
            | ureq::Error::Protocol(_)
    )
}

/// The seconds of a `Retry-After: N` header. The HTTP-date form is not used by `stowaway serve`
/// and falls back to the backoff.
pub(crate) fn retry_after(value: Option<&str>) -> Option<Duration> {
    value?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::default();
        let waits: Vec<u64> = (1..=7).map(|n| policy.backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(policy.backoff(u32::MAX), Duration::from_secs(30));
        let fast = RetryPolicy {
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(25),
            ..RetryPolicy::default()
        };
        assert_eq!(fast.backoff(1), Duration::from_millis(10));
        assert_eq!(fast.backoff(2), Duration::from_millis(20));
        assert_eq!(fast.backoff(3), Duration::from_millis(25));
    }

    #[test]
    fn retry_after_takes_seconds_only() {
        assert_eq!(retry_after(Some(" 30 ")), Some(Duration::from_secs(30)));
        assert_eq!(retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(retry_after(None), None);
    }

    #[test]
    fn only_transient_answers_are_retried() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(retryable_status(status), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 413, 422, 501] {
            assert!(!retryable_status(status), "{status}");
        }
        assert!(retryable_transport(&ureq::Error::ConnectionFailed));
        assert!(retryable_transport(&ureq::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused
        ))));
        assert!(!retryable_transport(&ureq::Error::BadUri("x".into())));
        assert!(!retryable_transport(&ureq::Error::Tls("bad certificate")));
    }
}
