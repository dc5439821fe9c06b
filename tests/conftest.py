"""Shared fixtures: a generated sample company materialized once per session through Dagster."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

os.environ.setdefault("TOKENOMICS_HMAC_KEY", "test-hmac-key-not-secret")
os.environ.setdefault("TOKENOMICS_PARTITION_START", "2025-01-01")

FIXTURES = Path(__file__).parent / "fixtures"

E2E_START = date(2026, 3, 2)  # a Monday
E2E_DAYS = 14
E2E_EVENTS = 400
E2E_SEED = 11


@pytest.fixture(scope="session")
def company(tmp_path_factory):
    """14 small generated days, materialized in one single-run backfill (the UI's path)."""
    from pipelines.runner import run_days
    from tokenomics.generator import generate
    from tokenomics.home import Home

    home = Home(tmp_path_factory.mktemp("company"))
    generate(home.root, E2E_START, E2E_DAYS, E2E_EVENTS, E2E_SEED)
    end = E2E_START + timedelta(days=E2E_DAYS - 1)
    result = run_days(home, E2E_START, end, instance=dg.DagsterInstance.ephemeral())
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return home


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


SIXTY_START, SIXTY_DAYS, SIXTY_SEED = date(2026, 2, 2), 60, 2027


@pytest.fixture(scope="session")
def sixty_days(tmp_path_factory):
    """60 generated days (2,000 requests a day, a seed not used in tuning) through one Dagster run."""
    from pipelines.runner import run_days
    from tokenomics.generator import generate
    from tokenomics.home import Home

    home = Home(tmp_path_factory.mktemp("sixty"))
    generate(home.root, SIXTY_START, SIXTY_DAYS, 2000, SIXTY_SEED)
    end = SIXTY_START + timedelta(days=SIXTY_DAYS - 1)
    result = run_days(home, SIXTY_START, end, instance=dg.DagsterInstance.ephemeral())
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return home


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server on loopback (Debian's postgresql package)."""
    from tests.servers import start_postgres

    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3():
    """A real S3 API server on loopback (moto in server mode)."""
    from tests.servers import start_s3

    server = start_s3()
    yield server
    server.stop()
