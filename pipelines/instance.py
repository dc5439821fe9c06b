"""The Dagster instance every entry point uses: $DAGSTER_HOME when set, else <home>/dagster."""

import os
import sys
from pathlib import Path

import dagster as dg

from tokenomics.home import Home

DAGSTER_YAML = """\
# Written by Tokenomics for a local home: runs, event logs and schedules in SQLite under this folder.
# For production (PostgreSQL, queued runs) see deploy/dagster.yaml and the README.
telemetry:
  enabled: false
nux:
  enabled: false
"""


def instance_dir(home: Home) -> Path:
    """$DAGSTER_HOME if set (a production instance, e.g. on PostgreSQL), else the home's own folder."""
    return Path(os.environ.get("DAGSTER_HOME") or home.dagster)


def ensure_dagster_yaml(folder: Path) -> Path:
    """Give a new instance folder a dagster.yaml with telemetry and the welcome banner off; keep an existing one."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "dagster.yaml"
    if not config.exists() or not config.read_text().strip():
        config.write_text(DAGSTER_YAML)
    return config


def instance_for(home: Home) -> dg.DagsterInstance:
    """The persistent instance, so CLI runs show up in the UI and the daemon of the same instance."""
    folder = instance_dir(home)
    ensure_dagster_yaml(folder)
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(folder)  # DagsterInstance.get() is the public way to load one by folder
    try:
        return dg.DagsterInstance.get()
    finally:
        if previous is None:
            del os.environ["DAGSTER_HOME"]
        else:
            os.environ["DAGSTER_HOME"] = previous


if __name__ == "__main__":  # `python -m pipelines.instance <folder>`: used by `make ui`
    print(ensure_dagster_yaml(Path(sys.argv[1])))
