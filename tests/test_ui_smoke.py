"""`make ui` serves the code location: the webserver loads workspace.yaml and shows assets and schedule."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
QUERY = """
{ assetNodes { assetKey { path } }
  repositoriesOrError { ... on RepositoryConnection { nodes { name schedules { name cronSchedule } sensors { name } } } } }
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def webserver(tmp_path):
    port = _free_port()
    (tmp_path / "dagster").mkdir()
    (tmp_path / "dagster" / "dagster.yaml").touch()
    env = os.environ | {"DAGSTER_HOME": str(tmp_path / "dagster"), "TOKENOMICS_HOME": str(tmp_path)}
    exe = Path(sys.executable).parent / "dagster-webserver"
    proc = subprocess.Popen(
        [str(exe), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_ui_shows_assets_schedule_and_sensor(webserver):
    deadline, data = time.monotonic() + 60, None
    while time.monotonic() < deadline:
        data = httpx.post(f"{webserver}/graphql", json={"query": QUERY}, timeout=30).json()["data"]
        if data["assetNodes"]:
            break
        time.sleep(1)  # the code location may still be loading
    assets = {"/".join(n["assetKey"]["path"]) for n in data["assetNodes"]}
    assert {"usage_events", "billing_lines", "usage_daily", "warehouse", "anomalies"} <= assets
    repo = data["repositoriesOrError"]["nodes"][0]
    assert {"name": "nightly", "cronSchedule": "0 2 * * *"} in repo["schedules"]
    assert "pipeline_failure_alerts" in {s["name"] for s in repo["sensors"]}
