"""Run a table's expectation suite with Great Expectations 1.x on chunked pandas batches.

GX has no Polars datasource and its SQL datasource misreads DuckDB, so each day goes to GX as pandas
batches of `chunk_rows` rows holding only the columns the suite reads (memory stays bounded on big
days). Per-chunk results are combined: counts and sums add up, success is re-decided on the totals.
Rules that need the whole day at once (uniqueness, a share of the day's spend) are precomputed in
Polars as derived columns, so chunking cannot hide them. GX is imported lazily and its context,
suites and ValidationDefinitions are built once per process: the import alone costs 2-3 s.
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import polars as pl

from tokenomics.quality import outcomes as out
from tokenomics.quality.derived import DERIVED, Derived
from tokenomics.quality.outcomes import Outcome
from tokenomics.quality.suites import SUITES, Expectation, parameters

SHAPE_CLASSES = frozenset(
    {"ExpectTableColumnsToMatchSet", "ExpectTableColumnsToMatchOrderedList", "ExpectTableColumnCountToEqual"}
)
"""Expectations about the frame's columns, not its rows: run once on a zero-row frame."""

ADDITIVE_CLASSES = frozenset({"ExpectColumnSumToBeBetween", "ExpectTableRowCountToBeBetween"})
"""Aggregate expectations whose per-chunk observed values add up to the day's value."""

_LOCK = threading.RLock()  # GX contexts are not documented as thread-safe; checks may run in threads
_NAMES = itertools.count()


# ---- GX, built once per process -----------------------------------------------------------------


@functools.cache
def _gx():
    """Import GX and make the ephemeral context (no files on disk, progress bars off)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return gx, gxe, context, context.data_sources.add_pandas("tokenomics_frames")


def _scope_of(exp: Expectation) -> str:
    """Shape checks run once on a zero-row frame of all columns; row checks on every narrow chunk."""
    return "shape" if exp.gx_class in SHAPE_CLASSES else "rows"


@dataclass
class _Compiled:
    shape: Any = None  # ValidationDefinition run once on a zero-row frame
    rows: Any = None  # ValidationDefinition run on every chunk
    broken: dict[str, str] = field(default_factory=dict)  # check name -> why GX could not build it


@functools.cache
def _compile(expectations: tuple[Expectation, ...]) -> _Compiled:
    """Suites and ValidationDefinitions for one suite; cached, so each is built once per process."""
    gx, gxe, context, source = _gx()
    compiled = _Compiled()
    groups: dict[str, list[Any]] = {"shape": [], "rows": []}
    for exp in expectations:
        if exp.gx_class is None:
            continue
        try:
            gx_expectation = getattr(gxe, exp.gx_class)(**exp.kwargs, meta={"check": exp.name})
        except Exception as exc:  # noqa: BLE001 - an unbuildable expectation is a failed check, not a crash
            compiled.broken[exp.name] = f"cannot build {exp.gx_class}: {type(exc).__name__}: {exc}"
            continue
        groups[_scope_of(exp)].append(gx_expectation)
    for scope, items in groups.items():
        if not items:
            continue
        name = f"{expectations[0].table}_{scope}_{next(_NAMES)}"
        batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("whole")
        suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=items))
        vd = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
        setattr(compiled, scope, vd)
    return compiled


def _exception_message(info: Any) -> str | None:
    """GX reports a crash either flat or keyed by metric id; return its message, or None if it ran."""
    if not isinstance(info, Mapping):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "GX raised an exception")
    for value in info.values():
        if isinstance(value, Mapping) and value.get("raised_exception"):
            return str(value.get("exception_message") or "GX raised an exception")
    return None


def _run(vd: Any, frame: pl.DataFrame, params: dict[str, Any]) -> dict[str, tuple[bool, dict, str | None]]:
    """One GX run on one pandas batch: check name -> (success, result, exception message)."""
    with _LOCK:
        result = vd.run(
            batch_parameters={"dataframe": frame.to_pandas()}, expectation_parameters=params, result_format="SUMMARY"
        )
    return {
        r.expectation_config.meta["check"]: (
            bool(r.success),
            dict(r.result or {}),
            _exception_message(r.exception_info),
        )
        for r in result.results
    }


# ---- combining chunks -----------------------------------------------------------------------------


@dataclass
class _Tally:
    """A check's results over every chunk seen so far."""

    chunks: int = 0
    success: bool = True
    elements: int = 0
    missing: int | None = None
    unexpected: int | None = None
    observed: Any = None
    sample: list[Any] = field(default_factory=list)
    error: str | None = None
    last: dict = field(default_factory=dict)

    def add(self, success: bool, result: dict, error: str | None) -> None:
        self.chunks += 1
        self.success &= success
        self.last = result
        if error:
            self.error = self.error or error
            return
        if "unexpected_count" in result:
            self.elements += int(result.get("element_count") or 0)
            self.unexpected = (self.unexpected or 0) + int(result["unexpected_count"] or 0)
            if "missing_count" in result:
                self.missing = (self.missing or 0) + int(result["missing_count"] or 0)
            self.sample = out.sample_of([*self.sample, *result.get("partial_unexpected_list", [])])
        elif "observed_value" in result:
            value = out.plain(result["observed_value"])
            self.observed = value if self.observed is None else self.observed + (value or 0)


