"""Bounded-memory streaming: CSV blocks, JSON pieces and the day's dedup give the same rows as one pass."""

from __future__ import annotations

import polars as pl
import pytest

from tokenomics.ingest import _dedup_to
from tokenomics.schema import TABLES, empty
from tokenomics.sources.normalize import ReaderError
from tokenomics.sources.text import iter_csv_chunks, iter_json_records

QUOTED_CSV = b'\xef\xbb\xbfid, note ,n\na,"two\nlines",1\nb,"say ""hi""\r\nthen, go",NULL\nc,,N/A\nd,"x",4\n'


def _csv(tmp_path, content: bytes, **kwargs) -> list[pl.DataFrame]:
    path = tmp_path / "input.csv"
    path.write_bytes(content)
    return list(iter_csv_chunks(path, source="test", **kwargs))


def test_csv_blocks_never_cut_a_quoted_field_that_spans_lines(tmp_path):
    whole = pl.concat(_csv(tmp_path, QUOTED_CSV))
    for chunk_bytes in (1, 5, 17):
        assert pl.concat(_csv(tmp_path, QUOTED_CSV, chunk_bytes=chunk_bytes)).equals(whole)
    assert whole.to_dicts() == [
        {"_line": 2, "id": "a", "note": "two\nlines", "n": "1"},
        {"_line": 4, "id": "b", "note": 'say "hi"\r\nthen, go', "n": None},  # file lines, not record numbers
        {"_line": 6, "id": "c", "note": None, "n": None},
        {"_line": 7, "id": "d", "note": "x", "n": "4"},
    ]


def test_csv_chunks_hold_at_most_chunk_rows_and_number_on(tmp_path):
    chunks = _csv(tmp_path, b"id\n" + b"".join(b"r%d\n" % i for i in range(7)), chunk_rows=2, chunk_bytes=8)
    assert [c.height for c in chunks] == [2, 2, 1, 2]  # blocks of 2, 3 and 2 records, sliced to 2 rows
    assert pl.concat(chunks)["_line"].to_list() == [2, 3, 4, 5, 6, 7, 8]


def test_csv_header_only_file_yields_nothing(tmp_path):
    assert _csv(tmp_path, b"id,n\n", chunk_bytes=1) == []


def test_csv_error_in_a_later_block_names_the_block_first_line(tmp_path):
    content = b"id,n\n" + b"a,1\n" * 3000 + b"b,\xff\n"  # past the first 8 KiB the header check decodes
    with pytest.raises(ReaderError, match="line 3002 of input.csv"):
        _csv(tmp_path, content, chunk_bytes=4)  # one 4-byte record per block


def test_json_pieces_are_regrouped_into_chunks_of_chunk_rows(tmp_path):
    path = tmp_path / "input.jsonl"
    path.write_bytes(b"".join(b'{"id": "r%d"}\n' % i for i in range(7)) + b"\n{oops\n")
    chunks = list(iter_json_records(path, source="test", schema={"id": pl.String}, chunk_rows=3))
    assert [c.height for c in chunks] == [3, 3, 2]
    assert pl.concat(chunks).select("_line", "_reject").rows()[-2:] == [(7, None), (9, "malformed_json")]


def test_json_chunks_close_at_chunk_bytes(tmp_path):
    path = tmp_path / "input.jsonl"
    path.write_bytes(b"".join(b'{"id": "r%d"}\n' % i for i in range(6)))
    chunks = list(iter_json_records(path, source="test", schema={"id": pl.String}, chunk_bytes=20))
    assert [c.height for c in chunks] == [2, 2, 2]


def _events(rows: list[tuple[str, str, int]]) -> pl.DataFrame:
    frame = pl.DataFrame(
        {"event_id": [r[0] for r in rows], "source_file": [r[1] for r in rows], "input_tokens": [r[2] for r in rows]}
    )
    return pl.concat(
        [empty("usage_events"), frame.with_columns(pl.lit("litellm").alias("source"))], how="diagonal_relaxed"
    )


def test_dedup_keeps_the_first_row_of_each_key_across_parts(tmp_path):
    parts = [
        _events([("e1", "a.jsonl", 1), ("e2", "a.jsonl", 2), ("e1", "a.jsonl", 3)]),
        _events([("e2", "b.jsonl", 4), ("e3", "b.jsonl", 5), ("e3", "b.jsonl", 6)]),
    ]
    paths = []
    for i, part in enumerate(parts):
        paths.append(tmp_path / f"part-{i}.parquet")
        part.write_parquet(paths[-1])
    kept, drops = _dedup_to(pl.scan_parquet(paths), "usage_events", tmp_path / "out.parquet")
    out = pl.read_parquet(tmp_path / "out.parquet")
    assert (kept, drops) == (3, {"a.jsonl": 1, "b.jsonl": 2})
    assert out.select("event_id", "input_tokens").rows() == [("e1", 1), ("e2", 2), ("e3", 5)]
    assert out.schema == pl.Schema(TABLES["usage_events"])
