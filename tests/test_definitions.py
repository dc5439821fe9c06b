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