def _resolve(value: Any, params: Mapping[str, Any]) -> Any:
    return params.get(value["$PARAMETER"]) if isinstance(value, Mapping) and "$PARAMETER" in value else value


def _within(value: Any, low: Any, high: Any, strict_min: bool, strict_max: bool) -> bool:
    if value is None:
        return False
    above = low is None or (value > low if strict_min else value >= low)
    below = high is None or (value < high if strict_max else value <= high)
    return above and below


def _rows_outcome(exp: Expectation, t: _Tally, many_chunks: bool) -> Outcome:
    mostly = float(exp.kwargs.get("mostly", 1.0))
    total = t.elements - (t.missing or 0)
    unexpected = t.unexpected or 0
    share = unexpected / total if total else 0.0
    passed = (1.0 - share >= mostly) if many_chunks else t.success
    return Outcome(
        exp.name, exp.table, exp.severity, passed,
        observed_value=round(share, 6), unexpected_count=unexpected,
        unexpected_percent=round(100 * share, 6) if total else None, sample=t.sample,
        message=out.rows_message(exp, passed, unexpected, total, t.sample),
    )  # fmt: skip


def _value_outcome(exp: Expectation, t: _Tally, many_chunks: bool, params: dict, context: Mapping) -> Outcome:
    low = _resolve(exp.kwargs.get("min_value"), params)
    high = _resolve(exp.kwargs.get("max_value"), params)
    if many_chunks and exp.gx_class not in ADDITIVE_CLASSES:
        return out.crashed(exp, f"{exp.gx_class} cannot be combined across chunks: raise chunk_rows")
    strict = bool(exp.kwargs.get("strict_min")), bool(exp.kwargs.get("strict_max"))
    passed = _within(t.observed, low, high, *strict) if many_chunks else t.success
    return Outcome(
        exp.name, exp.table, exp.severity, passed, observed_value=t.observed,
        message=out.value_message(exp, passed, t.observed, low, high, context),
    )  # fmt: skip


def _shape_outcome(exp: Expectation, t: _Tally) -> Outcome:
    mismatched = t.last.get("details", {}).get("mismatched", {}) or {}
    missing, extra = list(mismatched.get("missing", [])), list(mismatched.get("unexpected", []))
    expected = len(exp.kwargs.get("column_set") or exp.kwargs.get("column_list") or [])
    return Outcome(
        exp.name, exp.table, exp.severity, t.success, observed_value=out.plain(t.last.get("observed_value")),
        unexpected_count=len(missing), sample=missing[: out.SAMPLE_SIZE],
        message=out.columns_message(exp, t.success, missing, extra, expected),
    )  # fmt: skip


# ---- checks evaluated in Polars -------------------------------------------------------------------


def _same_kind(actual: pl.DataType, expected: pl.DataType) -> bool:
    """Canonical type match, lenient where the contract is: any integer width, decimals with enough scale."""
    if isinstance(expected, pl.Decimal):
        return isinstance(actual, pl.Decimal) and (actual.scale or 0) >= (expected.scale or 0)
    if expected.is_integer():
        return actual.is_integer()
    if isinstance(expected, pl.Datetime):
        return isinstance(actual, pl.Datetime) and actual.time_zone == expected.time_zone
    return actual == expected


