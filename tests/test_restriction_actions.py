"""Every column-projection action of the REST spec's `read-restrictions`, and the row filter's
two-valued semantics, applied by floe. Rustberg (tests/test_read_restrictions.py) only sends two of
the nine actions, so here a proxy in front of the test bed's catalog adds the restrictions to the
LoadTable answers of one table, and each masked value is compared with the spec's definition
computed in Python. On DuckDB 1.5, which has no secure views, a restricted table is refused
instead (the last test; `make test-compat` runs this file there)."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import struct
import uuid

import duckdb
import pytest

from tests.catalog_proxy import CatalogProxy
from tests.engines import floe_connection
from tests.test_commit_failures import proxied

#: DuckDB 2.0 has secure views, which floe binds in a restricted table's place; 1.5 has none.
SECURE_VIEWS = int(duckdb.__version__.split(".")[0]) >= 2
applied = pytest.mark.skipif(not SECURE_VIEWS, reason="DuckDB 1.5 refuses restricted tables (last test)")

COLUMNS = (
    "id INTEGER NOT NULL, email VARCHAR, card VARCHAR, born DATE, seen TIMESTAMP, seen_tz TIMESTAMPTZ, "
    "small INTEGER, big BIGINT, raw BLOB, address STRUCT(street VARCHAR, country VARCHAR), region VARCHAR"
)
ROWS = """
SELECT * FROM (VALUES
  (1, 'prashant010696@gmail.com', '4111-1111-1111-4444', DATE '2024-07-15', TIMESTAMP '2024-07-15 13:45:30',
   TIMESTAMPTZ '2024-03-01 02:00:00+00', 42, 4200000000, 'hello'::BLOB, {'street': 'Main St 1', 'country': 'NL'}, 'EU'),
  (2, '(555) 123-4567', 'abcd', DATE '1999-12-31', TIMESTAMP '1999-12-31 23:59:59',
   TIMESTAMPTZ '1999-12-31 23:30:00+00', -7, -1, '\\x00\\xFF'::BLOB, {'street': NULL, 'country': 'US'}, 'US'),
  (3, 'Zoë 😀 9', 'ab', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, 'prashant010696@gmail.com', '', DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00:00',
   TIMESTAMPTZ '2024-01-01 00:00:00+00', 42, 4200000000, ''::BLOB, {'street': 'x', 'country': NULL}, 'EU')
) t(id, email, card, born, seen, seen_tz, small, big, raw, address, region)
"""


def alphanum(text: str) -> str:
    return "".join("n" if "0" <= c <= "9" else c if c in "(),.@-" else "x" for c in text)


def show_first_4(text: str) -> str:
    return text if len(text) <= 4 else text[:4] + alphanum(text[4:])


def show_last_4(text: str) -> str:
    return text if len(text) <= 4 else alphanum(text[:-4]) + text[-4:]


def sha_int(value: int, fmt: str, width: int) -> int:
    digest = hashlib.sha256(struct.pack(fmt, value)).digest()
    return int.from_bytes(digest[:width], "little", signed=True)


class Restrictions:
    """A LoadTable rewrite that adds `read-restrictions` to the answers for one table."""

    def __init__(self, table: str) -> None:
        self.path = re.compile(rf"/namespaces/[^/]+/tables/{table}$")
        self.value: dict | None = None

    def __call__(self, method: str, path: str, status: int, body: bytes) -> bytes:
        if method != "GET" or status != 200 or not self.path.search(path.split("?")[0]) or self.value is None:
            return body
        answer = json.loads(body)
        answer["read-restrictions"] = self.value
        return json.dumps(answer).encode()


@pytest.fixture(scope="module")
def restricted(extension, testbed, catalog):
    """(connection through the proxy, the Restrictions it applies, table name, field ids by name)."""
    namespace = "restrict_" + uuid.uuid4().hex[:8]
    admin = floe_connection(extension)
    for statement in testbed.duckdb_setup_sql():
        admin.execute(statement)
    admin.execute(f"CREATE SCHEMA lake.{namespace}")
    admin.execute(f"CREATE TABLE lake.{namespace}.t ({COLUMNS})")
    admin.execute(f"INSERT INTO lake.{namespace}.t {ROWS}")
    schema = catalog.load_table(f"{namespace}.t").schema()
    ids = {field.name: field.field_id for field in schema.fields}
    ids["address.street"] = schema.find_field("address.street").field_id
    ids["address.country"] = schema.find_field("address.country").field_id
    restrictions = Restrictions("t")
    with CatalogProxy(testbed.catalog_uri, rewrite=restrictions) as proxy:
        con = proxied(extension, testbed, proxy)
        # Truncation is in UTC whatever the session's zone.
        con.execute("SET TimeZone = 'America/New_York'")
        yield con, restrictions, f"lake.{namespace}.t", ids
    admin.close()


def masked(restricted, column: str, action: str, order: str = "id") -> list:
    con, restrictions, table, ids = restricted
    restrictions.value = {"required-column-projections": [{"action": action, "field-id": ids[column]}]}
    try:
        return [row[0] for row in con.execute(f"SELECT {column.split('.')[0]} FROM {table} ORDER BY {order}").fetchall()]
    finally:
        restrictions.value = None


def raw(restricted, column: str) -> list:
    con, _, table, _ = restricted
    return [row[0] for row in con.execute(f"SELECT {column} FROM {table} ORDER BY id").fetchall()]


@applied
def test_string_masks_follow_the_spec_code_point_by_code_point(restricted):
    emails = raw(restricted, "email")
    assert masked(restricted, "email", "mask-alphanum") == [alphanum(e) for e in emails]
    assert masked(restricted, "email", "mask-alphanum")[:2] == ["xxxxxxxxnnnnnn@xxxxx.xxx", "(nnn)xnnn-nnnn"]
    assert masked(restricted, "email", "show-first-4") == [show_first_4(e) for e in emails]
    cards = raw(restricted, "card")
    assert masked(restricted, "card", "show-last-4") == ["nnnn-nnnn-nnnn-4444", "abcd", "ab", ""]
    assert masked(restricted, "card", "show-first-4") == [show_first_4(c) for c in cards]


@applied
def test_truncation_keeps_the_type_and_works_in_utc(restricted):
    assert masked(restricted, "born", "truncate-to-year") == [
        datetime.date(2024, 1, 1),
        datetime.date(1999, 1, 1),
        None,
        datetime.date(2024, 1, 1),
    ]
    assert masked(restricted, "seen", "truncate-to-month")[:2] == [
        datetime.datetime(2024, 7, 1),
        datetime.datetime(1999, 12, 1),
    ]
    utc = datetime.timezone.utc
    # 2024-03-01 02:00 UTC is still February in New York: truncated in UTC it stays in March.
    truncated = masked(restricted, "seen_tz", "truncate-to-month")
    assert [t.astimezone(utc) if t else None for t in truncated] == [
        datetime.datetime(2024, 3, 1, tzinfo=utc),
        datetime.datetime(1999, 12, 1, tzinfo=utc),
        None,
        datetime.datetime(2024, 1, 1, tzinfo=utc),
    ]


@applied
def test_global_hashes_match_the_spec_encoding(restricted):
    assert masked(restricted, "email", "sha-256-global") == [
        hashlib.sha256(e.encode()).hexdigest() for e in raw(restricted, "email")
    ]
    assert masked(restricted, "small", "sha-256-global") == [
        None if v is None else sha_int(v, "<i", 4) for v in raw(restricted, "small")
    ]
    assert masked(restricted, "big", "sha-256-global") == [
        None if v is None else sha_int(v, "<q", 8) for v in raw(restricted, "big")
    ]
    assert masked(restricted, "raw", "sha-256-global") == [
        None if v is None else hashlib.sha256(v).digest() for v in raw(restricted, "raw")
    ]


@applied
def test_query_local_hashes_are_salted_per_read(restricted):
    first = masked(restricted, "email", "sha-256-query-local")
    again = masked(restricted, "email", "sha-256-query-local")
    plain = [hashlib.sha256(e.encode()).hexdigest() for e in raw(restricted, "email")]
    # Equal values hash equally within a read (rows 1 and 4), differently from the global hash
    # and from another read.
    assert first[0] == first[3] and first[0] != first[1]
    assert all(re.fullmatch("[0-9a-f]{64}", h) for h in first)
    assert not set(first) & set(plain)
    assert not set(first) & set(again)


@applied
def test_fixed_values_and_nulls(restricted):
    assert masked(restricted, "email", "mask-to-fixed-value") == ["XXXXXXXX"] * 4
    assert masked(restricted, "born", "mask-to-fixed-value") == [datetime.date(1970, 1, 1)] * 4
    assert masked(restricted, "big", "mask-to-fixed-value") == [0] * 4
    assert masked(restricted, "raw", "mask-to-fixed-value") == [b""] * 4
    assert masked(restricted, "address", "mask-to-fixed-value") == [{"street": "XXXXXXXX", "country": "XXXXXXXX"}] * 4
    assert masked(restricted, "id", "mask-to-fixed-value") == [0] * 4
    assert masked(restricted, "email", "replace-with-null") == [None] * 4
    # A field inside a struct: the struct is rebuilt around it, a NULL struct stays NULL.
    assert masked(restricted, "address.street", "replace-with-null") == [
        {"street": None, "country": "NL"},
        {"street": None, "country": "US"},
        None,
        {"street": None, "country": None},
    ]


@applied
@pytest.mark.parametrize(
    "row_filter, ids",
    [
        ({"type": "not-eq", "term": "region", "value": "US"}, [1, 3, 4]),
        ({"type": "lt", "term": "small", "value": 100}, [1, 2, 4]),
        ({"type": "not", "child": {"type": "lt", "term": "small", "value": 0}}, [1, 3, 4]),
        ({"type": "in", "term": "region", "values": ["EU"]}, [1, 4]),
        ({"type": "not-in", "term": "region", "values": ["EU"]}, [2, 3]),
        ({"type": "starts-with", "term": "email", "value": "pra"}, [1, 4]),
        ({"type": "gt-eq", "term": "born", "value": "2024-01-01"}, [1, 4]),
        ({"type": "eq", "term": "seen_tz", "value": "2024-01-01T00:00:00+00:00"}, [4]),
        ({"type": "or", "left": {"type": "is-null", "term": "big"}, "right": {"type": "eq", "term": "big", "value": -1}}, [2, 3]),
        (False, []),
    ],
)
def test_row_filters_are_two_valued(restricted, row_filter, ids):
    con, restrictions, table, field_ids = restricted

    def by_id(node):
        if isinstance(node, dict):
            return {k: ({"type": "reference", "id": field_ids[v]} if k == "term" else by_id(v)) for k, v in node.items()}
        return node

    restrictions.value = {"required-row-filter": by_id(row_filter)}
    try:
        assert [row[0] for row in con.execute(f"SELECT id FROM {table} ORDER BY id").fetchall()] == ids
    finally:
        restrictions.value = None


@applied
def test_a_filter_on_a_struct_field_sees_raw_values_before_masks(restricted):
    con, restrictions, table, ids = restricted
    restrictions.value = {
        "required-row-filter": {"type": "eq", "left": {"type": "reference", "id": ids["address.country"]}, "right": "NL"},
        "required-column-projections": [{"action": "mask-to-fixed-value", "field-id": ids["address.country"]}],
    }
    try:
        assert con.execute(f"SELECT id, address FROM {table}").fetchall() == [
            (1, {"street": "Main St 1", "country": "XXXXXXXX"})
        ]
    finally:
        restrictions.value = None


@applied
@pytest.mark.parametrize(
    "restriction, says",
    [
        ({"required-column-projections": [{"action": "blur", "field-id": "email"}]}, "unknown action 'blur'"),
        ({"required-column-projections": [{"action": "replace-with-null", "field-id": "id"}]}, "required column 'id'"),
        ({"required-column-projections": [{"action": "sha-256-global", "field-id": "born"}]}, "'sha-256-global' on column 'born'"),
        ({"required-row-filter": {"type": "eq", "term": 999, "value": 1}}, "field id 999"),
        ({"required-row-filter": True, "required-audit-log": True}, "'required-audit-log'"),
    ],
)
def test_a_restriction_floe_cannot_apply_fails_the_read(restricted, restriction, says):
    con, restrictions, table, ids = restricted

    def by_id(node):
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k == "field-id":
                    out[k] = ids[v]
                elif k == "term":
                    out[k] = {"type": "reference", "id": v}
                else:
                    out[k] = by_id(v)
            return out
        if isinstance(node, list):
            return [by_id(n) for n in node]
        return node

    restrictions.value = by_id(restriction)
    try:
        with pytest.raises(duckdb.Error) as failure:
            con.execute(f"SELECT * FROM {table}").fetchall()
    finally:
        restrictions.value = None
    message = str(failure.value)
    assert "floe cannot apply the restriction" in message, message
    assert says in message, message
    assert f"Cannot read table '{table.split('.', 1)[1]}'" in message, message


@pytest.mark.skipif(SECURE_VIEWS, reason="applied where DuckDB has secure views (the tests above)")
def test_without_secure_views_a_restricted_table_is_refused(restricted):
    con, restrictions, table, ids = restricted
    restrictions.value = {"required-column-projections": [{"action": "replace-with-null", "field-id": ids["email"]}]}
    try:
        for sql in (f"SELECT * FROM {table}", f"SELECT email FROM {table} WHERE id = 1"):
            with pytest.raises(duckdb.Error) as failure:
                con.execute(sql).fetchall()
            message = str(failure.value)
            assert "may only be read with the row filter and column masks the catalog requires" in message, message
            assert "Fix: use floe with DuckDB 2.0 or later" in message, message
    finally:
        restrictions.value = None
    assert len(con.execute(f"SELECT * FROM {table}").fetchall()) == 4
