"""Helpers shared by the reader tests: read a fixture the pipeline's way and check conservation."""

import shutil
from pathlib import Path

from tokenomics.ingest import DayIngest, ingest_files, normalize_file
from tokenomics.sources.normalize import FileCounts

FIXTURES = Path(__file__).parent / "fixtures"


def ingest(reader, name: str, chunk_rows: int = 200_000):
    """Normalize and dedup tests/fixtures/<source>/<name>; conservation must hold."""
    kept, quarantine, counts = normalize_file(reader.SOURCE, FIXTURES / reader.SOURCE / name, chunk_rows=chunk_rows)
    assert counts.balanced, counts.as_dict()
    assert counts.kept == kept.height and counts.quarantined == quarantine.height
    return kept, quarantine, counts


def tally(counts: FileCounts) -> tuple[int, int, int, int, int]:
    return counts.read, counts.kept, counts.quarantined, counts.deduplicated, counts.skipped


def deliver_twice(path: Path, source: str, work: Path) -> DayIngest:
    """The same file delivered twice (two copies), normalized and deduplicated by the pipeline's streaming dedup."""
    copies = []
    for delivery in ("first", "second"):
        (work / delivery).mkdir(parents=True)
        copies.append(Path(shutil.copy(path, work / delivery / path.name)))
    report = ingest_files(copies, source, work / "out", enrich={})
    assert report.balanced, [c.as_dict() for c in report.files]
    return report
