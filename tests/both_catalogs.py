"""Suites that run against both real catalogs of the test bed, SeaweedFS' and Rustberg
(tests/rustberg_s3.py, its warehouse on the same S3), without a copy of a test: a module sets

    pytestmark = BOTH_CATALOGS

and every test whose fixtures attach a catalog (`floe`, `catalog`, `official`, `catalog_bed`)
runs once per catalog. Each catalog is started once per session.
"""

from __future__ import annotations

import pytest

BOTH_CATALOGS = pytest.mark.parametrize("catalog_bed", ("seaweedfs", "rustberg"), indirect=True)

