"""A statement run by floe in a process of its own, killed with SIGKILL part way: what the kill -9
tests of the maintenance procedures share."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Iterator


def floe_child(extension: str, setup_sql: list[str], sql: str) -> subprocess.Popen:
    """A process with floe loaded and `setup_sql` run, running `sql`; it has printed "running"
    when this returns and prints "done" once `sql` finished."""
    script = textwrap.dedent(
        f"""
        from tests.engines import floe_connection
        con = floe_connection({extension!r})
        for statement in {setup_sql!r}:
            con.execute(statement)
        print("running", flush=True)
        con.execute({sql!r}).fetchall()
        print("done", flush=True)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=os.getcwd())
    assert child.stdout.readline().strip() == b"running"
    return child


def kill(child: subprocess.Popen) -> bool:
    """Kills `child` with SIGKILL: whether that came before its statement finished."""
    child.send_signal(signal.SIGKILL)
    child.wait()
    return child.stdout.read().strip() != b"done"


def killed_after(extension: str, setup_sql: list[str], sql: str, delays: tuple[float, ...]) -> Iterator[bool]:
    """`sql` run in a fresh child for each delay and killed that long after it started; yields
    after each kill whether it interrupted the statement."""
    for delay in delays:
        child = floe_child(extension, setup_sql, sql)
        time.sleep(delay)
        yield kill(child)
