"""Pseudonymization of end-user ids with a keyed HMAC; the key only ever comes from the environment."""

from __future__ import annotations

import hashlib
import hmac
import os

import polars as pl

HMAC_KEY_ENV = "TOKENOMICS_HMAC_KEY"


class MissingKeyError(RuntimeError):
    pass


def hmac_key() -> bytes:
    key = os.environ.get(HMAC_KEY_ENV)
    if not key:
        raise MissingKeyError(
            f"{HMAC_KEY_ENV} is not set: end-user ids are pseudonymized with a keyed HMAC; "
            f"export {HMAC_KEY_ENV}=<a long random secret> (the demo sets one for its own home)"
        )
    return key.encode()


def _digest(values: pl.Series, key: bytes) -> pl.Series:
    # HMAC once per distinct user id, not per row: a day has millions of rows but few users.
    uniques = values.drop_nulls().unique()
    mapping = {
        v: hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:32] for v in uniques.to_list() if v != ""
    }
    return values.replace_strict(mapping, default=None, return_dtype=pl.String)


def pseudonymize(raw: pl.Expr) -> pl.Expr:
    """user_hash: first 128 bits of HMAC-SHA256(key, user id); null or '' stays null."""
    key = hmac_key()
    return raw.cast(pl.String).map_batches(lambda s: _digest(s, key), return_dtype=pl.String)


SECRET_VALUE = (
    r"(?i)(\bsk-[A-Za-z0-9_\-]{8,}|\bBearer\s+\S+|\bsk-ant-[A-Za-z0-9_\-]+|\bAKIA[0-9A-Z]{16}\b"
    r"|\b[ps]k-lf-[A-Za-z0-9_\-]+)"
)
"""Things that look like API keys or bearer tokens, wherever they appear in a value. Langfuse public
keys (`pk-lf-...`) are included: with the secret key they open the project, and neither is ours to keep."""

SENSITIVE_KEY = (
    r"(?i)(authorization|api[_.\-]?key|secret|password|passwd|cookie|bearer|(^|[._\-])token($|[._\-])"
    r"|messages?$|prompt|completion$|content|instructions|tool\.definitions|\.body$"
    r"|(^|[._\-]|public|secret|private|access)key$)"
)
"""Attribute keys whose values are secrets or prompt/response bodies: never stored as labels. Any
`*_key` (`public_key`, `publicKey`, `langfuse.secret_key`) counts as a secret, whatever its value."""


def redact_secrets(raw: pl.Expr) -> pl.Expr:
    """Replace anything that looks like a key or bearer token inside a string value."""
    return raw.str.replace_all(SECRET_VALUE, "[redacted]")


def safe_labels(labels: pl.Expr) -> pl.Expr:
    """Drop labels whose key names a secret or a body; redact secret-looking values in the rest."""
    element = pl.element()
    return labels.list.eval(
        element.filter(~element.struct.field("key").str.contains(SENSITIVE_KEY)).struct.with_fields(
            redact_secrets(pl.field("value")).alias("value")
        )
    )
