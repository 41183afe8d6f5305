"""Builds the static DuckDB that floe links, for one version listed in extension/duckdb/versions.

    python3 extension/duckdb/build.py <version> <cache dir>

Writes <cache dir>/duckdb-v<version>-O2/paths: "<dir holding libduckdb.a> <DuckDB source root>",
what extension/build.rs compiles the glue against. The directory name is the cache key (version
and flags): a clean clone reuses a built DuckDB, an empty cache builds it (20-40 minutes on 2 cores).

The flags must give the class layouts of the DuckDB the extension loads into: no DEBUG, no
DUCKDB_FORCE_ASSERT, the C++11 string ABI; hidden visibility so that the host's symbols and the
extension's copy never meet; no -march (DuckDB's CLI profile asks for AVX2) and no jemalloc (a
second allocator inside the extension).

Two kinds of source, as the registries carry them:
- sdist: the `duckdb` Python package's source distribution on PyPI, whose external/duckdb is
  DuckDB's whole C++ tree; its sha256 is checked here, the commit against the sdist's
  build_info.json, and it is built with CMake (cmake and ninja come from the project's venv).
- crate: libduckdb-sys's bundled source, built by cargo through extension/duckdb/static-crate;
  cargo checks the crate against the checksum in that crate's Cargo.lock, which must be the one
  listed here.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
VERSIONS = HERE / "versions"
STATIC_CRATE = HERE / "static-crate"

VISIBILITY = "-fvisibility=hidden -fvisibility-inlines-hidden -D_GLIBCXX_USE_CXX11_ABI=1"
CMAKE_C_FLAGS = "-O2 -ffunction-sections -fdata-sections -DNDEBUG -fvisibility=hidden"
CMAKE_CXX_FLAGS = f"-O2 -ffunction-sections -fdata-sections -DNDEBUG {VISIBILITY}"


@dataclass(frozen=True)
class Version:
    version: str
    source: str  # "sdist" or "crate"
    origin: str  # the sdist's URL, or libduckdb-sys=<crate version>
    sha256: str
    commit: str


def versions() -> list[Version]:
    lines = (line.split() for line in VERSIONS.read_text().splitlines())
    return [Version(*fields) for fields in lines if fields and not fields[0].startswith("#")]


def find(version: str) -> Version:
    for entry in versions():
        if entry.version == version:
            return entry
    listed = ", ".join(entry.version for entry in versions())
    sys.exit(f"DuckDB {version} is not in {VERSIONS} (listed: {listed}); add a line for it there")


def run(*command: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(part) for part in command), flush=True)
    subprocess.run([str(part) for part in command], cwd=cwd, env=env, check=True)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_sdist(entry: Version, sources: Path) -> Path:
    """The sdist's external/duckdb, downloaded once, checked, extracted beside it."""
    root = sources / f"duckdb-{entry.version}"
    tree = root / "external" / "duckdb"
    if (tree / "CMakeLists.txt").exists():
        return tree
    sources.mkdir(parents=True, exist_ok=True)
    archive = sources / f"duckdb-{entry.version}.tar.gz"
    if not archive.exists() or sha256(archive) != entry.sha256:
        partial = archive.with_suffix(".part")
        print(f"fetching {entry.origin}", flush=True)
        with urllib.request.urlopen(entry.origin, timeout=120) as response, partial.open("wb") as out:
            shutil.copyfileobj(response, out)
        partial.replace(archive)
    actual = sha256(archive)
    if actual != entry.sha256:
        sys.exit(f"{archive}: sha256 {actual}, expected {entry.sha256} ({VERSIONS}); not building from it")
    prefix = f"duckdb-{entry.version}/"
    wanted = (prefix + "external/duckdb/", prefix + "duckdb_packaging/build_info.json")
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(wanted)]
        tar.extractall(sources, members=members, filter="data")
    info = json.loads((root / "duckdb_packaging" / "build_info.json").read_text())
    if info.get("duckdb_version") != f"v{entry.version}" or not info.get("duckdb_commit", "").startswith(entry.commit):
        sys.exit(f"{archive} says it is DuckDB {info}, not v{entry.version} at {entry.commit}")
    return tree


