"""Data quality: expectation suites kept as data, validated with Great Expectations on pandas chunks."""

from tokenomics.quality.outcomes import DATA_QUALITY, Outcome, to_rows
from tokenomics.quality.runner import validate
from tokenomics.quality.suites import Expectation, expectations_for, gateway_vs_billing

__all__ = [
    "DATA_QUALITY",
    "Expectation",
    "Outcome",
    "expectations_for",
    "gateway_vs_billing",
    "to_rows",
    "validate",
]
