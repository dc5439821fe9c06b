"""The non-AI services every whole-cloud bill also carries (compute, storage, network): readers must skip them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np


@dataclass(frozen=True)
class OtherService:
    """A non-AI usage line template: the service, its sku/meter, unit and price per unit."""

    service: str  # AWS product code / Azure meter category / GCP service description
    sku: str  # AWS usage type / Azure meter name / GCP sku description
    unit: str
    rate: Decimal
    daily_units: float  # typical quantity per day
    extra: tuple[tuple[str, str], ...] = ()  # per-cloud details (service ids, product names, ...)

    def quantity(self, rng: np.random.Generator) -> Decimal:
        """Today's quantity: the typical amount with some day-to-day wobble, 3 decimals."""
        value = self.daily_units * float(np.exp(rng.normal(0.0, 0.1)))
        return Decimal(f"{value:.3f}")

    def detail(self, key: str) -> str:
        return dict(self.extra)[key]


AWS_OTHER = (
    OtherService(
        "AmazonEC2",
        "USE1-BoxUsage:m5.xlarge",
        "Hrs",
        Decimal("0.192"),
        96,
        (
            ("operation", "RunInstances"),
            ("product_name", "Amazon Elastic Compute Cloud"),
            ("family", "Compute Instance"),
        ),
    ),
    OtherService(
        "AmazonS3",
        "USE1-TimedStorage-ByteHrs",
        "GB-Mo",
        Decimal("0.023"),
        410,
        (("operation", "StandardStorage"), ("product_name", "Amazon Simple Storage Service"), ("family", "Storage")),
    ),
    OtherService(
        "AmazonCloudWatch",
        "USE1-CW:Requests",
        "Requests",
        Decimal("0.00001"),
        2_500_000,
        (("operation", "GetMetricData"), ("product_name", "AmazonCloudWatch"), ("family", "API Request")),
    ),
    OtherService(
        "AWSDataTransfer",
        "USE1-DataTransfer-Out-Bytes",
        "GB",
        Decimal("0.09"),
        35,
        (("operation", ""), ("product_name", "AWS Data Transfer"), ("family", "Data Transfer")),
    ),
)

AZURE_OTHER = (
    OtherService(
        "Virtual Machines",
        "D4s v5",
        "1 Hour",
        Decimal("0.192"),
        48,
        (
            ("subcategory", "Dsv5 Series"),
            ("family", "Compute"),
            ("consumed", "Microsoft.Compute"),
            ("type", "virtualMachines"),
            ("resource", "vm-growth-etl-01"),
        ),
    ),
    OtherService(
        "Storage",
        "LRS Data Stored",
        "1 GB/Month",
        Decimal("0.0184"),
        30,
        (
            ("subcategory", "General Block Blob v2"),
            ("family", "Storage"),
            ("consumed", "Microsoft.Storage"),
            ("type", "storageAccounts"),
            ("resource", "stgrowthassets"),
        ),
    ),
    OtherService(
        "Bandwidth",
        "Standard Data Transfer Out",
        "1 GB",
        Decimal("0.087"),
        12,
        (
            ("subcategory", ""),
            ("family", "Networking"),
            ("consumed", "Microsoft.Network"),
            ("type", "publicIPAddresses"),
            ("resource", "pip-growth-web"),
        ),
    ),
)

GCP_OTHER = (
    OtherService(
        "Compute Engine",
        "N2 Instance Core running in Americas",
        "hour",
        Decimal("0.031611"),
        192,
        (("service_id", "6F81-5844-456A"), ("sku_id", "BB77-5FDA-2D09")),
    ),
    OtherService(
        "BigQuery",
        "Analysis",
        "tebibyte",
        Decimal("6.25"),
        1.6,
        (("service_id", "24E6-581D-38E5"), ("sku_id", "3362-E469-6BEF")),
    ),
    OtherService(
        "Cloud Storage",
        "Standard Storage US Multi-region",
        "gibibyte month",
        Decimal("0.026"),
        80,
        (("service_id", "95FF-2EF5-5EA1"), ("sku_id", "E5F0-6A5D-7BAD")),
    ),
)
