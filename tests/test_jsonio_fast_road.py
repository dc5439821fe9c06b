"""DuckDB's read_json (the fast road for plain JSON lines) gives exactly what the line-by-line road gives."""

from __future__ import annotations

import polars as pl
import pytest

from tokenomics.sources.litellm import SPEND_LOG_FIELDS
from tokenomics.sources.otel import OTLP_TRACES
from tokenomics.sources.text import jsonio

SCHEMA = {"id": pl.String, "n": pl.String, "nested": pl.Struct({"k": pl.String, "xs": pl.List(pl.String)})}
GOOD = [b'{"id": "a%d", "n": %d.50, "nested": {"k": {"deep": 1}, "xs": [1, "x"]}}\n' % (i, i) for i in range(9)]


def _both(path, schema=SCHEMA, **kw) -> tuple[pl.DataFrame, pl.DataFrame]:
    fast = pl.concat(list(jsonio.iter_json_records(path, source="test", schema=schema, **kw)))
    careful = pl.concat(
        list(jsonio._careful_records(path, "test", schema, kw.get("chunk_rows", 200_000), jsonio.CHUNK_BYTES, 0))
    )
    return fast, careful


@pytest.mark.parametrize(
    "lines",
    [
        GOOD,
        GOOD[:4] + [b'{"id": oops\n'] + GOOD[4:],  # malformed mid-file: the careful road reads on
        GOOD[:4] + [b"[1, 2]\n"] + GOOD[4:],  # not an object
        GOOD[:4] + [b'{"id": "s", "nested": "not an object"}\n'] + GOOD[4:],  # nested part of another shape
        GOOD[:4] + [b"\n", b"  \r\n"] + GOOD[4:],  # blank lines keep their numbers
        [b"\xef\xbb\xbf" + GOOD[0].replace(b"\n", b"\r\n")] + GOOD[1:],
        GOOD[:-1] + [GOOD[-1].rstrip(b"\n")],  # no newline at the end
    ],
    ids=["plain", "malformed", "not_object", "shape", "blank", "bom_crlf", "no_final_newline"],
)
def test_fast_road_equals_careful_road(tmp_path, lines):
    path = tmp_path / "input.jsonl"
    path.write_bytes(b"".join(lines))
    for chunk_rows in (2, 3, 200_000):
        fast, careful = _both(path, chunk_rows=chunk_rows)
        assert fast.equals(careful), chunk_rows


def test_fast_road_is_taken_on_plain_lines_only(tmp_path):
    path = tmp_path / "input.jsonl"
    path.write_bytes(b"".join(GOOD))
    assert jsonio._plain_json_lines(path, "test") > 0
    path.write_bytes(b"".join(GOOD[:2] + [b"\n"] + GOOD[2:]))
    assert jsonio._plain_json_lines(path, "test") == 0


def test_fast_road_chunks_follow_chunk_rows(tmp_path):
    path = tmp_path / "input.jsonl"
    path.write_bytes(b"".join(GOOD))
    frames = list(jsonio.iter_json_records(path, source="test", schema=SCHEMA, chunk_rows=4))
    assert [f["_line"].to_list() for f in frames] == [[1, 2, 3, 4], [5, 6, 7, 8], [9]]


def test_real_schemas_read_the_same_on_both_roads(tmp_path):
    from pathlib import Path

    fixtures = Path(__file__).parent / "fixtures"
    for schema, folder in ((SPEND_LOG_FIELDS, "litellm"), (OTLP_TRACES, "otel")):
        for path in sorted((fixtures / folder).glob("*.jsonl")):
            fast, careful = _both(path, schema)
            assert fast.equals(careful), path.name


def test_a_blank_line_across_two_read_blocks_is_seen(tmp_path, monkeypatch):
    path = tmp_path / "input.jsonl"
    content = b'{"id": "a"}\n  \n{"id": "b"}\n'
    path.write_bytes(content)
    for size in range(1, len(content) + 1):
        monkeypatch.setattr(jsonio, "CHUNK_BYTES", size)
        assert jsonio._plain_json_lines(path, "test") == 0, size
    path.write_bytes(b'{"id": "a"}\n {"id": "b"}\n')
    for size in range(1, 30):
        monkeypatch.setattr(jsonio, "CHUNK_BYTES", size)
        assert jsonio._plain_json_lines(path, "test") > 0, size
