"""floe connects the catalog of an ATTACH (TYPE ICEBERG) while DuckDB plans it, on the client
thread (see extension/glue/include/floe/pending_attach.hpp). An ATTACH that fails after that, or
keeps a database attached already, must release what was connected for it and leave later
ATTACHes working.
Released is observed on the wire: a catalog handle owns its HTTP connections, so freeing it
closes them; a loopback relay in front of the real catalog sees every connection open and close."""

from __future__ import annotations

import socket
import threading
import time

import duckdb
import pytest

from tests.engines import floe_connection


class Relay:
    """Forwards loopback TCP connections to the catalog and records when each one closes."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.removeprefix("http://").rstrip("/").split(":")
        self.upstream = (host, int(port))
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections: list[threading.Event] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client = self.sock.accept()[0]
            except OSError:
                return
            closed = threading.Event()
            self.connections.append(closed)
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._pump, args=(client, server, closed), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, None), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket, closed: threading.Event | None) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            if closed is not None:
                closed.set()
            for end in (source, target):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def open_count(self) -> int:
        return sum(not closed.is_set() for closed in self.connections)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture()
def relay(testbed):
    relay = Relay(testbed.catalog_uri)
    yield relay
    relay.close()


def wait_closed(connections: list[threading.Event], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    return all(closed.wait(max(0.0, deadline - time.monotonic())) for closed in connections)


def test_attach_failing_after_planning_releases_its_catalog_and_later_attaches_work(extension, testbed, relay):
    con = floe_connection(extension)
    for statement in testbed.duckdb_setup_sql()[:2]:
        con.execute(statement)

    def attach(alias: str | None, prefix: str = "ATTACH") -> str:
        target = f" AS {alias}" if alias else ""
        return f"{prefix} '{testbed.warehouse}'{target} (TYPE ICEBERG, ENDPOINT '{relay.url}', SECRET testbed_iceberg)"

    con.execute(attach("lake"))
    attached = list(relay.connections)
    assert attached and relay.open_count() >= 1, "the attached catalog keeps its connection"

    # IF NOT EXISTS of an attached name, given or derived from the path: no catalog is connected.
    con.execute(attach("lake", "ATTACH IF NOT EXISTS"))
    con.execute(attach(None, "ATTACH IF NOT EXISTS"))
    assert relay.connections == attached

    # Planned with the catalog connected, then refused when run (the name is taken): DuckDB's
    # error, and what was connected is freed.
    for statement in (attach("lake"), attach(None)):
        before = len(relay.connections)
        with pytest.raises(duckdb.Error) as raised:
            con.execute(statement)
        assert 'database with name "lake" already exists' in str(raised.value), raised.value
        connected = relay.connections[before:]
        assert connected, "the catalog was connected while the ATTACH was planned"
        assert wait_closed(connected, 5), f"the catalog connected for {statement!r} was never released"

    # OR REPLACE of the same catalog keeps the attached one and never takes what was connected
    # while planning: freed when the statement ends.
    before = len(relay.connections)
    con.execute(attach("lake", "ATTACH OR REPLACE"))
    connected = relay.connections[before:]
    assert connected, "the catalog was connected while the ATTACH was planned"
    assert wait_closed(connected, 5), "what OR REPLACE connected was never released"
    assert not any(closed.is_set() for closed in attached), "the attached catalog's connection stays open"

    con.execute(attach("lake2"))
    assert con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = 'lake2'").fetchone() == (1,)
    con.execute("CREATE SCHEMA IF NOT EXISTS lake2.planned")
    assert con.execute(
        "SELECT count(*) FROM duckdb_schemas() WHERE database_name = 'lake' AND schema_name = 'planned'"
    ).fetchone() == (1,)
    con.execute("DROP SCHEMA lake2.planned")
    con.close()
