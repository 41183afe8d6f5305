"""A SQL prompt on the duckdb Python package, for environments without DuckDB's shell (PyPI's
duckdb-cli stops at 1.5.6): statements end with `;`, results print as DuckDB's boxes, `.quit`
or end of input leaves."""

from __future__ import annotations

import sys

import duckdb


def execute(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Runs every statement of `sql`, printing what the last one returns; errors print and the
    prompt goes on, as in DuckDB's shell."""
    try:
        statements = con.extract_statements(sql)
        for statement in statements[:-1]:
            con.execute(statement)
        if statements:
            relation = con.sql(statements[-1].query)
            if relation is not None:
                relation.show(max_width=200)
    except duckdb.Error as error:
        print(f"Error: {error}", file=sys.stderr)


def run(init: str, then: str | None) -> int:
    """Runs `init`, then `then` and leaves if given, else prompts until `.quit` or end of input."""
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    for statement in con.extract_statements(init):
        execute(con, statement.query)
    if then is not None:
        execute(con, then)
        return 0
    buffered = ""
    while True:
        try:
            line = input("D " if not buffered else "· ")
        except EOFError:
            return 0
        if not buffered and line.strip() in (".quit", ".exit"):
            return 0
        buffered += line + "\n"
        if buffered.rstrip().endswith(";"):
            execute(con, buffered)
            buffered = ""
