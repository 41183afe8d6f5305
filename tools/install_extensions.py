"""Puts httpfs next to floe for `make install`, where a build for the host DuckDB exists, so a
user's own s3:// files autoload it offline. floe itself does not need it: it reaches table files
on its own, and provides CREATE SECRET (TYPE s3) where httpfs is not installed.

The only httpfs build at hand offline is the reference engine's PyPI wheel (tests/engines.py
`host_extension`), which loads only where the host DuckDB is that engine's version; for any other
version nothing is installed, and DuckDB installs httpfs from its repository when a query needs it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import duckdb

from tests.engines import host_extension


def main(directory: str) -> None:
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    httpfs = host_extension("httpfs")
    if httpfs is None:
        print(f"no httpfs build for DuckDB {duckdb.__version__} at hand: not installed into {target}")
        return
    shutil.copyfile(httpfs, target / "httpfs.duckdb_extension")
    print(f"installed httpfs into {target}")


if __name__ == "__main__":
    main(sys.argv[1])
