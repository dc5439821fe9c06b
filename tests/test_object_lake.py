"""The lake in object storage: a real S3 API server (moto, server mode) on loopback, PyArrow's S3 client.

A three-day run whose landing, lake, quarantine and marts live only in the bucket publishes the same
tables as the same run on a local home; the bucket alone is enough to publish again from an empty home;
reruns replace objects in place and leave nothing stray.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import dagster as dg
import pyarrow.dataset as ds
import pytest

from pipelines.runner import run_days
from tests.published import assert_same_tables, published_tables
from tokenomics.generator import generate
from tokenomics.home import Home
from tokenomics.objectstore import LAKE_URL_ENV, ObjectLake, snapshot

START, DAYS = date(2026, 3, 9), 3
END = START + timedelta(days=DAYS - 1)


@pytest.fixture
def bucket_lake(s3, monkeypatch, request):
    """An empty s3://<bucket>/lake with the standard AWS variables pointing at the loopback server."""
    bucket = request.node.name.replace("_", "-")[:50].strip("-").lower()
    s3.create_bucket(bucket)
    for name, value in s3.env().items():
        monkeypatch.setenv(name, value)
    url = f"s3://{bucket}/tokenomics"
    return ObjectLake.from_url(url)


def _upload_tree(lake: ObjectLake, home: Home, top: str) -> int:
    files = [p for p in (home.root / top).rglob("*") if p.is_file()]
    for path in files:
        lake.upload(path, path.relative_to(home.root).as_posix())
    return len(files)


def test_bad_lake_url_is_one_clear_error():
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        ObjectLake.from_url("/data/lake")


def test_push_replaces_objects_in_place_and_deletes_removed_files(tmp_path, bucket_lake):
    home = Home(tmp_path / "home")
    part = home.table_day("billing_lines", "2026-03-09") / "part-0.parquet"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"first")
    extra = part.with_name("part-1.parquet")
    extra.write_bytes(b"extra")
    assert bucket_lake.push(home.root, {}) == (2, 0)
    before = snapshot(home.root)
    part.write_bytes(b"second version")
    extra.unlink()
    assert bucket_lake.push(home.root, before) == (1, 1)
    objects = bucket_lake.objects("lake")
    assert sorted(objects) == ["lake/billing_lines/day=2026-03-09/part-0.parquet"]
    with bucket_lake.filesystem.open_input_stream(bucket_lake.key(sorted(objects)[0])) as stream:
        assert stream.read() == b"second version"
    fresh = Home(tmp_path / "fresh")
    assert bucket_lake.pull(fresh.root) == 1
    assert (fresh.root / sorted(objects)[0]).read_bytes() == b"second version"
    assert bucket_lake.pull(fresh.root) == 0, "an unchanged object is not fetched again"


def test_day_scoped_pull_fetches_request_level_data_only_for_the_run_days(tmp_path, bucket_lake):
    home = Home(tmp_path / "home")
    for day in ("2026-03-09", "2026-03-10"):
        for folder in (home.table_day("usage_events", day), home.mart_day("usage_daily", day)):
            folder.mkdir(parents=True)
            (folder / "part-0.parquet").write_bytes(day.encode())
    bucket_lake.push(home.root, {})
    fresh = Home(tmp_path / "fresh")
    assert bucket_lake.pull(fresh.root, days=["2026-03-10"]) == 3
    assert not fresh.table_day("usage_events", "2026-03-09").exists()
    assert fresh.mart_day("usage_daily", "2026-03-09").joinpath("part-0.parquet").exists()


@pytest.mark.slow
def test_three_days_on_the_object_lake_publish_the_same_tables_as_a_local_home(tmp_path, bucket_lake, monkeypatch):
    local = Home(tmp_path / "local")
    generate(local.root, START, DAYS, 300, 21)
    result = run_days(local, START, END, instance=dg.DagsterInstance.ephemeral())
    assert result.success
    expected = published_tables(local.warehouse)

    # The landing files are delivered to the bucket; the worker's home starts empty but for the config.
    assert _upload_tree(bucket_lake, local, "landing") > 0
    worker = Home(tmp_path / "worker")
    worker.root.mkdir()
    shutil.copy(local.config_file, worker.config_file)
    monkeypatch.setenv(LAKE_URL_ENV, bucket_lake.url)
    result = run_days(worker, START, END, instance=dg.DagsterInstance.ephemeral())
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert_same_tables(expected, published_tables(worker.warehouse))

    objects = bucket_lake.objects("")
    for table in ("usage_events", "billing_lines", "provider_usage"):
        assert f"lake/{table}/day={END}/part-0.parquet" in objects, table
    assert f"lake/marts/usage_daily/day={END}/part-0.parquet" in objects
    assert "warehouse.duckdb" in objects
    assert not [k for k in objects if any(part.startswith(".") for part in k.split("/"))], "no draft leaves the machine"

    # BI tools can read the marts straight from the bucket: the same rows as the warehouse.
    from_bucket = ds.dataset(
        bucket_lake.key("lake/marts/usage_daily"), filesystem=bucket_lake.filesystem, format="parquet"
    ).to_table()
    assert from_bucket.num_rows == expected["usage_daily"].height
    assert sum(from_bucket.column("requests").to_pylist()) == int(expected["usage_daily"]["requests"].sum())

    # The bucket is the truth: an empty home publishes the same warehouse from it alone.
    rebuilt = Home(tmp_path / "rebuilt")
    rebuilt.root.mkdir()
    shutil.copy(local.config_file, rebuilt.config_file)
    result = run_days(rebuilt, END, END, assets=["warehouse"], instance=dg.DagsterInstance.ephemeral())
    assert result.success
    assert_same_tables(expected, published_tables(rebuilt.warehouse))

    # A rerun of a day replaces its objects in place: the same keys, nothing stray.
    before = set(bucket_lake.objects(""))
    result = run_days(worker, END, END, instance=dg.DagsterInstance.ephemeral())
    assert result.success
    assert set(bucket_lake.objects("")) == before
    assert_same_tables(expected, published_tables(worker.warehouse))


def test_run_without_dates_finds_the_days_whose_landing_is_only_in_the_bucket(tmp_path, bucket_lake, monkeypatch):
    from pipelines.cli import landing_days

    home = Home(tmp_path / "home")
    local = home.landing_day("litellm", "2026-03-11") / "spend.jsonl"
    local.parent.mkdir(parents=True)
    local.write_text("{}\n")
    for relative in (
        "landing/openai_costs/2026-03-09/costs.json",
        "landing/aws_cur/2026-03-10/cur.csv.gz",
        "landing/aws_cur/2026-03-12/.pull-1234-cur.csv.gz",
        "landing/README.txt",
    ):
        source = tmp_path / "object"
        source.write_bytes(b"x")
        bucket_lake.upload(source, relative)
    monkeypatch.setenv(LAKE_URL_ENV, bucket_lake.url)
    assert bucket_lake.landing_days() == ["2026-03-09", "2026-03-10"]
    assert landing_days(home) == [date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11)]
    monkeypatch.delenv(LAKE_URL_ENV)
    assert landing_days(home) == [date(2026, 3, 11)]
