"""Dagster assets and asset checks: thin wrappers that call tokenomics/ or run a sql/ file."""
