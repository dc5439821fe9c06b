"""Dagster assets and asset checks: thin wrappers that call tokenomics/ or run a sql/ file."""

import warnings

import dagster as dg

# single_run backfills are the documented design (README); the beta notice is noise in every run log.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
