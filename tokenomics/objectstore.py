"""An object-storage lake (`s3://bucket/prefix`): the bucket is the truth, the home a local working copy.

Every step of the pipeline reads and writes local Parquet with DuckDB and Polars as before. Around each
step, the mirror pulls what the step may read from the bucket and pushes back what it wrote, through
PyArrow's S3 filesystem (no S3 client of our own). The rules that make this safe:

- A partition is one object (`.../day=D/part-0.parquet`): a rerun replaces it with a single PUT, which
  S3 makes visible at once, so a reader of the bucket sees the old day or the new day, never a mix, and
  a rerun leaves no stray objects (same key). An object is never visible half-written: a PUT or a
  multipart upload appears only when complete.
- Files that a step removed from a partition folder are deleted from the bucket after the new objects
  are up; a folder that is mid-swap locally (missing for an instant) is never taken for a deletion.
- Pulled files keep the object's size and modification time, so the next pull fetches only what changed.
- Big per-day inputs (landing files, request-level usage_events and its quarantine) are pulled only for
  the days a run processes; everything else (marts, billing lines) is small and pulled whole.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from pyarrow import fs as pafs

MIRRORED = ("lake", "quarantine", "landing")
"""Folders of the home that live in the bucket (DESIGN: lake, quarantine, landing and marts)."""

DAY_SCOPED = ("landing/", "lake/usage_events/", "quarantine/usage_events/")
"""Prefixes pulled only for the days a run processes: request-level, large."""

LAKE_URL_ENV = "TOKENOMICS_LAKE_URL"

Snapshot = dict[str, tuple[int, int, int]]


class LakeUrlError(ValueError):
    pass


@dataclass(frozen=True)
class ObjectLake:
    """A lake at `s3://bucket/prefix`, mirrored into (and from) a home's local folders."""

    url: str
    filesystem: pafs.FileSystem
    base: str  # bucket/prefix, as PyArrow filesystems address objects

    @classmethod
    def from_url(cls, url: str, environ: Mapping[str, str] | None = None) -> ObjectLake:
        """Connect with the standard AWS variables: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ..., AWS_REGION."""
        environ = os.environ if environ is None else environ
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise LakeUrlError(f"lake_url '{url}' is not an object-storage URL; use s3://bucket/prefix")
        endpoint = environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL")
        scheme = None
        if endpoint:
            endpoint_url = urlparse(endpoint)
            scheme, endpoint = endpoint_url.scheme or None, endpoint_url.netloc or endpoint
        filesystem = pafs.S3FileSystem(
            access_key=environ.get("AWS_ACCESS_KEY_ID"),
            secret_key=environ.get("AWS_SECRET_ACCESS_KEY"),
            session_token=environ.get("AWS_SESSION_TOKEN"),
            region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            endpoint_override=endpoint,
            scheme=scheme,
        )
        base = f"{parsed.netloc}/{parsed.path.strip('/')}".rstrip("/")
        return cls(url=url.rstrip("/"), filesystem=filesystem, base=base)

    def key(self, relative: str) -> str:
        return f"{self.base}/{relative}"

    # -- listing -----------------------------------------------------------------------------------

    def objects(self, prefix: str) -> dict[str, pafs.FileInfo]:
        """Every object under `prefix` (relative to the lake root), by relative path."""
        selector = pafs.FileSelector(self.key(prefix), recursive=True, allow_not_found=True)
        found = {}
        for info in self.filesystem.get_file_info(selector):
            if info.type == pafs.FileType.File:
                found[info.path[len(self.base) + 1 :]] = info
        return found

    def landing_days(self) -> list[str]:
        """Days with files under the bucket's landing/<source>/<YYYY-MM-DD>/: what a run without dates covers."""
        days = set()
        for relative in self.objects("landing"):
            parts = relative.split("/")
            if len(parts) >= 4 and _is_day(parts[2]) and not _is_temporary(relative):
                days.add(parts[2])
        return sorted(days)

    # -- pull --------------------------------------------------------------------------------------

    def pull(self, root: Path, days: Iterable[str] | None = None) -> int:
        """Bring the home's local copy up to date for a step over `days` (all days if None).

        Returns the number of files downloaded.
        """
        wanted_days = None if days is None else {str(d) for d in days}
        fetched = 0
        for top in MIRRORED:
            for relative, info in self.objects(top).items():
                if wanted_days is not None and _day_scoped_elsewhere(relative, wanted_days):
                    continue
                if _is_temporary(relative):
                    continue
                local = root / relative
                if _same(local, info):
                    continue
                self.download(relative, local, info)
                fetched += 1
        return fetched

    def download(self, relative: str, local: Path, info: pafs.FileInfo | None = None) -> None:
        """Fetch one object into `local` atomically (temp file + rename), stamped with its mtime."""
        info = info or self.filesystem.get_file_info(self.key(relative))
        local.parent.mkdir(parents=True, exist_ok=True)
        draft = local.with_name(f".pull-{uuid.uuid4().hex[:8]}-{local.name}")
        try:
            with self.filesystem.open_input_stream(self.key(relative)) as source, open(draft, "wb") as target:
                shutil.copyfileobj(source, target, length=8 << 20)
            _stamp(draft, info)
            os.replace(draft, local)
        finally:
            if draft.exists():
                draft.unlink()

    # -- push --------------------------------------------------------------------------------------

    def push(self, root: Path, before: Snapshot) -> tuple[int, int]:
        """Upload what changed locally since `before` and delete what was removed; returns (put, deleted)."""
        after = snapshot(root)
        changed = [rel for rel, state in after.items() if before.get(rel) != state]
        removed = [
            rel for rel in before if rel not in after and (root / rel).parent.is_dir() and not _is_temporary(rel)
        ]
        for relative in changed:
            self.upload(root / relative, relative)
        for relative in removed:
            try:
                self.filesystem.delete_file(self.key(relative))
            except FileNotFoundError:
                pass
        return len(changed), len(removed)

    def upload(self, local: Path, relative: str) -> None:
        """One PUT (multipart for big files) of `local` to `relative`; visible only once complete."""
        try:
            with open(local, "rb") as source, self.filesystem.open_output_stream(self.key(relative)) as target:
                shutil.copyfileobj(source, target, length=8 << 20)
        except FileNotFoundError:
            return  # replaced locally again meanwhile: the step that did it pushes the newer file
        _stamp(local, self.filesystem.get_file_info(self.key(relative)))


