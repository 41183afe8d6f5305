//! The one tokio runtime floe's synchronous entry points (the C ABI, the Python module) drive
//! async work on. DuckDB calls us from its own worker threads, never from inside a runtime.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::Runtime;

/// The runtime itself, for libraries that spawn their own tasks (`iceberg`'s planner).
pub fn tokio() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("floe-io")
            .enable_all()
            .build()
            .expect("cannot start floe's I/O runtime")
    })
}

/// Runs `future` to completion on floe's runtime and returns its output.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio().block_on(future)
}
