// The DuckDB versions the wheel carries an extension for come from the Makefile (their one
// place), space-separated, the default first; a build without them carries none and says so.
fn main() {
    println!("cargo:rerun-if-env-changed=FLOE_DUCKDB_VERSIONS");
    let versions = std::env::var("FLOE_DUCKDB_VERSIONS").unwrap_or_default();
    let versions: Vec<&str> = versions.split_whitespace().collect();
    println!("cargo:rustc-env=FLOE_DUCKDB_VERSIONS={}", versions.join(" "));
}
