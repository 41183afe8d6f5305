// The DuckDB version comes from the Makefile (its one place); a build without it says so.
fn main() {
    println!("cargo:rerun-if-env-changed=FLOE_DUCKDB_VERSION");
    let version = std::env::var("FLOE_DUCKDB_VERSION").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=FLOE_DUCKDB_VERSION={version}");
}
