"""Pupil and school identifiers: UPN check letters, ULN check digits, keyed pseudonyms.

UPN rules follow the GovTalk UPN standard v2.0 (docs/methodology.md#upn): the check letter is
sum(value(char_p) * p for p in 2..13) mod 23 mapped onto ``CHECK_LETTERS``.
"""

from __future__ import annotations

import hmac

import numpy as np
import polars as pl

CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_LETTER_VALUE = {c: i for i, c in enumerate(CHECK_LETTERS)}


def upn_check_letter(body: str) -> str:
    """Check letter for the 12 characters after it (positions 2..13)."""
    if len(body) != 12:
        raise ValueError("a UPN body has 12 characters")
    total = 0
    for pos, ch in enumerate(body, start=2):
        total += (int(ch) if ch.isdigit() else _LETTER_VALUE[ch]) * pos
    return CHECK_LETTERS[total % 23]


def is_valid_upn(upn: str | None) -> bool:
    if upn is None or len(upn) != 13 or upn[0] not in _LETTER_VALUE:
        return False
    body = upn[1:]
    # chars 2-12 numeric; char 13 a digit (permanent) or a letter (temporary UPN)
    if not body[:11].isdigit() or not (body[11].isdigit() or body[11] in _LETTER_VALUE):
        return False
    return upn_check_letter(body) == upn[0]


_CHAR_VALUE = {str(d): d for d in range(10)} | _LETTER_VALUE
_UPN_SHAPE = rf"^[{CHECK_LETTERS}][0-9]{{11}}[0-9{CHECK_LETTERS}]$"


def _digit_sum(numbers: pl.Expr, width: int, weights: range) -> pl.Expr:
    """sum(digit_i * weight_i) over a ``width``-digit number, by arithmetic (no per-character work)."""
    return pl.sum_horizontal([(numbers // 10 ** (width - 1 - i)) % 10 * w for i, w in enumerate(weights)])


def valid_upns(upns: pl.Series) -> pl.Series:
    """Vectorised ``is_valid_upn`` (validating a whole upload column at once)."""
    s = pl.col("upn")
    digits = s.str.slice(1, 11).cast(pl.Int64, strict=False)            # positions 2-12: digits
    last = s.str.slice(12, 1).replace_strict(_CHAR_VALUE, default=0, return_dtype=pl.Int64) * 13
    letter = ((_digit_sum(digits, 11, range(2, 13)) + last) % 23).replace_strict(
        dict(enumerate(CHECK_LETTERS)), return_dtype=pl.String)
    ok = (s.str.contains(_UPN_SHAPE) & (s.str.slice(0, 1) == letter)).fill_null(False)
    return pl.DataFrame({"upn": upns.cast(pl.String)}).select(ok).to_series()


def valid_ulns(ulns: pl.Series) -> pl.Series:
    """Vectorised ``is_valid_uln``; a missing ULN is null (it is optional)."""
    s = pl.col("uln")
    ok = s.str.contains(r"^[1-9][0-9]{9}$") & (_digit_sum(s.cast(pl.Int64, strict=False), 10, range(10, 0, -1)) % 11 == 10)
    return pl.DataFrame({"uln": ulns.cast(pl.String)}).select(ok.fill_null(False)).to_series()


def upn_check_letters(bodies: np.ndarray) -> np.ndarray:
    """Vectorised check letters for an array of 12-digit numeric bodies (as int64)."""
    bodies = np.asarray(bodies, dtype=np.int64)
    total = np.zeros(len(bodies), dtype=np.int64)
    rest = bodies.copy()
    for pos in range(13, 1, -1):  # last digit is position 13
        total += (rest % 10) * pos
        rest //= 10
    return np.asarray(list(CHECK_LETTERS))[total % 23]


def is_valid_uln(uln: str | None) -> bool:
    """ULN: 10 digits, first non-zero, sum(digit * weight 10..1) mod 11 == 10."""
    if uln is None or len(uln) != 10 or not uln.isdigit() or uln[0] == "0":
        return False
    return sum(int(d) * w for d, w in zip(uln, range(10, 0, -1))) % 11 == 10


_PSEUDONYMS: dict[bytes, pl.DataFrame] = {}  # per key: upn -> pupil_key already computed in this process
_PSEUDONYMS_KEPT = 5_000_000                  # distinct pupils remembered (about 0.5 GB at most)


def pseudonymise(upns: pl.Series, key: bytes) -> pl.Series:
    """Keyed hash (HMAC-SHA256, 16 bytes hex) of each UPN: stable per key, not reversible without it.

    Hashes each distinct UPN once per process: a pupil is on every census, attendance and
    attainment file of their school years, so cost follows distinct pupils, not rows or files.
    """
    known = _PSEUDONYMS.get(key, pl.DataFrame(schema={"upn": pl.String, "pupil_key": pl.String}))
    distinct = pl.DataFrame({"upn": upns.cast(pl.String)}).unique().drop_nulls()
    new = distinct.join(known, on="upn", how="anti")["upn"]
    if new.len():
        digests = [hmac.new(key, u.encode(), "sha256").hexdigest()[:32] for u in new.to_list()]
        fresh = pl.DataFrame({"upn": new, "pupil_key": digests}, schema=known.schema)
        if known.height + fresh.height > _PSEUDONYMS_KEPT:  # forget all but this call's pupils
            known = known.join(distinct, on="upn", how="semi")
        known = pl.concat([known, fresh])
        _PSEUDONYMS[key] = known
    return (
        pl.DataFrame({"upn": upns.cast(pl.String)})
        .join(known, on="upn", how="left", maintain_order="left")
        .get_column("pupil_key")
    )


# Columns whose values identify a pupil: run logs and Dagster metadata show a finding's row and
# column, never such a value (the quarantine report, kept with the file, shows it to the data lead).
PERSONAL_COLUMNS = frozenset({"upn", "uln", "surname", "forename", "dob"})


def value_for_log(column: str | None, value: str | None) -> str | None:
    """A finding's value as a log may show it: withheld when the column identifies a pupil."""
    from ingest.sources import canonical_header

    if value is not None and column is not None and canonical_header(column) in PERSONAL_COLUMNS:
        return "value withheld: it identifies a pupil"
    return value


def message_for_log(column: str | None, value: str | None, message: str) -> str:
    """A finding's message as a log may show it (a personal value in it withheld)."""
    shown = value_for_log(column, value)
    return message.replace(str(value), "(withheld)") if shown != value and value else message
