"""The nightly restatement runs re-fetch the billing connectors and rebuild billing, never the gateway side."""

from __future__ import annotations

from datetime import datetime, timezone

import dagster as dg

from pipelines.definitions import defs


def test_restatement_requests_refetch_billing_connectors_and_leave_gateway_alone():
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 3, 8, 2, tzinfo=timezone.utc), repository_def=defs.get_repository_def()
    )
    requests = list(defs.resolve_schedule_def("nightly").evaluate_tick(context).run_requests)
    yesterday, *restated = requests
    assert yesterday.asset_selection is None, "yesterday runs the whole graph, every connector included"
    assert [r.partition_key for r in restated] == ["2026-03-06", "2026-03-05", "2026-03-04"]
    for request in restated:
        keys = {k.to_user_string() for k in request.asset_selection}
        assert {
            "landing_openai",
            "landing_anthropic",
            "landing_buckets",
            "billing_lines",
            "provider_usage",
            "reconciliation_daily",
            "warehouse",
        } <= keys
        assert not {"landing_litellm", "usage_events", "usage_daily", "anomalies"} & keys
