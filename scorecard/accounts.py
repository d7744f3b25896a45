"""Who may sign in to the scorecard and what each may see: accounts, sessions, throttling.

Kept in ``<data_dir>/access/accounts.sqlite`` (SQLite: one file, safe for the server and the
``pathways users`` command to use at once; never part of a publication).

- An account is an **authority analyst** (every community) or a **group member** (the
  communities assigned to it). Access is read from here on every request, so removing an account
  or a community takes effect at once.
- Passwords are hashed with Argon2id (RFC 9106; argon2-cffi's defaults). An account without a
  password signs in only through the organisation's OpenID Connect provider; its subject is bound
  at first sign-in, so a reassigned e-mail address cannot take over the account.
- Sessions are random tokens; only their SHA-256 is stored. A session ends on sign-out, after
  an idle period, after a fixed lifetime, or when its account is removed.
- Sign-in throttling: too many failures for one account (or from one address) within the window
  refuse further attempts until the window has passed, whatever the password.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ANALYST = "analyst"
MEMBER = "member"
ROLES = {ANALYST: "Authority analyst", MEMBER: "Group member"}
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._%+@'-]{0,253}$")
COMMUNITY = re.compile(r"^[A-Za-z0-9_-]{1,40}$")

_SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS accounts (
    username TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('analyst', 'member')),
    password_hash TEXT,
    oidc_issuer TEXT,
    oidc_subject TEXT,
    demo INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS account_communities (
    username TEXT NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
    community TEXT NOT NULL,
    PRIMARY KEY (username, community)
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    method TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sign_in_failures (at REAL NOT NULL, username TEXT NOT NULL, address TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sign_in_failures_at ON sign_in_failures (at);
CREATE TABLE IF NOT EXISTS pending_sign_ins (
    token_hash TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    nonce TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    next_path TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""


class AccountError(ValueError):
    """A request to change accounts that cannot be done (the message says why)."""


class SignInRefused(Exception):
    """Wrong username or password (deliberately not saying which)."""


class Throttled(Exception):
    """Too many failed sign-ins recently; ``minutes`` until attempts are allowed again."""

    def __init__(self, minutes: int):
        super().__init__(f"too many failed sign-ins; try again in {minutes} minutes")
        self.minutes = minutes


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    role: str
    communities: frozenset[str]
    has_password: bool
    oidc_subject: str | None
    demo: bool

    @property
    def is_analyst(self) -> bool:
        return self.role == ANALYST

    @property
    def role_label(self) -> str:
        return ROLES[self.role]


@dataclass(frozen=True)
class Session:
    account: Account
    csrf_token: str
    method: str
    created_at: float


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not USERNAME.match(name):
        raise AccountError(f"{username!r} is not a valid username (an e-mail address or similar, no spaces)")
    return name


def check_password(password: str) -> None:
    """NCSC-style policy: length, not composition rules."""
    if not (MIN_PASSWORD <= len(password) <= MAX_PASSWORD):
        raise AccountError(f"a password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long")


class Accounts:
    """The accounts store. Safe to share between threads (a connection per thread)."""

    def __init__(self, path: Path, idle_minutes: int = 60, session_hours: int = 10,
                 max_failures: int = 5, lockout_minutes: int = 15):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.idle_seconds = idle_minutes * 60
        self.session_seconds = session_hours * 3600
        self.max_failures = max_failures
        self.lockout_seconds = lockout_minutes * 60
        self._local = threading.local()
        self._hasher = PasswordHasher()  # Argon2id, RFC 9106 low-memory profile
        self._dummy_hash: str | None = None
        self._con().executescript(_SCHEMA)
        path.chmod(0o600)

    def _con(self) -> sqlite3.Connection:
        """This thread's connection, in autocommit mode (each read is its own transaction)."""
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=15, isolation_level=None)
            con.execute("PRAGMA foreign_keys = ON")
            con.execute("PRAGMA synchronous = NORMAL")
            self._local.con = con
        return con

    def _db(self) -> _Tx:
        """``with self._db() as db``: one write transaction (taken at once, so writers queue, never deadlock)."""
        return _Tx(self._con())

    # --- administration (pathways users ...) ----------------------------------------------------

    def add(self, username: str, display_name: str, role: str, communities: list[str] = (),
            password: str | None = None, demo: bool = False) -> Account:
        name = normalise_username(username)
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        codes = _codes(communities)
        if role == MEMBER and not codes:
            raise AccountError("a group member needs at least one learning community (--community LC03)")
        if role == ANALYST and codes:
            raise AccountError("an authority analyst sees every community; do not assign communities")
        hashed = None
        if password is not None:
            check_password(password)
            hashed = self._hasher.hash(password)
        now = time.time()
        with self._db() as db:
            if db.execute("SELECT 1 FROM accounts WHERE username = ?", [name]).fetchone():
                raise AccountError(f"{name} already exists (use `pathways users assign` or `password`)")
            db.execute("INSERT INTO accounts (username, display_name, role, password_hash, demo, created_at, updated_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", [name, display_name.strip() or name, role, hashed, int(demo), now, now])
            db.executemany("INSERT INTO account_communities VALUES (?, ?)", [(name, c) for c in codes])
        return self.get(name)

    def remove(self, username: str) -> None:
        name = normalise_username(username)
        with self._db() as db:
            if db.execute("DELETE FROM accounts WHERE username = ?", [name]).rowcount == 0:
                raise AccountError(f"no account {name}")
            db.execute("DELETE FROM sessions WHERE username = ?", [name])

    def assign(self, username: str, communities: list[str], *, unassign: bool = False, replace: bool = False) -> Account:
        name = normalise_username(username)
        account = self.get(name)
        if account is None:
            raise AccountError(f"no account {name}")
        if account.is_analyst:
            raise AccountError(f"{name} is an authority analyst and sees every community; change the role first")
        codes = _codes(communities)
        now_codes = set() if replace else set(account.communities)
        new = (now_codes - set(codes)) if unassign else (now_codes | set(codes))
        if not new:
            raise AccountError("a group member needs at least one learning community (remove the account instead)")
        with self._db() as db:
            db.execute("DELETE FROM account_communities WHERE username = ?", [name])
            db.executemany("INSERT INTO account_communities VALUES (?, ?)", [(name, c) for c in sorted(new)])
            db.execute("UPDATE accounts SET updated_at = ? WHERE username = ?", [time.time(), name])
        return self.get(name)

    def set_role(self, username: str, role: str, communities: list[str] = ()) -> Account:
        name = normalise_username(username)
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        codes = _codes(communities)
        if role == MEMBER and not codes:
            raise AccountError("a group member needs at least one learning community (--community LC03)")
        with self._db() as db:
            if db.execute("UPDATE accounts SET role = ?, updated_at = ? WHERE username = ?", [role, time.time(), name]).rowcount == 0:
                raise AccountError(f"no account {name}")
            db.execute("DELETE FROM account_communities WHERE username = ?", [name])
            if role == MEMBER:
                db.executemany("INSERT INTO account_communities VALUES (?, ?)", [(name, c) for c in codes])
        return self.get(name)

    def set_password(self, username: str, password: str | None) -> None:
        """A new password (ends the account's sessions); None: OpenID Connect sign-in only."""
        name = normalise_username(username)
        hashed = None
        if password is not None:
            check_password(password)
            hashed = self._hasher.hash(password)
        with self._db() as db:
            if db.execute("UPDATE accounts SET password_hash = ?, updated_at = ? WHERE username = ?",
                          [hashed, time.time(), name]).rowcount == 0:
                raise AccountError(f"no account {name}")
            db.execute("DELETE FROM sessions WHERE username = ?", [name])

    def get(self, username: str) -> Account | None:
        db = self._con()
        row = db.execute("SELECT username, display_name, role, password_hash IS NOT NULL, oidc_subject, demo "
                         "FROM accounts WHERE username = ?", [username]).fetchone()
        if row is None:
            return None
        codes = frozenset(c for (c,) in db.execute("SELECT community FROM account_communities WHERE username = ?", [username]))
        return Account(row[0], row[1], row[2], codes if row[2] == MEMBER else frozenset(), bool(row[3]), row[4], bool(row[5]))

    def all(self) -> list[Account]:
        names = [n for (n,) in self._con().execute("SELECT username FROM accounts ORDER BY role, username")]
        return [a for a in (self.get(n) for n in names) if a is not None]

    # --- signing in ---------------------------------------------------------------------------

    def sign_in(self, username: str, password: str, address: str) -> Account:
        """The account for a correct username and password; SignInRefused or Throttled otherwise."""
        try:
            name = normalise_username(username)
        except AccountError:
            name = (username or "").strip().lower()[:256]
        self._check_throttle(name, address)
        row = self._con().execute("SELECT password_hash FROM accounts WHERE username = ?", [name]).fetchone()
        stored = row[0] if row else None
        ok = False
        try:
            # an unknown account or one without a password costs the same time as a wrong password
            ok = self._hasher.verify(stored or self._dummy(), password[:MAX_PASSWORD]) and stored is not None
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok:
            with self._db() as db:
                db.execute("INSERT INTO sign_in_failures VALUES (?, ?, ?)", [time.time(), name, address])
            raise SignInRefused()
        if self._hasher.check_needs_rehash(stored):
            with self._db() as db:
                db.execute("UPDATE accounts SET password_hash = ? WHERE username = ?", [self._hasher.hash(password), name])
        with self._db() as db:
            db.execute("DELETE FROM sign_in_failures WHERE username = ?", [name])
        return self.get(name)

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(secrets.token_hex(16))
        return self._dummy_hash

    def _check_throttle(self, name: str, address: str) -> None:
        now = time.time()
        since = now - self.lockout_seconds
        with self._db() as db:
            db.execute("DELETE FROM sign_in_failures WHERE at < ?", [since])
            by_name = db.execute("SELECT count(*), min(at) FROM sign_in_failures WHERE username = ? AND at >= ?",
                                 [name, since]).fetchone()
            by_address = db.execute("SELECT count(*), min(at) FROM sign_in_failures WHERE address = ? AND at >= ?",
                                    [address, since]).fetchone()
        for (count, first), limit in ((by_name, self.max_failures), (by_address, self.max_failures * 4)):
            if count >= limit:
                raise Throttled(max(1, round((first + self.lockout_seconds - now) / 60 + 0.5)))

    def oidc_account(self, username: str, issuer: str, subject: str) -> Account | None:
        """The account an organisation sign-in maps to, binding the subject at first use; None if
        there is no such account or it is bound to a different subject."""
        try:
            name = normalise_username(username)
        except AccountError:
            return None
        with self._db() as db:
            row = db.execute("SELECT oidc_issuer, oidc_subject FROM accounts WHERE username = ?", [name]).fetchone()
            if row is None:
                return None
            if row[1] is None:
                db.execute("UPDATE accounts SET oidc_issuer = ?, oidc_subject = ?, updated_at = ? WHERE username = ?",
                           [issuer, subject, time.time(), name])
            elif (row[0], row[1]) != (issuer, subject):
                return None
        return self.get(name)

    # --- sessions -----------------------------------------------------------------------------

    def start_session(self, account: Account, method: str) -> tuple[str, str]:
        """A new session (token for the cookie, CSRF token for forms)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = time.time()
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE last_seen < ? OR created_at < ?",
                       [now - self.idle_seconds, now - self.session_seconds])
            db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?)", [_hash_token(token), account.username, csrf, method, now, now])
        return token, csrf

    def session(self, token: str | None) -> Session | None:
        if not token or len(token) > 128:
            return None
        key = _hash_token(token)
        now = time.time()
        row = self._con().execute("SELECT username, csrf_token, method, created_at, last_seen FROM sessions "
                                  "WHERE token_hash = ?", [key]).fetchone()
        if row is None:
            return None
        username, csrf, method, created, seen = row
        if now - seen > self.idle_seconds or now - created > self.session_seconds:
            self.end_session(token)
            return None
        account = self.get(username)
        if account is None:
            return None
        if now - seen > 30:  # refresh the idle clock at most twice a minute
            with self._db() as db:
                db.execute("UPDATE sessions SET last_seen = ? WHERE token_hash = ?", [now, key])
        return Session(account, csrf, method, created)

    def end_session(self, token: str | None) -> None:
        if token:
            with self._db() as db:
                db.execute("DELETE FROM sessions WHERE token_hash = ?", [_hash_token(token)])

    # --- organisation sign-in in progress ----------------------------------------------------

    def start_pending(self, state: str, nonce: str, verifier: str, next_path: str) -> str:
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self._db() as db:
            db.execute("DELETE FROM pending_sign_ins WHERE created_at < ?", [now - 600])
            db.execute("INSERT INTO pending_sign_ins VALUES (?, ?, ?, ?, ?, ?)",
                       [_hash_token(token), state, nonce, verifier, next_path, now])
        return token

    def take_pending(self, token: str | None, state: str | None) -> tuple[str, str, str] | None:
        """(nonce, code verifier, next path) of this browser's sign-in, used once, if ``state`` matches."""
        if not token or not state or len(token) > 128:
            return None
        with self._db() as db:
            row = db.execute("DELETE FROM pending_sign_ins WHERE token_hash = ? RETURNING state, nonce, code_verifier, "
                             "next_path, created_at", [_hash_token(token)]).fetchone()
        if row is None or time.time() - row[4] > 600 or not hmac.compare_digest(row[0], state):
            return None
        return row[1], row[2], row[3]


class _Tx:
    """``with accounts._db() as db``: one transaction on this thread's connection."""

    def __init__(self, con: sqlite3.Connection):
        self.con = con

    def __enter__(self) -> sqlite3.Connection:
        self.con.execute("BEGIN IMMEDIATE")
        return self.con

    def __exit__(self, exc_type, exc, tb) -> None:
        self.con.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _codes(communities) -> list[str]:
    codes = sorted({c.strip() for c in communities if c and c.strip()})
    bad = [c for c in codes if not COMMUNITY.match(c)]
    if bad:
        raise AccountError(f"not a learning community code: {', '.join(bad)}")
    return codes
