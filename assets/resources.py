"""Resources the assets use: where the home is and what its configuration says."""


import os
import dagster as dg
from pydantic import Field

from tokenomics.config import Config, load_config
from tokenomics.home import Home


class TokenomicsHome(dg.ConfigurableResource):
    """The Tokenomics home directory (landing, lake, warehouse, alerts) and its tokenomics.yaml."""

    root: str = Field(default="", description="Home directory; empty = $TOKENOMICS_HOME or ./data")
    config_path: str = Field(default="", description="tokenomics.yaml; empty = <home>/tokenomics.yaml")

    @property
    def home(self) -> Home:
        return Home.resolve(self.root or None)

    def config(self) -> Config:
        path = self.config_path or os.environ.get("TOKENOMICS_CONFIG") or str(self.home.config_file)
        return load_config(path)
