"""The `tokenomics` command's library part: generate, ingest, pull, detect, chargeback, report, views.

The commands that run Dagster (`run`, `demo`) are added by `pipelines.cli`, the console script's entry
point, so the library never imports the layers above it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tokenomics.home import Home

if TYPE_CHECKING:
    from tokenomics.ingest import DayIngest

T = TypeVar("T")

console = Console()
err = Console(stderr=True, soft_wrap=True)  # an error line is never wrapped mid-path: terminals wrap it whole


class UserError(click.ClickException):
    """A mistake the user can fix: printed as one line, no traceback."""

    def show(self, file=None) -> None:
        err.print(f"[bold red]error:[/] {escape(self.message)}", highlight=False)


class UsageLine(UserError):
    """A bad option value (a date, a source name): one line naming the option, exit status 2 as click's."""

    exit_code = 2


class Day(click.ParamType[date]):
    """A UTC day option: YYYY-MM-DD, converted to a `date` (click's DateTime parses, we drop the time)."""

    name = "date"

    def __init__(self) -> None:
        self._datetime = click.DateTime(formats=["%Y-%m-%d"])

    def get_metavar(self, param, ctx) -> str:
        return "YYYY-MM-DD"

    def convert(self, value, param, ctx) -> date:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        try:
            return self._datetime.convert(value, param, ctx).date()
        except click.BadParameter:
            self.fail(f"'{value}' is not a date; use YYYY-MM-DD, e.g. 2026-01-31", param, ctx)


class SourceName(click.Choice[str]):
    """Source names as choices, listed on a wrong name; loaded on first use so `--help` stays fast."""

    def __init__(self, names: Callable[[], list[str]], extra: tuple[str, ...] = ()) -> None:
        self._names, self._extra, self.case_sensitive = names, extra, True
        self._choices: tuple[str, ...] | None = None

    @property
    def choices(self) -> tuple[str, ...]:
        if self._choices is None:
            self._choices = (*self._names(), *self._extra)
        return self._choices

    @choices.setter
    def choices(self, names: tuple[str, ...]) -> None:
        self._choices = tuple(names)

    def get_invalid_choice_message(self, value, ctx) -> str:
        return f"unknown source '{value}'; choose one of: {', '.join(self.choices)}"


def _readable_sources() -> list[str]:
    from tokenomics import sources

    return sources.available()


def _pullable_sources() -> list[str]:
    from tokenomics.connectors import CONNECTOR_SOURCES, PULLABLE

    return list(dict.fromkeys([*CONNECTOR_SOURCES, *PULLABLE]))  # litellm is both a connector and its source


class TokenomicsGroup(click.Group):
    """Click's group, with a subcommand's bad option value answered in one line (not usage + hint + error)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
            raise UsageLine(f"{exc.format_message()}{where}") from None


def home_option(f):
    return click.option(
        "--home",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Tokenomics home (landing/, lake/, warehouse.duckdb, ...). Default: $TOKENOMICS_HOME or ./data",
    )(f)


def _published_home(home) -> Home:
    """The home, if it has a published warehouse; else the one line that says how to get one."""
    h = Home.resolve(home)
    if not h.warehouse.exists():
        raise UserError(f"no warehouse at {h.warehouse}; run `tokenomics run --home {h.root}` first")
    return h


@contextlib.contextmanager
def _month_errors() -> Iterator[None]:
    """A month the warehouse cannot answer for (malformed, or without data) raises ValueError: one line."""
    try:
        yield
    except ValueError as exc:
        raise UserError(str(exc)) from exc


def friendly(fn: Callable[..., T]) -> Callable[..., T]:
    """Turn the errors a user can cause into one clear line."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        from tokenomics.anomalies.cli_detect import DetectInputError
        from tokenomics.privacy import MissingKeyError
        from tokenomics.sources import UnknownSourceError
        from tokenomics.sources.normalize import ReaderError

        known: tuple[type[Exception], ...] = (
            ReaderError,
            UnknownSourceError,
            FileNotFoundError,
            DetectInputError,
            MissingKeyError,
        )
        try:
            from tokenomics.config import ConfigError

            known += (ConfigError,)
        except ImportError:
            pass
        try:
            return fn(*args, **kwargs)
        except known as exc:
            raise UserError(str(exc)) from exc

    return wrapper


