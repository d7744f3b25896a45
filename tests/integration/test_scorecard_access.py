"""The scorecard's access control, attacked over HTTP: one real server process for the module,
the session's real publication, accounts made with `pathways users`, and a standards-compliant
OpenID provider (oidc-provider-mock, built on Authlib's OpenID Connect server) on loopback."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import threading
import time
import zipfile
from urllib.parse import parse_qs, urlparse

import duckdb
import httpx
import polars as pl
import pytest

from tests.integration.scorecard_site import (
    PASSWORD,
    ROOT,
    copy_current,
    csrf_of,
    current_id,
    derive_publication,
    free_port,
    point_current,
    serve,
    signed_in,
    users,
)

PAGES = ["", "/gaps", "/cohorts", "/schools", "/attendance", "/downloads"]
FILES = ["workbook", "database", "open-data.zip", "learning_community_outcomes.csv"]
MEMBER, OTHER_MEMBER, ANALYST, MOVER = "member@example.org", "other@example.org", "analyst@example.org", "mover@example.org"
ORG_MEMBER = "org.member@example.org"


@pytest.fixture(scope="module")
def site(refreshed, tmp_path_factory):
    settings = copy_current(refreshed, tmp_path_factory.mktemp("scorecard_access"))
    codes = sorted(json.loads((settings.published_dir / "current" / "manifest.json").read_text())["extracts"])
    own, other = codes[0], codes[1]
    provider_port, app_port = free_port(), free_port()
    provider = subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(provider_port),
                                 "--require-registration", "true", "--require-nonce", "true"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    issuer = f"http://127.0.0.1:{provider_port}"
    server = None
    try:
        _wait_for(f"{issuer}/.well-known/openid-configuration")
        client = httpx.post(f"{issuer}/oauth2/clients", json={
            "redirect_uris": [f"http://127.0.0.1:{app_port}/sign-in/callback"],
            "token_endpoint_auth_method": "client_secret_basic"}).json()
        for args in ((MEMBER, "--name", "Member One", "--role", "member", "--community", own),
                     (OTHER_MEMBER, "--name", "Member Two", "--role", "member", "--community", other),
                     (MOVER, "--name", "Moving Member", "--role", "member", "--community", own),
                     (ANALYST, "--name", "Ann Analyst", "--role", "analyst")):
            done = users(settings, "add", *args, "--password-stdin", password=PASSWORD + "\n")
            assert done.returncode == 0, done.stderr
        assert users(settings, "add", ORG_MEMBER, "--name", "Org Member", "--role", "member", "--community", own,
                     "--no-password").returncode == 0
        server = serve(settings, port=app_port, PATHWAYS_OIDC_ISSUER=issuer, PATHWAYS_OIDC_CLIENT_ID=client["client_id"],
                       PATHWAYS_OIDC_CLIENT_SECRET=client["client_secret"])
        yield {"settings": settings, "base": server.base, "own": own, "other": other, "issuer": issuer}
    finally:
        if server is not None:
            server.stop()
        provider.terminate()
        provider.wait(timeout=10)


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def _names(site) -> dict[str, str]:
    db = site["settings"].published_dir / "current" / "pathways.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        return dict(con.execute("SELECT learning_community_code, learning_community_name FROM dim_learning_communities").fetchall())


def test_every_page_and_file_needs_a_signed_in_session(site):
    anonymous = httpx.Client(base_url=site["base"], follow_redirects=False)
    for path in ["/", "/compare", "/borough", *(f"/communities/{site['own']}{p}" for p in PAGES),
                 *(f"/communities/{site['own']}/downloads/{f}" for f in FILES)]:
        r = anonymous.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/sign-in?next="), path
    assert anonymous.get("/methodology").status_code == 200 and anonymous.get("/accessibility").status_code == 200
    stolen = httpx.Client(base_url=site["base"], cookies={"pathways_session": "guessed-" + "a" * 40})
    assert stolen.get("/", follow_redirects=False).status_code == 303


def test_a_member_is_refused_every_other_community_by_any_url(site):
    member = signed_in(site["base"], MEMBER)
    own, other = site["own"], site["other"]
    other_name = _names(site)[other]
    tampered = [f"/communities/{other}{p}" for p in PAGES] + [f"/communities/{other}/downloads/{f}" for f in FILES] + [
        f"/communities/{other.lower()}", f"/communities/{other}%00", f"/communities/{other}.duckdb",
        f"/communities/..%2F{other}", f"/communities/{own}%2F..%2F{other}", f"/communities/%2E%2E/{other}",
        f"/communities/{own}/downloads/{other}.xlsx", f"/communities/{own}/downloads/..%2F{other}.xlsx",
        f"/communities/{own}/downloads/..%2F..%2Fpathways.duckdb", f"/communities/{own}/downloads/%2E%2E%2Fpathways.duckdb",
        f"/communities/{own}/downloads/../../pathways.duckdb", f"/communities/{own}/downloads/manifest.json",
        f"/communities/{own}/downloads/dim_learning_communities.csv?community={other}",
        "/compare", f"/compare?measure=ks2_rwm_expected&community={other}", "/borough", "/borough?authority=372",
        "/static/../data/access/accounts.sqlite", "/static/%2E%2E/%2E%2E/data/access/accounts.sqlite",
        f"/communities/{other}?code={own}", f"//communities/{other}",
    ]
    for path in tampered:
        r = member.get(path)
        assert r.status_code == 404, path  # exactly as for a community that does not exist
        assert other_name not in r.text and f">{other}<" not in r.text, path
    # the member's own pages name no other community anywhere
    for path in ["/", *(f"/communities/{own}{p}" for p in PAGES)]:
        r = member.get(path)
        assert r.status_code == 200, path
        assert other_name not in r.text and f"/communities/{other}" not in r.text, path
    log = users(site["settings"], "audit", "--user", MEMBER, "--event", "refused", "--limit", "500").stdout
    assert f"/communities/{other}/downloads/workbook" in log and "/compare" in log


def test_a_members_files_hold_only_their_own_community(site, tmp_path):
    member = signed_in(site["base"], MEMBER)
    own = site["own"]
    r = member.get(f"/communities/{own}/downloads/database")
    assert r.status_code == 200 and r.headers["cache-control"] == "private, no-store"
    (tmp_path / "own.duckdb").write_bytes(r.content)
    with duckdb.connect(str(tmp_path / "own.duckdb"), read_only=True) as con:
        for (table,) in con.execute("SELECT table_name FROM information_schema.columns "
                                    "WHERE column_name = 'learning_community_code'").fetchall():
            codes = {c for (c,) in con.execute(f"SELECT DISTINCT learning_community_code FROM {table}").fetchall()}
            assert codes <= {own, None}, table
    workbook = member.get(f"/communities/{own}/downloads/workbook")
    sheets = pl.read_excel(io.BytesIO(workbook.content), sheet_id=0)
    for name, frame in sheets.items():
        if "learning_community_code" in frame.columns:
            assert set(frame["learning_community_code"].drop_nulls().unique()) <= {own}, name
    archive = zipfile.ZipFile(io.BytesIO(member.get(f"/communities/{own}/downloads/open-data.zip").content))
    assert archive.namelist()
    for name in archive.namelist():
        frame = pl.read_csv(archive.read(name), infer_schema=False)
        if "learning_community_code" in frame.columns:
            assert set(frame["learning_community_code"].drop_nulls().unique()) <= {own}, name
    csv = pl.read_csv(member.get(f"/communities/{own}/downloads/learning_community_gap_trends.csv").content, infer_schema=False)
    assert set(csv["learning_community_code"].drop_nulls().unique()) == {own}
    # the data protection officer's processing log has the member's sign-in and downloads
    from ingest.processing_log import read, verify

    mine = [e for e in read(site["settings"].data_dir) if e["actor"] == MEMBER and e["actor_type"] == "signed_in_user"]
    assert {"scorecard sign-in", "scorecard download"} <= {e["action"] for e in mine}
    assert verify(site["settings"].data_dir) == []


def test_an_analyst_compares_every_community(site):
    analyst = signed_in(site["base"], ANALYST)
    names = _names(site)
    page = analyst.get("/compare?measure=ks2_rwm_expected")
    assert page.status_code == 200
    for code, name in names.items():
        assert name in page.text and f"/communities/{code}" in page.text
    assert analyst.get("/borough").status_code == 200
    for code in names:
        assert analyst.get(f"/communities/{code}/gaps").status_code == 200
    assert analyst.get(f"/communities/{site['other']}/downloads/workbook").status_code == 200


def test_headers_cookies_and_forms_are_hardened(site):
    anonymous = httpx.Client(base_url=site["base"], follow_redirects=False)
    form = anonymous.get("/sign-in")
    assert form.headers["content-security-policy"].startswith("default-src 'none'; script-src 'self'; style-src 'self'")
    assert "http" not in form.headers["content-security-policy"] and "unsafe" not in form.headers["content-security-policy"]
    assert form.headers["x-frame-options"] == "DENY" and form.headers["x-content-type-options"] == "nosniff"
    assert form.headers["referrer-policy"] == "same-origin" and "server" not in form.headers
    assert form.headers["cache-control"] == "no-store"
    # the sign-in form needs its token, tied to this browser's cookie
    forged = httpx.post(f"{site['base']}/sign-in", data={"username": MEMBER, "password": PASSWORD, "form_token": "x" * 64})
    assert forged.status_code == 403 and "pathways_session" not in forged.headers.get("set-cookie", "")
    token = re.search(r'name="form_token" value="([^"]+)"', form.text).group(1)
    signed = anonymous.post("/sign-in", data={"form_token": token, "username": MEMBER, "password": PASSWORD,
                                              "next": "//evil.example/steal"})
    assert signed.status_code == 303 and signed.headers["location"] == "/"  # no open redirect
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Path=/" in cookie
    # signing out needs the session's form token; without it nothing happens
    page = anonymous.get("/")
    assert anonymous.post("/sign-out", data={"csrf_token": "not-the-token"}).status_code == 403
    assert anonymous.get("/").status_code == 200
    old_cookie = anonymous.cookies.get("pathways_session")
    out = anonymous.post("/sign-out", data={"csrf_token": csrf_of(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/sign-in?signed-out"
    replayed = httpx.Client(base_url=site["base"], cookies={"pathways_session": old_cookie}, follow_redirects=False)
    assert replayed.get("/").status_code == 303  # the session ended on the server, not just in the browser


def test_repeated_failed_sign_ins_are_throttled_and_recorded(site):
    assert users(site["settings"], "add", "target@example.org", "--name", "Target", "--role", "member", "--community",
                 site["own"], "--password-stdin", password=PASSWORD + "\n").returncode == 0
    client = httpx.Client(base_url=site["base"], follow_redirects=False)

    def attempt(password: str) -> httpx.Response:
        token = re.search(r'name="form_token" value="([^"]+)"', client.get("/sign-in").text).group(1)
        return client.post("/sign-in", data={"form_token": token, "username": "target@example.org", "password": password})

    for _ in range(5):
        assert attempt("not the password at all").status_code == 401
    locked = attempt(PASSWORD)
    assert locked.status_code == 429 and "Too many failed attempts" in locked.text
    log = users(site["settings"], "audit", "--user", "target@example.org").stdout
    assert log.count("sign-in refused") == 6


def test_account_changes_apply_to_open_sessions_at_once(site):
    own, other = site["own"], site["other"]
    mover = signed_in(site["base"], MOVER)
    assert mover.get(f"/communities/{own}").status_code == 200
    assert users(site["settings"], "assign", MOVER, other, "--only").returncode == 0
    assert mover.get(f"/communities/{own}").status_code == 404
    assert mover.get(f"/communities/{other}").status_code == 200
    listed = users(site["settings"], "list").stdout
    assert re.search(rf"{re.escape(MOVER)} .*\[Group member: {other}\]", listed) and "[Authority analyst: every community]" in listed
    assert users(site["settings"], "remove", MOVER).returncode == 0
    assert mover.get(f"/communities/{other}").status_code == 303
    assert users(site["settings"], "remove", MOVER).returncode == 1


def _organisation_sign_in(site, sub: str, claims: dict, client: httpx.Client | None = None):
    """The authorization code flow as a browser follows it, through the provider's own form."""
    client = client or httpx.Client(base_url=site["base"], follow_redirects=False)
    assert httpx.put(f"{site['issuer']}/users/{sub}", json=claims).status_code == 204
    start = client.get(f"/sign-in/organisation?next=/communities/{site['own']}")
    assert start.status_code == 303
    authorize = start.headers["location"]
    query = parse_qs(urlparse(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    answer = httpx.post(authorize, data={"sub": sub}, follow_redirects=False)
    assert answer.status_code == 302
    callback = urlparse(answer.headers["location"])
    return client, client.get(f"{callback.path}?{callback.query}"), callback


def test_organisation_sign_in_end_to_end_against_a_local_openid_provider(site):
    client, done, callback = _organisation_sign_in(site, "org-subject-1", {"email": ORG_MEMBER, "name": "Org Member"})
    assert done.status_code == 303 and done.headers["location"] == f"/communities/{site['own']}"
    assert client.get(f"/communities/{site['own']}").status_code == 200
    assert client.get(f"/communities/{site['other']}").status_code == 404
    # the same answer again (a replayed code and state) signs nobody in
    replay = httpx.Client(base_url=site["base"], follow_redirects=False).get(f"{callback.path}?{callback.query}")
    assert replay.status_code == 400 and "pathways_session" not in replay.headers.get("set-cookie", "")
    # another person whose provider account claims the same e-mail address is refused: the subject is bound
    _, other_person, _ = _organisation_sign_in(site, "org-subject-2", {"email": ORG_MEMBER})
    assert other_person.status_code == 403 and "pathways_session" not in other_person.headers.get("set-cookie", "")
    # a provider account with no scorecard account is refused
    _, stranger, _ = _organisation_sign_in(site, "org-subject-3", {"email": "stranger@example.org"})
    assert stranger.status_code == 403 and "do not have access" in stranger.text
    # an answer carrying another browser's state is refused
    client = httpx.Client(base_url=site["base"], follow_redirects=False)
    client.get("/sign-in/organisation")
    forged = client.get("/sign-in/callback?code=made-up&state=not-this-browsers")
    assert forged.status_code == 400
    log = users(site["settings"], "audit", "--event", "sign-in refused").stdout
    assert "stranger@example.org" in log and "org-subject-2" in log


def test_a_member_needs_nothing_but_their_own_extract(site):
    """Isolation by files: with every other community's files and the whole publication removed,
    a member's every page and file still works."""
    settings, own = site["settings"], site["own"]
    before = current_id(settings)
    stripped = derive_publication(settings, "20991231T000000000001Z", keep_only=(own,))
    point_current(settings.published_dir, stripped)
    try:
        member = signed_in(site["base"], MEMBER)
        for path in ["/", *(f"/communities/{own}{p}" for p in PAGES), *(f"/communities/{own}/downloads/{f}" for f in FILES)]:
            r = member.get(path)
            assert r.status_code == 200, path
        assert stripped in member.get(f"/communities/{own}").text
        analyst = signed_in(site["base"], ANALYST)
        assert analyst.get("/compare").status_code == 503  # the analysts' pages need the whole publication
    finally:
        point_current(settings.published_dir, before)


def test_no_request_sees_half_of_a_swapped_publication(site):
    """Readers hammer a page while the publication is swapped back and forth: each page shows one
    publication's id with that publication's figure, never one with the other's."""
    settings, own = site["settings"], site["own"]
    first = current_id(settings)
    second = derive_publication(settings, "20991231T000000000002Z", change_gap=(own, "77.7"))
    member = signed_in(site["base"], MEMBER)

    def gap_and_id(page: str) -> tuple[str, str]:
        pub = re.search(r"Publication <strong>([^<]+)</strong>", page).group(1)
        gap = re.search(r'id="headline-ks2_rwm_expected">.*?app-gap">\s*([^<\s]+)', page, re.S).group(1)
        return pub, gap

    expected_first = gap_and_id(member.get(f"/communities/{own}").text)
    assert expected_first[0] == first and expected_first[1] != "77.7"
    seen: list[tuple[str, str]] = []
    failures: list[str] = []
    stop = threading.Event()
    answered = threading.Condition()

    def read():
        client = signed_in(site["base"], MEMBER)
        while not stop.is_set():
            r = client.get(f"/communities/{own}")
            with answered:
                if r.status_code != 200:
                    failures.append(str(r.status_code))
                else:
                    seen.append(gap_and_id(r.text))
                answered.notify_all()

    readers = [threading.Thread(target=read) for _ in range(4)]
    for t in readers:
        t.start()
    try:
        for i in range(40):
            point_current(settings.published_dir, second if i % 2 == 0 else first)
            with answered:  # let the readers answer a few pages before the next swap
                want = len(seen) + 4
                answered.wait_for(lambda want=want: len(seen) + len(failures) >= want, timeout=10)
    finally:
        stop.set()
        for t in readers:
            t.join()
        point_current(settings.published_dir, first)
    assert not failures
    assert set(seen) <= {expected_first, (second, "77.7")}, set(seen) - {expected_first, (second, "77.7")}
    assert {pub for pub, _ in seen} == {first, second}


def test_every_definition_link_lands_on_a_definition(site):
    analyst = signed_in(site["base"], ANALYST)
    own = site["own"]
    anchors = set()
    for path in ["/", "/compare", "/borough", *(f"/communities/{own}{p}" for p in PAGES)]:
        anchors |= set(re.findall(r'href="/methodology#([^"]+)"', analyst.get(path).text))
    methodology = analyst.get("/methodology").text
    ids = set(re.findall(r' id="([^"]+)"', methodology))
    assert len(anchors) > 30 and "ks2_rwm_expected" in anchors and "disclosure-control" in anchors
    assert anchors <= ids, anchors - ids
