//! How far a long maintenance procedure is, in units it chooses (bytes rewritten). The procedure
//! advances it on the thread that runs it; DuckDB's progress bar reads it from another, so both
//! sides are atomics.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    /// The work ahead is `total` units; none done yet.
    pub fn start(&self, total: u64) {
        self.done.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
    }

    pub fn advance(&self, units: u64) {
        self.done.fetch_add(units, Ordering::Relaxed);
    }

    /// Percent done, or -1 while the work ahead is not known (DuckDB's "unknown").
    pub fn percent(&self) -> f64 {
        let total = self.total.load(Ordering::Relaxed);
        if total == 0 {
            return -1.0;
        }
        let done = self.done.load(Ordering::Relaxed).min(total);
        100.0 * done as f64 / total as f64
    }
}

#[cfg(test)]
mod tests {
    use super::Progress;

    #[test]
    fn percent_of_the_work_started() {
        let progress = Progress::default();
        assert_eq!(progress.percent(), -1.0);
        progress.start(400);
        progress.advance(100);
        assert_eq!(progress.percent(), 25.0);
        progress.advance(1000);
        assert_eq!(progress.percent(), 100.0);
    }
}
