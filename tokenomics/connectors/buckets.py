"""Cloud billing exports in object storage (s3://): the current delivery of each export, split by UTC day.

What a delivery is:
- AWS CUR 2.0 / Data Exports and legacy CUR: a `*Manifest.json` per billing period lists the data
  files of the period's *current* delivery (`dataFiles`, full s3:// URIs; legacy `reportKeys`). Files
  the manifest does not list (older executions) are ignored. One delivery = one manifest; its stamp
  is the manifest's modification time.
- Azure cost exports, GCP billing files and FOCUS exports without a manifest: every data object is a
  delivery of its own key; its stamp is the object's modification time, so an export the cloud
  overwrites in place (Azure's month-to-date file) is a newer delivery of the same export.

Landing is per UTC day, exports per billing period: the connector copies a delivery's rows of day D
into landing/<source>/D/<export>_delivered-<stamp>.<ext>. Rows are copied as read (CSV as text, so
every value keeps its spelling; Parquet with its own types); gzipped CSV (`.csv.gz`, CUR's default)
is decompressed on the way. A rerun writes the same name (replaced); a restated delivery has a newer
stamp, so tokenomics.deliveries reads it instead of the old one. A manifest delivery writes every day
of its billing period, a header-only file when a day has no rows, so a restatement that removes a
day's lines still supersedes them.

Credentials and endpoint: the standard AWS variables, as for the object-storage lake (PyArrow's S3
filesystem through tokenomics.objectstore); nothing of them is written anywhere.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlparse

import polars as pl
import pyarrow.parquet as pq
from pyarrow import fs as pafs

from tokenomics.connectors.errors import ConnectorError
from tokenomics.connectors.landing import Landed, land_delivery
from tokenomics.home import Home
from tokenomics.objectstore import LakeUrlError, ObjectLake
from tokenomics.sources import cloud_bills as cb

DAY_COLUMNS: dict[str, tuple[str, ...]] = {
    "aws_cur": ("line_item_usage_start_date", "lineItem/UsageStartDate"),
    "azure_cost": ("Date", "UsageDate", "date", "usageDate"),
    "gcp_billing": ("usage_start_time",),
    "focus": ("ChargePeriodStart",),
}
"""The column that dates a row, per source: the same one its reader turns into charge_period_start."""

DATA_SUFFIXES = (
    ".csv",
    ".csv.gz",
    ".parquet",
    ".snappy.parquet",
    ".gz.parquet",
    ".json",
    ".jsonl",
    ".json.gz",
    ".jsonl.gz",
)
_PERIOD = re.compile(r"BILLING_PERIOD=(\d{4})-(\d{2})|(\d{4})(\d{2})01-\d{8}")


@dataclass(frozen=True)
class Delivery:
    source: str
    export: str  # stable across restatements: the landing export name
    stamp: str  # when delivered: 2026-03-06T10-15-00Z
    files: tuple[str, ...]  # bucket/key paths as PyArrow addresses them
    period: tuple[date, date] | None  # [start, end) of the billing period, when a manifest says so
    version: str  # what changes when the delivery changes (sensor cursor)


def connect(url: str) -> ObjectLake:
    try:
        return ObjectLake.from_url(url)
    except LakeUrlError:
        raise ConnectorError(f"buckets: '{url}' is not s3://bucket/prefix") from None


def list_deliveries(store: ObjectLake, source: str) -> list[Delivery]:
    """The current deliveries under a bucket prefix, manifests first."""
    try:
        objects = store.objects("")
    except OSError as exc:
        raise ConnectorError(f"buckets: cannot list {store.url}: {exc}") from None
    manifests = {k: i for k, i in objects.items() if k.lower().endswith("manifest.json")}
    listed: set[str] = set()
    out: list[Delivery] = []
    for key, info in sorted(manifests.items()):
        delivery = _manifest_delivery(store, source, key, info)
        if delivery is not None:
            listed.update(delivery.files)
            out.append(delivery)
    for key, info in sorted(objects.items()):
        path = store.key(key)
        if key in manifests or path in listed or not key.lower().endswith(DATA_SUFFIXES):
            continue
        if manifests and source == "aws_cur":
            continue  # a CUR data file no current manifest lists belongs to a superseded execution
        out.append(Delivery(source, _export_name(key), _stamp(info), (path,), None, f"{info.size}:{info.mtime_ns}"))
    return out


def _manifest_delivery(store: ObjectLake, source: str, key: str, info: pafs.FileInfo) -> Delivery | None:
    with store.filesystem.open_input_stream(store.key(key)) as stream:
        try:
            manifest = json.loads(stream.read())
        except json.JSONDecodeError:
            raise ConnectorError(f"buckets: {store.url}/{key} is not valid JSON") from None
    bucket = store.base.split("/", 1)[0]
    if "dataFiles" in manifest:
        files = [f"{urlparse(u).netloc}{urlparse(u).path}" for u in manifest["dataFiles"]]
    elif "reportKeys" in manifest:
        files = [f"{manifest.get('bucket') or bucket}/{k.lstrip('/')}" for k in manifest["reportKeys"]]
    else:
        return None
    period = _period(manifest.get("billingPeriod"), key)
    name = manifest.get("exportName") or manifest.get("reportName") or _export_name(key).removesuffix("-manifest.json")
    label = f"{period[0]:%Y-%m}" if period else "period"
    export = f"{_safe(name)}_{label}.{_extension(files)}"
    return Delivery(source, export, _stamp(info), tuple(files), period, f"{info.size}:{info.mtime_ns}")


def pull_day(home: Home, exports: list, day: date, log: Callable[[str], None] = lambda _m: None) -> list[Landed]:
    """Copy the rows of `day` of every current delivery of the configured exports into landing."""
    landed: list[Landed] = []
    for export in exports:
        store = connect(export.url)
        for delivery in list_deliveries(store, export.source):
            if delivery.period and not delivery.period[0] <= day < delivery.period[1]:
                continue
            frames = [_day_rows(store, f, export.source, day) for f in delivery.files]
            rows = sum(len(f) for f in frames if f is not None)
            name = _delivered_name(delivery)
            earlier = _has_earlier(home, export.source, day, delivery.export)
            if rows == 0 and delivery.period is None and not earlier:
                continue
            landed.append(land_delivery(home, export.source, day, name, _encode(frames, delivery), rows))
            log(f"{export.source} {day}: {rows:,} rows of {delivery.export} (delivered {delivery.stamp})")
    return landed


def days_covered(store: ObjectLake, delivery: Delivery) -> list[date]:
    """The UTC days a delivery has rows for (its billing period's days when a manifest gives one)."""
    if delivery.period:
        start, end = delivery.period
        return [start + timedelta(days=i) for i in range((end - start).days)]
    found: set[date] = set()
    for path in delivery.files:
        raw = _read(store, path, delivery.source)
        if raw is not None and raw.height:
            found.update(d for d in raw.select(_day_expr(raw, delivery.source)).to_series().drop_nulls().unique())
    return sorted(found)


# ---- reading and splitting --------------------------------------------------------------------------


def _read(store: ObjectLake, path: str, source: str) -> pl.DataFrame | None:
    with store.filesystem.open_input_stream(path) as stream:
        data = stream.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if data[:4] == b"PAR1":
        return pl.DataFrame(pq.read_table(io.BytesIO(data)))
    text = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] == b"{":  # JSON lines (GCP's export as files): one line per row, kept verbatim
        lines = [ln for ln in data.decode("utf-8").splitlines() if ln.strip()]
        return pl.DataFrame({"_json": lines}, schema={"_json": pl.String})
    if not text:
        return None
    return pl.read_csv(io.BytesIO(data), infer_schema=False)