def _dtypes_outcome(exp: Expectation, frame: pl.DataFrame) -> Outcome:
    """Column dtypes checked on the Polars schema: GX type expectations misread pandas-3 `str`."""
    schema = exp.kwargs.get("schema")
    if not isinstance(schema, Mapping):
        return out.crashed(exp, "a Polars check needs kwargs {'schema': {column: dtype}}")
    mismatches = [
        f"{c} is {frame.schema[c]} (expected {t})"
        for c, t in schema.items()
        if c in frame.schema and not _same_kind(frame.schema[c], t)
    ]
    return Outcome(
        exp.name, exp.table, exp.severity, not mismatches, observed_value=len(mismatches),
        unexpected_count=len(mismatches), sample=mismatches[: out.SAMPLE_SIZE],
        message=out.types_message(exp, mismatches),
    )  # fmt: skip


@dataclass
class _Narrow:
    """What GX sees, chunk by chunk: the columns the suite reads plus its derived columns.

    Whole-day derived columns are computed once up front; row-local ones per chunk, so the extra
    memory is bounded by the chunk size rather than the day's size.
    """

    frame: pl.DataFrame  # the day, as given
    day_columns: pl.DataFrame  # source columns read directly + whole-day derived columns
    per_chunk: dict[str, Derived]
    failed: dict[str, str]  # derived column -> why it could not be computed

    def chunks(self, rows: int) -> Iterator[pl.DataFrame]:
        for start in range(0, max(self.frame.height, 1), rows):
            part = self.frame.slice(start, rows)
            derived = [d.compute(part).alias(name) for name, d in self.per_chunk.items()]
            yield self.day_columns.slice(start, rows).hstack(derived)


def _narrow(frame: pl.DataFrame, exps: Sequence[Expectation]) -> _Narrow:
    """Pick the columns GX needs and compute (or dry-run) every derived column; a failing one only
    fails the checks that read it."""
    direct = {e.kwargs.get("column") for e in exps if e.derive is None} - {None}
    columns = [frame[c] for c in frame.columns if c in direct]
    per_chunk: dict[str, Derived] = {}
    failed: dict[str, str] = {}
    for name in dict.fromkeys(e.derive for e in exps if e.derive):
        derived = DERIVED.get(name)
        if derived is None:
            failed[name] = f"unknown derived column {name!r}"
            continue
        absent = [c for c in derived.columns if c not in frame.columns]
        if absent:
            failed[name] = f"derived column {name} needs column(s) {', '.join(absent)}, absent from the frame"
            continue
        try:
            if derived.whole_day:
                columns.append(derived.compute(frame).alias(name))
            else:
                derived.compute(frame.head(1))  # type errors surface here, not mid-run
                per_chunk[name] = derived
        except Exception as exc:  # noqa: BLE001 - e.g. a token column that arrived as text
            failed[name] = f"derived column {name} failed: {type(exc).__name__}: {exc}"
    if not columns:  # keep the row count for table-level checks (row count)
        columns.append(pl.repeat(True, frame.height, dtype=pl.Boolean, eager=True).alias("_row"))
    return _Narrow(frame, pl.DataFrame(columns), per_chunk, failed)


class _Chunked(Protocol):
    """What a GX run reads: the day's schema (`frame`, for shape checks) and the narrow chunks."""

    frame: pl.DataFrame
    failed: dict[str, str]  # derived column -> why it could not be computed

    def chunks(self, rows: int) -> Iterator[pl.DataFrame]: ...


def _run_gx(
    compiled: _Compiled, narrow: _Chunked, exps: Sequence[Expectation], params: dict[str, Any], chunk_rows: int
) -> dict[str, _Tally]:
    """Shape checks once on a zero-row frame, row checks on each chunk of the narrow frame."""
    tallies = {e.name: _Tally() for e in exps}
    batches = {
        "shape": (compiled.shape, iter([narrow.frame.head(0)])),
        "rows": (compiled.rows, narrow.chunks(max(1, int(chunk_rows)))),
    }
    for scope, (vd, chunks) in batches.items():
        names = [e.name for e in exps if _scope_of(e) == scope]
        if vd is None or not names:
            continue
        try:
            for chunk in chunks:
                for name, (success, result, error) in _run(vd, chunk, params).items():
                    if name in tallies:
                        tallies[name].add(success, result, error)
        except Exception as exc:  # noqa: BLE001 - a GX crash is a failure with its message
            for name in names:
                tallies[name].error = f"validation run failed: {type(exc).__name__}: {exc}"
    return tallies


