"""Build glue that pyproject.toml cannot express: the top-level sql/ folder ships as package data.

The SQL models stay in one place, the top-level `sql/` folder the layout promises (one file per
published table, read by assets and by people). A wheel must carry them too, so setuptools maps that
folder onto the data-only package `tokenomics.sql`; `tokenomics.marts` reads it with
`importlib.resources`. Packages are discovered, not listed, so a new subpackage cannot be left out.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["tokenomics*", "assets*", "pipelines*"]), "tokenomics.sql"],
    package_dir={"tokenomics.sql": "sql"},
    package_data={"tokenomics": ["py.typed", "tables.yaml"], "tokenomics.sql": ["*.sql", "macros/*.sql"]},
)
