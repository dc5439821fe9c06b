"""The warehouse's table reference (tables.yaml) rendered three ways: DuckDB comments, Dagster column schemas, README.

One file says what every published table and column means, its unit and the grain of each table; the
published warehouse.duckdb carries it as COMMENT ON TABLE/COLUMN (what a BI tool's schema browser shows),
the Dagster assets as `dagster/column_schema`, and the README's table reference is generated from it
(`python -m tokenomics.tables --write-readme`). The flat views for BI tools that cannot read lists or
structs are declared in the same file.
"""

from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

REFERENCE_FILE = Path(__file__).with_name("tables.yaml")
README_BEGIN = "<!-- table-reference:begin (generated from tokenomics/tables.yaml; edit that file) -->"
README_END = "<!-- table-reference:end -->"
UNITS = [
    (re.compile(r"_usd$"), "USD"),
    (re.compile(r"_usd_per_mtok$"), "USD per 1M tokens"),
    (re.compile(r"tokens$"), "tokens"),
    (re.compile(r"_pct$|^pct_used$|^unexpected_percent$"), "percent"),
    (re.compile(r"_share$|^share$|^capture_rate$"), "ratio 0..1"),
]
INTRO = (
    "All money is `DECIMAL(38,12)` in USD unless the column says otherwise; anomaly figures are DOUBLE "
    "estimates. Days are UTC dates and `month` is a DATE, the month's first day. Token columns are inclusive: "
    "`input_tokens` includes `cache_read_tokens` and `cache_write_tokens`; `output_tokens` includes "
    "`reasoning_tokens`. The same text is in `warehouse.duckdb` as table and column comments "
    "(`SELECT * FROM duckdb_columns()` shows them); views flatten lists and structs for BI tools."
)


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    unit: str


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    grain: tuple[str, ...]
    columns: tuple[Column, ...]
    sql: str = ""  # views only

    @property
    def is_view(self) -> bool:
        return bool(self.sql)


def unit_of(column: str) -> str:
    for pattern, unit in sorted(UNITS, key=lambda u: -len(u[0].pattern)):
        if pattern.search(column):
            return unit
    return ""


@functools.cache
def reference() -> dict[str, Table]:
    """Every published table and view, in the order of tables.yaml."""
    raw = yaml.safe_load(REFERENCE_FILE.read_text())
    common = raw["common"]
    out: dict[str, Table] = {}
    for kind in ("tables", "views"):
        for name, spec in raw[kind].items():
            columns = []
            for col, text in spec["columns"].items():
                text = text or common.get(col)
                if not text:
                    raise ValueError(f"tables.yaml: {kind}.{name}.{col} has no description and none in `common`")
                columns.append(Column(col, str(text), unit_of(col)))
            out[name] = Table(
                name, spec["description"], tuple(spec.get("grain", ())), tuple(columns), spec.get("sql", "")
            )
    return out


def grain(table: str) -> tuple[str, ...]:
    return reference()[table].grain


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _comment(column: Column) -> str:
    return f"{column.description} [{column.unit}]" if column.unit else column.description


def document_warehouse(con) -> list[str]:
    """Create the flat views and write every comment on an open (building) warehouse; returns the views made.

    A view is made when the tables it reads are published. A published column the reference does not
    describe gets no comment (the reference test names it).
    """
    present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    views = []
    for t in reference().values():
        if t.is_view:
            needed = {w for w in re.findall(r"\bFROM\s+(\w+)", t.sql)}
            if not needed <= present:
                continue
            con.execute(f'CREATE VIEW "{t.name}" AS {t.sql}')
            views.append(t.name)
            present.add(t.name)
        if t.name not in present:
            continue
        kind = "VIEW" if t.is_view else "TABLE"
        grain_text = f" Grain: one row per ({', '.join(t.grain)})." if t.grain else ""
        con.execute(f'COMMENT ON {kind} "{t.name}" IS {_quote(t.description + grain_text)}')
        actual = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [t.name]
            ).fetchall()
        }
        for c in t.columns:
            if c.name in actual:
                con.execute(f'COMMENT ON COLUMN "{t.name}"."{c.name}" IS {_quote(_comment(c))}')
    return views


def readme_section() -> str:
    """The README's table reference, between its markers."""
    parts = [README_BEGIN, "", INTRO, ""]
    for t in reference().values():
        what = "view" if t.is_view else "table"
        parts.append(f"### `{t.name}` ({what})")
        parts.append("")
        parts.append(
            t.description + (f" Grain: one row per ({', '.join(f'`{g}`' for g in t.grain)})." if t.grain else "")
        )
        parts.append("")
        parts.append("| column | unit | meaning |")
        parts.append("|---|---|---|")
        for c in t.columns:
            parts.append(f"| {c.name} | {c.unit} | {c.description.replace('|', '/')} |")
        parts.append("")
    parts.append(README_END)
    return "\n".join(parts)


def replace_readme_section(readme: str) -> str:
    begin, end = readme.index(README_BEGIN), readme.index(README_END) + len(README_END)
    return readme[:begin] + readme_section() + readme[end:]


if __name__ == "__main__":  # python -m tokenomics.tables --write-readme [README.md]
    if sys.argv[1:2] != ["--write-readme"]:
        sys.exit("usage: python -m tokenomics.tables --write-readme [README.md]")
    path = Path(sys.argv[2] if len(sys.argv) > 2 else "README.md")
    path.write_text(replace_readme_section(path.read_text()))
    print(f"wrote the table reference of {path}")
