//! Compiles the C++ glue against the headers of the pinned DuckDB and links it, with DuckDB
//! itself (a static library built once per machine by the Makefile from the libduckdb-sys
//! source bundle), into the extension.
//!
//! The flags must match the DuckDB the extension loads into: a class layout that differs
//! (DEBUG, DUCKDB_FORCE_ASSERT, another libstdc++ string ABI) is silent memory corruption.

use std::env;
use std::path::PathBuf;

fn required(key: &str) -> PathBuf {
    println!("cargo:rerun-if-env-changed={key}");
    PathBuf::from(env::var(key).unwrap_or_else(|_| {
        panic!("{key} is not set: build the extension with `make`, which compiles DuckDB first")
    }))
}

fn main() {
    let duckdb_source = required("FLOE_DUCKDB_SOURCE");
    let duckdb_lib_dir = required("FLOE_DUCKDB_LIB_DIR");

    let mut glue = cc::Build::new();
    glue.cpp(true)
        .std("c++11")
        .include("glue/include")
        .include(duckdb_source.join("src/include"))
        .include(duckdb_source.join("third_party/yyjson/include"))
        .define("NDEBUG", None)
        .define("_GLIBCXX_USE_CXX11_ABI", "1")
        .flag("-fvisibility=hidden")
        .flag("-fvisibility-inlines-hidden")
        .flag_if_supported("-Wno-unused-parameter")
        .warnings(true);
    for entry in std::fs::read_dir("glue").expect("glue/ exists") {
        let path = entry.expect("glue/ is readable").path();
        if path.extension().is_some_and(|ext| ext == "cpp") {
            glue.file(&path);
        }
    }
    println!("cargo:rerun-if-changed=glue");
    glue.compile("floe_glue");

    println!("cargo:rustc-link-search=native={}", duckdb_lib_dir.display());
    println!("cargo:rustc-link-lib=static=duckdb");
    println!("cargo:rustc-link-lib=dylib=stdc++");
}
