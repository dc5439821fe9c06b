"""Resources the assets use: where the home is, what its configuration says, where the lake lives."""

import contextlib
import os
from collections.abc import Iterable, Iterator

import dagster as dg
from pydantic import Field

from tokenomics.config import Config, load_config
from tokenomics.home import Home
from tokenomics.locks import exclusive
from tokenomics.objectstore import LAKE_URL_ENV, ObjectLake, snapshot
from tokenomics.privacy import HMAC_KEY_ENV, pseudonymization_key, resolve_hmac_key


class TokenomicsHome(dg.ConfigurableResource):
    """The Tokenomics home directory (landing, lake, warehouse, alerts) and its tokenomics.yaml.

    Every setting may stay empty: each entry point (CLI, `dagster dev`, the daemon, run workers) then
    resolves it the same way, from the same environment variables and the same home.
    """

    root: str = Field(default="", description="Home directory; empty = $TOKENOMICS_HOME or ./data")
    config_path: str = Field(
        default="", description="tokenomics.yaml; empty = $TOKENOMICS_CONFIG or <home>/tokenomics.yaml"
    )
    lake_url: str = Field(
        default="",
        description="s3://bucket/prefix for lake, quarantine, landing and marts; empty = $TOKENOMICS_LAKE_URL, "
        "else `lake_url` in tokenomics.yaml, else the home's own folders",
    )
    hmac_key_env: str = Field(
        default=HMAC_KEY_ENV,
        description="Environment variable holding the pseudonymization key; unset = the home's .hmac_key",
    )

    @property
    def home(self) -> Home:
        return Home.resolve(self.root or None)

    def config(self) -> Config:
        path = self.config_path or os.environ.get("TOKENOMICS_CONFIG") or str(self.home.config_file)
        return load_config(path)

    def hmac_key(self) -> bytes:
        """The key that pseudonymizes end users, resolved the same way by every entry point."""
        environ = {HMAC_KEY_ENV: os.environ.get(self.hmac_key_env, "")}
        return resolve_hmac_key(self.home.root, environ)

    def pseudonymizing(self) -> contextlib.AbstractContextManager[None]:
        return pseudonymization_key(self.hmac_key)

    def object_lake(self) -> ObjectLake | None:
        url = self.lake_url or os.environ.get(LAKE_URL_ENV) or self.config().lake_url
        return ObjectLake.from_url(url) if url else None

    def pull(self, context, days: Iterable[str] | None = None) -> None:
        """Bring the local copy up to date from the object-storage lake (no-op on a local lake)."""
        lake = self.object_lake()
        if lake is not None:
            fetched = lake.pull(self.home.root, days)
            context.log.info(f"object lake {lake.url}: pulled {fetched} object(s)")

    @contextlib.contextmanager
    def synced(self, context, days: Iterable[str] | None = None) -> Iterator[None]:
        """Pull what a step reads from the object-storage lake, push what it wrote (no-op on a local lake)."""
        lake = self.object_lake()
        if lake is None:
            yield
            return
        root = self.home.root
        fetched = lake.pull(root, days)
        before = snapshot(root)
        yield
        put, deleted = lake.push(root, before)
        context.log.info(f"object lake {lake.url}: pulled {fetched}, put {put}, deleted {deleted} object(s)")

    def deliver_alerts(self, alerts, **kwargs):
        """Send alerts to the channels of tokenomics.yaml, once per alert and channel (the ledger:
        `TOKENOMICS_LEDGER_URL`, else the home's)."""
        from tokenomics.alerts import deliver_with_settings, settings_from_config
        from tokenomics.alerts.ledger import ledger_location

        home = self.home
        home.alerts.mkdir(parents=True, exist_ok=True)
        return deliver_with_settings(
            alerts, settings_from_config(self.config().alerts, home.alerts), ledger_location(home.alerts), **kwargs
        )

    def serialized(self, name: str) -> contextlib.AbstractContextManager[None]:
        """One writer at a time for shared outputs (see tokenomics.locks)."""
        return exclusive(self.home.root / ".locks" / f"{name}.lock")
