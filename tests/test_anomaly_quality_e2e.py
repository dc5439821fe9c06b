"""Issue 6 acceptance, end to end: 60 generated days (2,000 requests a day) through Dagster; the published incidents find
the injected anomalies (recall >= 0.9, precision >= 0.8, median delay 0) on a seed not used in tuning."""

import duckdb
import polars as pl

from tests.conftest import SIXTY_DAYS
from tokenomics.anomalies.scoring import score_alerts


def test_published_incidents_find_the_injected_anomalies(sixty_days):
    con = duckdb.connect(str(sixty_days.warehouse), read_only=True)
    try:
        incidents = con.sql("SELECT * FROM incidents").pl()
        usage = con.sql("SELECT DISTINCT model, provider FROM usage_daily").pl()
    finally:
        con.close()
    injected = pl.read_parquet(sixty_days.truth / "anomalies.parquet")
    assert injected.height >= 6
    score = score_alerts(
        incidents, injected, series_count=1, days=SIXTY_DAYS, model_providers=dict(usage.iter_rows())
    )
    assert score.detected / score.events >= 0.9, score
    assert score.true_alerts / score.alerts >= 0.8, score
    assert score.median_delay_days == 0, score
