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


STARTUP_SECONDS = 120


def _wait_until_serving(url: str, proc: subprocess.Popen, log: Path, seconds: float) -> None:
    """Return once /server_info answers; otherwise fail saying why, with the server's own output."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"dagster-webserver exited with {proc.returncode} before serving:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"dagster-webserver did not answer on {url} within {seconds:.0f} s:\n{log.read_text()[-4000:]}")


@pytest.fixture
def webserver(tmp_path):
    port = _free_port()
    (tmp_path / "dagster").mkdir()
    (tmp_path / "dagster" / "dagster.yaml").touch()
    env = os.environ | {"DAGSTER_HOME": str(tmp_path / "dagster"), "TOKENOMICS_HOME": str(tmp_path)}
    exe = Path(sys.executable).parent / "dagster-webserver"
    log = tmp_path / "webserver.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(exe), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, proc, log, STARTUP_SECONDS)
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
    else:
        pytest.fail(f"the code location did not load within 60 s: {data}")
    assets = {"/".join(n["assetKey"]["path"]) for n in data["assetNodes"]}
    from pipelines.definitions import defs

    assert assets == {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    repo = data["repositoriesOrError"]["nodes"][0]
    assert {"name": "nightly", "cronSchedule": "0 2 * * *"} in repo["schedules"]
    assert "pipeline_failure_alerts" in {s["name"] for s in repo["sensors"]}


def test_a_server_that_never_serves_fails_with_its_own_output(tmp_path):
    log = tmp_path / "webserver.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", "print('no workspace.yaml here'); raise SystemExit(3)"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    with pytest.raises(pytest.fail.Exception, match="(?s)exited with 3.*no workspace.yaml here"):
        _wait_until_serving(f"http://127.0.0.1:{_free_port()}", proc, log, 30)
