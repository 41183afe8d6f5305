"""How many S3 requests a scan makes, per engine: the requests a counting proxy
(tests/request_counter.py) saw while one engine ran one query, summed up by kind and by what was
read (the table's Parquet data files, or its metadata: metadata JSON, manifest lists, manifests),
with the sizes of the reads of data files: many small ranged reads cost a round trip each.
"""

from __future__ import annotations

import statistics
from typing import Any

from tests.request_counter import Request

KINDS = ("HEAD", "GET range", "GET whole")


def summarize(requests: list[Request]) -> dict[str, Any]:
    data = [r for r in requests if r.path.endswith(".parquet")]
    data_reads = [r.body_bytes / 2**10 for r in data if r.kind.startswith("GET")]
    summary: dict[str, Any] = {
        "requests": len(requests),
        "data_files": len({r.path for r in data}),
        "data_requests": len(data),
        "metadata_requests": len(requests) - len(data),
        "mib": sum(r.body_bytes for r in requests) / 2**20,
        "data_read_kib_median": statistics.median(data_reads) if data_reads else 0.0,
        "data_read_kib_max": max(data_reads, default=0.0),
        "refused": sum(1 for r in requests if r.status >= 400),
    }
    for kind in KINDS:
        summary[kind] = sum(1 for r in requests if r.kind == kind)
    summary["other"] = len(requests) - sum(summary[kind] for kind in KINDS)
    return summary


def markdown(counts: dict[str, dict[str, Any]]) -> str:
    rows = [
        "| engine | requests | data-file requests (files) | metadata requests | HEAD | GET range | GET whole | other | MiB received | data read KiB, median | data read KiB, largest | answered ≥ 400 | notes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for engine, line in counts.items():
        if "error" in line:
            rows.append(f"| {engine} |  |  |  |  |  |  |  |  |  |  |  | {line['error']} |")
            continue
        note = "" if line["requests"] else "no request reached the proxy: the engine read S3 at another endpoint"
        rows.append(
            f"| {engine} | {line['requests']} | {line['data_requests']} ({line['data_files']}) | "
            f"{line['metadata_requests']} | {line['HEAD']} | {line['GET range']} | {line['GET whole']} | "
            f"{line['other']} | {line['mib']:.1f} | {line['data_read_kib_median']:.0f} | "
            f"{line['data_read_kib_max']:.0f} | {line['refused']} | {note} |"
        )
    return "\n".join(rows)
