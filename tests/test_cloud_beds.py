"""The GCS and Azure test beds (tests/cloud_beds.py) are what floe's tests take them for: Rustberg
creates and commits tables PyIceberg writes onto fake-gcs-server and Azurite (there through
tests/dfs_on_blob.py), the files its metadata names are the emulator's objects, the proxy vends
working storage properties that Rustberg itself does not, and a bed leaves no process and no port
reservation behind."""

from __future__ import annotations

import datetime
import re
import secrets
import time
import urllib.error
import urllib.request

import pyarrow as pa
import pytest

from tests.cloud_beds import AzureBed, CloudBed, GcsBed
from tests.ports import PortRange

ROWS = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "name": ["a", "b", "c"], "amount": [1.5, 2.5, None]})


def test_rustberg_serves_a_table_pyiceberg_wrote_onto_the_emulator(cloud_bed: CloudBed):
    identifier = f"bed.t_{secrets.token_hex(3)}"
    location = cloud_bed.create_table(identifier, ROWS)
    assert location.startswith(cloud_bed.warehouse + "/")
    # Read back through Rustberg, which read the table's metadata from the emulator itself.
    assert cloud_bed.pyiceberg_rows(identifier) == sorted(zip(*ROWS.to_pydict().values()))
    loaded = cloud_bed.pyiceberg_catalog().load_table(identifier)
    files = loaded.inspect.files().column("file_path").to_pylist()
    objects = cloud_bed.files(location)
    assert files and set(files) <= set(objects), objects
    assert loaded.metadata_location in objects


def test_the_proxy_vends_what_rustberg_does_not(cloud_bed: CloudBed):
    identifier = f"bed.t_{secrets.token_hex(3)}"
    cloud_bed.create_table(identifier, ROWS)
    assert cloud_bed.load_table_config(identifier, uri=cloud_bed.catalog.uri) == {}
    assert cloud_bed.load_table_config(identifier) == cloud_bed.vended


def test_the_gcs_bed_vends_the_emulator_and_a_token(gcs_bed: GcsBed):
    assert set(gcs_bed.vended) == {"gcs.service.host", "gcs.project-id", "gcs.oauth2.token", "gcs.oauth2.token-expires-at"}
    assert gcs_bed.vended["gcs.service.host"] == gcs_bed.gcs.url


def test_the_azure_bed_vends_a_sas_azurite_accepts_and_refuses_forged(azure_bed: AzureBed):
    from azure.core.exceptions import HttpResponseError
    from azure.storage.blob import ContainerClient

    identifier = f"bed.t_{secrets.token_hex(3)}"
    location = azure_bed.create_table(identifier, ROWS)
    host = azure_bed.azurite.account_host
    vended = azure_bed.vended
    assert vended["adls.blob-storage-authority"] == vended["adls.dfs-storage-authority"] == azure_bed.azurite.authority
    assert int(vended[f"adls.sas-token-expires-at-ms.{host}"]) / 1000 > datetime.datetime.now().timestamp() + 600

    def blobs(sas: str) -> list[str]:
        container = ContainerClient(azure_bed.azurite.blob_endpoint, azure_bed.bucket, credential=sas, retry_total=0)
        return [blob.name for blob in container.list_blobs(name_starts_with=location.split(host + "/", 1)[1])]

    sas = vended[f"adls.sas-token.{host}"]
    assert blobs(sas)
    with pytest.raises(HttpResponseError) as refused:
        blobs(re.sub(r"sig=[^&]+", "sig=" + "A" * 43 + "%3D", sas))
    assert refused.value.status_code == 403


def test_rustberg_commits_onto_azurite(azure_bed: AzureBed):
    """Rustberg's storage (opendal's `azdls`) writes each metadata file with DFS calls, which
    tests/dfs_on_blob.py serves with Blob calls: tables are created and committed to through
    Rustberg, and the metadata file it names is the blob it wrote."""
    identifier = f"bed.t_{secrets.token_hex(3)}"
    since = time.monotonic()
    location = azure_bed.create_table(identifier, ROWS)
    table = azure_bed.pyiceberg_catalog().load_table(identifier)
    table.append(ROWS)
    assert azure_bed.pyiceberg_rows(identifier) == sorted(2 * list(zip(*ROWS.to_pydict().values())))
    assert len(table.history()) == 2
    # Create, first append, second append: three metadata files, each written as DFS' Path -
    # Create, Update (append), Update (flush), answered as DFS answers them.
    requests = [request for request in azure_bed.catalog_storage.requests(since) if request.method in ("PUT", "PATCH")]
    calls = [(request.method, request.query.split("&")[0], request.status) for request in requests]
    assert calls == [("PUT", "resource=file", 201), ("PATCH", "action=append", 202), ("PATCH", "action=flush", 200)] * 3, calls
    metadata = table.metadata_location.split(azure_bed.azurite.account_host + "/", 1)[1]
    assert requests[-1].path.endswith(f"/{azure_bed.bucket}/{metadata}"), requests[-1]
    assert table.metadata_location in azure_bed.files(location)


def test_dfs_on_blob_stores_appends_in_position_order_and_refuses_a_flush_past_a_gap(azure_bed: AzureBed):
    """Path - Update appends may arrive in any order; the flush commits the bytes 0..position.
    A flush at a position the appended bytes do not reach without a gap is refused (400), as on
    DFS, and the file stays as it was created: empty."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": azure_bed.catalog_storage.endpoint}))
    container = azure_bed.azurite.service().get_container_client(azure_bed.bucket)

    def dfs(method: str, path: str, query: str, body: bytes = b"") -> int:
        url = f"http://{azure_bed.azurite.account_host}/{azure_bed.bucket}/{path}?{query}"
        try:
            with opener.open(urllib.request.Request(url, data=body, method=method), timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as err:
            return err.code

    whole, gap = f"bed/dfs/{secrets.token_hex(3)}", f"bed/dfs/{secrets.token_hex(3)}"
    assert dfs("PUT", whole, "resource=file") == 201
    assert dfs("PATCH", whole, "action=append&position=3", b"def") == 202
    assert dfs("PATCH", whole, "action=append&position=0", b"abc") == 202
    assert dfs("PATCH", whole, "action=flush&position=6&close=true") == 200
    assert container.download_blob(whole).readall() == b"abcdef"

    assert dfs("PUT", gap, "resource=file") == 201
    assert dfs("PATCH", gap, "action=append&position=3", b"def") == 202
    assert dfs("PATCH", gap, "action=flush&position=6&close=true") == 400
    assert container.download_blob(gap).readall() == b""


@pytest.mark.parametrize("bed_class", [GcsBed, AzureBed])
def test_a_bed_leaves_no_server_and_no_port_behind(bed_class: type[CloudBed]):
    bed = bed_class().start()
    emulator = bed.gcs if isinstance(bed, GcsBed) else bed.azurite
    processes = [emulator.process, bed.catalog.process]
    bases = [emulator.port, bed.catalog.port]
    directory = bed.dir
    bed.stop()
    assert all(process.poll() is not None for process in processes)
    for base in bases:
        ports = PortRange.try_reserve(base)
        assert ports is not None, f"port range {base} still held or in use"
        ports.release()
    assert not directory.exists()
