"""`pathways serve --demo` sign-ins: for the demo borough only, random, kept, and printed again."""

from __future__ import annotations

import json

import pytest

from scorecard.accounts import Accounts
from scorecard.commands import DEMO_ANALYST, DEMO_MEMBER, demo_accounts
from tests.conftest import make_settings
from tests.unit.scorecard.test_publication import publish_folder


def test_demo_sign_ins_exist_only_for_the_demo_borough_and_are_kept(tmp_path):
    settings = make_settings(tmp_path)
    settings.published_dir.mkdir(parents=True)
    publish_folder(settings.published_dir, "20261120T093000000000Z", lcs=("LC01", "LC02", "LC03"))
    with pytest.raises(SystemExit):
        demo_accounts(settings)  # not the demo borough: no demo accounts
    (settings.data_dir / "demo_borough.json").write_text("{}")
    first = demo_accounts(settings)
    assert [(u, sees) for u, _, sees in first] == [(DEMO_MEMBER, "LC03 only"), (DEMO_ANALYST, "every community")]
    store = Accounts(settings.access_dir / "accounts.sqlite")
    member = store.sign_in(DEMO_MEMBER, first[0][1], "127.0.0.1")
    assert member.communities == {"LC03"} and member.demo and len(first[0][1]) >= 12
    assert store.sign_in(DEMO_ANALYST, first[1][1], "127.0.0.1").is_analyst
    saved = settings.access_dir / "demo-sign-in.json"
    assert (saved.stat().st_mode & 0o777) == 0o600 and json.loads(saved.read_text())[DEMO_MEMBER] == first[0][1]
    assert demo_accounts(settings) == first  # the next `make serve` prints the same sign-ins
