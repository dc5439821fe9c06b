"""Whole-cloud bill readers at volume: rows/s and peak RSS of read + normalize_chunks per format.

Builds one synthetic file per format (default 200,000 lines, 90% of them AI lines, wide like the real
exports) in a temporary directory, then ingests each in a fresh subprocess so every peak RSS is that
format's own (VmHWM). Acceptance: peak RSS under 1 GiB for a 200k-line CUR, Azure or FOCUS file.

    .venv/bin/python benchmarks/bench_cloud_readers.py [--rows 200000] [--formats aws_cur,azure_cost,...]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

LIMIT_MIB = 1024


def _cycle(values: list[str], n: int) -> pl.Series:
    """`values` repeated to length n."""
    return pl.Series(values).gather(pl.arange(0, n, eager=True) % len(values))


def _ids(prefix: str, n: int) -> pl.Expr:
    return pl.format(prefix + "{}", pl.int_range(0, n))


def _micro_dollars() -> pl.Expr:
    return pl.format("0.{}", ((pl.col("i") % 100000 + 1) * 3).cast(pl.String).str.zfill(6))


def _product(name: str) -> str:
    return json.dumps({"product_name": name, "region": "us-east-1"})


def build_cur_csv(path: Path, n: int) -> None:
    """CUR 2.0 CSV: 45 columns, product and resource_tags maps as JSON text."""
    usage = ["USE1-Claude3Sonnet-input-tokens", "USE1-Claude3Sonnet-output-tokens",
             "USE1-Claude4.6Opus-cache-read-input-token-count-cross-region-global",
             "USW2-MP:USW2_InputTokenCount-Units", "USE1-NovaLite-input-tokens",
             "USE1-Llama4-Maverick-17B-input-tokens-batch",
             "USE1-NovaLite-output-tokens", "USE1-Claude4Sonnet-cache-write-input-token-count-1-hour",
             "USE1-BoxUsage:m5.large"]  # fmt: skip
    codes = ["AmazonBedrock"] * 3 + ["mp4x2k9q8w7e6r5t4y3u2i1o"] + ["AmazonBedrock"] * 4 + ["AmazonEC2"]
    frame = pl.DataFrame({"i": pl.arange(0, n, eager=True)}).with_columns(
        identity_line_item_id=_ids("li", n),
        identity_time_interval=pl.lit("2026-05-01T00:00:00Z/2026-05-01T01:00:00Z"),
        bill_invoice_id=pl.lit("INV-1"), bill_invoicing_entity=pl.lit("AWS"), bill_billing_entity=pl.lit("AWS"),
        bill_bill_type=pl.lit("Anniversary"), bill_payer_account_id=pl.lit("111111111111"),
        bill_billing_period_start_date=pl.lit("2026-05-01T00:00:00Z"),
        bill_billing_period_end_date=pl.lit("2026-06-01T00:00:00Z"),
        line_item_usage_account_id=pl.format("2222222{}", pl.col("i") % 100),
        line_item_line_item_type=pl.lit("Usage"),
        line_item_usage_start_date=pl.lit("2026-05-01T00:00:00Z"),
        line_item_usage_end_date=pl.lit("2026-05-01T01:00:00Z"),
        line_item_product_code=_cycle(codes, n),
        line_item_usage_type=_cycle(usage, n),
        line_item_operation=pl.lit("InvokeModelInference"),
        line_item_availability_zone=pl.lit(""),
        line_item_resource_id=pl.format("arn:aws:bedrock:us-east-1:2222:inference-profile/p{}", pl.col("i") % 50),
        line_item_usage_amount=(pl.col("i") % 100000 + 1).cast(pl.String),
        line_item_normalization_factor=pl.lit("0"), line_item_normalized_usage_amount=pl.lit("0"),
        line_item_currency_code=pl.lit("USD"),
        line_item_unblended_rate=pl.lit("0.000003"),
        line_item_unblended_cost=_micro_dollars(),
        line_item_blended_rate=pl.lit("0.000003"),
        line_item_blended_cost=_micro_dollars(),
        line_item_net_unblended_cost=pl.lit(""),
        line_item_line_item_description=pl.lit("Bedrock tokens"),
        line_item_tax_type=pl.lit(""), line_item_legal_entity=pl.lit("Amazon Web Services, Inc."),
        pricing_unit=pl.lit("tokens"), pricing_term=pl.lit("OnDemand"), pricing_currency=pl.lit("USD"),
        pricing_public_on_demand_rate=pl.lit("0.000003"),
        pricing_public_on_demand_cost=_micro_dollars(),
        pricing_rate_code=pl.lit("ABC.DEF"), pricing_rate_id=pl.lit("123"),
        product=_cycle([_product("Amazon Bedrock")] * 3 + [_product("Claude 3.5 Sonnet (Amazon Bedrock Edition)")]
                       + [_product("Amazon Bedrock")] * 4 + [_product("Amazon Elastic Compute Cloud")], n),
        product_product_family=pl.lit("Generative AI"), product_region_code=pl.lit("us-east-1"),
        product_servicecode=_cycle(codes, n), product_sku=pl.lit("SKU123"),
        resource_tags=pl.format('{{"user_team":"team{}","user_feature":"f{}"}}', pl.col("i") % 20, pl.col("i") % 7),
        cost_category=pl.lit("{}"), discount=pl.lit("{}"),
    ).drop("i")  # fmt: skip
    frame.write_csv(path)


def build_cur_parquet(path: Path, n: int) -> None:
    """CUR 2.0 Parquet: the CSV's columns with doubles for money and real map<string,string> columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    csv_path = path.with_suffix(".csv")
    build_cur_csv(csv_path, n)
    frame = pl.read_csv(csv_path, infer_schema=False).with_columns(
        pl.col("line_item_usage_amount", "line_item_unblended_cost", "pricing_public_on_demand_cost").cast(pl.Float64),
    )
    csv_path.unlink()
    table = frame.drop("product", "resource_tags").to_arrow()
    for name, keys in (("product", ("product_name", "region")), ("resource_tags", ("user_team", "user_feature"))):
        values = [pl.col(name).str.json_path_match(f"$.{k}") for k in keys]
        pairs = (
            frame.select(
                pl.concat_list(pl.struct(key=pl.lit(k), value=v) for k, v in zip(keys, values, strict=True)).alias("p")
            )
            .to_arrow()
            .column("p")
            .combine_chunks()
        )
        pairs = pairs.cast(pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())])))
        table = table.append_column(
            name, pa.MapArray.from_arrays(pairs.offsets, pairs.values.field("key"), pairs.values.field("value"))
        )
    pq.write_table(table, path, row_group_size=50_000)


