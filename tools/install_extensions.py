"""Puts httpfs (from the pinned wheel) next to floe for `make install`, so a user's own s3://
files autoload it offline. floe itself does not need it: it reaches table files on its own."""

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
