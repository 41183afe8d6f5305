"""The counting proxy of tests/request_counter.py in front of the test bed's S3: clients work
through it unchanged (signatures verify, bodies arrive intact) and it records each request they
make, exactly as the client itself logs them. DuckDB's httpfs is the client that logs them; it
runs in the reference engine's process (tests/reference_engine.py), whose DuckDB its build is for."""

from __future__ import annotations

import os
import secrets

from tests.reference_engine import ReferenceEngine
from tests.request_counter import RequestCounter


def test_counts_exactly_the_requests_duckdb_logs(testbed):
    path = f"raw/counter/{secrets.token_hex(4)}.parquet"
    with RequestCounter(testbed.s3_endpoint) as s3, ReferenceEngine(("httpfs",)) as con:
        con.execute(testbed.duckdb_setup_sql(s3_endpoint=s3.endpoint)[0])
        con.execute("CALL enable_logging('HTTP')")
        con.execute(f"COPY (SELECT i, i::VARCHAR AS s FROM range(300000) t(i)) TO 's3://{path}' (ROW_GROUP_SIZE 50000)")
        assert con.execute(f"SELECT count(*), sum(i) FROM read_parquet('s3://{path}')").fetchone() == (300000, 44999850000)
        logged = con.execute(
            "SELECT request.type, request.url, request.headers['Range'], response.status FROM duckdb_logs_parsed('HTTP')"
        ).fetchall()
        counted = s3.requests()

    expected = sorted((method, "/" + url.split("/", 3)[3], rng, int(status.rsplit("_", 1)[1])) for method, url, rng, status in logged)
    assert sorted((r.method, r.path, r.range, r.status) for r in counted) == expected
    kinds = s3.counts()
    assert kinds["PUT"] == 1 and kinds["HEAD"] >= 1 and kinds["GET range"] >= 6, kinds


def test_a_multipart_upload_passes_intact_and_is_counted_part_by_part(testbed):
    data = os.urandom(12 << 20)
    path = f"raw/counter/{secrets.token_hex(4)}.bin"
    with RequestCounter(testbed.s3_endpoint) as s3:
        client = testbed.pyarrow_s3(s3.endpoint)
        with client.open_output_stream(path) as out:
            out.write(data)
        upload = s3.requests()
        with client.open_input_stream(path) as stream:
            assert stream.read() == data

    # Initiate, two parts, complete; then the read in ranges that add up to the object.
    assert [(r.method, r.query.split("=")[0]) for r in upload if r.method == "POST"] == [("POST", "uploads"), ("POST", "uploadId")]
    assert sorted(r.query.split("&")[0] for r in upload if r.method == "PUT") == ["partNumber=1", "partNumber=2"]
    reads = [r for r in s3.requests() if r.kind == "GET range"]
    assert sum(r.body_bytes for r in reads) == len(data)
    assert all(r.status in (200, 206) for r in s3.requests())