def build_azure_csv(path: Path, n: int) -> None:
    """EA actual-cost export with its real 55-column header, BOM and brace-less Tags."""
    header = ("BillingAccountId,BillingAccountName,BillingPeriodStartDate,BillingPeriodEndDate,BillingProfileId,"
              "BillingProfileName,AccountOwnerId,AccountName,SubscriptionId,SubscriptionName,Date,Product,PartNumber,"
              "MeterId,ServiceFamily,MeterCategory,MeterSubCategory,MeterRegion,MeterName,Quantity,EffectivePrice,Cost,"
              "UnitPrice,BillingCurrency,ResourceLocation,AvailabilityZone,ConsumedService,ResourceId,ResourceName,"
              "ServiceInfo1,ServiceInfo2,AdditionalInfo,Tags,InvoiceSectionId,InvoiceSection,CostCenter,UnitOfMeasure,"
              "ResourceGroup,ReservationId,ReservationName,ProductOrderId,ProductOrderName,OfferId,"
              "IsAzureCreditEligible,"
              "Term,PublisherName,PlanName,ChargeType,Frequency,PublisherType,PayGPrice,PricingModel,"
              "CostAllocationRuleName,benefitId,benefitName").split(",")  # fmt: skip
    meters = ["gpt 4o 1120 Inp glbl Tokens", "gpt 4o 1120 Outp glbl Tokens", "gpt 4o 1120 cached Inp glbl Tokens",
              "GPT 5 Inpt Glbl 1M Tokens", "gpt-4o-0806-Inp-glbl 1K", "o3 0416 Inp glbl Tokens",
              "gpt 4.1 mini cached Inp DZone Tokens", "Grok 4.1 Inp Glbl Tokens", "D4 v5"]  # fmt: skip
    categories = ["Cognitive Services"] * 3 + ["Foundry Models"] + ["Cognitive Services"] * 3 + ["Foundry Models"]
    base = {c: pl.lit("x") for c in header}
    base.update(
        BillingAccountId=pl.lit("8611537"), BillingPeriodStartDate=pl.lit("08/01/2025"),
        BillingPeriodEndDate=pl.lit("08/31/2025"), SubscriptionId=pl.format("sub-{}", pl.col("i") % 40),
        Date=pl.format("08/{}/2025", (pl.col("i") % 28 + 1).cast(pl.String).str.zfill(2)),
        MeterId=pl.format("6a1b2c3d-{}", pl.col("i") % 9), MeterCategory=_cycle(categories + ["Virtual Machines"], n),
        MeterSubCategory=_cycle(["Azure OpenAI"] * 8 + ["Dv5 Series"], n), MeterName=_cycle(meters, n),
        Quantity=pl.format("{}.337", pl.col("i") % 5000), EffectivePrice=pl.lit("0.0025"),
        Cost=pl.format("{}.1258425", pl.col("i") % 50), UnitPrice=pl.lit("0.0025"), BillingCurrency=pl.lit("USD"),
        ResourceId=pl.format("/subscriptions/sub-{}/resourceGroups/rg/providers/Microsoft.CognitiveServices/a{}",
                             pl.col("i") % 40, pl.col("i") % 10),
        Tags=pl.format('"team": "t{}","env": "prod"', pl.col("i") % 20), UnitOfMeasure=pl.lit("1K"),
        ChargeType=pl.lit("Usage"), PayGPrice=pl.lit("0.0025"), PricingModel=pl.lit("OnDemand"),
        AdditionalInfo=pl.lit('{"DeploymentName":"gpt4o-prod"}'),
    )  # fmt: skip
    frame = pl.DataFrame({"i": pl.arange(0, n, eager=True)}).select(**{c: base[c] for c in header})
    with open(path, "wb") as fh:
        fh.write(b"\xef\xbb\xbf")
        frame.write_csv(fh)


