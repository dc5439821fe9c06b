"""The `tokenomics` console script: the library's commands plus the two that run Dagster.

`run` and `demo` materialize days through `pipelines.runner`, so they live here, above the library:
`tokenomics/` never imports `pipelines` (imports flow `pipelines -> assets -> tokenomics`).
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import click

from tokenomics.cli import Day, UserError, console, friendly, home_option, main, print_summary
from tokenomics.home import Home
from tokenomics.run_progress import RunProgressView

if TYPE_CHECKING:
    from dagster import ExecuteInProcessResult

__all__ = ["main"]


def landing_days(h: Home) -> list[date]:
    """Days with landing files of any source, in the home or in its object-storage lake (`run`'s default range)."""
    from assets.resources import TokenomicsHome

    names: set[str] = set()
    if h.landing.is_dir():
        names.update(d.name for source_dir in h.landing.iterdir() if source_dir.is_dir() for d in source_dir.iterdir())
    lake = TokenomicsHome(root=str(h.root)).object_lake()
    if lake is not None:
        names.update(lake.landing_days())
    days = set()
    for name in names:
        try:
            days.add(date.fromisoformat(name))
        except ValueError:
            continue
    return sorted(days)


def run_with_progress(h: Home, start: date | None, end: date | None) -> ExecuteInProcessResult:
    """Materialize start..end in one in-process run, showing progress; a failure is one line."""
    from pipelines.runner import run_days  # Dagster loads only for the commands that run it

    days = landing_days(h)
    if start is None or end is None:
        if not days:
            raise UserError(
                f"no landing files under {h.landing} (or its lake_url); run `tokenomics generate` or pass --start/--end"
            )
        start, end = start or days[0], end or days[-1]
    if end < start:
        raise UserError(f"--end {end} is before --start {start}")
    n_days = (end - start).days + 1
    console.print(f"materializing {start} .. {end} ({n_days} day{'s' if n_days != 1 else ''}) through Dagster")
    t0 = time.perf_counter()
    with RunProgressView(console, f"{start} .. {end}") as view:
        # the view prints failures and warnings from the run's events; the console logger stays quiet
        result = run_days(h, start, end, log_level="CRITICAL", progress=view)
    elapsed = time.perf_counter() - t0
    if not result.success:
        if view.failures:
            step, message = view.failures[0]
            detail = f"{step}: {message}"
        else:
            failed = [e for e in result.all_events if e.is_failure]
            detail = failed[0].message if failed else "see the Dagster run logs"
        raise UserError(f"run {result.run_id[:8]} failed at {detail} (full trace: `make ui`, run {result.run_id})")
    console.print(
        f"[green]materialized[/] {start} .. {end}: {view.materialized} of {view.planned} asset-days, "
        f"{len(view.steps_done)} steps in {elapsed:.1f}s (run {result.run_id[:8]})",
        soft_wrap=True,
    )
    return result


@main.command()
@home_option
@click.option("--start", type=Day(), default=None, help="First day (UTC). Default: first day with landing files.")
@click.option("--end", type=Day(), default=None, help="Last day, inclusive. Default: last day with landing files.")
@friendly
def run(home, start, end):
    """Materialize days through Dagster in-process (one single-run backfill, as the UI does)."""
    run_with_progress(Home.resolve(home), start, end)


@main.command()
@home_option
@click.option("--days", type=click.IntRange(1, 400), default=45, show_default=True, help="Days of history to generate.")
@click.option("--events-per-day", type=click.IntRange(1), default=3000, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@friendly
def demo(home, days, events_per_day, seed):
    """Generate a sample company, run every day through Dagster, print a summary."""
    from tokenomics.generator import generate as run_generate

    h = Home.resolve(home)
    end = datetime.now(timezone.utc).date() - timedelta(days=1)
    start = end - timedelta(days=days - 1)
    with console.status(f"generating {days} days of a sample company into {h.root} ..."):
        run_generate(h.root, start, days, events_per_day, seed)
    console.print(f"[green]generated[/] {days} days ({start} .. {end}) in {h.landing}")
    run_with_progress(h, start, end)
    print_summary(h)


if __name__ == "__main__":
    main()
