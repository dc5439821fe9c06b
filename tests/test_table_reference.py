"""The warehouse explains itself: comments, column schemas and the README all come from tokenomics/tables.yaml."""

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tokenomics.tables import README_BEGIN, README_END, readme_section, reference

README = Path(__file__).resolve().parent.parent / "README.md"
NESTED = ("[]", "STRUCT", "MAP")


@pytest.fixture(scope="module")
def con(company):
    c = duckdb.connect(str(company.warehouse), read_only=True)
    yield c
    c.close()


def test_readme_table_reference_is_the_generated_text():
    text = README.read_text()
    section = text[text.index(README_BEGIN) : text.index(README_END) + len(README_END)]
    assert section == readme_section(), "run `python -m tokenomics.tables --write-readme`"


def test_every_published_table_view_and_column_has_a_comment(con):
    objects = con.execute(
        "SELECT table_name, comment FROM duckdb_tables() WHERE NOT internal "
        "UNION ALL SELECT view_name, comment FROM duckdb_views() WHERE NOT internal"
    ).fetchall()
    names = {name for name, _ in objects}
    assert {t for t in reference()} <= names | {"quarantine"}, set(reference()) - names
    assert [n for n, comment in objects if not comment] == []
    uncommented = con.execute(
        "SELECT table_name || '.' || column_name FROM duckdb_columns() WHERE NOT internal AND coalesce(comment, '') = ''"
    ).fetchall()
    assert uncommented == []
    unit = con.execute(
        "SELECT comment FROM duckdb_columns() WHERE table_name = 'usage_daily' AND column_name = 'cost_usd'"
    ).fetchall()[0][0]
    assert unit.endswith("[USD]")


def test_month_is_the_first_day_as_a_date(con):
    for table in ("chargeback_monthly", "budget_status"):
        kind = con.execute(
            "SELECT data_type FROM duckdb_columns() WHERE table_name = ? AND column_name = 'month'", [table]
        ).fetchall()[0][0]
        assert kind == "DATE", table
        days = con.execute(f"SELECT DISTINCT day(month) FROM {table}").fetchall()
        assert days == [(1,)], table


def test_declared_grain_is_unique_in_every_published_table(con):
    for t in reference().values():
        if t.is_view or not t.grain:
            continue
        keys = ", ".join(f'"{g}"' for g in t.grain)
        rows, distinct = con.execute(f'SELECT count(*), count(DISTINCT ({keys})) FROM "{t.name}"').fetchall()[0]
        assert rows > 0 or t.name == "alerts", t.name
        assert rows == distinct, f"{t.name}: {rows - distinct} rows repeat its grain ({keys})"


def test_flat_views_hold_no_nested_types_and_answer_bi_queries(con):
    views = [t.name for t in reference().values() if t.is_view]
    for view in views:
        types = con.execute("SELECT data_type FROM duckdb_columns() WHERE table_name = ?", [view]).fetchall()
        assert types and not [t for (t,) in types if any(n in t for n in NESTED)], view
    top = con.execute(
        "SELECT team, feature, model, round(sum(impact), 4) AS impact FROM incident_root_causes "
        "WHERE rank = 1 GROUP BY ALL ORDER BY impact DESC"
    ).fetchall()
    assert top
    crossed = con.execute(
        "SELECT team, threshold, bool_or(crossed) FROM budget_thresholds GROUP BY ALL ORDER BY team, threshold"
    ).fetchall()
    assert crossed
    providers = con.execute(
        "SELECT month, count(DISTINCT value) FROM chargeback_monthly_labels WHERE label = 'provider' GROUP BY month"
    ).fetchall()
    assert providers and all(n >= 2 for _, n in providers)
    for view in views:
        assert con.execute(f'SELECT count(*) FROM "{view}"').fetchall()[0][0] > 0, view


def test_assets_carry_the_column_schema():
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    for table in ("usage_daily", "chargeback_monthly", "anomalies", "self_host_tco"):
        schema = graph.get(dg.AssetKey(table)).metadata["dagster/column_schema"]
        assert [c.name for c in schema.columns] == [c.name for c in reference()[table].columns]
        assert all(c.description for c in schema.columns)
