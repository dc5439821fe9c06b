"""Vectorized hex identifiers: request ids unique across the whole dataset, random trace and span ids."""

from __future__ import annotations

import numpy as np
import polars as pl

_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd: multiplication by it is a bijection on uint64


def hex_strings(raw: np.ndarray) -> pl.Series:
    """Hex text of each row of a (n, k) uint8 array, as a String series of 2k characters."""
    n, k = raw.shape
    text = np.ascontiguousarray(raw).tobytes().hex().encode("ascii")
    return pl.Series(np.frombuffer(text, dtype=f"S{2 * k}")).cast(pl.String)


def random_hex(rng: np.random.Generator, n: int, nbytes: int) -> pl.Series:
    return hex_strings(rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8))


def unique_hex(rng: np.random.Generator, day_index: int, n: int, first: int = 0) -> pl.Series:
    """32 hex characters per request: 8 random bytes, then a bijective scramble of (day, sequence) so none
    repeat; `first` is the sequence number of the first one (a day generated in slices numbers on)."""
    counter = (np.uint64(day_index) << np.uint64(32)) | np.arange(first, first + n, dtype=np.uint64)
    scrambled = counter * _MIX
    scrambled ^= scrambled >> np.uint64(31)
    raw = np.empty((n, 16), dtype=np.uint8)
    raw[:, :8] = rng.integers(0, 256, size=(n, 8), dtype=np.uint8)
    raw[:, 8:] = scrambled.astype(">u8").view(np.uint8).reshape(n, 8)
    return hex_strings(raw)


def as_uuid(hex32: pl.Expr) -> pl.Expr:
    """8-4-4-4-12 layout of 32 hex characters."""
    return pl.concat_str(
        [
            hex32.str.slice(0, 8),
            hex32.str.slice(8, 4),
            hex32.str.slice(12, 4),
            hex32.str.slice(16, 4),
            hex32.str.slice(20, 12),
        ],
        separator="-",
    )
