//! Hands the locations libduckdb-sys compiled DuckDB into to the binary, which prints them for
//! the Makefile.
fn main() {
    for key in ["DEP_DUCKDB_LIB_DIR", "DEP_DUCKDB_INCLUDE"] {
        let value = std::env::var(key).unwrap_or_else(|_| panic!("libduckdb-sys did not set {key}"));
        println!("cargo:rustc-env={key}={value}");
    }
}
