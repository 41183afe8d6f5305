"""One server of the test bed (an object-storage emulator, a catalog) as a child process: on
loopback ports reserved with a lock file in /tmp/floe-port-locks (`PortRange`, tests/ports.py),
counted as started only when a probe proves it is this very server, and gone with the test run
(killed with the thread that started it, its whole session stopped).

A subclass names the command, its environment and the probe; `ServerProcess` does the rest.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
from pathlib import Path
from typing import TYPE_CHECKING

from tests.ports import PortRange

if TYPE_CHECKING:
    from typing import Self  # Python 3.11 and later; used in annotations only

#: util-linux' setpriv makes a server die with the thread that started it (PR_SET_PDEATHSIG), so a
#: test run that crashes (a segfault in the extension under test) leaves no server behind.
SETPRIV = shutil.which("setpriv")
#: A server that exits at start (a port taken by something outside the reservations) is retried
#: on another range this many times.
START_ATTEMPTS = 5


class ServerExited(Exception):
    """The server exited while starting, typically because a port was taken."""


class ServerProcess:
    """Started by `start()` (or `with`), stopped by `stop()`. `port` is the first port of the
    reserved range; a server may use it and the six after it."""

    __test__ = False  # not a pytest test class
    #: The name in messages and of the log file.
    name = "server"
    #: Seconds a start may take before it counts as failed.
    ready_timeout = 60.0

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir
        self.ports: PortRange | None = None
        self.process: subprocess.Popen[bytes] | None = None
        #: Seconds from launching the process to the probe's first success (the last attempt).
        self.ready_after = 0.0

    # -- what a subclass says -------------------------------------------------------------------
    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    def probe(self) -> None:
        """Returns when the server answers as this instance (its own credentials, its own
        settings); raises OSError, urllib's URLError or ValueError while it does not yet."""
        raise NotImplementedError

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self.ports is None:
            raise RuntimeError(f"{self.name} is not running")
        return self.ports.base

    @property
    def log_path(self) -> Path:
        return self.dir / f"{self.name}-{self.ports.base if self.ports else 0}.log"

    def start(self) -> Self:
        atexit.register(self.stop)
        self.dir.mkdir(parents=True, exist_ok=True)
        failed: list[PortRange] = []
        try:
            for _ in range(START_ATTEMPTS):
                self.ports = PortRange.reserve(avoid=frozenset(ports.base for ports in failed))
                try:
                    self._launch()
                    return self
                except ServerExited as exited:
                    # The range stays reserved until a start succeeds, so it is not picked again.
                    print(f"{self.name} on port {self.ports.base} failed to start, trying another range: {exited}", file=sys.stderr)
                    self._stop_process()
                    failed.append(self.ports)
                    self.ports = None
            raise RuntimeError(f"{self.name} failed to start on {START_ATTEMPTS} port ranges; see the messages above")
        except BaseException:
            self.stop()
            raise
        finally:
            for ports in failed:
                ports.release()

    def _launch(self) -> None:
        # Under setpriv (see SETPRIV), in its own session so that stop() takes every child along.
        args = [*([SETPRIV, "--pdeathsig", "KILL", "--"] if SETPRIV else []), *self.command()]
        launched = time.monotonic()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.environment(),
                cwd=self.dir,
                start_new_session=True,
            )
        deadline = launched + self.ready_timeout
        last = ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerExited(f"exited with {self.process.returncode}; its log ends with:\n{self._log_tail()}")
            try:
                self.probe()
                self.ready_after = time.monotonic() - launched
                return
            except (OSError, urllib.error.URLError, ValueError) as err:
                last = str(err)
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} not ready after {self.ready_timeout}s ({last}); see {self.log_path}")

    def _log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-5:])

    def _stop_process(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def stop(self) -> None:
        self._stop_process()
        # The ports stay reserved until the server is gone.
        if self.ports:
            self.ports.release()
            self.ports = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
