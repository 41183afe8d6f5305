"""Appends DuckDB's extension metadata footer to a built shared library.

DuckDB reads the last 512 bytes of an extension file: eight 32-byte NUL-padded fields (three
unused, the ABI type, the extension version, the DuckDB version, the platform, the magic "4"),
then a 256-byte signature, all zero for an unsigned extension. A CPP-ABI extension loads only
into the exact DuckDB version named here.

Usage: python3 metadata_footer.py <library> <output> <duckdb version> <platform> <extension version>
"""

import shutil
import sys

# A WebAssembly custom section header named "duckdb_signature"; native loaders skip it.
WASM_SECTION = b"\x00\x93\x04\x10duckdb_signature\x80\x04"


def field(text: str) -> bytes:
    raw = text.encode()
    if len(raw) > 32:
        raise SystemExit(f"metadata field too long: {text!r}")
    return raw.ljust(32, b"\0")


def main(library: str, output: str, duckdb_version: str, platform: str, extension_version: str) -> None:
    fields = ["", "", "", "CPP", extension_version, duckdb_version, platform, "4"]
    footer = WASM_SECTION + b"".join(field(f) for f in fields) + b"\0" * 256
    shutil.copyfile(library, output)
    with open(output, "ab") as out:
        out.write(footer)


if __name__ == "__main__":
    if len(sys.argv) != 6:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