@click.group(cls=TokenomicsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tokenomics", message="tokenomics %(version)s")
def main() -> None:
    """Tokenomics: where your LLM tokens and dollars go.

    Reads gateway logs (LiteLLM, OpenTelemetry, ...) and provider bills (OpenAI, Anthropic, AWS CUR,
    Azure, GCP, FOCUS), validates them, and publishes per-team and per-feature cost tables to a DuckDB
    warehouse that BI tools read. Start with `tokenomics demo`.
    """


@main.command()
@home_option
@click.option("--start", type=Day(), required=True, help="First day to generate (UTC).")
@click.option("--days", type=click.IntRange(1, 3660), default=30, show_default=True, help="Number of days.")
@click.option(
    "--events-per-day",
    type=click.IntRange(1),
    default=5000,
    show_default=True,
    help="Average gateway requests per day.",
)
@click.option(
    "--seed", type=int, default=7, show_default=True, help="Random seed: the same seed writes the same files."
)
@friendly
def generate(home, start, days, events_per_day, seed):
    """Write a synthetic company's gateway logs and provider bills in every supported format, plus truth/."""
    from tokenomics.generator import generate as run_generate

    h = Home.resolve(home)
    with console.status(f"generating {days} days x ~{events_per_day:,} events into {h.root} ..."):
        t0 = time.perf_counter()
        summary = run_generate(h.root, start, days, events_per_day, seed)
    console.print(f"[green]generated[/] {h.root} in {time.perf_counter() - t0:.1f}s")
    if isinstance(summary, dict):
        for key, value in summary.items():
            if not isinstance(value, (list, dict)):
                console.print(f"  {key}: {value}")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--source",
    type=SourceName(_readable_sources, extra=("auto",)),
    default="auto",
    show_default=True,
    show_choices=False,
    help="Reader name (e.g. litellm, openai_costs, aws_cur), or 'auto' to recognize each file.",
)
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@friendly
def ingest(files: tuple[Path, ...], source: str, out: Path) -> None:
    """Normalize files outside the pipeline into canonical Parquet tables (one line per file)."""
    from tokenomics.ingest import ingest_files

    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise UserError(f"no such file: {', '.join(missing)}")
    errors: list[str] = []
    from tokenomics.privacy import pseudonymization_key, resolve_hmac_key

    with pseudonymization_key(lambda: resolve_hmac_key(Home.resolve().root)):  # the same key as the pipeline
        report = ingest_files(list(files), source, out, errors=errors)
    _print_conservation(report)
    _print_errors(errors)
    written = ", ".join(f"{t}.parquet ({n:,})" for t, n in report.rows.items())
    console.print(f"wrote {out}/: {written or 'no rows'}; quarantine.parquet ({report.quarantined:,})")
    sys.exit(1 if errors else 0)


