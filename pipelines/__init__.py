"""Dagster wiring: the one Definitions, jobs, schedules, sensors and the in-process runner."""