def build_focus_csv(path: Path, n: int) -> None:
    """FOCUS 1.2 CSV with the Mandatory and common Conditional columns plus x_ columns."""
    services = [("Microsoft", "Azure OpenAI", "gpt 4o 1120 Inp glbl Tokens", ""),
                ("AWS", "Amazon Bedrock", "", "USE1-Claude3Sonnet-input-tokens"),
                ("Google Cloud", "Vertex AI", "Gemini 2.5 Pro Text Input", ""),
                ("AWS", "Amazon Elastic Compute Cloud", "BoxUsage", "USE1-BoxUsage:m5.large")]  # fmt: skip
    categories = ["AI and Machine Learning"] * 3 + ["Compute"]
    cost = pl.format("{}.125843", pl.col("i") % 90)
    frame = pl.DataFrame({"i": pl.arange(0, n, eager=True)}).select(
        AvailabilityZone=pl.lit(""), BilledCost=cost, BillingAccountId=pl.lit("8611537"),
        BillingAccountName=pl.lit("Contoso"), BillingAccountType=pl.lit("Billing Profile"),
        BillingCurrency=pl.lit("USD"),
        BillingPeriodEnd=pl.lit("2025-09-01T00:00:00Z"), BillingPeriodStart=pl.lit("2025-08-01T00:00:00Z"),
        ChargeCategory=pl.lit("Usage"), ChargeClass=pl.lit(""), ChargeDescription=pl.lit("tokens"),
        ChargeFrequency=pl.lit("Usage-Based"), ChargePeriodEnd=pl.lit("2025-08-15T00:00:00Z"),
        ChargePeriodStart=pl.lit("2025-08-14T00:00:00Z"), CommitmentDiscountCategory=pl.lit(""),
        CommitmentDiscountId=pl.lit(""), CommitmentDiscountName=pl.lit(""), CommitmentDiscountStatus=pl.lit(""),
        CommitmentDiscountType=pl.lit(""), ConsumedQuantity=(pl.col("i") * 7 % 2_000_000).cast(pl.String),
        ConsumedUnit=pl.lit("Tokens"), ContractedCost=cost, ContractedUnitPrice=pl.lit("0.0025"), EffectiveCost=cost,
        InvoiceIssuerName=_cycle([s[0] for s in services], n), ListCost=cost, ListUnitPrice=pl.lit("0.0025"),
        PricingCategory=pl.lit("Standard"), PricingQuantity=pl.lit("1250.337"), PricingUnit=pl.lit("1000 Tokens"),
        ProviderName=_cycle([s[0] for s in services], n), PublisherName=_cycle([s[0] for s in services], n),
        RegionId=pl.lit("eastus"), RegionName=pl.lit("East US"),
        ResourceId=pl.format("/subscriptions/sub/resourceGroups/rg/providers/x/accounts/a{}", pl.col("i") % 100),
        ResourceName=pl.format("a{}", pl.col("i") % 100), ResourceType=pl.lit("Cognitive Services account"),
        ServiceCategory=_cycle(categories, n), ServiceName=_cycle([s[1] for s in services], n),
        ServiceSubcategory=pl.lit("Generative AI"), SkuId=pl.lit("SKU1"),
        SkuMeter=_cycle([s[2] for s in services], n), SkuPriceDetails=pl.lit('{"ModelName":"gpt-4o"}'),
        SkuPriceId=pl.lit("P1"), SubAccountId=pl.format("sub-{}", pl.col("i") % 40), SubAccountName=pl.lit("prod"),
        SubAccountType=pl.lit("Subscription"), Tags=pl.format('{{"team":"t{}"}}', pl.col("i") % 20),
        x_UsageType=_cycle([s[3] for s in services], n), x_SkuMeterSubcategory=pl.lit("Azure OpenAI"),
    )  # fmt: skip
    frame.write_csv(path)


