"""`make install`: puts httpfs (from the pinned wheel) next to floe in DuckDB's extension
directory, so that `LOAD floe` works by name and s3:// paths autoload httpfs, offline."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tests.engines import wheel_extension


def main(directory: str) -> None:
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    for name in ("httpfs",):
        shutil.copyfile(wheel_extension(name), target / f"{name}.duckdb_extension")
    print(f"installed floe and httpfs into {target}; in the duckdb shell: SET allow_unsigned_extensions = true "
          "(or start it with -unsigned), then LOAD floe;")


if __name__ == "__main__":
    main(sys.argv[1])
