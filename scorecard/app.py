"""The scorecard web application (Starlette, server-rendered Jinja2 pages, GOV.UK Frontend).

``create_app(settings)`` builds it; ``pathways serve`` runs it with uvicorn. Every page:

- needs a signed-in session (except sign-in, the methodology and the accessibility statement);
- resolves the current publication once and reads only from it (scorecard/publication.py);
- reads a community's figures from that community's extract only, and only for an account that
  may see it: another community's pages, files and figures are "Page not found", exactly as a
  community that does not exist;
- is recorded in the audit log (scorecard/audit.py).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from config.settings import Settings
from scorecard import audit, views
from scorecard.accounts import Account, Accounts, Session
from scorecard.audit import AuditLog
from scorecard.oidc import OidcClient
from scorecard.publication import (
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    SHOWN,
    WITHHELD,
    Figure,
    NoPublication,
    NotPermitted,
    Publication,
    Publications,
    year_label,
)

HERE = Path(__file__).resolve().parent
SIGN_IN_COOKIE = "pathways_sign_in"
OIDC_COOKIE = "pathways_oidc"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; manifest-src 'self'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
COMMUNITY_PAGES = [("overview", "Overview", ""), ("gaps", "Gaps and trends", "/gaps"), ("cohorts", "Cohort journeys", "/cohorts"),
                   ("schools", "Schools", "/schools"), ("attendance", "Attendance and context", "/attendance"),
                   ("downloads", "Downloads", "/downloads")]


# where the methodology explains each kind of figure not shown
NOTE_ANCHORS = {WITHHELD: ("disclosure-control", "How figures are withheld"),
                NOT_APPLICABLE: ("ees-symbols", "What the symbols mean"),
                NOT_AVAILABLE: ("national-benchmarks", "Which national figures are held")}


class Notes:
    """The reasons figures on one page are not shown, numbered in order of first use."""

    def __init__(self):
        self.reasons: list[tuple[str, str, str]] = []  # (reason, methodology anchor, link text)

    def number(self, reason: str, status: str) -> int:
        anchor, text = NOTE_ANCHORS.get(status, ("ees-symbols", "What the symbols mean"))
        entry = (reason, anchor, text)
        if entry not in self.reasons:
            self.reasons.append(entry)
        return self.reasons.index(entry) + 1


def fig(f: Figure | None, decimals: int = 1, notes: Notes | None = None, suffix: str = "", signed: bool = False) -> Markup:
    """A figure for a page: the number, or what it is (withheld, not applicable) with a link to why."""
    if f is None:
        return Markup('<span class="app-none">none</span>')
    if f.status == SHOWN and f.value is not None:
        if isinstance(f.value, float):
            decimals = f.decimals if f.decimals is not None else decimals  # its measure's own places
            text = f"{f.value:+,.{decimals}f}" if signed else f"{f.value:,.{decimals}f}"
            return Markup(escape(text.replace("-", "\u2212") + suffix))
        return Markup(escape(str(f.value)))
    word = {WITHHELD: "withheld", NOT_APPLICABLE: "not applicable", NOT_AVAILABLE: "not available"}.get(f.status, f.status)
    if notes is None or not f.reason:
        return Markup(f'<span class="app-withheld">{escape(word)}</span>')
    n = notes.number(f.reason, f.status)
    return Markup(f'<span class="app-withheld">{escape(word)}<sup><a class="govuk-link" href="#note-{n}" '
                  f'aria-label="why {escape(word)}: note {n}">{n}</a></sup></span>')


def signed_number(v: float | None, decimals: int = 1) -> str:
    return "" if v is None else f"{v:+.{decimals}f}".replace("-", "\u2212")


def _safe_next(path: str | None) -> str:
    """Only a path on this site (never //host or a scheme): no open redirect."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or any(ord(c) < 32 for c in path):
        return "/"
    return path


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class Scorecard:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.publications = Publications(settings.published_dir)
        access = settings.access_dir
        self.accounts = Accounts(access / "accounts.sqlite", settings.scorecard_session_idle_minutes,
                                 settings.scorecard_session_hours, settings.scorecard_sign_in_attempts,
                                 settings.scorecard_lockout_minutes)
        self.audit = AuditLog(access / "audit.sqlite", data_dir=settings.data_dir)
        self.secret = _secret(access / "secret.key")
        self.oidc = None
        if settings.oidc_issuer and settings.oidc_client_id:
            secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
            self.oidc = OidcClient(settings.oidc_issuer, settings.oidc_client_id, secret, settings.oidc_username_claim)
        self.pages = PageCache()
        self.warm = self.warm_analysts = None  # set by routes: build a publication's pages ahead of their first readers
        self.publications.on_open = self._warm_in_background
        self.secure = (settings.scorecard_public_url or "").startswith("https://")
        self.session_cookie = "__Host-pathways" if self.secure else "pathways_session"
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                               trim_blocks=True, lstrip_blocks=True, auto_reload=False)
        self.env.globals.update(fig=fig, signed_number=signed_number, year_label=year_label, community_pages=COMMUNITY_PAGES,
                                small_group=settings.scorecard_small_group, trend_years=settings.gap_trend_years,
                                need_names=views.SEN_NEEDS, stage_labels=views.STAGE_LABELS)
        self.env.filters["urlquote"] = lambda s: quote(str(s), safe="")

    def _warm_in_background(self, pub: Publication) -> None:
        def run():
            for warm in (self.warm_analysts, self.warm):  # the borough's page is the slowest to build
                try:
                    if warm is not None:
                        warm(pub, _Warmer())
                except Exception:  # warming only saves time: a page not warmed is built on its first view
                    logging.getLogger(__name__).exception("warming publication %s failed", pub.id)
        threading.Thread(target=run, name=f"warm-{pub.id}", daemon=True).start()

    # --- rendering --------------------------------------------------------------------------

    def render(self, request: Request, template: str, session: Session | None, pub: Publication | None,
               status: int = 200, cache_key: tuple | None = None, **context) -> HTMLResponse:
        """A page. With ``cache_key`` (everything besides the reader that decides the page), the page
        is rendered once per publication and role, with the reader's name and form token filled in
        per request: a publication never changes, so neither does its page."""
        account = session.account if session else None
        if cache_key is None or pub is None:
            html = self._render(template, account, session.csrf_token if session else None, pub, context)
        else:
            key = (pub.id, template, cache_key, account.role if account else None, account.demo if account else None)
            page = self.pages.get(key)
            if page is None:
                stand_in = _StandIn(account) if account else None
                page = self._render(template, stand_in, _CSRF_MARK if account else None, pub, context)
                self.pages.put(key, page)
            html = page if account is None else \
                page.replace(_NAME_MARK, str(escape(account.display_name))).replace(_CSRF_MARK, session.csrf_token)
        return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})

    def _render(self, template: str, account, csrf_token: str | None, pub: Publication | None, context: dict) -> str:
        return self.env.get_template(template).render(
            account=account, csrf_token=csrf_token, publication=pub, notes=Notes(), oidc_enabled=self.oidc is not None,
            local_accounts=self.settings.scorecard_local_accounts, **context)

    def not_found(self, request: Request, session: Session | None, pub: Publication | None) -> HTMLResponse:
        return self.render(request, "error.html", session, pub, status=404, title="Page not found",
                           kind="not_found")

    def _session(self, request: Request) -> Session | None:
        return self.accounts.session(request.cookies.get(self.session_cookie))

    def _current(self) -> Publication | None:
        try:
            return self.publications.current()
        except NoPublication:
            return None

    def page(self, analyst_only: bool = False, signed_in: bool = True) -> Callable:
        """Wrap a page: the session, the publication (resolved once), refusals and the audit log."""
        def wrap(fn):
            @wraps(fn)
            def handler(request: Request) -> Response:
                session = self._session(request)
                user = session.account.username if session else None
                if signed_in and session is None:
                    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    return RedirectResponse(f"/sign-in?{urlencode({'next': target})}", status_code=303)
                pub = self._current()
                if signed_in and pub is None:
                    self.audit.record(audit.PAGE, user, _client(request), request.url.path, 503)
                    return self.render(request, "error.html", session, None, status=503, title="No publication yet",
                                       kind="no_publication")
                try:
                    if analyst_only and not session.account.is_analyst:
                        raise NotPermitted("authority analysts only")
                    response = fn(request, session, pub)
                except NotPermitted as e:
                    self.audit.record(audit.REFUSED, user, _client(request), request.url.path, 404,
                                      pub.id if pub else None, str(e))
                    return self.not_found(request, session, pub)
                except NoPublication as e:  # a file the page needs is missing from the publication
                    self.audit.record(audit.PAGE, user, _client(request), request.url.path, 503, pub.id if pub else None, str(e))
                    return self.render(request, "error.html", session, pub, status=503, title="This page is not available",
                                       kind="incomplete")
                event = audit.DOWNLOAD if "/downloads/" in request.url.path else audit.PAGE
                self.audit.record(event, user, _client(request), request.url.path + (
                    f"?{request.url.query}" if request.url.query else ""), response.status_code, pub.id if pub else None)
                return response
            return handler
        return wrap

    # --- session cookies --------------------------------------------------------------------

    def _set_session(self, response: Response, token: str) -> None:
        response.set_cookie(self.session_cookie, token, httponly=True, samesite="lax", secure=self.secure, path="/",
                            max_age=self.settings.scorecard_session_hours * 3600)

    def _sign_in_token(self, request: Request) -> tuple[str, str]:
        """The pre-session cookie and the form token tied to it (CSRF protection for the sign-in form)."""
        cookie = request.cookies.get(SIGN_IN_COOKIE)
        if not cookie or not re.fullmatch(r"[A-Za-z0-9_-]{20,64}", cookie):
            cookie = secrets.token_urlsafe(24)
        return cookie, hmac.new(self.secret, cookie.encode(), hashlib.sha256).hexdigest()

    def _start_signed_in(self, request: Request, account: Account, method: str, next_path: str) -> Response:
        token, _ = self.accounts.start_session(account, method)
        self.audit.record(audit.SIGN_IN, account.username, _client(request), request.url.path, 303, None, method)
        response = RedirectResponse(_safe_next(next_path), status_code=303)
        self._set_session(response, token)
        response.delete_cookie(SIGN_IN_COOKIE, path="/")
        return response


