"""The new user's path: a generated home, `make ui`, and a UI backfill of every asset over four days.

No TOKENOMICS_HMAC_KEY in the environment, as on a fresh machine: the webserver, the daemon and the run
workers must all find the home's key file (the bug that failed every UI backfill before).
"""

from __future__ import annotations

import subprocess
from datetime import date, timedelta

import pytest

from tests.servers import free_port, stop_process, wait_until_serving
from tests.test_production import ASSETS, BIN, LAUNCH, ROOT, _wait_for_backfill, graphql, user_environment
from tokenomics.home import Home
from tokenomics.privacy import KEY_FILE_NAME

START, DAYS = date(2026, 3, 23), 4


@pytest.mark.slow
def test_make_ui_backfill_of_every_asset_succeeds_without_a_key_in_the_environment(tmp_path):
    home = Home(tmp_path / "home")
    env = user_environment(TOKENOMICS_HOME=str(home.root))
    generated = subprocess.run(
        [str(BIN / "tokenomics"), "generate", "--start", str(START), "--days", str(DAYS), "--events-per-day", "300"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert generated.returncode == 0, generated.stderr
    port = free_port()
    log = open(tmp_path / "make-ui.log", "wb")
    ui = subprocess.Popen(
        ["make", "-C", str(ROOT), "ui", f"UI_PORT={port}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, [ui], tmp_path / "make-ui.log", timeout=240)
        assert "telemetry:\n  enabled: false" in (home.dagster / "dagster.yaml").read_text()
        keys = sorted({tuple(n["assetKey"]["path"]) for n in graphql(url, ASSETS)["assetNodes"]})
        days = [str(START + timedelta(days=i)) for i in range(DAYS)]
        params = {"partitionNames": days, "assetSelection": [{"path": list(k)} for k in keys], "fromFailure": False}
        launched = graphql(url, LAUNCH, {"params": params})["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        status, runs = _wait_for_backfill(url, launched["backfillId"], timeout=600)
    finally:
        stop_process(ui, group=True)
        log.close()
    assert status in ("COMPLETED", "COMPLETED_SUCCESS"), (status, [r["status"] for r in runs])
    assert runs and all(r["status"] == "SUCCESS" for r in runs)
    assert (home.root / KEY_FILE_NAME).exists()
    assert home.warehouse.exists()