def _conclude(exp: Expectation, t: _Tally, params: dict[str, Any], context: Mapping[str, Any]) -> Outcome:
    """One Outcome from a check's tally; chunked results are re-decided on their totals."""
    if t.error:
        return out.crashed(exp, t.error)
    if t.chunks == 0:
        return out.crashed(exp, "GX returned no result for this check")
    if exp.gx_class in SHAPE_CLASSES:
        return _shape_outcome(exp, t)
    if t.unexpected is not None:
        return _rows_outcome(exp, t, t.chunks > 1)
    return _value_outcome(exp, t, t.chunks > 1, params, context)


@dataclass
class _StreamedNarrow:
    """What GX sees, chunk by chunk, read from the day's Parquet: never the whole day in memory.

    Whole-day derived columns come from their `day_pass` (run once, bounded: the duplicated keys, the
    day's totals) and are finished per chunk; row-local ones are computed per chunk as in `_Narrow`.
    """

    frame: pl.DataFrame  # zero rows, the day's full schema (shape checks)
    files: list[str]
    read: list[str]  # columns read from the files
    direct: list[str]  # columns GX checks as they are
    derived: dict[str, tuple[Derived, Callable[[pl.DataFrame], pl.Series]]]  # name -> (derived, chunk -> column)
    failed: dict[str, str]

    def chunks(self, rows: int) -> Iterator[pl.DataFrame]:
        produced = False
        for batch in _parquet_batches(self.files, self.read, rows):
            produced = True
            yield self._narrow(batch)
        if not produced:
            yield self._narrow(self.frame.select(self.read))

    def _narrow(self, part: pl.DataFrame) -> pl.DataFrame:
        columns = [part[c] for c in self.direct]
        for name, (_, column) in self.derived.items():
            columns.append(column(part).alias(name))
        if not columns:  # keep the row count for table-level checks (row count)
            columns.append(pl.repeat(True, part.height, dtype=pl.Boolean, eager=True).alias("_row"))
        return pl.DataFrame(columns)


def _parquet_batches(files: list[str], columns: list[str], rows: int) -> Iterator[pl.DataFrame]:
    """The files' rows in frames of exactly `rows` (the last one shorter), in file and row order."""
    import pyarrow.parquet as pq

    pending: list[pl.DataFrame] = []
    held = 0
    for path in files:
        parquet = pq.ParquetFile(path, pre_buffer=False)
        # one row group at a time: iter_batches' read-ahead grew with the file (862 MiB at 10M rows)
        for group in range(parquet.num_row_groups):
            frame = pl.DataFrame(parquet.read_row_group(group, columns=columns))
            while frame.height:
                take = frame.head(rows - held)
                pending.append(take)
                held += take.height
                frame = frame.slice(take.height)
                if held == rows:
                    yield pl.concat(pending)
                    pending, held = [], 0
    if pending:
        yield pl.concat(pending)


def _streamed_narrow(files: list[str], schema: pl.Schema, exps: Sequence[Expectation]) -> _StreamedNarrow:
    empty = pl.DataFrame(schema=schema)
    direct = [c for c in schema if c in {e.kwargs.get("column") for e in exps if e.derive is None}]
    derived: dict[str, tuple[Derived, Callable[[pl.DataFrame], pl.Series]]] = {}
    failed: dict[str, str] = {}
    probe = pl.scan_parquet(files).head(1).collect() if files else empty
    for name in dict.fromkeys(e.derive for e in exps if e.derive):
        d = DERIVED.get(name)
        if d is None:
            failed[name] = f"unknown derived column {name!r}"
            continue
        absent = [c for c in d.columns if c not in schema]
        if absent:
            failed[name] = f"derived column {name} needs column(s) {', '.join(absent)}, absent from the frame"
            continue
        try:
            column = _streamed_column(d, files)
            column(probe)  # type errors surface here
            derived[name] = (d, column)
        except Exception as exc:  # noqa: BLE001 - e.g. a token column that arrived as text
            failed[name] = f"derived column {name} failed: {type(exc).__name__}: {exc}"
    read = list(dict.fromkeys([*direct, *(c for d, _ in derived.values() for c in d.columns)]))
    read = [c for c in schema if c in read] or list(schema)[:1]  # at least one column: the row count
    return _StreamedNarrow(empty, files, read, direct, derived, failed)


