"""Builds the static DuckDB that floe links, for one version listed in extension/duckdb/versions.

    python3 extension/duckdb/build.py <version> <cache dir>

Writes <cache dir>/duckdb-v<version>-O2/paths: "<dir holding libduckdb.a> <DuckDB source root>",
what extension/build.rs compiles the glue against. The directory name is the cache key (version
and flags): a clean clone reuses a built DuckDB, an empty cache builds it (about 20 minutes on 2
cores).

The flags must give the class layouts of the DuckDB the extension loads into: no DEBUG, no
DUCKDB_FORCE_ASSERT, the C++11 string ABI; hidden visibility so that the host's symbols and the
extension's copy never meet; no -march (DuckDB's CLI profile asks for AVX2) and no jemalloc (a
second allocator inside the extension).

The source is the `duckdb` Python package's source distribution on PyPI, whose external/duckdb
is DuckDB's whole C++ tree, as the PyPI wheel the extension loads into was built from it: its
sha256 is checked here, its version (and, where the sdist records it, the commit) against the
sdist's own files, and it is built with CMake and Ninja (both from the project's venv).
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

VISIBILITY = "-fvisibility=hidden -fvisibility-inlines-hidden -D_GLIBCXX_USE_CXX11_ABI=1"
CMAKE_C_FLAGS = "-O2 -ffunction-sections -fdata-sections -DNDEBUG -fvisibility=hidden"
CMAKE_CXX_FLAGS = f"-O2 -ffunction-sections -fdata-sections -DNDEBUG {VISIBILITY}"


@dataclass(frozen=True)
class Version:
    version: str
    sdist: str  # the URL of the sdist on PyPI
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
        print(f"fetching {entry.sdist}", flush=True)
        with urllib.request.urlopen(entry.sdist, timeout=120) as response, partial.open("wb") as out:
            shutil.copyfileobj(response, out)
        partial.replace(archive)
    actual = sha256(archive)
    if actual != entry.sha256:
        sys.exit(f"{archive}: sha256 {actual}, expected {entry.sha256} ({VERSIONS}); not building from it")
    prefix = f"duckdb-{entry.version}/"
    wanted = (prefix + "external/duckdb/", prefix + "duckdb_packaging/")
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(wanted)]
        tar.extractall(sources, members=members, filter="data")
    check_identity(entry, root / "duckdb_packaging", archive)
    return tree


def check_identity(entry: Version, packaging: Path, archive: Path) -> None:
    """The sdist says which DuckDB it holds: 2.x in build_info.json (version and commit), 1.5.x
    in duckdb_version.txt (version only; the checksum pins the commit)."""
    info_file = packaging / "build_info.json"
    if info_file.exists():
        info = json.loads(info_file.read_text())
        version, commit = info.get("duckdb_version"), info.get("duckdb_commit", "")
    else:
        version, commit = (packaging / "duckdb_version.txt").read_text().strip(), entry.commit
    if version != f"v{entry.version}" or not commit.startswith(entry.commit):
        sys.exit(f"{archive} says it is DuckDB {version} at {commit}, not v{entry.version} at {entry.commit}")


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


def main() -> None:
    version, cache = sys.argv[1], Path(sys.argv[2])
    entry = find(version)
    out = cache / f"duckdb-v{version}-O2"
    out.mkdir(parents=True, exist_ok=True)
    paths = build_sdist(entry, out, cache / "sources")
    partial = out / "paths.tmp"
    partial.write_text(paths + "\n")
    partial.replace(out / "paths")
    print(f"DuckDB {version}: {paths}")


if __name__ == "__main__":
    main()