def build_gcp_jsonl(path: Path, n: int) -> None:
    """GCP billing export rows as JSON lines with nested service, sku, usage, credits and labels."""
    skus = ["Gemini 2.5 Pro Text Input (≤200k)", "Gemini 2.5 Pro Text and Thinking Output (≤200k)",
            "Gemini 2.5 Flash Cached Input Text", "N2 Instance Core running in Americas"]  # fmt: skip
    services = ["Vertex AI", "Vertex AI", "Gemini API", "Compute Engine"]
    frame = pl.DataFrame({"i": pl.arange(0, n, eager=True)}).select(
        billing_account_id=pl.lit("01A2B3-C4D5E6-F7A8B9"),
        service=pl.struct(id=pl.lit("C7E2"), description=_cycle(services, n)),
        sku=pl.struct(id=pl.lit("EAC4"), description=_cycle(skus, n)),
        usage_start_time=pl.lit("2025-09-01 10:00:00 UTC"), usage_end_time=pl.lit("2025-09-01 11:00:00 UTC"),
        project=pl.struct(id=pl.format("proj-{}", pl.col("i") % 30)),
        labels=pl.concat_list(pl.struct(key=pl.lit("team"), value=pl.format("t{}", pl.col("i") % 20))),
        cost=(pl.col("i") % 1000) / 800, currency=pl.lit("USD"),
        usage=pl.struct(amount=pl.col("i") * 13 % 1_000_000, unit=pl.lit("count")),
        credits=pl.concat_list(pl.struct(name=pl.lit("trial"), amount=-(pl.col("i") % 100) / 1000)),
    )  # fmt: skip
    frame.write_ndjson(path)


BUILDERS = {
    "aws_cur": (build_cur_csv, "cur.csv"),
    "aws_cur_parquet": (build_cur_parquet, "cur.parquet"),
    "azure_cost": (build_azure_csv, "azure_ea.csv"),
    "focus": (build_focus_csv, "focus.csv"),
    "gcp_billing": (build_gcp_jsonl, "gcp.jsonl"),
}


def ingest_one(source: str, path: str) -> None:
    """Child process: read + normalize one file, print rows, seconds and own peak RSS as JSON."""
    from tokenomics.sources import reader
    from tokenomics.sources.normalize import FileCounts, normalize_chunks

    started = time.perf_counter()
    counts = FileCounts(source, Path(path).name)
    chunks = reader(source.removesuffix("_parquet")).read(Path(path))
    for _ in normalize_chunks(chunks, source=source, source_file=path, counts=counts):
        pass
    seconds = time.perf_counter() - started
    print(json.dumps({**counts.as_dict(), "seconds": seconds, "peak_rss_mib": peak_rss_mib()}))


def peak_rss_mib() -> float:
    """This process's own peak RSS. VmHWM, because ru_maxrss survives exec on Linux and would report
    the (large, file-building) parent's peak for a freshly spawned child."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--formats", default=",".join(BUILDERS))
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'format':<12} {'rows':>8} {'kept':>8} {'skipped':>8} {'MiB':>6} {'sec':>6} {'rows/s':>9} peak RSS")
        for source in args.formats.split(","):
            build, name = BUILDERS[source]
            path = Path(tmp) / name
            build(path, args.rows)
            out = subprocess.run(
                [sys.executable, __file__, "--child", source, str(path)], capture_output=True, text=True, check=True
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            size = path.stat().st_size / 2**20
            ok = r["peak_rss_mib"] < LIMIT_MIB
            failed |= not ok
            print(
                f"{source:<12} {r['read']:>8} {r['kept']:>8} {r['skipped']:>8} {size:>6.0f} {r['seconds']:>6.1f} "
                f"{r['read'] / r['seconds']:>9,.0f} {r['peak_rss_mib']:>6.0f} MiB{'' if ok else '  OVER 1 GiB'}"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        ingest_one(sys.argv[2], sys.argv[3])
    else:
        sys.exit(main())