def build_sdist(entry: Version, out: Path, sources: Path) -> str:
    tree = fetch_sdist(entry, sources)
    build = out / "build"
    if not (build / "CMakeCache.txt").exists():
        run(
            "cmake", "-S", tree, "-B", build, "-G", "Ninja",
            # None keeps -O2: Release appends -O3 and the CLI profile's -march.
            "-DCMAKE_BUILD_TYPE=None", "-DDUCKDB_OPTIMIZATION_PROFILE=NONE", "-DENABLE_JEMALLOC=OFF",
            f"-DCMAKE_C_FLAGS={CMAKE_C_FLAGS}", f"-DCMAKE_CXX_FLAGS={CMAKE_CXX_FLAGS}",
            # The version DuckDB reports and checks extension footers against.
            f"-DOVERRIDE_GIT_DESCRIBE=v{entry.version}", f"-DGIT_COMMIT_HASH={entry.commit}",
            "-DBUILD_SHELL=OFF", "-DBUILD_UNITTESTS=OFF", "-DENABLE_UNITTEST_CPP_TESTS=OFF",
            "-DBUILD_BENCHMARKS=OFF", "-DENABLE_SANITIZER=OFF", "-DENABLE_UBSAN=OFF",
        )
    run("cmake", "--build", build, "--target", "duckdb_static", "-j", str(os.cpu_count() or 2))
    lib = out / "lib"
    lib.mkdir(exist_ok=True)
    shutil.copy2(build / "src" / "libduckdb_static.a", lib / "libduckdb.a")
    return f"{lib} {tree}"


def build_crate(entry: Version, out: Path) -> str:
    name, _, crate_version = entry.origin.partition("=")
    lock = (STATIC_CRATE / "Cargo.lock").read_text()
    pinned = f'name = "{name}"\nversion = "{crate_version}"'
    if pinned not in lock or f'checksum = "{entry.sha256}"' not in lock:
        sys.exit(
            f"{STATIC_CRATE / 'Cargo.lock'} does not pin {name} {crate_version} with checksum {entry.sha256}: "
            f"run `cargo update -p {name} --precise {crate_version}` in a copy of the crate and commit its lock"
        )
    crate = out / "crate"
    (crate / "src").mkdir(parents=True, exist_ok=True)
    manifest = (STATIC_CRATE / "Cargo.toml.in").read_text().replace("@LIBDUCKDB_SYS_VERSION@", crate_version)
    (crate / "Cargo.toml").write_text(manifest)
    shutil.copy2(STATIC_CRATE / "Cargo.lock", crate / "Cargo.lock")
    shutil.copy2(STATIC_CRATE / "build.rs", crate / "build.rs")
    shutil.copy2(STATIC_CRATE / "src" / "main.rs", crate / "src" / "main.rs")
    env = dict(os.environ, CARGO_TARGET_DIR=str(out), CXXFLAGS=VISIBILITY)
    run("cargo", "build", "--release", "--locked", cwd=crate, env=env)
    return subprocess.run(
        [str(out / "release" / "floe-duckdb-static")], check=True, capture_output=True, text=True
    ).stdout.strip()


def main() -> None:
    version, cache = sys.argv[1], Path(sys.argv[2])
    entry = find(version)
    out = cache / f"duckdb-v{version}-O2"
    out.mkdir(parents=True, exist_ok=True)
    if entry.source == "sdist":
        paths = build_sdist(entry, out, cache / "sources")
    elif entry.source == "crate":
        paths = build_crate(entry, out)
    else:
        sys.exit(f"{VERSIONS}: DuckDB {version} has source {entry.source!r}; expected sdist or crate")
    partial = out / "paths.tmp"
    partial.write_text(paths + "\n")
    partial.replace(out / "paths")
    print(f"DuckDB {version}: {paths}")


if __name__ == "__main__":
    main()
