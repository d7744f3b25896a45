"""The scorecard's pages and files, one handler each (the ``Scorecard.page`` wrapper does the
session, the publication, refusals and the audit log)."""

from __future__ import annotations

import hmac
import re

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from scorecard import audit, methodology, views
from scorecard.accounts import Session, SignInRefused, Throttled
from scorecard.app import OIDC_COOKIE, SIGN_IN_COOKIE, Scorecard, _client, _safe_next
from scorecard.oidc import SignInFailed
from scorecard.publication import MAX_OPEN_SOURCES, NotPermitted, Publication, Source

OPEN_DATA = re.compile(r"^([a-z_]{1,64})\.csv$")


def routes(sc: Scorecard) -> list[Route]:
    s = sc.settings

    # --- signing in and out ---------------------------------------------------------------

    def sign_in_form(request: Request, error: str | None = None, status: int = 200, username: str = "") -> Response:
        cookie, token = sc._sign_in_token(request)
        response = sc.render(request, "sign_in.html", None, sc._current(), status=status, form_token=token, error=error,
                             username=username, next_path=_safe_next(request.query_params.get("next")),
                             signed_out="signed-out" in request.query_params)
        response.set_cookie(SIGN_IN_COOKIE, cookie, httponly=True, samesite="strict", secure=sc.secure, path="/",
                            max_age=3600)
        return response

    async def sign_in(request: Request) -> Response:
        if request.method == "GET":
            if sc._session(request):
                return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
            return sign_in_form(request)
        form = await request.form()
        cookie = request.cookies.get(SIGN_IN_COOKIE, "")
        expected = hmac.new(sc.secret, cookie.encode(), "sha256").hexdigest()
        if not cookie or not hmac.compare_digest(expected, str(form.get("form_token", ""))):
            sc.audit.record(audit.SIGN_IN_REFUSED, None, _client(request), request.url.path, 403, None, "form token")
            return sign_in_form(request, "Your sign-in form expired. Try again.", 403)
        username, password = str(form.get("username", ""))[:256], str(form.get("password", ""))
        next_path = str(form.get("next", "/"))
        if not s.scorecard_local_accounts:
            return sign_in_form(request, "Sign in with your organisation account.", 403)
        if not username or not password:
            return sign_in_form(request, "Enter your username and password.", 400, username)
        from starlette.concurrency import run_in_threadpool

        try:  # Argon2 takes tens of milliseconds of CPU: off the event loop
            account = await run_in_threadpool(sc.accounts.sign_in, username, password, _client(request))
        except Throttled as e:
            sc.audit.record(audit.SIGN_IN_REFUSED, username.lower(), _client(request), request.url.path, 429, None,
                            "too many failed attempts")
            return sign_in_form(request, f"Too many failed attempts. Try again in {e.minutes} minutes.", 429, username)
        except SignInRefused:
            sc.audit.record(audit.SIGN_IN_REFUSED, username.lower(), _client(request), request.url.path, 401, None,
                            "wrong username or password")
            return sign_in_form(request, "The username or password is not right.", 401, username)
        return sc._start_signed_in(request, account, "password", next_path)

    async def sign_out(request: Request) -> Response:
        form = await request.form()
        session = sc._session(request)
        if session is None:
            return RedirectResponse("/sign-in", status_code=303)
        if not hmac.compare_digest(session.csrf_token, str(form.get("csrf_token", ""))):
            sc.audit.record(audit.REFUSED, session.account.username, _client(request), request.url.path, 403, None,
                            "sign-out without a valid form token")
            return sc.render(request, "error.html", session, sc._current(), status=403, title="Sign-out refused",
                             kind="csrf")
        sc.accounts.end_session(request.cookies.get(sc.session_cookie))
        sc.audit.record(audit.SIGN_OUT, session.account.username, _client(request), request.url.path, 303)
        response = RedirectResponse("/sign-in?signed-out", status_code=303)
        response.delete_cookie(sc.session_cookie, path="/")
        return response

    def _redirect_uri(request: Request) -> str:
        base = (s.scorecard_public_url or str(request.base_url)).rstrip("/")
        return f"{base}/sign-in/callback"

    def organisation_sign_in(request: Request) -> Response:
        if sc.oidc is None:
            return sc.not_found(request, None, sc._current())
        try:
            req = sc.oidc.start(_redirect_uri(request))
        except Exception as e:  # the provider is unreachable or misconfigured
            sc.audit.record(audit.SIGN_IN_REFUSED, None, _client(request), request.url.path, 502, None, f"provider: {e}"[:300])
            return sc.render(request, "error.html", None, sc._current(), status=502, title="Organisation sign-in is unavailable",
                             kind="oidc_unavailable")
        token = sc.accounts.start_pending(req.state, req.nonce, req.code_verifier, _safe_next(request.query_params.get("next")))
        response = RedirectResponse(req.url, status_code=303)
        response.set_cookie(OIDC_COOKIE, token, httponly=True, samesite="lax", secure=sc.secure, path="/sign-in",
                            max_age=600)
        return response

    def organisation_callback(request: Request) -> Response:
        if sc.oidc is None:
            return sc.not_found(request, None, sc._current())
        q = request.query_params
        pending = sc.accounts.take_pending(request.cookies.get(OIDC_COOKIE), q.get("state"))

        def refuse(detail: str, title: str, kind: str, status: int = 403, username: str | None = None):
            sc.audit.record(audit.SIGN_IN_REFUSED, username, _client(request), request.url.path, status, None, detail[:300])
            response = sc.render(request, "error.html", None, sc._current(), status=status, title=title, kind=kind)
            response.delete_cookie(OIDC_COOKIE, path="/sign-in")
            return response

        if pending is None:
            return refuse("state missing, expired or not this browser's", "Sign-in did not complete", "oidc_state", 400)
        if q.get("error") or not q.get("code"):
            return refuse(f"provider refused: {q.get('error', 'no code')}", "Sign-in did not complete", "oidc_refused", 403)
        nonce, verifier, next_path = pending
        try:
            who = sc.oidc.finish(q["code"], _redirect_uri(request), nonce, verifier)
        except (SignInFailed, Exception) as e:
            return refuse(str(e), "Sign-in did not complete", "oidc_failed", 403)
        account = sc.accounts.oidc_account(who.username or "", who.issuer, who.subject) if who.username else None
        if account is None:
            return refuse(f"no scorecard account for {who.username!r} (subject {who.subject})", "You do not have access yet",
                          "no_account", 403, who.username)
        response = sc._start_signed_in(request, account, "organisation", next_path)
        response.delete_cookie(OIDC_COOKIE, path="/sign-in")
        return response

    # --- pages ------------------------------------------------------------------------------

    @sc.page()
    def home(request: Request, session: Session, pub: Publication) -> Response:
        account = session.account
        codes = pub.visible_codes(account)
        if account.is_analyst:
            communities = pub.whole(account).communities()
        else:
            communities = [c for code in codes for c in pub.community(account, code).communities() if c.code == code]
        return sc.render(request, "home.html", session, pub, cache_key=("home", tuple(codes)), communities=communities, nav="home")

    def community_page(name: str):
        def deco(fn):
            @sc.page()
            def handler(request: Request, session: Session, pub: Publication) -> Response:
                code = request.path_params["code"]
                src = pub.community(session.account, code)  # NotPermitted -> "Page not found"
                lc = pub.permitted_code(session.account, code)
                community = next((c for c in src.communities() if c.code == lc), None)
                if community is None:
                    raise NotPermitted("the extract does not describe this community")
                la_name = src.authorities().get(community.la_code, community.la_code)
                return fn(request, session, pub, src, community, la_name)
            handler.__name__ = name
            return handler
        return deco

    def ctx(pub, community, la_name, current):
        return {"community": community, "la_name": la_name, "current_page": current}

    # each page's content, built once per publication (also ahead of the first reader: warm())
    def overview_rows(src: Source, community):
        return src._cached(("view", "headlines", community.code),
                           lambda: views.headlines(src, community.code, community.la_code, s.scorecard_small_group))

    def gap_charts(src: Source, community, la_name: str, codes: list[str]):
        return [c for c in (src._cached(("view", "gap_chart", community.code, code),
                                        lambda code=code: views.gap_chart(src, community.code, community.la_code,
                                                                          community.name, la_name, code))
                            for code in codes) if c is not None]

    def index_charts(src: Source, community, la_name: str):
        return src._cached(("view", "index", community.code),
                           lambda: views.gap_index_charts(src, community.code, community.la_code, community.name, la_name))

    def cohort_data(src: Source, community, la_name: str, ry: int | None):
        if ry is None:
            return None
        return src._cached(("view", "cohort", community.code, ry),
                           lambda: views.cohort(src, community.code, community.la_code, community.name, la_name, ry))

    def school_data(src: Source, community):
        return src._cached(("view", "schools", community.code), lambda: views.schools(src, community.code))

    def attendance_data(src: Source, community, la_name: str):
        att = src._cached(("view", "attendance", community.code),
                          lambda: views.attendance(src, community.code, community.la_code, community.name, la_name))
        con = src._cached(("view", "context", community.code), lambda: views.context(src, community.code, community.la_code))
        return att, con

    def headline_codes(src: Source) -> list[str]:
        return [c for c in views.HEADLINE if c in src.measures()]

    def warm(pub: Publication, reader) -> None:
        """Build every community's default pages before anyone asks (run when a publication is first seen)."""
        for code in pub.community_codes[:MAX_OPEN_SOURCES - 1]:
            src = pub.community(reader, code)
            community = next((c for c in src.communities() if c.code == code), None)
            if community is None:
                continue
            la_name = src.authorities().get(community.la_code, community.la_code)
            overview_rows(src, community)
            gap_charts(src, community, la_name, headline_codes(src))
            index_charts(src, community, la_name)
            cohort_data(src, community, la_name, views.default_cohort(src))
            school_data(src, community)
            attendance_data(src, community, la_name)

    sc.warm = warm

    @community_page("overview")
    def overview(request, session, pub, src: Source, community, la_name):
        return sc.render(request, "community/overview.html", session, pub, cache_key=(community.code,),
                         rows=overview_rows(src, community), **ctx(pub, community, la_name, "overview"))

    @community_page("gaps")
    def gaps(request, session, pub, src: Source, community, la_name):
        choices = views.gap_measures(src)
        wanted = request.query_params.get("measure")
        codes = [wanted] if wanted in {m.code for m in choices} else headline_codes(src)
        return sc.render(request, "community/gaps.html", session, pub, cache_key=(community.code, tuple(codes)),
                         charts=gap_charts(src, community, la_name, codes), choices=choices,
                         selected=wanted if len(codes) == 1 else None, trends=views.trend_rows(src, community.code,
                                                                                               community.la_code),
                         index=index_charts(src, community, la_name), **ctx(pub, community, la_name, "gaps"))

    @community_page("cohorts")
    def cohorts(request, session, pub, src: Source, community, la_name):
        choices = views.cohort_choices(src)
        wanted = request.query_params.get("cohort", "")
        ry = int(wanted) if wanted.isdigit() and int(wanted) in {c for c, _ in choices} else views.default_cohort(src)
        return sc.render(request, "community/cohorts.html", session, pub, cache_key=(community.code, ry),
                         choices=choices, selected=ry, data=cohort_data(src, community, la_name, ry),
                         **ctx(pub, community, la_name, "cohorts"))

    @community_page("schools")
    def schools(request, session, pub, src: Source, community, la_name):
        data = school_data(src, community)
        wanted = request.query_params.get("year", "")
        year = int(wanted) if wanted.isdigit() and int(wanted) in {t for t, _ in data["periods"]} else data["latest"]
        return sc.render(request, "community/schools.html", session, pub, cache_key=(community.code, year), data=data, year=year,
                         **ctx(pub, community, la_name, "schools"))

    @community_page("attendance")
    def attendance(request, session, pub, src: Source, community, la_name):
        att, con = attendance_data(src, community, la_name)
        return sc.render(request, "community/attendance.html", session, pub, cache_key=(community.code,), att=att, context=con,
                         **ctx(pub, community, la_name, "attendance"))

    @community_page("downloads")
    def downloads(request, session, pub, src: Source, community, la_name):
        files = []
        for suffix, what in ((".xlsx", "workbook"), (".duckdb", "database")):
            try:
                path = pub.download(session.account, community.code, suffix)
                files.append((what, path.name, path.stat().st_size))
            except NotPermitted:
                pass
        return sc.render(request, "community/downloads.html", session, pub, cache_key=(community.code,), files=files,
                         tables=src.open_data(),
                         **ctx(pub, community, la_name, "downloads"))

    @sc.page()
    def download(request: Request, session: Session, pub: Publication) -> Response:
        code, name = request.path_params["code"], request.path_params["name"]
        src = pub.community(session.account, code)
        lc = pub.permitted_code(session.account, code)
        disposition = {"cache-control": "private, no-store"}
        if name in ("workbook", "database"):
            path = pub.download(session.account, lc, ".xlsx" if name == "workbook" else ".duckdb")
            media = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if name == "workbook"
                     else "application/octet-stream")
            return FileResponse(path, media_type=media, filename=f"{lc}-{pub.id}{path.suffix}", headers=disposition)
        if name == "open-data.zip":
            body = src.open_data_zip(f"{lc}-{pub.id}")
            return Response(body, media_type="application/zip", headers={
                **disposition, "content-disposition": f'attachment; filename="{lc}-{pub.id}-open-data.zip"'})
        m = OPEN_DATA.match(name)
        if m and m.group(1) in src.open_data():
            return Response(src.csv(m.group(1)), media_type="text/csv; charset=utf-8", headers={
                **disposition, "content-disposition": f'attachment; filename="{lc}-{pub.id}-{m.group(1)}.csv"'})
        raise NotPermitted("no such file")

    # --- authority analysts -------------------------------------------------------------------

    def compare_data(src: Source, code: str, tp: int | None):
        data = src._cached(("view", "compare", code, tp), lambda: views.compare(src, code, tp, s.la_code, s.scorecard_small_group))
        return data, src._cached(("view", "matrix"), lambda: views.verdict_matrix(src))

    def borough_data(src: Source, la: str, la_name: str):
        return {"rows": src._cached(("view", "borough", la), lambda: views.headlines(src, None, la, s.scorecard_small_group)),
                "index": src._cached(("view", "index", None, la), lambda: views.gap_index_charts(src, None, la, la_name, la_name)),
                "att": src._cached(("view", "attendance", None, la), lambda: views.attendance(src, None, la, la_name, la_name)),
                "categories": src._cached(("view", "school_summary"), lambda: views.school_summary(src))}

    def warm_analysts(pub: Publication, reader) -> None:
        src = pub.whole(reader)
        for la, name in src.authorities().items():
            borough_data(src, la, name)
        codes = {m.code for m in views.gap_measures(src)}
        if "ks2_rwm_expected" in codes:
            periods = src._cached(("view", "periods", "ks2_rwm_expected"), lambda: views.periods(src, "ks2_rwm_expected"))
            compare_data(src, "ks2_rwm_expected", periods[-1] if periods else None)

    sc.warm_analysts = warm_analysts

    @sc.page(analyst_only=True)
    def compare(request: Request, session: Session, pub: Publication) -> Response:
        src = pub.whole(session.account)
        choices = views.gap_measures(src)
        wanted = request.query_params.get("measure")
        code = wanted if wanted in {m.code for m in choices} else next((c for c in ("ks2_rwm_expected",) if
                                                                         c in {m.code for m in choices}), choices[0].code)
        periods = src._cached(("view", "periods", code), lambda: views.periods(src, code))
        year = request.query_params.get("year", "")
        tp = int(year) if year.isdigit() and int(year) in periods else (periods[-1] if periods else None)
        data, matrix = compare_data(src, code, tp)
        return sc.render(request, "compare.html", session, pub, cache_key=(code, tp), data=data, choices=choices, matrix=matrix,
                         nav="compare")

    @sc.page(analyst_only=True)
    def borough(request: Request, session: Session, pub: Publication) -> Response:
        src = pub.whole(session.account)
        authorities = src.authorities()
        wanted = request.query_params.get("authority", str(s.la_code))
        la = wanted if wanted in authorities else next(iter(authorities), str(s.la_code))
        la_name = authorities.get(la, la)
        communities = [c for c in src.communities() if c.la_code == la]
        return sc.render(request, "borough.html", session, pub, cache_key=(la,), **borough_data(src, la, la_name),
                         communities=communities, la=la, la_name=la_name, authorities=authorities, nav="borough")

    # --- public pages -------------------------------------------------------------------------

    @sc.page(signed_in=False)
    def methodology_page(request: Request, session: Session | None, pub: Publication | None) -> Response:
        html, contents = methodology.render()
        return sc.render(request, "methodology.html", session, pub, cache_key=(methodology.DOCUMENT.stat().st_mtime,),
                         body=html, contents=contents, nav="methodology")

    @sc.page(signed_in=False)
    def accessibility(request: Request, session: Session | None, pub: Publication | None) -> Response:
        return sc.render(request, "accessibility.html", session, pub, cache_key=())

    def health(request: Request) -> Response:
        return Response("ok", media_type="text/plain", headers={"cache-control": "no-store"})

    return [
        Route("/", home, name="home"),
        Route("/sign-in", sign_in, methods=["GET", "POST"]),
        Route("/sign-in/organisation", organisation_sign_in),
        Route("/sign-in/callback", organisation_callback),
        Route("/sign-out", sign_out, methods=["POST"]),
        Route("/communities/{code}", overview),
        Route("/communities/{code}/gaps", gaps),
        Route("/communities/{code}/cohorts", cohorts),
        Route("/communities/{code}/schools", schools),
        Route("/communities/{code}/attendance", attendance),
        Route("/communities/{code}/downloads", downloads),
        Route("/communities/{code}/downloads/{name}", download),
        Route("/compare", compare),
        Route("/borough", borough),
        Route("/methodology", methodology_page),
        Route("/accessibility", accessibility),
        Route("/healthz", health),
    ]