def snapshot(root: Path) -> Snapshot:
    """(size, mtime_ns, inode) of every mirrored local file, by path relative to the home."""
    state: Snapshot = {}
    for top in MIRRORED:
        base = root / top
        if not base.is_dir():
            continue
        for folder, _dirs, files in os.walk(base):
            for name in files:
                path = Path(folder) / name
                relative = path.relative_to(root).as_posix()
                if _is_temporary(relative):
                    continue
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                state[relative] = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
    return state


def _is_temporary(relative: str) -> bool:
    """Drafts of atomic swaps (.tmp-, .old-, .pull-, .ingest-) never leave the machine."""
    return any(part.startswith(".") for part in relative.split("/"))


def _is_day(text: str) -> bool:
    return len(text) == 10 and text[4] == "-" and text[7] == "-"


def _day_scoped_elsewhere(relative: str, days: set[str]) -> bool:
    if not relative.startswith(DAY_SCOPED):
        return False
    for part in relative.split("/"):
        day = part.removeprefix("day=")
        if _is_day(day):
            return day not in days
    return False


def _same(local: Path, info: pafs.FileInfo) -> bool:
    try:
        stat = local.stat()
    except FileNotFoundError:
        return False
    return stat.st_size == info.size and info.mtime_ns is not None and stat.st_mtime_ns == info.mtime_ns


def _stamp(local: Path, info: pafs.FileInfo) -> None:
    if info.mtime_ns is not None:
        os.utime(local, ns=(info.mtime_ns, info.mtime_ns))
