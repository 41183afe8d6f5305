//! How far a long maintenance procedure is, in units it chooses (bytes rewritten). The procedure
//! advances it on the thread that runs it; DuckDB's progress bar reads it from another, so both
//! sides are atomics.
//!
//! A procedure made of steps whose sizes are learnt one after the other (manifests to read, then
//! files to delete) gives each step a fixed share of the bar (`Step`): a total that grew as the
//! steps learnt their sizes would make the bar go back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

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

/// One step of a procedure, worth `share` units of its `Progress`, spread evenly over the items
/// the step learns it has. Dropped, it counts as done: a step with nothing to do (or cut short
/// by an error) still hands the bar on to the next.
#[derive(Debug)]
pub struct Step<'a> {
    progress: &'a Progress,
    share: u64,
    state: Mutex<StepState>,
}

#[derive(Debug, Default)]
struct StepState {
    items: u64,
    done: u64,
    /// Units of the share given to `progress` so far.
    advanced: u64,
}

impl<'a> Step<'a> {
    pub fn new(progress: &'a Progress, share: u64) -> Self {
        Step { progress, share, state: Mutex::default() }
    }

    /// `items` more items ahead in this step.
    pub fn expect(&self, items: u64) {
        crate::sync::lock(&self.state).items += items;
    }

    /// One item done.
    pub fn item_done(&self) {
        let mut state = crate::sync::lock(&self.state);
        state.done += 1;
        let reached = self.share * state.done.min(state.items) / state.items.max(1);
        // Items learnt late lower the share an item is worth: the bar waits rather than go back.
        if reached > state.advanced {
            self.progress.advance(reached - state.advanced);
            state.advanced = reached;
        }
    }
}

impl Drop for Step<'_> {
    fn drop(&mut self) {
        let state = crate::sync::lock(&self.state);
        self.progress.advance(self.share.saturating_sub(state.advanced));
    }
}

#[cfg(test)]
mod tests {
    use super::{Progress, Step};

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

    #[test]
    fn steps_fill_their_shares_and_never_go_back() {
        let progress = Progress::default();
        progress.start(100);
        let reading = Step::new(&progress, 40);
        reading.expect(4);
        reading.item_done();
        assert_eq!(progress.percent(), 10.0);
        reading.expect(4);
        reading.item_done();
        assert_eq!(progress.percent(), 10.0);
        reading.item_done();
        assert_eq!(progress.percent(), 15.0);
        drop(reading);
        assert_eq!(progress.percent(), 40.0);
        let deleting = Step::new(&progress, 60);
        drop(deleting);
        assert_eq!(progress.percent(), 100.0);
    }
}
