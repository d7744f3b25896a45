"""``pathways serve`` (the scorecard) and ``pathways users`` (its accounts), registered on the
``pathways`` command by ``add_commands``."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import secrets
import sys

from config.settings import Settings, get_settings

DEMO_MEMBER = "lc03.member@demo.invalid"
DEMO_ANALYST = "analyst@demo.invalid"


def add_commands(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("serve", help="the strategic performance group scorecard (web application)")
    s.add_argument("--host", help="address to listen on (default: PATHWAYS_SCORECARD_HOST, 127.0.0.1)")
    s.add_argument("--port", type=int, help="port (default: PATHWAYS_SCORECARD_PORT, 8000)")
    s.add_argument("--demo", action="store_true",
                   help="create the demo sign-ins (one group member, one analyst) for the demo borough and print them")
    s.set_defaults(fn=cmd_serve)

    u = sub.add_parser("users", help="scorecard accounts: add, remove, assign communities, list, audit log")
    us = u.add_subparsers(dest="users_command", required=True)
    a = us.add_parser("add", help="add an account")
    a.add_argument("username", help="the person's e-mail address (what they sign in with)")
    a.add_argument("--name", required=True, help="the name shown when signed in")
    a.add_argument("--role", choices=["member", "analyst"], required=True,
                   help="member: a strategic performance group member (their communities); analyst: every community")
    a.add_argument("--community", action="append", default=[], metavar="LC", help="a learning community code (repeat)")
    _password_options(a)
    a.set_defaults(fn=cmd_users_add)
    r = us.add_parser("remove", help="remove an account (its sessions end at once)")
    r.add_argument("username")
    r.set_defaults(fn=cmd_users_remove)
    g = us.add_parser("assign", help="give a group member more communities (or take them away)")
    g.add_argument("username")
    g.add_argument("communities", nargs="+", metavar="LC")
    g.add_argument("--unassign", action="store_true", help="take these communities away")
    g.add_argument("--only", action="store_true", help="these communities and no others")
    g.set_defaults(fn=cmd_users_assign)
    o = us.add_parser("role", help="change an account's role")
    o.add_argument("username")
    o.add_argument("role", choices=["member", "analyst"])
    o.add_argument("--community", action="append", default=[], metavar="LC", help="a member's communities (repeat)")
    o.set_defaults(fn=cmd_users_role)
    p = us.add_parser("password", help="set a new password (its sessions end), or none (organisation sign-in only)")
    p.add_argument("username")
    _password_options(p)
    p.set_defaults(fn=cmd_users_password)
    us.add_parser("list", help="every account, its role and communities").set_defaults(fn=cmd_users_list)
    au = us.add_parser("audit", help="the audit log: sign-ins, pages, downloads, refusals")
    au.add_argument("--user")
    au.add_argument("--event", choices=["sign-in", "sign-in refused", "sign-out", "page", "download", "refused"])
    au.add_argument("--limit", type=int, default=50)
    au.set_defaults(fn=cmd_users_audit)


def _password_options(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    g.add_argument("--no-password", action="store_true", help="organisation (OpenID Connect) sign-in only")


def _password(args) -> str | None:
    if args.no_password:
        return None
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password (12 characters or more): ")
    if getpass.getpass("Password again: ") != first:
        raise SystemExit("The passwords differ; nothing changed.")
    return first


def _accounts(settings: Settings):
    from scorecard.accounts import Accounts

    return Accounts(settings.access_dir / "accounts.sqlite")


def _run(fn):
    from scorecard.accounts import AccountError

    try:
        return fn()
    except AccountError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


def _current(settings: Settings):
    from scorecard.publication import NoPublication, Publications

    try:
        return Publications(settings.published_dir).current()
    except NoPublication:
        return None


def _warn_unknown(settings: Settings, codes: list[str]) -> None:
    pub = _current(settings)
    unknown = sorted(set(codes) - set(pub.community_codes)) if pub and codes else []
    if unknown:
        print(f"warning: not in the current publication: {', '.join(unknown)}", file=sys.stderr)


def cmd_users_add(args) -> int:
    settings = get_settings()

    def go():
        a = _accounts(settings).add(args.username, args.name, args.role, args.community, _password(args))
        _warn_unknown(settings, args.community)
        print(f"added {_describe(a)}")
        return 0
    return _run(go)


def cmd_users_remove(args) -> int:
    def go():
        _accounts(get_settings()).remove(args.username)
        print(f"removed {args.username}")
        return 0
    return _run(go)


def cmd_users_assign(args) -> int:
    settings = get_settings()

    def go():
        a = _accounts(settings).assign(args.username, args.communities, unassign=args.unassign, replace=args.only)
        if not args.unassign:
            _warn_unknown(settings, args.communities)
        print(f"now {_describe(a)}")
        return 0
    return _run(go)


def cmd_users_role(args) -> int:
    def go():
        print(f"now {_describe(_accounts(get_settings()).set_role(args.username, args.role, args.community))}")
        return 0
    return _run(go)


def cmd_users_password(args) -> int:
    def go():
        _accounts(get_settings()).set_password(args.username, _password(args))
        print(f"password {'removed' if args.no_password else 'set'} for {args.username}; their sessions have ended")
        return 0
    return _run(go)


def cmd_users_list(args) -> int:
    accounts = _accounts(get_settings()).all()
    if not accounts:
        print("No accounts. Add one: pathways users add someone@example.org --name 'A Person' --role member --community LC03")
    for a in accounts:
        print(_describe(a))
    return 0


def cmd_users_audit(args) -> int:
    from scorecard.audit import AuditLog

    log = AuditLog(get_settings().access_dir / "audit.sqlite")
    for e in log.recent(args.limit, args.user, args.event):
        print(f"{e.at}  {e.event:<15} {e.username or '-':<32} {e.address or '-':<15} {e.status or '':>3} {e.path or ''}"
              + (f"  ({e.detail})" if e.detail else ""))
    return 0


def _describe(a) -> str:
    sign_in = ", ".join(x for x in ("password" if a.has_password else "", "organisation" if a.oidc_subject or not a.has_password
                                    else "") if x)
    what = "every community" if a.is_analyst else ", ".join(sorted(a.communities))
    return f"{a.username}  {a.display_name}  [{a.role_label}: {what}]  sign-in: {sign_in}" + ("  (demo)" if a.demo else "")


# --- serve -------------------------------------------------------------------------------------------

def demo_accounts(settings: Settings) -> list[tuple[str, str, str]]:
    """The demo's two sign-ins (username, password, what they see), created on first use with
    random passwords kept beside the accounts (mode 600). Only for the demo borough."""
    from scorecard.accounts import ANALYST, MEMBER

    if not (settings.data_dir / "demo_borough.json").exists():
        raise SystemExit("--demo creates demo sign-ins for the demo borough only (run `make demo` first); "
                         "add real accounts with `pathways users add`.")
    pub = _current(settings)
    codes = list(pub.community_codes) if pub else []
    lc = "LC03" if "LC03" in codes else (codes[0] if codes else "LC03")
    store = _accounts(settings)
    saved_path = settings.access_dir / "demo-sign-in.json"
    saved = json.loads(saved_path.read_text()) if saved_path.exists() else {}
    out = []
    for username, name, role, communities, sees in (
            (DEMO_MEMBER, f"Demo group member ({lc})", MEMBER, [lc], f"{lc} only"),
            (DEMO_ANALYST, "Demo authority analyst", ANALYST, [], "every community")):
        password = saved.get(username) or secrets.token_urlsafe(12)
        account = store.get(username)
        if account is None:
            store.add(username, name, role, communities, password, demo=True)
        elif username not in saved:
            store.set_password(username, password)
        saved[username] = password
        out.append((username, password, sees))
    fd = os.open(saved_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(saved, f)
    return out


def cmd_serve(args) -> int:
    import uvicorn

    from scorecard.app import create_app

    overrides = {k: v for k, v in (("scorecard_host", args.host), ("scorecard_port", args.port)) if v is not None}
    settings = get_settings().model_copy(update=overrides)
    app = create_app(settings)
    url = f"http://{settings.scorecard_host}:{settings.scorecard_port}"
    print(f"Pathways scorecard on {url}  (Ctrl-C to stop)")
    print(f"  publication: {_current_label(settings)}")
    if args.demo:
        print("  demo sign-ins (demo accounts for the demo borough only; never use them in a deployment):")
        for username, password, sees in demo_accounts(settings):
            print(f"    {username:<28} password {password:<18} sees {sees}")
    elif not _accounts(settings).all():
        print("  no accounts yet: add one with `pathways users add ...` (see `pathways users add --help`)")
    if settings.oidc_issuer:
        print(f"  organisation sign-in: {settings.oidc_issuer}")
    sys.stdout.flush()
    uvicorn.run(app, host=settings.scorecard_host, port=settings.scorecard_port, log_level="warning", access_log=False,
                proxy_headers=bool(settings.scorecard_public_url), server_header=False)
    return 0


def _current_label(settings: Settings) -> str:
    pub = _current(settings)
    return f"{pub.id} ({pub.created_label})" if pub else "none yet (run `make demo` or `pathways refresh`)"