@main.command()
@click.argument("source", type=SourceName(_pullable_sources))
@click.option("--day", type=Day(), required=True, help="UTC day to fetch.")
@home_option
@friendly
def pull(source: str, day: date, home: Path | None) -> None:
    """Fetch one connector's UTC day into landing (SOURCE: litellm, openai_usage, ..., or openai, anthropic, buckets)."""
    from tokenomics.config import load_config
    from tokenomics.connectors import ConnectorError
    from tokenomics.connectors import pull as pull_day
    from tokenomics.ingest import ingest_files
    from tokenomics.privacy import pseudonymization_key, resolve_hmac_key

    h = Home.resolve(home)
    the_day = day
    started = time.monotonic()
    with err.status(f"pulling {source} for {the_day} ...") as status:

        def progress(message: str) -> None:
            status.update(f"{message} ({time.monotonic() - started:.0f}s)")

        try:
            landed = pull_day(h, load_config(h.config_file), source, the_day, log=progress)
        except ConnectorError as exc:
            raise UserError(str(exc)) from None
    errors: list[str] = []
    for item in landed:
        console.print(
            f"landed {item.path.relative_to(h.root)} ({item.status}, {item.rows:,} rows fetched)", soft_wrap=True
        )
        # the same conservation report as `ingest`, on exactly the file that landed
        with (
            tempfile.TemporaryDirectory(prefix=".pull-report-", dir=h.root) as out,
            pseudonymization_key(lambda: resolve_hmac_key(h.root)),
        ):
            report = ingest_files([item.path], item.source, Path(out), errors=errors)
        _print_conservation(report)
    _print_errors(errors)
    console.print(f"pulled {source} for {the_day}: {len(landed)} file(s) in {time.monotonic() - started:.1f}s")
    sys.exit(1 if errors else 0)


def _print_conservation(report: DayIngest) -> None:
    """One line per file: where every row it read went."""
    for c in report.files:
        console.print(
            f"{Path(c.file).name} ({c.source}): read {c.read:,}, kept {c.kept:,}, quarantined {c.quarantined:,}, "
            f"deduplicated {c.deduplicated:,}, skipped {c.skipped:,}",
            soft_wrap=True,
        )


def _print_errors(errors: list[str]) -> None:
    for line in errors:
        err.print(f"[bold red]error:[/] {line}")


@main.command()
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV or Parquet with columns day, series, value.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output CSV or Parquet (by extension).",
)
@friendly
def detect(input_path, out):
    """Run the anomaly detector on any daily series table (day, series, value)."""
    from tokenomics.anomalies.cli_detect import run_detect

    if not input_path.is_file():
        raise UserError(f"no such file: {input_path}")
    rows = run_detect(input_path, out)
    console.print(f"wrote {rows:,} rows to {out}")


@main.command()
@home_option
@click.option("--month", required=True, help="Month to charge back, YYYY-MM.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder. Default: <home>/reports/chargeback",
)
@friendly
def chargeback(home, month, out):
    """Write one chargeback statement per team for a month (CSV and Markdown), plus a FOCUS 1.2 file."""
    from tokenomics.finance.chargeback import load_month, write_statements
    from tokenomics.finance.focus_export import write_focus

    h = _published_home(home)
    out = out or h.reports / "chargeback"
    with _month_errors():
        paths = write_statements(h.warehouse, month, out)
        allocation, _ = load_month(h.warehouse, month)
    focus = write_focus(allocation, out / month, stem=f"focus-1.2_allocated_{month}")
    teams = sorted({p.stem for p in paths})
    console.print(f"[green]wrote[/] {len(teams)} team statements for {month} to {out / month}: {', '.join(teams)}")
    console.print(f"FOCUS 1.2 export: {', '.join(str(p) for p in focus)}")


@main.command()
@home_option
@click.option("--month", default=None, help="Month to report, YYYY-MM. Default: the latest month with usage.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Output HTML file. Default: <home>/reports/report-<month>.html",
)
@friendly
def report(home, month, out):
    """Write the offline HTML report: charts (inline SVG) and money tables, one self-contained file."""
    from tokenomics.report.html import latest_month, write_report

    h = _published_home(home)
    with _month_errors():
        month = month or latest_month(h.warehouse)
        with console.status(f"rendering the {month} report ..."):
            path = write_report(h.warehouse, out or h.reports / f"report-{month}.html", month)
    console.print(f"[green]wrote[/] {path}", soft_wrap=True)


