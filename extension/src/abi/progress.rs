//! How far a running procedure is: a handle the glue creates, passes to the procedure's call
//! and reads from DuckDB's progress bar while the call runs.

use floe_core::maintenance::progress::Progress;

/// How far a running procedure is; DuckDB's progress bar reads it while the procedure runs.
pub struct FloeProgress {
    progress: Progress,
}

impl FloeProgress {
    pub(super) fn get(&self) -> &Progress {
        &self.progress
    }
}

#[no_mangle]
pub extern "C" fn floe_progress_new() -> *mut FloeProgress {
    Box::into_raw(Box::new(FloeProgress { progress: Progress::default() }))
}

/// Percent done, or -1 while unknown.
///
/// # Safety
/// `progress` must be a handle from `floe_progress_new`.
#[no_mangle]
pub unsafe extern "C" fn floe_progress_percent(progress: *const FloeProgress) -> f64 {
    (*progress).progress.percent()
}

/// # Safety
/// `progress` must be NULL or a handle from `floe_progress_new`, freed once, after the
/// procedure it was given to returned.
#[no_mangle]
pub unsafe extern "C" fn floe_progress_free(progress: *mut FloeProgress) {
    if !progress.is_null() {
        drop(Box::from_raw(progress));
    }
}
