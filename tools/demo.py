"""`make demo`: a local catalog and S3 (the test bed), the sample table gold.metrics written by
PyIceberg, and DuckDB with floe loaded and the catalog attached as `lake`: DuckDB's own shell
where the environment has one for its DuckDB (PyPI's duckdb-cli, up to 1.5.6), else a SQL prompt
on the duckdb Python package (tools/sql_prompt.py).

With a terminal the prompt stays open for you; without one (CI) it runs the sample query and exits.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from tests import datasets
from tests.testbed import Testbed
from tools import sql_prompt
from tools.shell import duckdb_shell

QUERY = "SELECT region, sum(amount) AS total FROM lake.gold.metrics WHERE day >= DATE '2026-01-01' GROUP BY 1 ORDER BY 1;"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extension", required=True)
    args = parser.parse_args()
    shell = duckdb_shell()
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
        interactive = sys.stdin.isatty()
        if interactive:
            print("floe is loaded and the catalog attached as `lake`; try: SELECT * FROM lake.gold.metrics LIMIT 5;")
        then = None if interactive else "SELECT count(*) AS rows FROM lake.gold.metrics;"
        if shell is None:
            return sql_prompt.run(init.read_text(), then)
        command = [str(shell), "-unsigned", "-init", str(init)]
        return subprocess.call(command + (["-c", then] if then else []))


if __name__ == "__main__":
    sys.exit(main())
