"""Per-day backfills run days in any order: steps that read earlier days also redo the later days present."""

from __future__ import annotations

from datetime import date

from assets.partitions import BACKFILL_MODE_ENV, Refresh
from tokenomics.home import Home


def _present(home: Home, mart: str, *days: str) -> None:
    for day in days:
        folder = home.mart_day(mart, day)
        folder.mkdir(parents=True)
        (folder / "part-0.parquet").write_bytes(b"")


def test_single_run_mode_computes_only_the_runs_days(tmp_path, monkeypatch):
    monkeypatch.delenv(BACKFILL_MODE_ENV, raising=False)
    home = Home(tmp_path)
    _present(home, "usage_daily", "2026-03-17", "2026-03-18")
    assert Refresh("usage_daily", days_after=90).days(home, [date(2026, 3, 16)]) == [date(2026, 3, 16)]


def test_per_day_mode_adds_the_later_days_present_within_the_window(tmp_path, monkeypatch):
    monkeypatch.setenv(BACKFILL_MODE_ENV, "per_day")
    home = Home(tmp_path)
    _present(home, "usage_daily", "2026-03-15", "2026-03-17", "2026-03-19", "2026-04-30")
    got = Refresh("usage_daily", days_after=29).days(home, [date(2026, 3, 16)])
    assert got == [date(2026, 3, 16), date(2026, 3, 17), date(2026, 3, 19)]  # not the day before, not past the window


def test_month_to_date_rules_stop_at_the_end_of_the_month(tmp_path, monkeypatch):
    monkeypatch.setenv(BACKFILL_MODE_ENV, "per_day")
    home = Home(tmp_path)
    folder = home.table_day("billing_lines", "2026-03-31")
    folder.mkdir(parents=True)
    (folder / "part-0.parquet").write_bytes(b"")
    _present(home, "allocation_daily", "2026-04-01")
    rule = Refresh("billing_lines", mart=False, within_month=True)
    assert rule.days(home, [date(2026, 3, 30)]) == [date(2026, 3, 30), date(2026, 3, 31)]
