"""The GCS and Azure test beds (tests/cloud_beds.py) are what floe's tests take them for: Rustberg
serves tables PyIceberg wrote onto fake-gcs-server and Azurite, the files its metadata names are
the emulator's objects, the proxy vends working storage properties that Rustberg itself does not,
and a bed leaves no process and no port reservation behind."""

from __future__ import annotations

import datetime
import re
import secrets
import time

import pyarrow as pa
import pytest

from tests.cloud_beds import AzureBed, CloudBed, GcsBed
from tests.testbed import PortRange

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


def test_rustberg_cannot_commit_onto_azurite(azure_bed: AzureBed):
    """Why floe's writes are tested on GCS only: Rustberg's storage (`iceberg-storage-opendal`,
    opendal's `azdls`) writes table metadata through the DFS API, which Azurite does not serve."""
    from pyiceberg.exceptions import CommitStateUnknownException

    identifier = f"bed.t_{secrets.token_hex(3)}"
    azure_bed.create_table(identifier, ROWS)
    table = azure_bed.pyiceberg_catalog().load_table(identifier)
    since = time.monotonic()
    with pytest.raises(CommitStateUnknownException, match="InternalServerError"):
        table.append(ROWS)
    # The new metadata file is created with DFS' Path - Create, which Azurite answers 400.
    writes = [request for request in azure_bed.catalog_storage.requests(since) if request.method in ("PUT", "PATCH")]
    assert writes and writes[0].query == "resource=file" and writes[0].path.endswith(".metadata.json"), writes
    assert all(request.status == 400 for request in writes), writes


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
