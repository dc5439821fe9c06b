"""JSON lines streaming: fast path, bad lines isolated with their line number, unreadable files refused."""

from __future__ import annotations

import polars as pl
import pytest

from tokenomics.sources.normalize import ReaderError
from tokenomics.sources.parse import is_bad_count, parse_count
from tokenomics.sources.text import decode_json_text, iter_json_records, parse_json_objects

SCHEMA = {"id": pl.String, "n": pl.String}


def _read(tmp_path, content: bytes, schema=SCHEMA, **kwargs) -> pl.DataFrame:
    path = tmp_path / "input.jsonl"
    path.write_bytes(content)
    frames = list(iter_json_records(path, source="test", schema=schema, **kwargs))
    return pl.concat(frames) if frames else pl.DataFrame()


def test_lines_are_numbered_from_one_and_fine_rows_have_no_reject(tmp_path):
    frame = _read(tmp_path, b'{"id": "a", "n": 1}\n{"id": "b", "n": 2}\n')
    assert frame.to_dicts() == [
        {"id": "a", "n": "1", "_line": 1, "_reject": None},
        {"id": "b", "n": "2", "_line": 2, "_reject": None},
    ]


def test_malformed_line_becomes_a_reject_row_and_the_rest_lands(tmp_path):
    frame = _read(tmp_path, b'{"id": "a"}\n{"id": "b", \n[1, 2]\n{"id": "d"}\n')
    assert frame.select("id", "_line", "_reject").to_dicts() == [
        {"id": "a", "_line": 1, "_reject": None},
        {"id": None, "_line": 2, "_reject": "malformed_json"},
        {"id": None, "_line": 3, "_reject": "malformed_json"},
        {"id": "d", "_line": 4, "_reject": None},
    ]


def test_blank_lines_yield_no_row_but_keep_line_numbers(tmp_path):
    frame = _read(tmp_path, b'{"id": "a"}\n\n   \n{"id": "d"}\n\n')
    assert frame.select("id", "_line").to_dicts() == [{"id": "a", "_line": 1}, {"id": "d", "_line": 4}]


def test_nested_part_of_the_wrong_shape_reads_as_null_and_the_row_lands(tmp_path):
    schema = {"id": pl.String, "usage": pl.Struct({"n": pl.String})}
    frame = _read(tmp_path, b'{"id": "a", "usage": {"n": 1}}\n{"id": "b", "usage": "oops"}\n{"id": "c"}\n', schema)
    assert frame.to_dicts() == [
        {"id": "a", "usage": {"n": "1"}, "_line": 1, "_reject": None},
        {"id": "b", "usage": {"n": None}, "_line": 2, "_reject": None},
        {"id": "c", "usage": None, "_line": 3, "_reject": None},
    ]


def test_numbers_and_objects_read_into_text_keep_their_digits(tmp_path):
    line = b'{"id": {"k": [1, "x"]}, "n": 0.00022500000000000002}\n{"id": "b", "n": 1544712660000000001}\n'
    frame = _read(tmp_path, line)
    assert frame["n"].to_list() == ["0.00022500000000000002", "1544712660000000001"]
    assert frame["id"].to_list() == ['{"k":[1,"x"]}', "b"]


def test_chunks_hold_at_most_chunk_rows_lines(tmp_path):
    path = tmp_path / "input.jsonl"
    path.write_bytes(b"".join(b'{"id": "%d"}\n' % i for i in range(5)))
    frames = list(iter_json_records(path, source="test", schema=SCHEMA, chunk_rows=2))
    assert [f["_line"].to_list() for f in frames] == [[1, 2], [3, 4], [5]]


def test_utf8_bom_and_crlf_are_accepted(tmp_path):
    frame = _read(tmp_path, b'\xef\xbb\xbf{"id": "a"}\r\n{"id": "b"}\r\n')
    assert frame["id"].to_list() == ["a", "b"]


def test_non_utf8_line_raises_reader_error_naming_file_and_line(tmp_path):
    with pytest.raises(ReaderError) as err:
        _read(tmp_path, b'{"id": "a"}\n{"id": "\xff\xfe"}\n')
    assert err.value.line == 2
    assert "line 2 of input.jsonl" in str(err.value) and "not UTF-8" in str(err.value)


def test_file_that_is_not_json_raises_reader_error_on_line_one(tmp_path):
    with pytest.raises(ReaderError) as err:
        _read(tmp_path, b"request_id,model\nabc,gpt-4o\n")
    assert err.value.line == 1 and "input.jsonl" in str(err.value)


def test_pretty_printed_document_is_read_whole(tmp_path):
    frame = _read(tmp_path, b'{\n  "id": "doc",\n  "n": 7\n}\n')
    assert frame.to_dicts() == [{"id": "doc", "n": "7", "_line": 1, "_reject": None}]


def test_json_array_document_numbers_its_records(tmp_path):
    frame = _read(tmp_path, b'[\n {"id": "a"},\n 5,\n {"id": "c"}\n]\n')
    assert frame.select("id", "_line", "_reject").to_dicts() == [
        {"id": "a", "_line": 1, "_reject": None},
        {"id": None, "_line": 2, "_reject": "malformed_json"},
        {"id": "c", "_line": 3, "_reject": None},
    ]


def test_broken_document_names_the_line_of_the_error(tmp_path):
    with pytest.raises(ReaderError) as err:
        _read(tmp_path, b'{\n  "id": "doc",\n  "n": \n}\n')
    assert err.value.line == 4


def test_last_line_without_newline_is_read(tmp_path):
    frame = _read(tmp_path, b'{"id": "a"}\n{"id": "b"}')
    assert frame["_line"].to_list() == [1, 2]


def test_parse_json_objects_keeps_the_given_line_numbers():
    texts = pl.DataFrame({"_text": ['{"id": "a"}', "nope"], "_line": [10, 12]})
    assert parse_json_objects(texts, SCHEMA).select("id", "_line", "_reject").rows() == [
        ("a", 10, None),
        (None, 12, "malformed_json"),
    ]


def test_decode_json_text_keeps_rows_aligned_and_marks_bad_ones():
    texts = pl.Series(['{"id": "a", "n": 3}', None, "", '{"id": ', "null", '{"id":\n"multi"}'])
    decoded = decode_json_text(texts, SCHEMA)
    assert decoded.to_dicts() == [
        {"id": "a", "n": "3", "_reject": None},
        {"id": None, "n": None, "_reject": None},
        {"id": None, "n": None, "_reject": None},
        {"id": None, "n": None, "_reject": "malformed_json"},
        {"id": None, "n": None, "_reject": None},
        {"id": "multi", "n": None, "_reject": None},
    ]


def test_parse_count_accepts_integral_text_only():
    texts = pl.DataFrame({"t": ["120", " 120.0 ", "1.2e2", "12.5", "many", "", None, "-5"]})
    out = texts.select(parse_count(pl.col("t")).alias("n"), is_bad_count(pl.col("t")).alias("bad"))
    assert out["n"].to_list() == [120, 120, 120, None, None, None, None, -5]
    assert out["bad"].to_list() == [False, False, False, True, True, False, False, False]
