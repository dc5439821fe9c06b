"""Pseudonymization of end-user ids with a keyed HMAC; one way to find the key for every entry point."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path

import polars as pl

HMAC_KEY_ENV = "TOKENOMICS_HMAC_KEY"
KEY_FILE_NAME = ".hmac_key"

log = logging.getLogger(__name__)

KeySource = Callable[[], bytes]
"""Resolves the key when first needed: files without end-user ids never make one."""

_active_key: ContextVar[KeySource | None] = ContextVar("tokenomics_hmac_key", default=None)


class MissingKeyError(RuntimeError):
    pass


def resolve_hmac_key(home_root: Path, environ: Mapping[str, str] | None = None, *, create: bool = True) -> bytes:
    """The pseudonymization key: $TOKENOMICS_HMAC_KEY, else <home>/.hmac_key (made once, with a warning).

    The CLI, `dagster dev`, the daemon and every run worker call this with the same home, so a backfill
    launched from the UI hashes end users exactly as `tokenomics run` does. A key made here stays in the
    home: rotate it (or set the variable from a secret store) in production.
    """
    environ = os.environ if environ is None else environ
    if environ.get(HMAC_KEY_ENV):
        return environ[HMAC_KEY_ENV].encode()
    key_file = Path(home_root) / KEY_FILE_NAME
    if not key_file.exists():
        if not create:
            raise MissingKeyError(f"{HMAC_KEY_ENV} is not set and {key_file} does not exist")
        _create_key_file(key_file)
    return key_file.read_text().strip().encode()


def _create_key_file(key_file: Path) -> None:
    """Write a random key once; parallel run workers race here, and os.link lets exactly one win."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    draft = key_file.with_name(f"{KEY_FILE_NAME}.{secrets.token_hex(4)}.tmp")
    draft.write_text(secrets.token_hex(32))
    draft.chmod(0o600)
    try:
        os.link(draft, key_file)
    except FileExistsError:
        return
    finally:
        draft.unlink()
    log.warning(
        "%s is not set: created a random pseudonymization key in %s; keep it (or set %s from a secret store): "
        "another key hashes the same users differently",
        HMAC_KEY_ENV,
        key_file,
        HMAC_KEY_ENV,
    )


@contextlib.contextmanager
def pseudonymization_key(key: bytes | KeySource) -> Iterator[None]:
    """Make `key` (or the function that finds it) the one `pseudonymize` uses in this block."""
    token = _active_key.set(key if callable(key) else (lambda: key))
    try:
        yield
    finally:
        _active_key.reset(token)


def _key_source() -> KeySource:
    """The block's key source (see `pseudonymization_key`), else $TOKENOMICS_HMAC_KEY."""
    return _active_key.get() or _environment_key


def _environment_key() -> bytes:
    key = os.environ.get(HMAC_KEY_ENV)
    if not key:
        raise MissingKeyError(
            f"{HMAC_KEY_ENV} is not set: end-user ids are pseudonymized with a keyed HMAC; "
            f"export {HMAC_KEY_ENV}=<a long random secret>, or run through `tokenomics` or Dagster, which use "
            f"the home's {KEY_FILE_NAME}"
        )
    return key.encode()


def hmac_key() -> bytes:
    """The key in force for this block (see `pseudonymization_key`)."""
    return _key_source()()


def _digest(values: pl.Series, key_source: KeySource) -> pl.Series:
    # HMAC once per distinct user id, not per row: a day has millions of rows but few users.
    uniques = [v for v in values.drop_nulls().unique().to_list() if v != ""]
    if not uniques:
        return pl.Series(values.name, [None] * len(values), dtype=pl.String)
    key = key_source()  # only data that has end-user ids needs a key
    mapping = {v: hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:32] for v in uniques}
    return values.replace_strict(mapping, default=None, return_dtype=pl.String)


def pseudonymize(raw: pl.Expr) -> pl.Expr:
    """user_hash: first 128 bits of HMAC-SHA256(key, user id); null or '' stays null.

    The key source is taken when the expression is built (inside the caller's `pseudonymization_key`
    block) and asked only when a batch holds a user id.
    """
    key_source = _key_source()
    return raw.cast(pl.String).map_batches(lambda s: _digest(s, key_source), return_dtype=pl.String)


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
