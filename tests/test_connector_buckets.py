"""Export-bucket connector and sensor against a real S3 API server on loopback (moto server mode)."""

from __future__ import annotations

import gzip
import json
import time
from datetime import date
from decimal import Decimal

import dagster as dg
import polars as pl
import pytest
import yaml
from pyarrow import fs as pafs

from assets.resources import TokenomicsHome
from tokenomics.config import load_config
from tokenomics.connectors import pull
from tokenomics.deliveries import latest_deliveries
from tokenomics.home import Home
from tokenomics.ingest import ingest_files, landing_files

DAY = date(2026, 3, 5)
HEADER = (
    "identity_line_item_id,identity_time_interval,bill_payer_account_id,line_item_usage_account_id,"
    "line_item_line_item_type,line_item_usage_start_date,line_item_usage_end_date,line_item_product_code,"
    "line_item_usage_type,line_item_usage_amount,pricing_unit,line_item_unblended_cost,line_item_currency_code"
)


def cur_csv_gz(costs: dict[str, str]) -> bytes:
    lines = [HEADER]
    for i, (day, cost) in enumerate(sorted(costs.items())):
        nxt = f"2026-03-{int(day[-2:]) + 1:02d}"
        for j, usage in enumerate(("USE1-NovaLite-input-tokens", "USE1-NovaLite-output-tokens")):
            lines.append(
                f"li-{i}-{j},{day}T00:00:00Z/{nxt}T00:00:00Z,111111111111,222222222222,Usage,"
                f"{day}T00:00:00Z,{nxt}T00:00:00Z,AmazonBedrock,{usage},1000000,tokens,{cost},USD"
            )
    lines.append(
        "li-ec2,x,111111111111,222222222222,Usage,2026-03-05T00:00:00Z,2026-03-06T00:00:00Z,AmazonEC2,"
        "USE1-BoxUsage:m5.large,24,Hrs,2.30,USD"
    )  # not an AI line: skipped by the reader
    return gzip.compress(("\n".join(lines) + "\n").encode())


@pytest.fixture
def bucket(request, s3, monkeypatch):
    name = request.node.name.replace("_", "-")[:50].strip("-").lower()
    s3.create_bucket(name)
    for key, value in s3.env().items():
        monkeypatch.setenv(key, value)
    env = s3.env()
    filesystem = pafs.S3FileSystem(
        access_key=env["AWS_ACCESS_KEY_ID"],
        secret_key=env["AWS_SECRET_ACCESS_KEY"],
        region=env["AWS_REGION"],
        endpoint_override=s3.endpoint.removeprefix("http://"),
        scheme="http",
    )

    def put(key: str, data: bytes) -> None:
        with filesystem.open_output_stream(f"{name}/{key}") as out:
            out.write(data)

    return name, put


def deliver_cur(put, bucket_name: str, execution: str, costs: dict[str, str]) -> None:
    data_key = f"exports/acme-cur/data/BILLING_PERIOD=2026-03/{execution}/acme-cur-00001.csv.gz"
    put(data_key, cur_csv_gz(costs))
    manifest = {
        "executionId": execution,
        "exportArn": "arn:aws:bcm-data-exports:us-east-1:111111111111:export/x",
        "billingPeriod": {"start": "2026-03-01T00:00:00.000Z", "end": "2026-04-01T00:00:00.000Z"},
        "dataFiles": [f"s3://{bucket_name}/{data_key}"],
        "exportName": "acme-cur",
    }
    put("exports/acme-cur/metadata/BILLING_PERIOD=2026-03/acme-cur-Manifest.json", json.dumps(manifest).encode())


@pytest.fixture
def home(tmp_path, bucket):
    h = Home(tmp_path / "home")
    h.root.mkdir()
    h.config_file.write_text(
        yaml.safe_dump(
            {
                "connectors": {
                    "buckets": [
                        {"source": "aws_cur", "url": f"s3://{bucket[0]}/exports"},
                    ]
                }
            }
        )
    )
    return h


def _billed(home: Home, files) -> Decimal:
    out = home.root / "out"
    ingest_files(files, "aws_cur", out)
    return Decimal(str(pl.read_parquet(out / "billing_lines.parquet")["billed_cost"].sum()))


