"""Scorecard accounts: Argon2id passwords, roles and communities, sessions, throttling, binding of
organisation sign-ins. A real SQLite file in a temporary folder."""

from __future__ import annotations

import sqlite3
import time

import pytest

from scorecard.accounts import AccountError, Accounts, SignInRefused, Throttled

PASSWORD = "a long enough password"


@pytest.fixture
def accounts(tmp_path) -> Accounts:
    store = Accounts(tmp_path / "access" / "accounts.sqlite", idle_minutes=30, session_hours=8, max_failures=3,
                     lockout_minutes=15)
    store.add("Member@Example.org", "A Member", "member", ["LC01"], PASSWORD)
    store.add("analyst@example.org", "An Analyst", "analyst", [], PASSWORD)
    return store


def _sql(store: Accounts, query: str, params=()):
    with sqlite3.connect(store.path) as con:
        return con.execute(query, params).fetchall()


def test_passwords_are_stored_as_argon2id_hashes_only(accounts):
    (stored,), = _sql(accounts, "SELECT password_hash FROM accounts WHERE username = 'member@example.org'")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert (accounts.path.stat().st_mode & 0o777) == 0o600
    account = accounts.sign_in("member@example.org", PASSWORD, "10.0.0.1")
    assert account.communities == frozenset({"LC01"}) and not account.is_analyst
    with pytest.raises(SignInRefused):
        accounts.sign_in("member@example.org", "wrong password here", "10.0.0.1")
    with pytest.raises(SignInRefused):
        accounts.sign_in("nobody@example.org", PASSWORD, "10.0.0.1")


def test_roles_and_communities_are_checked_when_accounts_change(accounts):
    with pytest.raises(AccountError):
        accounts.add("x@example.org", "X", "member", [], PASSWORD)  # a member needs a community
    with pytest.raises(AccountError):
        accounts.add("y@example.org", "Y", "analyst", ["LC01"], PASSWORD)
    with pytest.raises(AccountError):
        accounts.add("z@example.org", "Z", "member", ["../LC01"], PASSWORD)
    with pytest.raises(AccountError):
        accounts.add("w@example.org", "W", "member", ["LC01"], "short")
    with pytest.raises(AccountError):
        accounts.add("member@example.org", "Again", "member", ["LC01"], PASSWORD)
    assert accounts.assign("member@example.org", ["LC02"]).communities == {"LC01", "LC02"}
    assert accounts.assign("member@example.org", ["LC01"], unassign=True).communities == {"LC02"}
    assert accounts.assign("member@example.org", ["LC03"], replace=True).communities == {"LC03"}
    with pytest.raises(AccountError):
        accounts.assign("member@example.org", ["LC03"], unassign=True)  # never left with none
    assert accounts.set_role("member@example.org", "analyst").is_analyst
    assert accounts.get("member@example.org").communities == frozenset()
    assert [a.username for a in accounts.all()] == ["analyst@example.org", "member@example.org"]


def test_repeated_failures_lock_the_account_whatever_the_password_until_the_window_passes(accounts):
    for _ in range(3):
        with pytest.raises(SignInRefused):
            accounts.sign_in("member@example.org", "not the password", "10.0.0.2")
    with pytest.raises(Throttled) as locked:
        accounts.sign_in("member@example.org", PASSWORD, "10.0.0.3")  # right password, other address: still refused
    assert 1 <= locked.value.minutes <= 15
    accounts.sign_in("analyst@example.org", PASSWORD, "10.0.0.2")  # another account is not locked
    _sql(accounts, "UPDATE sign_in_failures SET at = at - 16 * 60")
    assert accounts.sign_in("member@example.org", PASSWORD, "10.0.0.3").username == "member@example.org"
    assert _sql(accounts, "SELECT count(*) FROM sign_in_failures WHERE username = 'member@example.org'") == [(0,)]


def test_many_failures_from_one_address_refuse_it_for_every_account(tmp_path):
    accounts = Accounts(tmp_path / "accounts.sqlite", max_failures=1)
    accounts.add("analyst@example.org", "An Analyst", "analyst", [], PASSWORD)
    for i in range(4):  # four times the per-account limit, spread over names
        with pytest.raises(SignInRefused):
            accounts.sign_in(f"guess{i}@example.org", "not the password", "10.9.9.9")
    with pytest.raises(Throttled):
        accounts.sign_in("analyst@example.org", PASSWORD, "10.9.9.9")
    assert accounts.sign_in("analyst@example.org", PASSWORD, "10.0.0.4").is_analyst


def test_sessions_end_on_sign_out_idleness_age_password_change_and_removal(accounts):
    member = accounts.get("member@example.org")
    token, csrf = accounts.start_session(member, "password")
    session = accounts.session(token)
    assert session.account == member and session.csrf_token == csrf
    assert _sql(accounts, "SELECT count(*) FROM sessions WHERE token_hash = ?", [token]) == [(0,)]  # only the hash is kept
    accounts.end_session(token)
    assert accounts.session(token) is None

    token, _ = accounts.start_session(member, "password")
    _sql(accounts, "UPDATE sessions SET last_seen = ?", [time.time() - 31 * 60])
    assert accounts.session(token) is None
    token, _ = accounts.start_session(member, "password")
    _sql(accounts, "UPDATE sessions SET created_at = ?", [time.time() - 9 * 3600])
    assert accounts.session(token) is None

    token, _ = accounts.start_session(member, "password")
    accounts.set_password("member@example.org", "another long password")
    assert accounts.session(token) is None
    token, _ = accounts.start_session(member, "password")
    accounts.assign("member@example.org", ["LC02"], replace=True)
    assert accounts.session(token).account.communities == {"LC02"}  # access is read afresh on every request
    accounts.remove("member@example.org")
    assert accounts.session(token) is None
    assert accounts.session("not-a-token") is None and accounts.session("x" * 500) is None


def test_an_organisation_sign_in_binds_to_one_subject(accounts):
    accounts.add("oidc@example.org", "Org Person", "member", ["LC01"], None)
    with pytest.raises(SignInRefused):
        accounts.sign_in("oidc@example.org", "", "10.0.0.5")  # no password: organisation sign-in only
    first = accounts.oidc_account("OIDC@example.org", "https://idp.example", "subject-1")
    assert first.username == "oidc@example.org" and first.oidc_subject == "subject-1"
    assert accounts.oidc_account("oidc@example.org", "https://idp.example", "subject-1") is not None
    assert accounts.oidc_account("oidc@example.org", "https://idp.example", "subject-2") is None
    assert accounts.oidc_account("oidc@example.org", "https://other.example", "subject-1") is None
    assert accounts.oidc_account("nobody@example.org", "https://idp.example", "subject-3") is None


def test_an_organisation_sign_in_in_progress_is_used_once_and_only_with_its_state(accounts):
    token = accounts.start_pending("state-1", "nonce-1", "verifier-1", "/communities/LC01")
    assert accounts.take_pending(token, "state-2") is None  # wrong state: refused, and the attempt is spent
    assert accounts.take_pending(token, "state-1") is None
    token = accounts.start_pending("state-1", "nonce-1", "verifier-1", "/communities/LC01")
    assert accounts.take_pending(token, "state-1") == ("nonce-1", "verifier-1", "/communities/LC01")
    assert accounts.take_pending(token, "state-1") is None
