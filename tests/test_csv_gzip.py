"""A gzipped CSV export (`.csv.gz`) dropped into landing reads exactly like the plain file."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tokenomics import sources
from tokenomics.ingest import normalize_file
from tokenomics.sources.normalize import ReaderError
from tokenomics.sources.text import csv_columns, has_columns, iter_csv_chunks

LITELLM = Path(__file__).parent / "fixtures" / "litellm"


def test_gzipped_litellm_csv_gives_the_same_rows_as_the_plain_file():
    plain, plain_quarantine, plain_counts = normalize_file("litellm", LITELLM / "spend_logs.csv", source_file="x")
    zipped, zipped_quarantine, zipped_counts = normalize_file("litellm", LITELLM / "spend_logs.csv.gz", source_file="x")
    assert zipped.height == 2
    assert zipped.equals(plain) and zipped_quarantine.equals(plain_quarantine)
    assert zipped_counts.as_dict() == plain_counts.as_dict()


def test_gzipped_csv_keeps_file_line_numbers_across_small_blocks(tmp_path):
    path = tmp_path / "export.csv.gz"
    path.write_bytes(gzip.compress(b'a,b\n1,"two\nlines"\n3,4\n'))
    assert csv_columns(path, "test") == ["a", "b"]
    chunks = list(iter_csv_chunks(path, source="test", chunk_bytes=4))
    assert [c["_line"].to_list() for c in chunks] == [[2], [4]]
    assert [c["b"].to_list() for c in chunks] == [["two\nlines"], ["4"]]


def test_gzipped_csv_is_recognized_by_its_content():
    path = LITELLM / "spend_logs.csv.gz"
    assert has_columns(path.read_bytes()[:65536], {"request_id", "call_type", "startTime"})
    assert sources.detect(path) == "litellm"


def test_truncated_gzip_is_a_reader_error_naming_the_file(tmp_path):
    whole = gzip.compress(b"a,b\n" + b"1,2\n" * 50_000)
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ReaderError, match="cut.csv.gz.*|gzip"):
        list(iter_csv_chunks(path, source="test"))
