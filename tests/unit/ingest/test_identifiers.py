import numpy as np
import polars as pl

from ingest.identifiers import (
    is_valid_uln,
    is_valid_upn,
    pseudonymise,
    upn_check_letter,
    upn_check_letters,
)


def test_upn_check_letter_matches_the_govtalk_examples():
    # docs/methodology.md#upn: B801200005001 valid, A801200005001 invalid, P207000016049 valid (not Q)
    assert is_valid_upn("B801200005001")
    assert not is_valid_upn("A801200005001")
    assert is_valid_upn("P207000016049")
    assert upn_check_letter("801200005001") == "B"


def test_upn_rejects_wrong_shape():
    for bad in ["", "B80120000500", "B8012000050011", "I801200005001", "B80120000A001", None]:
        assert not is_valid_upn(bad)


def test_vectorised_check_letters_agree_with_the_scalar_rule():
    rng = np.random.default_rng(1)
    bodies = rng.integers(10**11, 10**12, 500)
    letters = upn_check_letters(bodies)
    for b, letter in zip(bodies, letters):
        assert upn_check_letter(str(b).zfill(12)) == letter


def test_uln_check_digit():
    assert is_valid_uln("9276308686")
    assert not is_valid_uln("9276308687")
    assert not is_valid_uln("0276308686")
    assert not is_valid_uln("927630868")


def test_pseudonyms_are_stable_per_key_and_differ_between_keys():
    upns = pl.Series(["B801200005001", "P207000016049", "B801200005001", None])
    a = pseudonymise(upns, b"key-one")
    b = pseudonymise(upns, b"key-two")
    assert a[0] == a[2] and a[0] != a[1]
    assert a[3] is None
    assert a[0] != b[0]
    assert len(a[0]) == 32 and "B801200005001" not in a.to_list()


def test_vectorised_upn_validation_agrees_with_the_rule():
    from ingest.identifiers import valid_upns

    rng = np.random.default_rng(3)
    bodies = rng.integers(10**11, 10**12, 300)
    good = [upn_check_letter(str(b)) + str(b) for b in bodies]
    bad = ["A" + g[1:] if g[0] != "A" else "B" + g[1:] for g in good[:100]]
    odd = ["B801200005001", "P207000016049", "I801200005001", "B80120000500", "B8012000050A1", "b801200005001",
           "T80120000500" + "Z", None]
    sample = good + bad + odd
    got = valid_upns(pl.Series(sample, dtype=pl.String)).to_list()
    assert got == [is_valid_upn(u) for u in sample]
    assert sum(got) >= 300


def test_vectorised_uln_validation_agrees_with_the_rule():
    from ingest.identifiers import valid_ulns

    rng = np.random.default_rng(5)
    sample = [str(n) for n in rng.integers(10**9, 10**10, 2000)]  # about 1 in 11 has a valid check digit
    sample += ["9276308686", "9276308687", "0276308686", "927630868", "92763086860", "92763O8686", None]
    got = valid_ulns(pl.Series(sample, dtype=pl.String)).to_list()
    assert got == [is_valid_uln(u) if u is not None else False for u in sample]
    assert 100 < sum(got) < 300
