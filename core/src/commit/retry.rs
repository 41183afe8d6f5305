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
        policies
            .into_iter()
            .reduce(|a, b| RetryPolicy {
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
        let jitter = unit_random();
        self.min_wait + (cap - self.min_wait).mul_f64(jitter * jitter)
    }

    /// The wait before retry `attempt` (1-based), with full jitter: anywhere between `min_wait`
    /// and a ceiling that doubles with every attempt (`2 * min_wait` for the first) up to
    /// `max_wait`, so that writers that collided spread out instead of colliding again.
    pub fn backoff(&self, attempt: u32) -> Duration {
        self.jittered_backoff(attempt, unit_random())
    }

    /// `backoff` with the random draw `jitter` in [0, 1] given.
    fn jittered_backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let ceiling = self.min_wait.saturating_mul(1u32 << attempt.clamp(1, 20)).min(self.max_wait).max(self.min_wait);
        self.min_wait + (ceiling - self.min_wait).mul_f64(jitter.clamp(0.0, 1.0))
    }
}

/// A uniformly distributed number in [0, 1), from the operating system's randomness that
/// version 4 UUIDs are drawn from: their first 48 bits are random (version and variant bits
/// come later).
fn unit_random() -> f64 {
    const RANDOM_BITS: u32 = 48;
    let bits = uuid::Uuid::new_v4().as_u128() >> (128 - RANDOM_BITS);
    bits as f64 / (1u64 << RANDOM_BITS) as f64
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
    fn defaults_are_iceberg_javas() {
        let policy = RetryPolicy::from_properties(&HashMap::new());
        assert_eq!(policy.retries, 4);
        assert_eq!(policy.min_wait, Duration::from_millis(100));
        assert_eq!(policy.max_wait, Duration::from_secs(60));
        assert_eq!(policy.total_timeout, Duration::from_secs(30 * 60));
        assert!(policy.allows(4, Duration::ZERO, false) && !policy.allows(5, Duration::ZERO, false));
    }

    #[test]
    fn backoff_ceiling_doubles_from_twice_the_minimum_up_to_the_maximum() {
        let policy = RetryPolicy { max_wait: Duration::from_millis(1000), ..RetryPolicy::default() };
        let ms = Duration::from_millis;
        for (attempt, ceiling) in [(1, ms(200)), (2, ms(400)), (3, ms(800)), (4, ms(1000)), (30, ms(1000))] {
            assert_eq!(policy.jittered_backoff(attempt, 0.0), ms(100), "attempt {attempt} waits at least min-wait-ms");
            assert_eq!(policy.jittered_backoff(attempt, 1.0), ceiling, "attempt {attempt}");
        }
        // A maximum below the minimum leaves no room: the minimum it is.
        let narrow = RetryPolicy { min_wait: ms(50), max_wait: ms(10), ..RetryPolicy::default() };
        assert_eq!(narrow.jittered_backoff(3, 0.7), ms(50));
    }

    #[test]
    fn every_retry_waits_a_different_time_within_its_bounds() {
        let policy = RetryPolicy { max_wait: Duration::from_millis(1000), ..RetryPolicy::default() };
        for attempt in [1, 2, 5] {
            let ceiling = Duration::from_millis(100 * (1 << attempt)).min(policy.max_wait);
            let waits: Vec<Duration> = (0..200).map(|_| policy.backoff(attempt)).collect();
            assert!(waits.iter().all(|w| *w >= policy.min_wait && *w <= ceiling), "attempt {attempt}: {waits:?}");
            let distinct: std::collections::HashSet<&Duration> = waits.iter().collect();
            assert!(
                distinct.len() > 100,
                "attempt {attempt} is not jittered: {} distinct waits of 200",
                distinct.len()
            );
            // Spread over the range, not clustered at one end.
            let middle = policy.min_wait + (ceiling - policy.min_wait) / 2;
            let low = waits.iter().filter(|w| **w < middle).count();
            assert!((40..=160).contains(&low), "attempt {attempt}: {low} of 200 waits below the middle");
        }
    }

    #[test]
    fn unit_random_stays_in_the_unit_interval() {
        assert!((0..1000).map(|_| unit_random()).all(|x| (0.0..1.0).contains(&x)));
    }
}
