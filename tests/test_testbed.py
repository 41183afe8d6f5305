"""The test bed's port reservations: a range held by one test bed is out of reach of every other
test bed, in the same process (another thread) and in another process (another test run)."""

from __future__ import annotations

import subprocess
import sys

from tests.ports import PortRange
from tests.testbed import Testbed


def test_a_held_range_is_refused_to_the_same_and_to_other_processes():
    held = PortRange.reserve()
    try:
        assert PortRange.try_reserve(held.base) is None
        other = subprocess.run(
            [sys.executable, "-c", f"from tests.ports import PortRange; print(PortRange.try_reserve({held.base}))"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert other.stdout.strip() == "None", other.stdout + other.stderr
    finally:
        held.release()


def test_two_test_beds_at_once_each_answer_with_their_own_server(testbed):
    with Testbed() as second:
        assert second.base != testbed.base
        assert second.client_secret != testbed.client_secret
        # Each catalog knows only its own credentials and its own namespaces.
        second.pyiceberg_catalog().create_namespace("only_in_second")
        assert ("only_in_second",) not in testbed.pyiceberg_catalog().list_namespaces()