def _day_expr(frame: pl.DataFrame, source: str) -> pl.Expr:
    if "_json" in frame.columns and frame.width == 1:
        column = DAY_COLUMNS[source][0]
        return cb.parse_utc(pl.col("_json").str.json_path_match(f"$.{column}")).dt.date()
    wanted = {c.lower(): c for c in frame.columns}
    for name in DAY_COLUMNS[source]:
        if name.lower() in wanted:
            return cb.utc_timestamp(frame, wanted[name.lower()]).dt.date()
    raise ConnectorError(f"buckets: a {source} file has none of the columns {', '.join(DAY_COLUMNS[source])}")


def _day_rows(store: ObjectLake, path: str, source: str, day: date) -> pl.DataFrame | None:
    try:
        raw = _read(store, path, source)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise ConnectorError(f"buckets: cannot read s3://{path}: {exc}") from None
    if raw is None:
        return None
    return raw.filter(_day_expr(raw, source) == day)


def _encode(frames: list[pl.DataFrame | None], delivery: Delivery) -> Iterator[bytes]:
    present = [f for f in frames if f is not None]
    if not present:
        return
    frame = pl.concat(present, how="diagonal_relaxed")
    out = io.BytesIO()
    if frame.columns == ["_json"]:
        yield "".join(line + "\n" for line in frame["_json"]).encode("utf-8")
        return
    if _extension(delivery.files) == "parquet":
        frame.write_parquet(out)
    else:
        frame.write_csv(out)
    yield out.getvalue()


# ---- names ------------------------------------------------------------------------------------------


def _delivered_name(delivery: Delivery) -> str:
    stem, _, ext = delivery.export.partition(".")
    return f"{stem}_delivered-{delivery.stamp}.{ext}"


def _has_earlier(home: Home, source: str, day: date, export: str) -> bool:
    from tokenomics.deliveries import export_name

    folder = home.landing_day(source, day)
    return folder.is_dir() and any(export_name(p.name) == export for p in folder.iterdir())


def _extension(files) -> str:
    first = next(iter(files), "").lower()
    if first.endswith(".parquet"):
        return "parquet"
    if first.endswith((".json", ".jsonl", ".json.gz", ".jsonl.gz")):
        return "jsonl"
    return "csv"


def _export_name(key: str) -> str:
    """A landing export name for an object key: its path, flattened; .csv.gz lands as .csv."""
    base = key
    for suffix in sorted(DATA_SUFFIXES, key=len, reverse=True):
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
            break
    ext = _extension([key]) if not key.lower().endswith("manifest.json") else "json"
    return f"{_safe(base)}.{ext}"


def _safe(text: str) -> str:
    # no '.' (the landing name's extension starts at the first one) and no delivery marker look-alike
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-").replace("delivered", "dlvrd")


def _stamp(info: pafs.FileInfo) -> str:
    when = datetime.fromtimestamp(info.mtime_ns / 1e9, tz=timezone.utc)
    return when.strftime("%Y-%m-%dT%H-%M-%SZ")


def _period(billing_period, key: str) -> tuple[date, date] | None:
    if isinstance(billing_period, dict) and billing_period.get("start"):
        start = _parse_date(billing_period["start"])
        end = _parse_date(billing_period.get("end") or "")
        if start and end:
            return start, end
    match = _PERIOD.search(key)
    if match:
        y, m = (int(match[1]), int(match[2])) if match[1] else (int(match[3]), int(match[4]))
        start = date(y, m, 1)
        return start, date(y + m // 12, m % 12 + 1, 1)
    return None


def _parse_date(text: str) -> date | None:
    digits = re.sub(r"\D", "", text)[:8]
    try:
        return datetime.strptime(digits, "%Y%m%d").date() if len(digits) == 8 else None
    except ValueError:
        return None
