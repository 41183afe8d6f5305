//! Compiles the C++ glue against `glue/include/floe_abi.h` (the C ABI's header, written from
//! `src/abi/` by `extension/abi-header`, which the Makefile runs first) and the headers of one
//! supported DuckDB version, and links it, with DuckDB itself (a static library built once per
//! machine and version by the Makefile, see `extension/duckdb/versions`), into the extension.
//!
//! The flags must match the DuckDB the extension loads into: a class layout that differs
//! (DEBUG, DUCKDB_FORCE_ASSERT, another libstdc++ string ABI) is silent memory corruption.

use std::env;
use std::path::PathBuf;

fn required(key: &str) -> PathBuf {
    println!("cargo:rerun-if-env-changed={key}");
    PathBuf::from(
        env::var(key).unwrap_or_else(|_| {
            panic!("{key} is not set: build the extension with `make`, which compiles DuckDB first")
        }),
    )
}

/// `FLOE_DUCKDB_VERSION` (x.y.z) as the three macros `glue/include/floe/duckdb_compat.hpp` reads:
/// the only place the glue learns which DuckDB it is compiled against.
fn define_duckdb_version(glue: &mut cc::Build) {
    println!("cargo:rerun-if-env-changed=FLOE_DUCKDB_VERSION");
    let version =
        env::var("FLOE_DUCKDB_VERSION").expect("FLOE_DUCKDB_VERSION is not set: build the extension with `make`");
    let parts: Vec<&str> = version.split('.').collect();
    let [major, minor, patch] = parts[..] else {
        panic!("FLOE_DUCKDB_VERSION={version} is not x.y.z");
    };
    for (name, part) in [("MAJOR", major), ("MINOR", minor), ("PATCH", patch)] {
        assert!(part.parse::<u32>().is_ok(), "FLOE_DUCKDB_VERSION={version} is not x.y.z");
        glue.define(&format!("FLOE_DUCKDB_VERSION_{name}"), part);
    }
}

fn main() {
    let duckdb_source = required("FLOE_DUCKDB_SOURCE");
    let duckdb_lib_dir = required("FLOE_DUCKDB_LIB_DIR");

    let mut glue = cc::Build::new();
    glue.cpp(true)
        .std("c++17")
        .include("glue/include")
        .include(duckdb_source.join("src/include"))
        .include(duckdb_source.join("third_party/yyjson/include"))
        .include(duckdb_source.join("third_party/fmt/include"))
        .define("NDEBUG", None)
        .define("_GLIBCXX_USE_CXX11_ABI", "1")
        .flag("-fvisibility=hidden")
        .flag("-fvisibility-inlines-hidden")
        .flag_if_supported("-Wno-unused-parameter")
        // DuckDB 2.0 deprecates calls whose replacements 1.5.6 lacks (DataChunk::SetValue,
        // EntryLookupInfo by name); the glue keeps the spelling both versions compile.
        .flag_if_supported("-Wno-deprecated-declarations")
        // C++17 makes DuckDB's static constexpr members inline variables, which GCC emits as
        // STB_GNU_UNIQUE symbols; a DuckDB compiled as C++11 (1.5.x) defines
        // them out of line as well, and the linker takes the pair as duplicates. Weak instead.
        .flag_if_supported("-fno-gnu-unique")
        .warnings(true);
    define_duckdb_version(&mut glue);
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
