"""The built wheel is the product: installed outside the checkout, it runs a day with its own SQL files.

Building from a copy keeps build/ and *.egg-info out of the working tree. The wheel goes in with
`pip install --target` (its dependencies are the ones this venv already has), and every command runs
from a folder outside the checkout with only the install on PYTHONPATH, so an import or a file read
that still reached into the repository would fail here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD_INPUTS = ["pyproject.toml", "setup.py", "README.md", "LICENSE", "tokenomics", "assets", "pipelines", "sql"]


def _build_wheel(work: Path) -> Path:
    src = work / "src"
    src.mkdir()
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, src / name)
    out = work / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)], check=True)
    (wheel,) = out.glob("tokenomics-*.whl")
    return wheel


def _installed_env(site: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOKENOMICS_", "DAGSTER_"))}
    env["PYTHONPATH"] = str(site)
    env["TOKENOMICS_HMAC_KEY"] = "test-hmac-key-not-secret"
    return env


@pytest.mark.slow
def test_wheel_installs_and_runs_one_day_outside_the_checkout(tmp_path):
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    sql_files = {f"tokenomics/sql/{p.relative_to(ROOT / 'sql').as_posix()}" for p in (ROOT / "sql").rglob("*.sql")}
    assert sql_files and sql_files <= names, sorted(sql_files - names)
    assert {"tokenomics/py.typed", "tokenomics/tables.yaml"} <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    metadata = zipfile.ZipFile(wheel).read("tokenomics-0.1.0.dist-info/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata

    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)], check=True
    )
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    env = _installed_env(site)

    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "import tokenomics, tokenomics.marts as m; print(tokenomics.__file__); print(m.SQL_DIR / 'usage_daily.sql')",
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert all(line.startswith(str(site)) for line in where), where

    home = tmp_path / "home"
    cli = [str(site / "bin" / "tokenomics")]
    for args in (
        ["generate", "--home", str(home), "--start", "2026-11-02", "--days", "1", "--events-per-day", "150"],
        ["run", "--home", str(home)],
    ):
        done = subprocess.run(cli + args, cwd=cwd, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        for table in ("usage_daily", "billing_daily", "reconciliation_daily"):
            assert con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] > 0, table
