//! The floe DuckDB extension: DuckDB loads `floe.duckdb_extension`, calls
//! [`floe_duckdb_cpp_init`], and the C++ glue (`glue/`) registers the `iceberg` storage
//! extension, the `iceberg` secret type and the table functions. The glue adapts DuckDB's
//! classes; everything Iceberg is done here, behind the C ABI of `glue/include/floe_abi.h`.

use std::ffi::c_void;

mod abi;

extern "C-unwind" {
    /// Defined in `glue/floe_extension.cpp`: registers everything with DuckDB.
    fn floe_glue_load(loader: *mut c_void);
}

/// DuckDB's C++-ABI entry point, found by name: `<file name up to the first '.'>_duckdb_cpp_init`.
/// Its argument is a `duckdb::ExtensionLoader &`. DuckDB reports what the glue throws (a C++
/// exception unwinds through this frame, hence "C-unwind").
///
/// # Safety
/// Called by DuckDB only, with a valid loader.
#[no_mangle]
pub unsafe extern "C-unwind" fn floe_duckdb_cpp_init(loader: *mut c_void) {
    floe_glue_load(loader);
}
