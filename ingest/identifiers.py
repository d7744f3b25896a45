"""Pupil and school identifiers: UPN check letters, ULN check digits, keyed pseudonyms.

UPN rules follow the GovTalk UPN standard v2.0 (docs/methodology.md#upn): the check letter is
sum(value(char_p) * p for p in 2..13) mod 23 mapped onto ``CHECK_LETTERS``.
"""

from __future__ import annotations

import hmac
from functools import lru_cache

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


_HASHED: dict[tuple[bytes, str], pl.DataFrame] = {}  # per key and purpose: text -> hash already computed
_HASHED_KEPT = 5_000_000                                # distinct values remembered (about 0.5 GB at most)


def _keyed_hashes(values: pl.Series, key: bytes, purpose: str, hex_chars: int) -> pl.Series:
    """HMAC-SHA256 of each value under ``key``, cut to ``hex_chars``, hashing each distinct value once
    per process: a pupil is on every census, attendance and attainment file of their school years,
    so cost follows distinct pupils, not rows or files."""
    cache = (key, purpose)
    known = _HASHED.get(cache, pl.DataFrame(schema={"text": pl.String, "hash": pl.String}))
    distinct = pl.DataFrame({"text": values.cast(pl.String)}).unique().drop_nulls()
    new = distinct.join(known, on="text", how="anti")["text"]
    if new.len():
        digests = [hmac.new(key, u.encode(), "sha256").hexdigest()[:hex_chars] for u in new.to_list()]
        fresh = pl.DataFrame({"text": new, "hash": digests}, schema=known.schema)
        if known.height + fresh.height > _HASHED_KEPT:  # forget all but this call's values
            known = known.join(distinct, on="text", how="semi")
        known = pl.concat([known, fresh])
        _HASHED[cache] = known
    return (
        pl.DataFrame({"text": values.cast(pl.String)})
        .join(known, on="text", how="left", maintain_order="left")
        .get_column("hash")
    )


def pseudonymise(upns: pl.Series, key: bytes) -> pl.Series:
    """Keyed hash (HMAC-SHA256, 16 bytes hex) of each UPN: stable per key, not reversible without it."""
    return _keyed_hashes(upns, key, "pupil_key", 32)


@lru_cache(maxsize=8)
def _identity_key(key: bytes) -> bytes:
    # a key of its own, derived from the pseudonymisation key: an identity hash never equals a pupil key
    return hmac.new(key, b"pathways-identity-check", "sha256").digest()


def _name_part(col: str) -> pl.Expr:
    """A name as a comparison sees it: capitals, accents and everything but letters removed
    ("Zoë O'Neil-Smith" and "ZOE ONEILSMITH" are the same)."""
    return (pl.col(col).cast(pl.String).str.normalize("NFKD").str.replace_all(r"[^A-Za-z]", "").str.to_uppercase()
            .replace("", None))


_IDENTITY_HASHES: dict[bytes, dict[str, int]] = {}  # per derived key: text -> hash (a pupil recurs in every file)
_IDENTITY_KEPT = 4_000_000


def _hash_texts(texts: pl.Series, key: bytes) -> pl.Series:
    """HMAC-SHA256 of each text, its first 64 bits as a whole number (compact to store and compare),
    remembered in a dict: cheaper than joins here, where each text is long and recurs file after file."""
    cache = _IDENTITY_HASHES.setdefault(key, {})
    if len(cache) > _IDENTITY_KEPT:
        cache.clear()
    out = []
    for text in texts.to_list():
        if text is None:
            out.append(None)
            continue
        h = cache.get(text)
        if h is None:
            h = cache[text] = int.from_bytes(hmac.digest(key, text.encode(), "sha256")[:8], "big", signed=True)
        out.append(h)
    return pl.Series(out, dtype=pl.Int64)


def identity_hashes(identity: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """Keyed hashes (64 bits) of who a row says the pupil is, beside their UPN: ``dob_hash`` of UPN + date of birth
    and ``name_hash`` of UPN + surname + forename (docs/methodology.md#identity-check).

    Two rows with the same UPN but different hashes describe different pupils (or one pupil recorded
    two ways), without the warehouse holding a name or a date of birth. The UPN inside each hash
    means equal birthdays of different pupils do not give equal hashes."""
    derived = _identity_key(key)
    f = identity.select(
        pl.when(pl.col("upn").is_not_null() & pl.col("dob").is_not_null())
        .then(pl.concat_str([pl.lit("dob|"), pl.col("upn"), pl.lit("|"), pl.col("dob").cast(pl.String)]))
        .alias("dob_text"),
        pl.when(pl.col("upn").is_not_null() & _name_part("surname").is_not_null() & _name_part("forename").is_not_null())
        .then(pl.concat_str([pl.lit("name|"), pl.col("upn"), pl.lit("|"), _name_part("surname"), pl.lit("|"),
                             _name_part("forename")]))
        .alias("name_text"),
    )
    return pl.DataFrame({"dob_hash": _hash_texts(f["dob_text"], derived), "name_hash": _hash_texts(f["name_text"], derived)})


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