_NAME_MARK = "readername" + secrets.token_hex(8)
_CSRF_MARK = "formtoken" + secrets.token_hex(8)


class _StandIn:
    """The reader while a page is rendered for everyone of their role: their name comes later."""

    def __init__(self, account: Account):
        self.display_name = _NAME_MARK
        self.role, self.role_label = account.role, account.role_label
        self.is_analyst, self.demo = account.is_analyst, account.demo


class _Warmer:
    """The server itself, building pages ahead of their readers; it serves nothing to anyone."""

    is_analyst = True
    communities: frozenset[str] = frozenset()


class PageCache:
    """Rendered pages, least recently used out first, within a memory budget."""

    def __init__(self, max_bytes: int = 96 * 2**20):
        self.max_bytes = max_bytes
        self._pages: OrderedDict[tuple, str] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> str | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple, page: str) -> None:
        with self._lock:
            if key in self._pages:
                return
            self._pages[key] = page
            self._bytes += len(page)
            while self._bytes > self.max_bytes and self._pages:
                _, old = self._pages.popitem(last=False)
                self._bytes -= len(old)


def _secret(path: Path) -> bytes:
    """The server's own key (for the sign-in form's CSRF token), created on first use, mode 600."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        import os

        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


class SecurityHeaders:
    """Headers on every response: a strict CSP with no external sources, no framing, no sniffing."""

    def __init__(self, app, hsts: bool):
        self.app = app
        self.headers = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in self.headers if h[0] not in names]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings) -> Starlette:
    sc = Scorecard(settings)
    from scorecard import routes

    app = Starlette(routes=[*routes.routes(sc), Mount("/static", StaticFiles(directory=HERE / "static"), name="static")],
                    exception_handlers={404: lambda request, exc: _not_found(sc, request),
                                        405: lambda request, exc: PlainTextResponse("Method not allowed", 405),
                                        500: lambda request, exc: _server_error(sc, request)})
    app.state.scorecard = sc
    app.add_middleware(SecurityHeaders, hsts=sc.secure)
    sc._current()  # open the current publication now, so its pages are warmed before the first reader
    return app


def _not_found(sc: Scorecard, request: Request) -> Response:
    session = sc._session(request)
    sc.audit.record(audit.REFUSED, session.account.username if session else None, _client(request), request.url.path, 404)
    return sc.not_found(request, session, sc._current())


def _server_error(sc: Scorecard, request: Request) -> Response:
    return HTMLResponse("<!DOCTYPE html><html lang=\"en-GB\"><head><title>Sorry, there is a problem with the service</title>"
                        "</head><body><h1>Sorry, there is a problem with the service</h1><p>Try again later.</p></body></html>",
                        status_code=500)

