"""Runs the SQL logic tests (`sql_tests/**/*.test`) against a real catalog and real S3.

The files use DuckDB's sqllogictest format; this runner implements the part of it they use:

    statement ok | statement error        (an error's expected message follows `----`)
    query <types> [rowsort|nosort]        (expected rows follow `----`, columns tab-separated)

`${NAME}` in a file is replaced by the test bed's settings (FLOE_CATALOG_URI, FLOE_S3_HOST,
FLOE_CLIENT_ID, ..., FLOE_DEAD_ENDPOINT where nothing listens, FLOE_HISTORY_SNAPSHOT_<n>, FLOE_TMP
for files a test writes). Each file runs in a fresh DuckDB connection with floe loaded, after the
reference tables of `tests/datasets.py` were written by PyIceberg.

Usage: python -m sql_tests.run --extension build/floe.duckdb_extension [file.test ...]
"""

from __future__ import annotations

import argparse
import datetime
import decimal
import re
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tests import datasets
from tests.engines import floe_connection, official_connection
from tests.ports import free_port
from tests.testbed import Testbed

ROOT = Path(__file__).resolve().parent


@dataclass
class Record:
    kind: str  # "statement" or "query"
    line: int
    sql: str
    expect_error: bool = False
    expected: list[str] | None = None
    sort: bool = False


def parse(text: str) -> list[Record]:
    records: list[Record] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if not line or line.startswith("#"):
            i += 1
            continue
        header = line.split()
        start = i + 1
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip() and lines[i].strip() != "----":
            body.append(lines[i])
            i += 1
        expected: list[str] | None = None
        if i < len(lines) and lines[i].strip() == "----":
            i += 1
            expected = []
            while i < len(lines) and lines[i].strip():
                expected.append(lines[i])
                i += 1
        sql = "\n".join(body)
        if header[0] == "statement" and header[1:] in (["ok"], ["error"]):
            records.append(Record("statement", start, sql, expect_error=header[1] == "error", expected=expected))
        elif header[0] == "query":
            records.append(Record("query", start, sql, expected=expected or [], sort="rowsort" in header[2:]))
        else:
            raise SystemExit(f"line {start}: unsupported record '{line}'")
    return records


def render(value: object) -> str:
    """Values as DuckDB's sqllogictest prints them."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return str(value)
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def substitute(text: str, settings: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in settings:
            raise SystemExit(f"unknown variable ${{{name}}}")
        return settings[name]

    return re.sub(r"\$\{([A-Z0-9_]+)\}", replace, text)


def run_file(path: Path, extension: str, settings: dict[str, str]) -> list[str]:
    """Runs one file; returns its failures."""
    failures: list[str] = []
    con = floe_connection(extension)
    for record in parse(substitute(path.read_text(), settings)):
        where = f"{path.relative_to(ROOT.parent)}:{record.line}"
        try:
            result = con.execute(record.sql).fetchall() if record.kind == "query" else con.execute(record.sql)
            error = None
        except duckdb.Error as err:
            error = str(err)
        if record.kind == "statement":
            if record.expect_error and error is None:
                failures.append(f"{where}: expected an error, the statement succeeded")
            elif record.expect_error and record.expected and "\n".join(record.expected) not in error:
                failures.append(f"{where}: error\n  {error}\ndoes not contain\n  {chr(10).join(record.expected)}")
            elif not record.expect_error and error is not None:
                failures.append(f"{where}: {error}")
            continue
        if error is not None:
            failures.append(f"{where}: {error}")
            continue
        rows = ["\t".join(render(v) for v in row) for row in result]
        expected = list(record.expected or [])
        if record.sort:
            rows.sort()
            expected.sort()
        if rows != expected:
            failures.append(f"{where}: got\n  " + "\n  ".join(rows) + "\nexpected\n  " + "\n  ".join(expected))
    con.close()
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extension", required=True)
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args()
    files = args.files or sorted(ROOT.rglob("*.test"))
    failures: list[str] = []
    with Testbed() as bed:
        official = official_connection()
        for statement in bed.duckdb_setup_sql():
            official.execute(statement)
        info = datasets.create_all(bed.pyiceberg_catalog(), "ref", lambda sql: official.execute(sql))
        official.close()
        settings = bed.env()
        settings["FLOE_DEAD_ENDPOINT"] = f"http://127.0.0.1:{free_port()}"
        # Files a test writes itself (e.g. the input of COPY ... FROM), removed with the test bed.
        settings["FLOE_TMP"] = str(bed.dir)
        for i, snapshot in enumerate(info["history_snapshots"]):
            settings[f"FLOE_HISTORY_SNAPSHOT_{i}"] = str(snapshot)
        for path in files:
            found = run_file(path.resolve(), args.extension, settings)
            print(f"{'FAIL' if found else 'ok  '} {path.resolve().relative_to(ROOT.parent)}")
            failures.extend(found)
    for failure in failures:
        print(failure, file=sys.stderr)
    print(f"{len(files)} files, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
