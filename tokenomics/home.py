"""The home directory layout (DESIGN section 6): one place that knows where every file lives."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class Home:
    """Paths under a Tokenomics home: landing, lake, warehouse, alerts, reports, dagster."""

    root: Path

    @classmethod
    def resolve(cls, root: str | os.PathLike | None = None) -> Home:
        return cls(Path(root or os.environ.get("TOKENOMICS_HOME", "./data")).resolve())

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def alerts(self) -> Path:
        return self.root / "alerts"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def dagster(self) -> Path:
        return self.root / "dagster"

    @property
    def truth(self) -> Path:
        return self.root / "truth"

    @property
    def config_file(self) -> Path:
        return self.root / "tokenomics.yaml"

    def landing_day(self, source: str, day: date | str) -> Path:
        """Files delivered for one UTC day: landing/<source>/<YYYY-MM-DD>/ (any file name)."""
        return self.landing / source / str(day)

    def table_day(self, table: str, day: date | str) -> Path:
        """Hive-style partition folder of a lake table: lake/<table>/day=<YYYY-MM-DD>/."""
        return self.lake / table / f"day={day}"

    def quarantine_day(self, table: str, day: date | str) -> Path:
        return self.root / "quarantine" / table / f"day={day}"

    def mart_day(self, mart: str, day: date | str) -> Path:
        return self.lake / "marts" / mart / f"day={day}"

    def mart_month(self, mart: str, month: str) -> Path:
        """Month partition of a monthly mart: lake/marts/<mart>/month=<YYYY-MM>/."""
        return self.lake / "marts" / mart / f"month={month}"

    def mart_month_files(self, mart: str, month: str) -> list[str]:
        """Parquet files of a daily mart's days in `month` (YYYY-MM), in day order."""
        return sorted(str(f) for f in (self.lake / "marts" / mart).glob(f"day={month}-*/*.parquet"))

    def mart_glob(self, mart: str) -> str:
        return str(self.lake / "marts" / mart / "*" / "*.parquet")

    def table_glob(self, table: str) -> str:
        return str(self.lake / table / "*" / "*.parquet")
