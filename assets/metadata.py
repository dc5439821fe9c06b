"""Metadata that makes an asset's page in the Dagster UI self-explanatory."""

import dagster as dg
import polars as pl


def markdown_table(frame: pl.DataFrame, limit: int = 20) -> dg.MetadataValue:
    """A markdown preview of the first rows (Polars has no to_markdown; go through pandas/tabulate)."""
    if frame.height == 0:
        return dg.MetadataValue.md("_no rows_")
    return dg.MetadataValue.md(frame.head(limit).to_pandas().to_markdown(index=False))


def file_counts_table(files) -> dg.MetadataValue:
    """Per-file conservation: read = kept + quarantined + deduplicated + skipped."""
    rows = [f.as_dict() | {"file": f.file.rsplit("/", 1)[-1]} for f in files]
    return markdown_table(pl.DataFrame(rows) if rows else pl.DataFrame(), limit=200)
