"""Puts httpfs (from the pinned wheel) into a DuckDB extension directory, so that s3:// paths
autoload it offline: next to floe for `make install`, and into the HOME in use for `make test`
(DuckDB's shell and dbt rely on the autoload)."""

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
    print(f"installed httpfs into {target}")


if __name__ == "__main__":
    main(sys.argv[1])
