"""floe reads and writes table files through its own storage layer: no httpfs needed, no storage
key in DuckDB's secret manager, and `s3://` left to httpfs, or any other file system the user
registers for it, for a user's own files."""

from __future__ import annotations

import re
import secrets

import duckdb
import pytest
import s3fs

from tests.engines import floe_connection, host_extension
from tests.testbed import Testbed


def bare_connection(extension: str, tmp_path) -> duckdb.DuckDBPyConnection:
    """DuckDB as on a machine without httpfs: an empty extension directory, nothing autoloaded."""
    con = duckdb.connect(
        config={
            "allow_unsigned_extensions": "true",
            "extension_directory": str(tmp_path / "extensions"),
            "autoinstall_known_extensions": "false",
            "autoload_known_extensions": "false",
        }
    )
    con.execute(f"LOAD '{extension}'")
    return con


def loaded(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute("SELECT loaded FROM duckdb_extensions() WHERE extension_name = ?", [name]).fetchone()
    return bool(row and row[0])


def test_reads_and_writes_without_httpfs(extension, testbed: Testbed, reference, tmp_path):
    con = bare_connection(extension, tmp_path)
    # The same CREATE SECRET (TYPE s3, ...) users write for httpfs: floe provides the type.
    for statement in testbed.duckdb_setup_sql():
        con.execute(statement)
    table = f"io_{secrets.token_hex(3)}"
    con.execute(f"CREATE TABLE lake.ref.{table} AS SELECT * FROM lake.{reference['metrics']}")
    con.execute(f"INSERT INTO lake.ref.{table} SELECT * FROM lake.{reference['metrics']} LIMIT 10")
    assert con.execute(f"SELECT count(*) FROM lake.ref.{table}").fetchone() == (4010,)
    assert testbed.pyiceberg_catalog().load_table(f"ref.{table}").scan().to_arrow().num_rows == 4010
    assert not loaded(con, "httpfs")
    # The user's keys stay theirs and redacted; floe registered none of its own.
    shown = con.execute("SELECT name, type, secret_string FROM duckdb_secrets()").fetchall()
    assert sorted(type_ for _, type_, _ in shown) == ["iceberg", "s3"], shown
    assert all(testbed.client_secret not in text for _, _, text in shown)


def write_and_join_back(con: duckdb.DuckDBPyConnection, metrics: str, own: str) -> None:
    """Writes the user's own object `own` (an `s3://` URL) from floe's table `metrics`, then joins
    it back to that table: floe's paths and the user's in one statement."""
    con.execute(f"COPY (SELECT DISTINCT region, length(region) AS n FROM {metrics}) TO '{own}'")
    rows = con.execute(
        f"SELECT count(*), count(DISTINCT o.region), sum(o.n) FROM {metrics} m "
        f"JOIN read_parquet('{own}') o ON m.region = o.region"
    ).fetchone()
    expected = con.execute(f"SELECT count(*), count(DISTINCT region), sum(length(region)) FROM {metrics}").fetchone()
    assert rows == expected and rows[0] == 4000, (rows, expected)


def test_user_s3_paths_stay_with_httpfs(extension, testbed: Testbed, reference, tmp_path):
    """A query that joins a floe table with the user's own Parquet file on S3, read by httpfs with
    the user's own secret, in the same statement: httpfs and floe in one DuckDB."""
    httpfs = host_extension("httpfs")
    if httpfs is None:
        pytest.skip(
            f"no httpfs build for DuckDB {duckdb.__version__} is at hand: duckdb-extension-httpfs exists only "
            "for the reference engine's DuckDB (tools/reference/requirements.txt)"
        )
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{httpfs}'")
    con.execute(f"LOAD '{extension}'")
    for statement in testbed.duckdb_setup_sql():
        con.execute(statement)
    # Written by httpfs from a floe table, then joined back to it: both paths in one statement.
    write_and_join_back(con, f"lake.{reference['metrics']}", f"s3://raw/own_{secrets.token_hex(3)}.parquet")
    assert loaded(con, "httpfs")


class OwnS3(s3fs.S3FileSystem):
    """The user's own S3 file system (fsspec's s3fs, a real S3 client), registered in DuckDB for
    `s3://`: the objects it opens are recorded, so the test sees which paths it served."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.opened: list[tuple[str, str]] = []

    def _open(self, path, mode="rb", *args, **kwargs):
        self.opened.append((self._strip_protocol(path), mode))
        return super()._open(path, mode, *args, **kwargs)


def test_user_s3_paths_stay_with_another_file_system(extension, testbed: Testbed, reference):
    """Another file system for `s3://` in the same DuckDB (one the user registers through DuckDB's
    Python API; httpfs is the other kind, above) keeps every `s3://` path: a COPY from a floe
    table to the user's own object, and a query joining it back to that table, in one statement."""
    con = floe_connection(extension)
    for statement in testbed.duckdb_setup_sql():
        con.execute(statement)
    own_fs = OwnS3(
        key=testbed.client_id,
        secret=testbed.client_secret,
        endpoint_url=testbed.s3_endpoint,
        client_kwargs={"region_name": testbed.region},
        skip_instance_cache=True,
    )
    con.register_filesystem(own_fs)
    own = f"raw/own_{secrets.token_hex(3)}.parquet"
    write_and_join_back(con, f"lake.{reference['metrics']}", f"s3://{own}")
    # The user's file system wrote the object and read it back; floe's tables were read by floe.
    modes = {mode for path, mode in own_fs.opened if path == own}
    assert {"wb", "rb"} <= modes, own_fs.opened
    assert all(path == own for path, _ in own_fs.opened), own_fs.opened


def test_httpfs_after_floe_is_stopped_at_once_with_the_fix(extension, tmp_path):
    """Where httpfs was not installed when floe loaded, floe registered TYPE s3 and gcs, and DuckDB
    cannot hand a secret type over: a later LOAD httpfs stops before it starts, naming the fix,
    and the database goes on. Where httpfs is installed, floe leaves its types and its LOAD alone."""
    con = bare_connection(extension, tmp_path)
    with pytest.raises(duckdb.InvalidInputException) as failure:
        con.execute(f"LOAD '{tmp_path / 'elsewhere' / 'httpfs.duckdb_extension'}'")
    message = str(failure.value)
    assert "floe registered the secret types s3, gcs" in message and "INSTALL httpfs" in message, message
    with pytest.raises(duckdb.InvalidInputException, match="secret type azure when"):
        con.execute(f"LOAD '{tmp_path / 'elsewhere' / 'azure.duckdb_extension'}'")
    con.execute("CREATE SECRET mine (TYPE s3, KEY_ID 'AKIAEXAMPLE', SECRET 'example')")
    assert con.execute("SELECT type FROM duckdb_secrets() WHERE name = 'mine'").fetchone() == ("s3",)

    # httpfs installed (a file where DuckDB looks for it; never loaded here): its LOAD is its own.
    platform = duckdb.connect().execute("PRAGMA platform").fetchone()[0]
    installed = tmp_path / "installed"
    (installed / "extensions" / f"v{duckdb.__version__}" / platform).mkdir(parents=True)
    (installed / "extensions" / f"v{duckdb.__version__}" / platform / "httpfs.duckdb_extension").write_bytes(b"")
    con = bare_connection(extension, installed)
    types = {row[0] for row in con.execute("SELECT type FROM duckdb_secret_types()").fetchall()}
    assert "s3" not in types and "gcs" not in types and "azure" in types, types
    with pytest.raises(duckdb.IOException) as failure:
        con.execute(f"LOAD '{tmp_path / 'elsewhere' / 'httpfs.duckdb_extension'}'")
    assert "cannot load after floe" not in str(failure.value), failure.value


def test_filename_is_the_files_own_url(extension, testbed: Testbed, reference, floe, catalog):
    """DuckDB reads table files through floe (floe://...), but the filename column shows each data
    file's URL as the table's metadata records it."""
    names = {row[0] for row in floe.execute(f"SELECT DISTINCT filename FROM lake.{reference['metrics']}").fetchall()}
    files = {task.file.file_path for task in catalog.load_table(reference["metrics"]).scan().plan_files()}
    assert names == files


def test_refused_keys_name_the_secret_and_not_the_key(extension, testbed: Testbed, reference, tmp_path):
    con = bare_connection(extension, tmp_path)
    wrong = "wrong-" + secrets.token_hex(8)
    for statement in testbed.duckdb_setup_sql():
        if "TYPE s3" in statement:
            statement = re.sub(r"KEY_ID '[^']*'", "KEY_ID 'AKIAWRONG'", statement)
            statement = re.sub(r"\bSECRET '[^']*'", f"SECRET '{wrong}'", statement)
        con.execute(statement)
    with pytest.raises(duckdb.Error) as failure:
        con.execute(f"SELECT count(*) FROM lake.{reference['metrics']}").fetchall()
    message = str(failure.value)
    assert "DuckDB secret 'testbed_s3'" in message, message
    # SeaweedFS answers unknown keys with InvalidAccessKeyId, wrong secrets with an access denial.
    assert "refused" in message or "access denied" in message.lower(), message
    assert wrong not in message and "AKIAWRONG" not in message, message
