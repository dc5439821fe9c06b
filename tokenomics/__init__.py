"""Tokenomics: where an organisation's LLM tokens and dollars go, reconciled with the bill."""

__version__ = "0.1.0"