def test_cur_manifest_delivery_lands_the_day_from_gzipped_csv(home, bucket):
    name, put = bucket
    put(
        "exports/acme-cur/data/BILLING_PERIOD=2026-03/old-execution/acme-cur-00001.csv.gz",
        cur_csv_gz({"2026-03-05": "999.0"}),
    )  # a superseded execution the manifest no longer lists
    deliver_cur(put, name, "exec-1", {"2026-03-04": "1.10", "2026-03-05": "2.20", "2026-03-06": "3.30"})
    landed = pull(home, load_config(home.config_file), "aws_cur", DAY)
    assert [(item.source, item.rows, item.status) for item in landed] == [("aws_cur", 3, "new")]
    assert landed[0].path.name.startswith("acme-cur_2026-03_delivered-") and landed[0].path.suffix == ".csv"
    assert _billed(home, landing_files(home, "aws_cur", DAY)) == Decimal("4.40")
    again = pull(home, load_config(home.config_file), "aws_cur", DAY)
    assert again[0].status == "replaced" and len(landing_files(home, "aws_cur", DAY)) == 1


def test_a_restated_month_replaces_the_old_one_in_the_lake(home, bucket):
    from pipelines.runner import run_days
    from tokenomics.lake import read_partition

    name, put = bucket
    deliver_cur(put, name, "exec-1", {"2026-03-05": "2.20"})

    def run():
        return run_days(
            home, DAY, DAY, instance=dg.DagsterInstance.ephemeral(), assets=["landing_buckets", "billing_lines"]
        )

    assert run().success
    assert Decimal(str(read_partition(home.table_day("billing_lines", DAY))["billed_cost"].sum())) == Decimal("4.40")
    time.sleep(1.1)  # S3 times have one-second resolution: the restatement is a later second
    deliver_cur(put, name, "exec-2", {"2026-03-05": "2.50"})
    assert run().success
    files = landing_files(home, "aws_cur", DAY)
    read, superseded = latest_deliveries(files)
    assert len(files) == 2 and len(read) == 1 and len(superseded) == 1
    assert Decimal(str(read_partition(home.table_day("billing_lines", DAY))["billed_cost"].sum())) == Decimal("5.00")


def test_sensor_requests_the_covered_days_once_per_delivery(home, bucket):
    from pipelines.definitions import defs

    name, put = bucket
    deliver_cur(put, name, "exec-1", {"2026-03-05": "2.20"})
    sensor = defs.resolve_sensor_def("bucket_exports")
    resources = {"tokenomics": TokenomicsHome(root=str(home.root))}

    def tick(cursor):
        with dg.build_sensor_context(
            cursor=cursor, resources=resources, repository_def=defs.get_repository_def()
        ) as context:
            result = sensor(context)
            return result, context.cursor

    first, cursor = tick(None)
    assert first.tags["dagster/asset_partition_range_start"] == "2026-03-01"
    assert first.tags["dagster/asset_partition_range_end"] == "2026-03-31"
    again, cursor = tick(cursor)
    assert isinstance(again, dg.SkipReason)
    time.sleep(1.1)
    deliver_cur(put, name, "exec-2", {"2026-03-05": "2.50"})
    restated, _ = tick(cursor)
    assert isinstance(restated, dg.RunRequest) and restated.run_key != first.run_key


def test_focus_file_without_manifest_lands_its_days(tmp_path, bucket):
    name, put = bucket
    header = "BilledCost,EffectiveCost,ListCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ServiceCategory,ServiceName,ProviderName,ChargeCategory,SkuMeter,ConsumedQuantity,ConsumedUnit,BillingAccountId,SubAccountId"
    rows = [
        f"{c},{c},{c},USD,2026-03-0{d}T00:00:00Z,2026-03-0{d + 1}T00:00:00Z,AI and Machine Learning,Azure OpenAI,Microsoft,Usage,gpt 4o Inp glbl Tokens,1000,Tokens,acct,sub"
        for d, c in ((4, "1.5"), (5, "2.5"), (5, "0.25"))
    ]
    put("focus/2026-03/focus-export.csv", ("\n".join([header, *rows]) + "\n").encode())
    h = Home(tmp_path / "h")
    h.root.mkdir()
    h.config_file.write_text(
        yaml.safe_dump({"connectors": {"buckets": [{"source": "focus", "url": f"s3://{name}/focus"}]}})
    )
    landed = pull(h, load_config(h.config_file), "focus", DAY)
    assert [(item.rows, item.path.suffix) for item in landed] == [(2, ".csv")]
    out = h.root / "out"
    ingest_files([landed[0].path], "focus", out)
    assert Decimal(str(pl.read_parquet(out / "billing_lines.parquet")["billed_cost"].sum())) == Decimal("2.75")
