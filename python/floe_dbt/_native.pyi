"""Types of floe_dbt's Rust module (floe's core: platform.yaml parsing and validation)."""

__version__: str

class Platform:
    """A validated platform file. Holds no secret values: references are resolved by ``check``
    and by the floe extension at ATTACH, and dropped at once."""

    @staticmethod
    def load(path: str) -> Platform:
        """Reads and validates ``path``. Raises ValueError naming the file, the key and the fix."""
    @property
    def path(self) -> str: ...
    def catalogs(self) -> list[str]:
        """The catalog names the file declares."""
    def governance_keys(self) -> list[str]:
        """Model meta keys copied to Iceberg table properties."""
    def check(self, catalog: str) -> None:
        """Resolves every setting and secret reference of ``catalog``; raises ValueError for the
        first that fails. No value is returned or kept."""

def duckdb_versions() -> list[str]:
    """The DuckDB versions this package carries a floe extension for, the default first."""
