"""The restatement rule: of several deliveries of one export, the newest by its parsed stamp is read."""

from pathlib import PurePath

import pytest

from tokenomics.deliveries import delivery_stamp, export_name, latest_deliveries

CASES = [
    # (files as listed, sorted by name like landing_files does; the files that must be read)
    pytest.param(
        ["costs_2026-03-03_delivered-2026-03-04.json", "costs_2026-03-03_delivered-2026-03-06.json"],
        ["costs_2026-03-03_delivered-2026-03-06.json"],
        id="underscore-marker-padded-dates",
    ),
    pytest.param(
        ["costs-delivered-2026-03-06.json", "costs.json"],  # '-' < '.': the re-delivery sorts first
        ["costs-delivered-2026-03-06.json"],
        id="dash-marker-sorts-before-the-original",
    ),
    pytest.param(
        ["costs.json", "costs_delivered-2026-03-06.json"],
        ["costs_delivered-2026-03-06.json"],
        id="underscore-marker-after-the-original",
    ),
    pytest.param(
        ["bill_delivered-10.csv", "bill_delivered-9.csv"],  # text order puts 10 first; 10 is newer
        ["bill_delivered-10.csv"],
        id="unpadded-counter",
    ),
    pytest.param(
        ["bill_delivered-2026-3-10.csv", "bill_delivered-2026-3-9.csv"],
        ["bill_delivered-2026-3-10.csv"],
        id="unpadded-date",
    ),
    pytest.param(
        ["bill_delivered-20260306.csv", "bill_delivered-2026-03-05T23-59-00Z.csv"],
        ["bill_delivered-20260306.csv"],
        id="compact-date-against-date-time",
    ),
    pytest.param(
        ["bill_delivered-2026-03-06T09-00.csv", "bill_delivered-2026-03-06T10-30.csv", "bill_delivered-2026-03-06.csv"],
        ["bill_delivered-2026-03-06T10-30.csv"],
        id="same-day-later-hour",
    ),
    pytest.param(
        ["bill-delivered-2026-03-06.csv", "bill_delivered-2026-03-06.csv"],  # one export, same stamp
        ["bill_delivered-2026-03-06.csv"],
        id="equal-stamps-tie-broken-by-name",
    ),
    pytest.param(
        ["a.json", "b.json", "c_delivered-2026-03-06.json"],
        ["a.json", "b.json", "c_delivered-2026-03-06.json"],
        id="different-exports-all-read",
    ),
    pytest.param(
        [
            "anthropic_cost.jsonl",
            "anthropic_cost_delivered-2.jsonl",
            "openai_costs.json",
            "openai_costs_delivered-2026-03-05.json",
            "openai_costs_delivered-2026-03-07.json",
            "usage.csv.gz",
        ],
        ["anthropic_cost_delivered-2.jsonl", "openai_costs_delivered-2026-03-07.json", "usage.csv.gz"],
        id="several-exports",
    ),
    pytest.param(
        ["cur.csv.gz", "cur_delivered-2026-03-06.csv.gz"],
        ["cur_delivered-2026-03-06.csv.gz"],
        id="double-extension",
    ),
    pytest.param(
        ["undelivered-report.csv", "report_delivered-late.csv"],  # no stamp: not a delivery marker
        ["undelivered-report.csv", "report_delivered-late.csv"],
        id="marker-without-stamp-is-a-plain-file",
    ),
]


@pytest.mark.parametrize("names, read", CASES)
def test_newest_delivery_by_parsed_stamp_wins(names, read):
    files = [PurePath("landing/openai_costs/2026-03-03") / n for n in sorted(names)]
    kept, superseded = latest_deliveries(files)
    assert [f.name for f in kept] == sorted(read)
    assert sorted(f.name for f in superseded) == sorted(set(names) - set(read))


@pytest.mark.parametrize("names", [c.values[0] for c in CASES])
def test_choice_does_not_depend_on_listing_order(names):
    files = [PurePath(n) for n in names]
    forward = {f.name for f in latest_deliveries(files)[0]}
    backward = {f.name for f in latest_deliveries(files[::-1])[0]}
    assert forward == backward


def test_export_name_and_stamp():
    assert export_name("costs_2026-03-03_delivered-2026-03-06.json") == "costs_2026-03-03.json"
    assert export_name("costs-delivered-2026-03-06.json") == "costs.json"
    assert export_name("cur_delivered_7.csv.gz") == "cur.csv.gz"
    assert delivery_stamp("costs.json") < delivery_stamp("costs_delivered-1.json")
    assert delivery_stamp("x_delivered-9.json") < delivery_stamp("x_delivered-10.json")
    assert delivery_stamp("x_delivered-2026-03-06.json") == (2026, 3, 6, 0, 0, 0)
