"""DuckDB's progress for a statement while it runs, as its progress bar shows it: sampled from
another thread through DuckDBPyConnection.query_progress()."""

from __future__ import annotations

import threading
import time

import duckdb
import pytest

#: DuckDB 1.5 cannot wake a parked table function, so floe's procedures run their work in place
#: there and the progress bar jumps at the end.
shown_while_running = pytest.mark.skipif(
    duckdb.__version__.startswith("1."), reason="DuckDB 1.5 shows a procedure's progress only when it is done"
)


def progress_while(con, sql: str) -> tuple[list, list[float]]:
    """Runs `sql` on `con` (a thread of its own), sampling its progress every few milliseconds:
    its rows and the percentages seen, in order, unknown (-1) left out."""
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    con.execute("SET progress_bar_time = 0")
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["rows"] = con.execute(sql).fetchall()
        except Exception as error:  # noqa: BLE001 - re-raised in the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=run)
    samples: list[float] = []
    thread.start()
    while thread.is_alive():
        sample = con.query_progress()
        if sample >= 0:
            samples.append(sample)
        time.sleep(0.005)
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["rows"], samples


def assert_progress_shown(samples: list[float]) -> None:
    """The statement reported progress part way, never going back."""
    assert any(0 < sample < 100 for sample in samples), samples
    assert samples == sorted(samples), samples
