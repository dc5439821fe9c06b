"""The HTML report opens offline in a real headless Chromium: every chart drawn, no request, no console error."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.cli import main
from tests.conftest import E2E_START
from tokenomics.report.html import money

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MONTH = E2E_START.strftime("%Y-%m")
SECTIONS = [
    "Spend over time",
    "Does the bill match?",
    "Anomaly incidents",
    "Budgets",
    "Savings opportunities",
    "Would our own GPUs be cheaper?",
]

CHART_STATS = """() => [...document.querySelectorAll('figure.chart')].map(f => {
    const svg = f.querySelector(':scope > svg');
    if (!svg) return {svg: false};
    const box = svg.getBoundingClientRect();
    return {svg: true, width: box.width, height: box.height,
            marks: svg.querySelectorAll('path, rect, line, circle').length,
            title: [...svg.querySelectorAll('.role-title-text')].map(t => t.textContent).join(' / ')};
})"""


def test_money_is_written_as_dollars_and_cents():
    assert money(1234.5) == "$1,234.50"
    assert money(-0.0589) == "−$0.06"
    assert money(0.0012) == "$0.0012"
    assert money(0) == "$0.00"


@pytest.fixture(scope="module")
def report_file(company, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = CliRunner().invoke(main, ["report", "--home", str(company.root), "--month", MONTH, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_report_asset_writes_the_month_report_after_publish(company):
    page = company.reports / f"report-{MONTH}.html"
    assert page.is_file()
    assert "<svg" in page.read_text()


def test_report_is_self_contained(report_file):
    text = report_file.read_text()
    for needle in ("<script", "<link", "src=", "@import"):
        assert needle not in text, needle
    assert not re.search(r"url\((?!#)", text)  # only references inside the page (SVG clip paths)
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids)), "inline SVGs share an element id"
    for section in SECTIONS:
        assert f"<h2>{section}</h2>" in text
    assert 'class="empty"' not in text  # every section of the generated company has data


def test_report_renders_in_headless_chromium(report_file, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run `make system-deps` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    requests, console_errors = [], []
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = context.new_page()
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: console_errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report_file.as_uri(), wait_until="load")
            stats = page.evaluate(CHART_STATS)
            headings = page.eval_on_selector_all("h2", "hs => hs.map(h => h.textContent)")
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            context.close()
    assert requests == [report_file.as_uri()], requests  # the page itself and nothing else
    assert console_errors == []
    assert headings == SECTIONS
    # cost, bill vs gateway, gap by cause, >= 1 incident, budget burn, savings, self-hosting
    assert len(stats) >= 7, stats
    for chart in stats:
        assert chart["svg"] and chart["width"] > 200 and chart["height"] > 100, chart
        assert chart["marks"] > 5, chart
    titles = " | ".join(c["title"] for c in stats)
    for title in ("Daily cost by team", "Bill vs gateway", "Budget burn", "Savings opportunities", "Self-hosting"):
        assert title in titles, titles
    assert shot.stat().st_size > 50_000  # a blank page is a few kB
    if keep := os.environ.get("TOKENOMICS_REPORT_SCREENSHOT"):  # how docs/report.png is refreshed
        shutil.copy(shot, keep)
