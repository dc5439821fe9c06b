"""CSV quarantine `line` is the file line a record starts on, even after a quoted field spanning lines."""

from pathlib import Path

import pytest

from tokenomics.ingest import normalize_file
from tokenomics.sources.text import iter_csv_chunks, record_start_lines

MULTILINE = Path("tests/fixtures/litellm/multiline_body.csv")


def test_quarantine_line_is_the_file_line_after_a_multi_line_quoted_field():
    _, quarantine, _ = normalize_file("litellm", MULTILINE)
    assert dict(zip(quarantine["reason"], quarantine["line"])) == {"unparseable_timestamp": 5, "missing_model": 6}


@pytest.mark.parametrize("chunk_bytes", [64, 200, 1 << 20])
def test_record_lines_hold_across_blocks_and_chunks(chunk_bytes):
    frames = list(iter_csv_chunks(MULTILINE, source="litellm", chunk_rows=1, chunk_bytes=chunk_bytes))
    assert [line for f in frames for line in f["_line"]] == [2, 5, 6]


def test_record_start_lines_count_newlines_outside_quotes_only():
    body = b'a,"x\n""y""\nz"\nb,c\r\n"q\n\n",d'  # no final newline
    assert record_start_lines(body, 2).tolist() == [2, 5, 6]
