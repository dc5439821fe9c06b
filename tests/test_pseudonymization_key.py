"""One way to find the pseudonymization key, whatever the entry point; no key needed without end users."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

import polars as pl
import pytest

from assets.resources import TokenomicsHome
from tokenomics.home import Home
from tokenomics.ingest import write_day
from tokenomics.lake import read_partition
from tokenomics.privacy import (
    HMAC_KEY_ENV,
    KEY_FILE_NAME,
    MissingKeyError,
    pseudonymization_key,
    pseudonymize,
    resolve_hmac_key,
)

DAY = date(2026, 3, 2)
SPEND_LOG = (
    '{"request_id": "r-1", "call_type": "acompletion", "startTime": "2026-03-02T10:00:00Z", '
    '"endTime": "2026-03-02T10:00:01Z", "model": "gpt-4o-mini", "custom_llm_provider": "openai", '
    '"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15, "spend": 0.00001, '
    '"user": "customer-42", "metadata": {}, "status": "success"}\n'
)


@pytest.fixture
def no_key_in_environment(monkeypatch):
    monkeypatch.delenv(HMAC_KEY_ENV, raising=False)


def test_the_home_key_file_is_made_once_and_reused(tmp_path, no_key_in_environment, caplog):
    first = resolve_hmac_key(tmp_path)
    assert (tmp_path / KEY_FILE_NAME).stat().st_mode & 0o777 == 0o600
    assert "created a random pseudonymization key" in caplog.text
    assert resolve_hmac_key(tmp_path) == first
    assert resolve_hmac_key(tmp_path, {HMAC_KEY_ENV: "from-the-environment"}) == b"from-the-environment"


def test_data_without_end_users_never_needs_a_key(no_key_in_environment):
    frame = pl.DataFrame({"user": [None, ""]}, schema={"user": pl.String})
    assert frame.select(pseudonymize(pl.col("user")))["user"].to_list() == [None, None]
    with pytest.raises(MissingKeyError):
        pl.DataFrame({"user": ["u-1"]}).select(pseudonymize(pl.col("user")))


def test_a_run_worker_with_no_key_in_its_environment_hashes_with_the_home_key(tmp_path, no_key_in_environment):
    """The production path of usage_events: the resource's key reaches the read-ahead thread of ingest."""
    home = Home(tmp_path)
    landing = home.landing_day("litellm", DAY)
    landing.mkdir(parents=True)
    (landing / "spend.jsonl").write_text(SPEND_LOG)
    resource = TokenomicsHome(root=str(home.root))
    with resource.pseudonymizing():
        write_day(home, DAY, [("litellm", landing / "spend.jsonl")], ["usage_events"])
    key = (home.root / KEY_FILE_NAME).read_text().strip().encode()
    rows = read_partition(home.table_day("usage_events", DAY))
    assert rows["user_hash"].to_list() == [hmac.new(key, b"customer-42", hashlib.sha256).hexdigest()[:32]]


def test_a_block_key_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv(HMAC_KEY_ENV, "environment")
    with pseudonymization_key(b"block"):
        hashed = pl.DataFrame({"user": ["u-1"]}).select(pseudonymize(pl.col("user")))["user"][0]
    assert hashed == hmac.new(b"block", b"u-1", hashlib.sha256).hexdigest()[:32]
