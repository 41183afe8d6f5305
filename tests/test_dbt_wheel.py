"""The floe_dbt wheel carries one floe extension per supported DuckDB version, each stamped for
its own version, and the package loads the one that matches the installed DuckDB or refuses,
naming the supported versions and the fix."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

import duckdb
import floe_dbt
import pytest
from packaging.requirements import Requirement

WHEELS = Path(__file__).resolve().parent.parent / "build" / "wheels"


def footer_duckdb_version(path: Path) -> str:
    """The DuckDB version in an extension's metadata footer (extension/metadata_footer.py): the
    sixth of eight 32-byte fields that open the last 512 bytes."""
    with open(path, "rb") as f:
        f.seek(-512, 2)
        footer = f.read(256)
    return footer[5 * 32 : 6 * 32].rstrip(b"\0").decode()


@dataclass
class Wheel:
    names: list[str]
    unpacked: Path
    #: What the wheel's own floe_dbt selects for each DuckDB version it lists, default first.
    selected: dict[str, Path]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Wheel:
    found = sorted(WHEELS.glob("floe_dbt-*.whl"))
    if len(found) != 1:
        pytest.fail(f"expected one floe_dbt wheel in {WHEELS}, found {[p.name for p in found]}: run `make wheel`")
    unpacked = tmp_path_factory.mktemp("wheel")
    with zipfile.ZipFile(found[0]) as archive:
        archive.extractall(unpacked)
        names = archive.namelist()
    code = (
        "import json, floe_dbt\n"
        "print(json.dumps({v: str(floe_dbt.extension_for(v)) for v in floe_dbt.duckdb_versions()}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=unpacked, env={"PYTHONPATH": str(unpacked)}
    )
    assert done.returncode == 0, done.stderr
    selected = {version: Path(path) for version, path in json.loads(done.stdout).items()}
    return Wheel(names, unpacked, selected)


def test_wheel_carries_a_build_per_duckdb_version(wheel: Wheel):
    assert wheel.selected, "the wheel lists no DuckDB version"
    carried = sorted(n for n in wheel.names if n.endswith(".duckdb_extension"))
    assert carried == sorted(f"floe_dbt/duckdb/v{v}/floe.duckdb_extension" for v in wheel.selected)
    for version, path in wheel.selected.items():
        assert path == wheel.unpacked / "floe_dbt" / "duckdb" / f"v{version}" / "floe.duckdb_extension"
        assert path.stat().st_size > 1_000_000
        assert footer_duckdb_version(path) == f"v{version}"


def test_wheel_requires_a_duckdb_it_carries(wheel: Wheel):
    (name,) = [n for n in wheel.names if n.endswith(".dist-info/METADATA")]
    metadata = Parser().parsestr((wheel.unpacked / name).read_text())
    (requirement,) = [Requirement(r) for r in metadata.get_all("Requires-Dist") if r.startswith("duckdb")]
    for version in wheel.selected:
        assert requirement.specifier.contains(version), f"{requirement} refuses DuckDB {version}, which the wheel carries"
    # 2.0.0 sits between the supported 1.5.6 and 2.0.1 and has no build.
    assert not requirement.specifier.contains("2.0.0")


def test_installed_duckdb_gets_its_own_build():
    assert duckdb.__version__ in floe_dbt.duckdb_versions()
    path = floe_dbt.extension_path()
    assert path == Path(floe_dbt.__file__).parent / "duckdb" / f"v{duckdb.__version__}" / "floe.duckdb_extension"
    assert footer_duckdb_version(path) == f"v{duckdb.__version__}"
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{path}'")
    assert con.execute("SELECT loaded FROM duckdb_extensions() WHERE extension_name = 'floe'").fetchone() == (True,)


def test_unsupported_duckdb_is_refused_with_the_fix():
    versions = floe_dbt.duckdb_versions()
    with pytest.raises(RuntimeError) as refused:
        floe_dbt.extension_for("1.5.7")
    message = str(refused.value)
    assert "the installed DuckDB is 1.5.7" in message
    assert f"carries the floe extension for DuckDB {', '.join(versions)} only" in message
    assert f'Fix: pip install "duckdb=={versions[0]}"' in message
    for version in versions[1:]:
        assert f'"duckdb=={version}"' in message


def test_plugin_refuses_an_unsupported_duckdb_before_dbt_runs(monkeypatch, tmp_path):
    from floe_dbt.plugin import Plugin

    monkeypatch.setattr(duckdb, "__version__", "1.5.7")
    with pytest.raises(RuntimeError, match=r"the installed DuckDB is 1\.5\.7, .* Fix: pip install"):
        Plugin("floe_dbt", {"platform": str(tmp_path / "platform.yaml")})
