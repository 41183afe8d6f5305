//! Prints `<dir holding libduckdb.a> <DuckDB source root>` for the Makefile.
use std::path::Path;

use libduckdb_sys as _;

fn main() {
    // DEP_DUCKDB_INCLUDE is <source root>/src/include.
    let include = Path::new(env!("DEP_DUCKDB_INCLUDE"));
    let source = include.parent().and_then(Path::parent).expect("include dir is <root>/src/include");
    println!("{} {}", env!("DEP_DUCKDB_LIB_DIR"), source.display());
}
