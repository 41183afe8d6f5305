"""`make demo`: a local catalog and S3 (the test bed), the sample table gold.metrics written by
PyIceberg, and the DuckDB shell with floe loaded and the catalog attached as `lake`.

With a terminal the shell stays open for you; without one (CI) it runs the sample query and exits.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from tests import datasets
from tests.testbed import Testbed

QUERY = "SELECT region, sum(amount) AS total FROM lake.gold.metrics WHERE day >= DATE '2026-01-01' GROUP BY 1 ORDER BY 1;"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extension", required=True)
    args = parser.parse_args()
    duckdb_shell = Path(sys.executable).with_name("duckdb")
    with Testbed() as bed:
        datasets.demo_metrics(bed.pyiceberg_catalog(), "gold")
        init = bed.dir / "demo.sql"
        init.write_text(
            "\n".join(
                [
                    f"LOAD '{Path(args.extension).resolve()}';",
                    *(statement + ";" for statement in bed.duckdb_setup_sql()),
                    "SHOW ALL TABLES;",
                    QUERY,
                ]
            )
            + "\n"
        )
        print(f"catalog {bed.catalog_uri} (warehouse '{bed.warehouse}'), S3 {bed.s3_endpoint}")
        command = [str(duckdb_shell), "-unsigned", "-init", str(init)]
        if not sys.stdin.isatty():
            command += ["-c", "SELECT count(*) AS rows FROM lake.gold.metrics;"]
        else:
            print("floe is loaded and the catalog attached as `lake`; try: SELECT * FROM lake.gold.metrics LIMIT 5;")
        return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
