"""The scorecard's charts (SVG an assistive technology can name, text escaped), the one-year gap
interval (checked against Newcombe's published example), and ID token validation with real keys."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from scorecard.charts import Series, bar_chart, legend, line_chart
from scorecard.intervals import gap_interval
from scorecard.oidc import SignInFailed, validate_id_token

SVG = ""  # inline SVG in HTML needs no namespace


def test_newcombe_hybrid_score_interval_matches_the_papers_example():
    # Newcombe (1998), Statistics in Medicine 17:873-890, example (a): 56/70 - 48/80, method 10: 0.0524 to 0.3339
    lower, upper = gap_interval(56, 70, 48, 80)
    assert (round(lower / 100, 4), round(upper / 100, 4)) == (0.0524, 0.3339)
    # lower is better (absence): the gap is disadvantaged minus other, so the interval flips sign
    flipped = gap_interval(48, 80, 56, 70, lower_is_better=True)
    assert flipped == pytest.approx((lower, upper))
    assert gap_interval(None, 70, 48, 80) is None and gap_interval(56, 0, 48, 80) is None and gap_interval(80, 70, 1, 2) is None


def test_a_line_chart_is_named_for_assistive_technology_and_breaks_at_missing_years():
    svg = line_chart('Gap <script>alert("x")</script>', "A description.", ["2018/19", "2019/20", "2020/21", "2021/22", "2022/23"],
                     [Series("This community", [10.0, None, None, 8.0, 6.5], 0, [5.0, None, None, 3.0, 1.0],
                             [15.0, None, None, 13.0, 12.0]),
                      Series("England", [9.0, 9.5, 9.2, 9.1, 9.0], 2)], "Gap (percentage points)")
    root = ET.fromstring(str(svg))  # well-formed: any unescaped text would break the parse
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"{SVG}title").get("id") == title_id and root.find(f"{SVG}title").text.startswith("Gap <script>")
    assert root.find(f"{SVG}desc").get("id") == desc_id
    paths = [p for p in root.iter(f"{SVG}path") if p.get("fill") == "none"]
    assert len(paths) == 2  # this community: one run (2021/22 to 2022/23; 2018/19 stands alone); England: one line
    assert len(root.findall(f"{SVG}polygon")) == 1  # the interval band over the run with intervals
    assert "<script>" not in str(svg)


def test_bars_and_legend_escape_names_and_show_withheld_bars_as_text():
    svg = bar_chart("Caught up", "desc", ["A & B", "C"], [Series("Caught up", [12.0, None], 0)], "% of pupils")
    root = ET.fromstring(str(svg))
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "app-chart__label"] == ["A & B", "C"]
    assert any(t.text == "withheld or none" for t in root.iter(f"{SVG}text"))
    assert "&lt;b&gt;" in str(legend([Series("<b>", [1.0])]))


@pytest.fixture(scope="module")
def keys():
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    other = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    return key, other, KeySet([RSAKey.import_key(key.as_dict(private=False))])


def _token(key, **claims) -> str:
    now = int(time.time())
    body = {"iss": "https://idp.example", "sub": "s1", "aud": "scorecard", "iat": now, "exp": now + 300, "nonce": "n1",
            "email": "a@example.org", **claims}
    return jwt.encode({"alg": "RS256", "kid": "k1"}, {k: v for k, v in body.items() if v is not None}, key)


def test_a_valid_id_token_is_accepted_and_every_tampered_one_refused(keys):
    key, other, public = keys
    assert validate_id_token(_token(key), public, "https://idp.example", "scorecard", "n1")["email"] == "a@example.org"
    now = int(time.time())
    bad = {
        "signed by another key": _token(other),
        "another issuer": _token(key, iss="https://evil.example"),
        "another audience": _token(key, aud="someone-else"),
        "another sign-in's nonce": _token(key, nonce="n2"),
        "no nonce": _token(key, nonce=None),
        "expired": _token(key, exp=now - 3600, iat=now - 7200),
        "several audiences without azp": _token(key, aud=["scorecard", "other"]),
        "no subject": _token(key, sub=None),
    }
    for why, token in bad.items():
        with pytest.raises(SignInFailed):
            validate_id_token(token, public, "https://idp.example", "scorecard", "n1")
            pytest.fail(why)
    header, payload, _ = _token(key).split(".")
    import base64
    import json

    unsigned = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=").decode() + f".{payload}."
    with pytest.raises(SignInFailed):
        validate_id_token(unsigned, public, "https://idp.example", "scorecard", "n1")
