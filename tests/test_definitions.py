"""The code location loads, and its schedule asks for yesterday plus the restated billing days."""

from datetime import datetime, timezone

import dagster as dg

from pipelines.definitions import defs


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)


def test_every_asset_explains_itself_in_the_ui():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description, key
        assert node.owners, key
        assert node.kinds, key


def test_nightly_schedule_runs_yesterday_and_restates_three_billing_days():
    schedule = defs.resolve_schedule_def("nightly")
    assert schedule.cron_schedule == "0 2 * * *"
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 5, 10, 2, tzinfo=timezone.utc), repository_def=defs.get_repository_def()
    )
    requests = list(schedule.evaluate_tick(context).run_requests)
    assert [r.partition_key for r in requests] == ["2026-05-09", "2026-05-08", "2026-05-07", "2026-05-06"]
    assert requests[0].asset_selection is None  # yesterday: everything
    restated = {k.path[-1] for k in requests[1].asset_selection}
    assert {"billing_lines", "billing_daily", "warehouse"} <= restated
    assert "usage_events" not in restated


def test_every_published_table_is_an_asset_of_its_name():
    from assets.marts import MARTS

    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert set(MARTS) <= keys


def test_anomalies_and_incidents_are_one_detector_step():
    graph = defs.resolve_asset_graph()
    anomalies, incidents = graph.get(dg.AssetKey("anomalies")), graph.get(dg.AssetKey("incidents"))
    assert anomalies.assets_def is incidents.assets_def
    assert dg.AssetKey("incidents") in graph.get(dg.AssetKey("alerts")).parent_keys


def test_data_quality_runs_after_every_check_and_before_the_publish():
    job = defs.resolve_job_def("daily_job")
    upstream = {o.node.name for o in job.graph.dependency_structure.all_upstream_outputs_from_node("data_quality")}
    checks = {c.node_def.name for c in defs.asset_checks or []}
    assert checks and checks <= upstream
    assert dg.AssetKey("data_quality") in defs.resolve_asset_graph().get(dg.AssetKey("warehouse")).parent_keys


def test_chargeback_monthly_says_it_rebuilds_the_month_of_each_day():
    node = defs.resolve_asset_graph().get(dg.AssetKey("chargeback_monthly"))
    assert "month-to-date" in node.description
    assert "month-to-date" in node.metadata["partitioned_by"]


def test_the_new_table_assets_carry_column_schema_and_freshness():
    graph = defs.resolve_asset_graph()
    for name in ("anomalies", "incidents", "data_quality"):
        node = graph.get(dg.AssetKey(name))
        assert "dagster/column_schema" in node.metadata, name
        assert node.freshness_policy is not None, name
