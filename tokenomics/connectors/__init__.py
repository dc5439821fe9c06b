"""Connectors: fetch one UTC day from where the data lives into landing/<source>/<day>/.

Each connector is off unless `connectors:` in tokenomics.yaml configures it, and takes its secret
only from the environment variable the config names. Which sources each one fills:

    litellm    -> litellm                          (the proxy's PostgreSQL, tokenomics.connectors.litellm_db)
    openai     -> openai_usage, openai_costs       (admin API, tokenomics.connectors.admin_reports)
    anthropic  -> anthropic_usage, anthropic_cost  (admin API)
    buckets    -> aws_cur, azure_cost, gcp_billing, focus  (s3:// exports, tokenomics.connectors.buckets)

`pull` is the one entry point the Dagster assets and `tokenomics pull` share.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date

from tokenomics.config import Config, env_secret
from tokenomics.connectors.errors import ConnectorError
from tokenomics.connectors.landing import Landed, land_gateway_day, land_report
from tokenomics.home import Home

CONNECTOR_SOURCES: dict[str, tuple[str, ...]] = {
    "litellm": ("litellm",),
    "openai": ("openai_usage", "openai_costs"),
    "anthropic": ("anthropic_usage", "anthropic_cost"),
    "buckets": ("aws_cur", "azure_cost", "gcp_billing", "focus"),
}
PULLABLE = tuple(s for sources in CONNECTOR_SOURCES.values() for s in sources)

__all__ = ["CONNECTOR_SOURCES", "ConnectorError", "Landed", "PULLABLE", "configured_sources", "connector_of", "pull"]


def connector_of(source: str) -> str:
    for connector, sources in CONNECTOR_SOURCES.items():
        if source in sources:
            return connector
    raise ConnectorError(f"no connector fetches '{source}'; pullable sources: {', '.join(PULLABLE)}")


def configured_sources(config: Config, connector: str | None = None) -> list[str]:
    """The sources a configured connector (or every configured one) fills."""
    c = config.connectors
    out: list[str] = []
    for name in CONNECTOR_SOURCES if connector is None else (connector,):
        if name == "buckets":
            out += [b.source for b in c.buckets if b.source not in out]
        elif getattr(c, name) is not None:
            out += list(CONNECTOR_SOURCES[name])
    return out


def pull(
    home: Home,
    config: Config,
    what: str,
    day: date,
    *,
    log: Callable[[str], None] = lambda _m: None,
    sleep: Callable[[float], None] | None = None,
) -> list[Landed]:
    """Fetch `what` (a connector name or one of its sources) for `day` into landing; the files written.

    Raises ConnectorError (one line, no secret) when it is not configured or the fetch fails; in that
    case nothing was written for the source that failed.
    """
    connector = what if what in CONNECTOR_SOURCES else connector_of(what)
    wanted = set(CONNECTOR_SOURCES[connector]) if what == connector else {what}
    if not set(configured_sources(config, connector)) & wanted:
        raise _not_configured(home, what)
    c = config.connectors
    if connector in ("openai", "anthropic"):
        from tokenomics.connectors import admin_reports as ar

        settings = getattr(c, connector)
        secret = env_secret(settings.admin_key_env, f"connectors.{connector}.admin_key_env")
        if connector == "openai":
            api = ar.openai_api(settings, secret, log=log, sleep=sleep)
            fetched = ar.fetch_openai(api, day, list(settings.usage), wanted)
        else:
            api = ar.anthropic_api(settings, secret, log=log, sleep=sleep)
            fetched = ar.fetch_anthropic(api, day, wanted)
        # everything is fetched before anything lands: a failed report leaves landing untouched
        return [land_report(home, f.source, day, f.name, f.content, f.rows) for f in fetched]
    if connector == "litellm":
        from tokenomics.connectors import litellm_db

        litellm = c.litellm
        if litellm is None:
            raise _not_configured(home, what)
        dsn = env_secret(litellm.dsn_env, "connectors.litellm.dsn_env")
        with litellm_db.SpendLogDay(dsn, day, litellm, log=log) as spend:
            landed = land_gateway_day(home, "litellm", day, f"litellm_spendlogs_{day}.jsonl", spend.chunks(), 0)
            log(f"litellm {day}: {spend.rows:,} spend logs in {spend.pages} page(s)")
        return [dataclasses.replace(landed, rows=spend.rows)]
    from tokenomics.connectors import buckets

    return buckets.pull_day(home, [b for b in c.buckets if b.source in wanted], day, log=log)


def _not_configured(home: Home, what: str) -> ConnectorError:
    return ConnectorError(
        f"{what}: not configured; add it under connectors: in {home.config_file} (see the README section 'Connectors')"
    )