def print_summary(h: Home) -> None:
    from tokenomics.report import summarize, summary_markdown

    s = summarize(h.warehouse)
    h.reports.mkdir(parents=True, exist_ok=True)
    report_file = h.reports / "summary.md"
    report_file.write_text(summary_markdown(s))
    console.rule(f"Tokenomics — {s.month}")
    teams = Table("team", "cost (USD)", "requests", "tokens", title="Cost by team this month")
    for r in s.by_team.iter_rows(named=True):
        teams.add_row(r["team"], f"{r['cost_usd']:,.2f}", f"{r['requests']:,}", f"{r['tokens']:,}")
    console.print(teams)
    feats = Table("team", "feature", "cost (USD)", title="Top features")
    for r in s.top_features.iter_rows(named=True):
        feats.add_row(r["team"], r["feature"], f"{r['cost_usd']:,.2f}")
    models = Table("provider", "model", "cost (USD)", "requests", title="Top models")
    for r in s.top_models.iter_rows(named=True):
        models.add_row(r["provider"], r["model"], f"{r['cost_usd']:,.2f}", f"{r['requests']:,}")
    console.print(feats)
    console.print(models)
    if s.bill_match.height:
        bill = Table(
            "provider",
            "billed",
            "gateway estimate",
            "capture",
            "main cause of the gap",
            title="Does the bill match? (this month)",
        )
        for r in s.bill_match.iter_rows(named=True):
            bill.add_row(
                r["provider"],
                f"{r['billed_usd']:,.2f}",
                f"{r['gateway_usd']:,.2f}",
                f"{(r['capture_rate'] or 0):.1%}",
                r["main_cause"] or "matched",
            )
        console.print(bill)
    if s.budgets.height:
        budgets = Table("team", "feature", "budget", "spent", "forecast", "used", "status", title="Budgets")
        for r in s.budgets.iter_rows(named=True):
            budgets.add_row(
                r["team"],
                r["feature"],
                f"{r['budget_usd']:,.2f}",
                f"{r['spent_usd']:,.2f}",
                f"{r['forecast_usd']:,.2f}",
                f"{r['pct_used']:.0f}%",
                r["status"],
            )
        console.print(budgets)
    for r in s.incidents.iter_rows(named=True):
        console.print(f"[yellow]{r['day']} {r['severity']}[/] {r['explanation']}")
    console.print(
        f"total this month ${s.total_cost_usd:,.2f}; unattributed {s.unattributed_share:.1%} of cost; "
        f"unpriced {s.unpriced_share:.2%} of requests"
    )
    html = sorted(h.reports.glob("report-*.html"))
    dagster_home = os.environ.get("DAGSTER_HOME") or h.dagster  # the instance runs were recorded in
    console.print(f"warehouse: {h.warehouse}  (open read-only: duckdb -readonly {h.warehouse})", soft_wrap=True)
    console.print(f"report:    {html[-1] if html else report_file}  (summary: {report_file})", soft_wrap=True)
    console.print(
        f"dagster:   {dagster_home}  (make ui, or DAGSTER_HOME={dagster_home} dagster dev -w workspace.yaml)",
        soft_wrap=True,
    )


@main.command()
@home_option
@friendly
def summary(home):
    """Reprint the summary of the published warehouse (what `demo` prints after a run)."""
    h = _published_home(home)
    print_summary(h)


@main.command("check-config")
@click.argument("config_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@home_option
@friendly
def check_config(config_file, home):
    """Validate tokenomics.yaml alone (default: <home>/tokenomics.yaml); an error names the key."""
    from tokenomics.config import load_config

    path = config_file or Home.resolve(home).root / "tokenomics.yaml"
    if not path.is_file():
        raise UserError(f"no such file: {path}")
    config = load_config(path)
    console.print(
        f"[green]ok[/] {path}: {len(config.budgets)} budgets, {len(config.alerts.channels)} alert channels, "
        f"{len(config.prices.overrides)} price overrides",
        soft_wrap=True,
    )


if __name__ == "__main__":
    main()
