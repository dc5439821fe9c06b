"""What the CLI shows while Dagster runs: a progress bar over (asset, day) pairs and one line per finished step.

Fed by the run's own events (pipelines.runner.RunProgress, read back from the Dagster instance's
event log while the run executes): the bar's total is what Dagster planned to materialize, it moves
when Dagster records a materialization, and a step's line is printed when Dagster records its end.
No Dagster import here: an event is anything with kind, step, partitions, passed, message, timestamp.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


class RunProgressView:
    """A rich progress bar of asset-days; use as a context manager and pass the instance as the callback."""

    def __init__(self, console: Console, title: str) -> None:
        self.title = title
        self.console = console
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("asset-days"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._lock = threading.Lock()
        self._task = self.bar.add_task(title, total=None, start=False)  # its clock starts on __enter__
        self._started: dict[str, float] = {}
        self._days: dict[str, set[str]] = defaultdict(set)
        self._checks: dict[str, list[tuple[str, bool]]] = defaultdict(list)
        self.planned = 0
        self.materialized = 0
        self.steps_done: list[str] = []
        self.steps_failed: list[str] = []
        self.failures: list[tuple[str, str]] = []  # (step, the error its code raised)
        self.skipped: list[str] = []

    def __enter__(self) -> RunProgressView:
        self.bar.start()
        self.bar.start_task(self._task)
        return self

    def __exit__(self, *exc) -> None:
        self.bar.stop()
        if self.skipped:
            self.console.print(
                f"  [dim]-[/] not run, downstream of a failure: {escape(', '.join(self.skipped))}",
                soft_wrap=True,
                highlight=False,
            )

    def __call__(self, event) -> None:
        with self._lock:
            getattr(self, f"_on_{event.kind}", lambda _e: None)(event)

    def _describe(self) -> None:
        running = [s for s in self._started if s not in self.steps_done and s not in self.steps_failed]
        detail = f": {', '.join(running[:3])}{' ...' if len(running) > 3 else ''}" if running else ""
        self.bar.update(self._task, description=f"{self.title}{detail}")

    def _on_planned(self, event) -> None:
        self.planned += max(len(event.partitions), 1)
        self.bar.update(self._task, total=self.planned)

    def _on_step_start(self, event) -> None:
        self._started[event.step] = event.timestamp
        self._describe()

    def _on_materialized(self, event) -> None:
        self.materialized += 1
        self._days[event.step].update(event.partitions)
        self.bar.advance(self._task)

    def _on_check(self, event) -> None:
        self._checks[event.step].append((event.message, bool(event.passed)))

    def _on_step_success(self, event) -> None:
        self.steps_done.append(event.step)
        seconds = event.timestamp - self._started.get(event.step, event.timestamp)
        self._line("[green]✓[/]", event.step, self._detail(event.step), seconds)
        self._describe()

    def _on_step_failure(self, event) -> None:
        self.steps_failed.append(event.step)
        seconds = event.timestamp - self._started.get(event.step, event.timestamp)
        message = " ".join((event.message or "failed").split())
        self.failures.append((event.step, message))
        self._line("[red]✗[/]", event.step, message, seconds)
        self._describe()

    def _on_step_skipped(self, event) -> None:
        if event.step not in self.skipped:
            self.skipped.append(event.step)

    def _on_warning(self, event) -> None:
        self.bar.console.print(
            f"  [yellow]![/] {escape(event.step or 'run')}: {escape(event.message)}", soft_wrap=True, highlight=False
        )

    def _detail(self, step: str) -> str:
        days, checks = self._days.get(step), self._checks.get(step)
        parts = []
        if days:
            parts.append(f"{len(days)} day{'s' if len(days) != 1 else ''}")
        if checks:
            failed = [name for name, ok in checks if not ok]
            parts.append(f"{len(checks) - len(failed)} of {len(checks)} checks passed")
            if failed:
                parts.append(f"failed: {', '.join(failed)}")
        return "; ".join(parts) or "done"

    def _line(self, mark: str, step: str, detail: str, seconds: float) -> None:
        self.bar.console.print(
            f"  {mark} {escape(step):<34} {seconds:6.1f}s  {escape(detail)}", soft_wrap=True, highlight=False
        )
