//! Locks that outlive a panic.
//!
//! The DuckDB extension catches every panic at its C ABI and reports it as that call's error,
//! so the process goes on. A `std::sync::Mutex` held during such a panic is poisoned, and with
//! `lock().expect(..)` every later call that takes it would panic too: one bug would turn into
//! a file IO cache, a catalog or a transaction that fails for good. What floe's locks protect
//! is replaced or appended whole by each holder, never left half-written, so a poisoned lock
//! is taken as it is.
//!
//! ```
//! use std::sync::Mutex;
//! let files = Mutex::new(vec!["a.parquet"]);
//! let _ = std::panic::catch_unwind(|| {
//!     let _held = files.lock().unwrap();
//!     panic!("a bug");
//! });
//! floe_core::sync::lock(&files).push("b.parquet");
//! assert_eq!(*floe_core::sync::lock(&files), ["a.parquet", "b.parquet"]);
//! ```

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, clearing the poison a panicking holder left.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| {
        mutex.clear_poison();
        poisoned.into_inner()
    })
}

#[cfg(test)]
mod tests {
    use std::panic::{catch_unwind, AssertUnwindSafe};

    use super::*;

    #[test]
    fn a_panic_while_holding_the_lock_leaves_it_usable() {
        let state = Mutex::new(vec![1]);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            lock(&state).push(2);
            let _held = lock(&state);
            panic!("while holding the lock");
        }));
        assert!(outcome.is_err());
        assert!(state.is_poisoned());
        lock(&state).push(3);
        assert!(!state.is_poisoned(), "the poison is cleared once recovered");
        assert_eq!(*lock(&state), [1, 2, 3]);
    }
}
