//! How often and how patiently a commit that lost an optimistic-concurrency race is retried:
//! the table's `commit.retry.*` properties, with Iceberg Java's defaults.
//!
//! Appends are the exception to the retry count: they commute, so losing a race says nothing
//! about whether the rows belong in the table; with many writers at once a handful of attempts
//! can all lose (8 writers: about one in two inserts would fail after 5). An append is retried
//! until `commit.retry.total-timeout-ms`, with short jittered waits that keep the catalog busy.

use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    pub retries: u32,
    pub min_wait: Duration,
    pub max_wait: Duration,
    pub total_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 4,
            min_wait: Duration::from_millis(100),
            max_wait: Duration::from_secs(60),
            total_timeout: Duration::from_secs(30 * 60),
        }
    }
}

impl RetryPolicy {
    pub fn from_properties(properties: &HashMap<String, String>) -> Self {
        let defaults = RetryPolicy::default();
        let get = |key: &str| properties.get(key).and_then(|v| v.trim().parse::<u64>().ok());
        RetryPolicy {
            retries: get("commit.retry.num-retries").map_or(defaults.retries, |n| n as u32),
            min_wait: get("commit.retry.min-wait-ms").map_or(defaults.min_wait, Duration::from_millis),
            max_wait: get("commit.retry.max-wait-ms").map_or(defaults.max_wait, Duration::from_millis),
            total_timeout: get("commit.retry.total-timeout-ms").map_or(defaults.total_timeout, Duration::from_millis),
        }
    }

    /// The most patient of several tables' policies, for a commit that spans them.
    pub fn widest(policies: impl IntoIterator<Item = RetryPolicy>) -> RetryPolicy {
        policies.into_iter().reduce(|a, b| RetryPolicy {
            retries: a.retries.max(b.retries),
            min_wait: a.min_wait.max(b.min_wait),
            max_wait: a.max_wait.max(b.max_wait),
            total_timeout: a.total_timeout.max(b.total_timeout),
        })
        .unwrap_or_default()
    }

    /// Whether retry `attempt` (1-based) may still be made, `elapsed` after the first.
    pub fn allows(&self, attempt: u32, elapsed: Duration, append_only: bool) -> bool {
        elapsed < self.total_timeout && (append_only || attempt <= self.retries)
    }

    /// The wait before an append's retry: jittered between `min_wait` and a second (or
    /// `max_wait` if smaller), independent of the attempt, since its race is with the others'
    /// next commits, not with a slow catalog.
    pub fn append_backoff(&self) -> Duration {
        let cap = self.max_wait.min(Duration::from_secs(1)).max(self.min_wait);
        let jitter = (uuid::Uuid::new_v4().as_u128() % 1000) as f64 / 1000.0;
        self.min_wait + (cap - self.min_wait).mul_f64(jitter * jitter)
    }

    /// The wait before retry `attempt` (1-based): exponential from `min_wait`, capped at
    /// `max_wait`, with full jitter so that writers that collided do not collide again.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exponential = self.min_wait.saturating_mul(1u32 << attempt.min(20).saturating_sub(1));
        let cap = exponential.min(self.max_wait);
        let jitter = (uuid::Uuid::new_v4().as_u128() % 1000) as f64 / 1000.0;
        self.min_wait.max(cap.mul_f64(0.5 + jitter / 2.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_properties_override_the_defaults() {
        let properties: HashMap<String, String> =
            [("commit.retry.num-retries", "10"), ("commit.retry.min-wait-ms", "5")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let policy = RetryPolicy::from_properties(&properties);
        assert_eq!(policy.retries, 10);
        assert_eq!(policy.min_wait, Duration::from_millis(5));
        assert_eq!(policy.max_wait, Duration::from_secs(60));
    }

    #[test]
    fn appends_retry_until_the_time_runs_out() {
        let policy = RetryPolicy::default();
        assert!(!policy.allows(5, Duration::ZERO, false));
        assert!(policy.allows(500, Duration::from_secs(60), true));
        assert!(!policy.allows(500, Duration::from_secs(3600), true));
        let wait = policy.append_backoff();
        assert!(wait >= Duration::from_millis(100) && wait <= Duration::from_secs(1));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy { max_wait: Duration::from_millis(500), ..RetryPolicy::default() };
        assert!(policy.backoff(1) >= Duration::from_millis(100) && policy.backoff(1) <= Duration::from_millis(100));
        assert!(policy.backoff(3) >= Duration::from_millis(200) && policy.backoff(3) <= Duration::from_millis(400));
        assert!(policy.backoff(30) <= Duration::from_millis(500));
    }
}
