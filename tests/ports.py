"""Loopback ports for the test beds' servers: a range reserved for as long as a server runs
(`PortRange`), and a port nothing listens on (`free_port`)."""

from __future__ import annotations

import fcntl
import os
import secrets
import socket
from pathlib import Path

# Ports of a range: base .. base+6 and each +10000 (SeaweedFS' convention for its gRPC ports).
PORT_SPAN = 7


def free_port() -> int:
    """A loopback port nothing listens on (for 'catalog down' tests). The kernel picks it from
    the ephemeral range, which no reserved range overlaps."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PortRange:
    """A server's ports, reserved for as long as the server runs.

    Several test processes (pytest, the SQL tests, the Rust tests of core/tests/common/mod.rs)
    start servers at once, so ports are never picked by "check, then use": a range is reserved
    with an exclusive flock on LOCK_DIR/<base>.lock (the same files and range the Rust test bed
    uses), then its ports are checked free. An flock belongs to the open file, so two test beds of
    one process exclude each other just like two processes, and a crashed run holds nothing."""

    LOCK_DIR = Path("/tmp/floe-port-locks")
    # Bases 20000, 20010, ... 22750: each range with its gRPC twins (30000..32756 included) stays
    # below Linux's ephemeral ports (32768 and up), where outgoing connections would collide.
    BASES = range(20000, 22760, 10)

    def __init__(self, base: int, fd: int) -> None:
        self.base = base
        self._fd: int | None = fd

    @classmethod
    def reserve(cls, avoid: frozenset[int] = frozenset()) -> PortRange:
        """The first range, from a random start, that no one holds, whose ports are all free and
        that is not in `avoid` (ranges where a start just failed)."""
        cls.LOCK_DIR.mkdir(parents=True, exist_ok=True)
        start = secrets.randbelow(len(cls.BASES))
        for i in range(len(cls.BASES)):
            base = cls.BASES[(start + i) % len(cls.BASES)]
            if base not in avoid and (ports := cls.try_reserve(base)):
                return ports
        raise RuntimeError(f"no free port range: every lock in {cls.LOCK_DIR} is held or its ports are taken")

    @classmethod
    def try_reserve(cls, base: int) -> PortRange | None:
        fd = os.open(cls.LOCK_DIR / f"{base}.lock", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        if not all(_port_free(base + i) and _port_free(base + 10000 + i) for i in range(PORT_SPAN)):
            os.close(fd)
            return None
        return cls(base, fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _port_free(port: int) -> bool:
    # SO_REUSEADDR as SeaweedFS (Go) listens: a connection in TIME_WAIT does not block it.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
