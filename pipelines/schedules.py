"""Nightly schedule: yesterday in full, plus the trailing billing days providers restate (re-fetched)."""

from datetime import timedelta

import dagster as dg

from assets.partitions import daily_partitions
from pipelines.jobs import billing_restatement_keys, daily_job

BILLING_RESTATEMENT_DAYS = 3
RESTATEMENT_TAG = "tokenomics/reason"


@dg.schedule(
    job=daily_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "02:00 UTC: fetch and materialize yesterday end to end, then re-fetch the 3 days before it from "
        "the billing connectors (admin APIs, export buckets) and rebuild billing and everything downstream, "
        "because providers restate exports for several days. Gateway logs are not re-fetched."
    ),
)
def nightly(context: dg.ScheduleEvaluationContext):
    if context.repository_def is None:
        raise dg.DagsterInvariantViolationError(
            "nightly resolves the restatement selection on the code location's asset graph: evaluate it "
            "with build_schedule_context(repository_def=defs.get_repository_def())"
        )
    restated = billing_restatement_keys(context.repository_def.asset_graph)
    yesterday = (context.scheduled_execution_time - timedelta(days=1)).date()
    yield dg.RunRequest(run_key=f"daily-{yesterday}", partition_key=str(yesterday))
    for back in range(1, BILLING_RESTATEMENT_DAYS + 1):
        day = yesterday - timedelta(days=back)
        if str(day) < daily_partitions.start.strftime("%Y-%m-%d"):
            continue
        yield dg.RunRequest(
            run_key=f"billing-restatement-{day}-for-{yesterday}",
            partition_key=str(day),
            asset_selection=restated,
            tags={RESTATEMENT_TAG: "billing-restatement"},
        )