def _streamed_column(d: Derived, files: list[str]) -> Callable[[pl.DataFrame], pl.Series]:
    """How a derived column is computed on one streamed chunk: row-local ones as they are, whole-day
    ones from their day pass (run here, once)."""
    if not d.whole_day:
        return d.compute
    day_pass, chunk = d.day_pass, d.chunk
    if day_pass is None or chunk is None:
        raise ValueError("a whole-day column without a day pass cannot stream")
    state = day_pass(files) if files else None
    return lambda part: chunk(part, state)


# ---- entry point ----------------------------------------------------------------------------------


def validate_parquet(
    table: str,
    files: Sequence[str] | str,
    *,
    context: Mapping[str, Any] | None = None,
    chunk_rows: int = 250_000,
    expectations: Sequence[Expectation] | None = None,
) -> list[Outcome]:
    """`validate` for a day already written as Parquet (a partition's files, or a glob), streaming.

    Same suite, same Outcomes, same GX batches of `chunk_rows` rows; but the day is never loaded:
    day-wide rules (uniqueness, shares) take one bounded first pass over the files (`Derived.day_pass`),
    then GX sees the chunks as they are read. Peak memory follows chunk_rows, not the day.
    """
    import glob as globbing

    paths = sorted(globbing.glob(files)) if isinstance(files, str) else [str(f) for f in files]
    exps = _suite(table, expectations)
    schema = pl.scan_parquet(paths).collect_schema() if paths else pl.Schema()
    rows = pl.scan_parquet(paths).select(pl.len()).collect().item() if paths else 0
    return _validate(
        exps, dict(context or {}), chunk_rows, pl.DataFrame(schema=schema), rows,
        lambda pending: _streamed_narrow(paths, schema, pending),
    )  # fmt: skip


def validate(
    table: str,
    frame: pl.DataFrame,
    *,
    context: Mapping[str, Any] | None = None,
    chunk_rows: int = 250_000,
    expectations: Sequence[Expectation] | None = None,
) -> list[Outcome]:
    """Validate one day of `table` against its suite; one Outcome per expectation, in suite order.

    `context` carries what a dataset-level check needs beyond the frame, e.g.
    `{"previous_day_rows": 41_210}` for the day-over-day volume check. `expectations` overrides
    the suite (tests, custom rules); pass the same objects each time to reuse the compiled suite.
    A check that cannot run (GX crash, missing column, bad arguments) fails with the reason.
    """
    exps = _suite(table, expectations)
    return _validate(
        exps, dict(context or {}), chunk_rows, frame, frame.height, lambda pending: _narrow(frame, pending)
    )


def _suite(table: str, expectations: Sequence[Expectation] | None) -> tuple[Expectation, ...]:
    exps = tuple(expectations if expectations is not None else SUITES[table])
    if len({e.name for e in exps}) != len(exps):
        raise ValueError(f"{table}: check names must be unique within a suite")
    return exps


def _validate(
    exps: tuple[Expectation, ...],
    context: dict[str, Any],
    chunk_rows: int,
    typed: pl.DataFrame,
    rows: int,
    narrow_for: Callable[[list[Expectation]], _Chunked],
) -> list[Outcome]:
    """The run both entry points share: dtype checks on `typed` (the day, or its zero-row schema),
    checks missing their context not run, the rest through GX on the chunks `narrow_for` yields."""
    params = parameters(context)
    done: dict[str, Outcome] = {}
    for e in exps:
        if e.gx_class is None:
            done[e.name] = _dtypes_outcome(e, typed)
        elif any(k not in context for k in e.requires):
            done[e.name] = out.not_run(e, rows)
    pending = [e for e in exps if e.name not in done]
    if pending:
        with _LOCK:
            try:
                compiled = _compile(exps)
            except Exception as exc:  # noqa: BLE001 - GX failed to start: every GX check fails with why
                compiled = _Compiled(broken={e.name: f"GX unavailable: {type(exc).__name__}: {exc}" for e in pending})
        narrow = narrow_for(pending)
        for e in pending:
            reason = compiled.broken.get(e.name) or narrow.failed.get(e.derive or "")
            if reason:
                done[e.name] = out.crashed(e, reason)
        runnable = [e for e in pending if e.name not in done]
        tallies = _run_gx(compiled, narrow, runnable, params, chunk_rows)
        done.update({e.name: _conclude(e, tallies[e.name], params, context) for e in runnable})
    return [done[e.name] for e in exps]
