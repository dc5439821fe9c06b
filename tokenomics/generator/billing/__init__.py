"""Provider billing exports consistent with the generated traffic, and the billing truth they add up to.

Which export bills what (so nothing is billed twice):
- openai: openai_usage (usage pages) + openai_costs (the bill; one day restated by a later delivery)
- anthropic: anthropic_usage + anthropic_cost (the bill, amounts in cents)
- aws_bedrock: aws_cur (main payer, CUR 2.0 Parquet) + focus (the legal subsidiary's own payer, FOCUS 1.2):
  disjoint accounts, so the two files add up
- azure_openai: azure_cost (EA export, negotiated discount)
- gcp_vertex: gcp_billing (billing export JSONL, promotional credits)
Every bill includes gateway-bypassing traffic; none includes failed requests.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl

from tokenomics.generator.billing.anthropic_files import write_anthropic
from tokenomics.generator.billing.aws_cur_file import write_aws_cur
from tokenomics.generator.billing.azure_file import write_azure
from tokenomics.generator.billing.focus_file import write_focus
from tokenomics.generator.billing.gcp_file import write_gcp
from tokenomics.generator.billing.ledger import Ledger
from tokenomics.generator.billing.openai_files import write_openai
from tokenomics.generator.billing.usage import provider_groups

BILLING_SOURCES = (
    "openai_usage",
    "openai_costs",
    "anthropic_usage",
    "anthropic_cost",
    "aws_cur",
    "azure_cost",
    "gcp_billing",
    "focus",
)
RESTATED_AT = 0.6  # position of the restated day in the range


def restated_day(start: date, days: int) -> date:
    return start + timedelta(days=min(days - 1, int(RESTATED_AT * days)))


def write_bills(
    landing: Path, truth: Path, cells: pl.DataFrame, streams: pl.DataFrame, start: date, days: int, seed: int
) -> dict[str, int]:
    """Write every provider export for the range, plus truth/billing_daily and truth/provider_usage."""
    groups = provider_groups(cells, streams)
    by_provider = {p: [g for g in groups if g.provider == p] for p in {g.provider for g in groups}}
    calendar = [start + timedelta(days=i) for i in range(days)]
    ledger = Ledger()
    written = [
        *write_openai(by_provider.get("openai", []), landing, restated_day(start, days), ledger),
        *write_anthropic(by_provider.get("anthropic", []), landing, ledger),
        *write_aws_cur(by_provider.get("aws_bedrock", []), calendar, landing, seed, ledger),
        *write_focus(by_provider.get("aws_bedrock", []), calendar, landing, seed, ledger),
        *write_azure(by_provider.get("azure_openai", []), calendar, landing, seed, ledger),
        *write_gcp(by_provider.get("gcp_vertex", []), calendar, landing, seed, ledger),
    ]
    truth.mkdir(parents=True, exist_ok=True)
    ledger.billing_daily().write_parquet(truth / "billing_daily.parquet")
    ledger.provider_usage().write_parquet(truth / "provider_usage.parquet")
    counts = {source: 0 for source in BILLING_SOURCES}
    for path in written:
        counts[path.relative_to(landing).parts[0]] += 1
    return counts
