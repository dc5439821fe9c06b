"""Helpers shared by the reader tests: read a fixture the pipeline's way and check conservation."""

from pathlib import Path

from tokenomics.ingest import normalize_file
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
