"""The scorecard in a real browser: Debian's chromium, headless, driven by Playwright, against
one real server process for the module; axe-core (from npm) checks every page type."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import openpyxl
import pytest

from tests.integration.scorecard_site import (
    PASSWORD,
    ROOT,
    copy_current,
    current_id,
    derive_publication,
    free_port,
    point_current,
    serve,
    users,
)

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "scorecard" / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
MEMBER, ANALYST, ORG_MEMBER = "member@example.org", "analyst@example.org", "org.member@example.org"


@pytest.fixture(scope="module")
def site(refreshed, tmp_path_factory):
    if not CHROMIUM.exists() or not AXE.exists():
        pytest.fail("the browser tests need chromium and axe-core: `make browser-test-deps` installs them")
    settings = copy_current(refreshed, tmp_path_factory.mktemp("scorecard_browser"))
    codes = sorted(json.loads((settings.published_dir / "current" / "manifest.json").read_text())["extracts"])
    provider_port = free_port()
    provider = subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(provider_port),
                                 "--require-nonce", "true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    issuer = f"http://127.0.0.1:{provider_port}"
    server = None
    try:
        for args in ((MEMBER, "--name", "Member One", "--role", "member", "--community", codes[0]),
                     (ANALYST, "--name", "Ann Analyst", "--role", "analyst")):
            assert users(settings, "add", *args, "--password-stdin", password=PASSWORD + "\n").returncode == 0
        assert users(settings, "add", ORG_MEMBER, "--name", "Org Member", "--role", "member", "--community", codes[0],
                     "--no-password").returncode == 0
        _wait_for(f"{issuer}/.well-known/openid-configuration")
        server = serve(settings, PATHWAYS_OIDC_ISSUER=issuer, PATHWAYS_OIDC_CLIENT_ID="scorecard",
                       PATHWAYS_OIDC_CLIENT_SECRET="scorecard-secret")
        yield {"settings": settings, "base": server.base, "own": codes[0], "other": codes[1], "issuer": issuer}
    finally:
        if server is not None:
            server.stop()
        provider.terminate()
        provider.wait(timeout=10)


def _wait_for(url: str) -> None:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser, site):
    """A fresh browser profile; every request it makes and every console error are recorded."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.requests, pg.errors, pg.assets = [], [], []
    pg.on("request", lambda r: pg.requests.append(r.url))
    pg.on("response", lambda r: pg.assets.append((r.url, r.status)) if "/static/" in r.url else None)
    # a page answered 401 or 404 on purpose is logged as "Failed to load resource"; anything else is a fault
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" and not m.text.startswith(
        "Failed to load resource: the server responded with a status of 4") else None)
    yield pg
    context.close()


def sign_in(page, site, username: str) -> None:
    page.goto(site["base"] + "/sign-in")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")


def axe_violations(page) -> list[str]:
    """axe-core run inside the page (evaluated through the debugging protocol: the CSP stays on)."""
    page.evaluate(AXE.read_text() + "\n;0")
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    return [f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in result["violations"]]


def test_a_member_signs_in_sees_their_community_and_is_refused_anothers(page, site):
    own, other = site["own"], site["other"]
    sign_in(page, site, MEMBER)
    assert page.url == site["base"] + "/"
    links = page.locator("#communities a")
    assert links.count() == 1
    links.first.click()
    assert page.url.endswith(f"/communities/{own}")
    assert page.locator("h1").inner_text() == "Overview"
    assert "Is the disadvantage gap narrowing?" in page.locator(".app-verdict").inner_text()
    verdicts = page.locator("#headlines .govuk-tag").all_inner_texts()
    assert verdicts and set(verdicts) <= {"Narrowing", "Widening", "No clear change", "Small cohort"}
    assert re.search(r"Publication \d{8}T\d+Z, published \d+ \w+ \d{4}", page.locator(".app-status__publication").inner_text())
    # tampering with the address: another community's pages and files are simply not there
    response = page.goto(f"{site['base']}/communities/{other}/gaps")
    assert response.status == 404 and page.locator("h1").inner_text() == "Page not found"
    assert page.request.get(f"{site['base']}/communities/{other}/downloads/workbook").status == 404
    assert page.request.get(f"{site['base']}/compare").status == 404


def test_a_chart_comes_with_its_table(page, site):
    sign_in(page, site, MEMBER)
    page.goto(f"{site['base']}/communities/{site['own']}/gaps?measure=ks2_rwm_expected")
    chart = page.locator("svg.app-chart").first
    assert chart.get_attribute("role") == "img"
    assert page.locator(f"#{chart.get_attribute('aria-labelledby').split()[0]}").text_content().startswith(
        "KS2: reading, writing and maths at the expected standard")
    years_on_chart = [t for t in chart.locator("text").all_text_contents() if re.fullmatch(r"\d{4}/\d{2}", t)]
    table = page.locator(".app-table-details table").first
    assert not table.is_visible()
    page.locator(".app-table-details summary").first.click()
    assert table.is_visible()
    years_in_table = table.locator("tbody th").all_inner_texts()
    assert years_on_chart and years_on_chart == years_in_table
    # withheld figures say so, and why, one click away
    for link in page.locator(".app-withheld a").all()[:3]:
        note = page.locator(link.get_attribute("href"))
        assert note.count() == 1 and note.inner_text()


def test_the_member_downloads_their_workbook(page, site, tmp_path):
    sign_in(page, site, MEMBER)
    page.goto(f"{site['base']}/communities/{site['own']}/downloads")
    with page.expect_download() as download:
        page.locator("#files a").first.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith(site["own"]) and saved.suffix == ".xlsx"
    wb = openpyxl.load_workbook(saved)
    assert any(f"({site['own']})" in str(c.value) for row in wb["Cover"].iter_rows() for c in row)
    gaps = wb["Gaps"]
    column = [c.value for c in gaps[4]].index("Learning community")
    whose = {r[column] for r in gaps.iter_rows(min_row=5, values_only=True)}
    # its own community, and its authority's rows beside it: nothing of another community's
    assert len({w for w in whose if not w.endswith("(whole authority)")}) == 1 and len(whose) == 2


def test_signing_out_ends_the_session(page, site):
    sign_in(page, site, MEMBER)
    page.goto(f"{site['base']}/communities/{site['own']}")
    page.click("text=Sign out")
    assert "You have signed out" in page.locator(".govuk-notification-banner").inner_text()
    page.goto(f"{site['base']}/communities/{site['own']}")
    assert "/sign-in?next=" in page.url and page.locator("h1").inner_text() == "Sign in"


def test_every_page_type_passes_axe_and_the_browser_fetches_nothing_from_elsewhere(page, site):
    base, own = site["base"], site["own"]
    checked = {}
    page.goto(base + "/sign-in")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    checked["sign in"] = axe_violations(page)
    page.fill("#username", MEMBER)
    page.fill("#password", "not the password at all")
    page.click("#sign-in")
    checked["sign in, with an error"] = axe_violations(page)
    sign_in(page, site, MEMBER)
    for name, path in [("communities", "/"), ("overview", f"/communities/{own}"),
                       ("gaps", f"/communities/{own}/gaps?measure=ks2_rwm_expected"),
                       ("cohorts", f"/communities/{own}/cohorts"), ("schools", f"/communities/{own}/schools"),
                       ("attendance and context", f"/communities/{own}/attendance"),
                       ("downloads", f"/communities/{own}/downloads"), ("not found", f"/communities/{site['other']}"),
                       ("methodology", "/methodology"), ("accessibility statement", "/accessibility")]:
        page.goto(base + path)
        for summary in page.locator("details summary").all():
            summary.click()  # the tables behind the charts too (one measure's: every chart on the page is alike)
        checked[name] = axe_violations(page)
    page.click("text=Sign out")
    checked["signed out"] = axe_violations(page)
    sign_in(page, site, ANALYST)
    for name, path in [("compare communities", "/compare"), ("borough", "/borough")]:
        page.goto(base + path)
        for summary in page.locator("details summary").all():
            summary.click()
        checked[name] = axe_violations(page)
    assert {k: v for k, v in checked.items() if v} == {}
    assert len(checked) == 15
    assert [u for u in page.requests if not u.startswith(base)] == []
    assert page.errors == []  # no script error, no CSP violation
    assert page.assets and {status for _, status in page.assets} <= {200, 304}


def test_the_publication_swapped_during_a_session(page, site):
    settings, own = site["settings"], site["own"]
    sign_in(page, site, MEMBER)
    page.goto(f"{site['base']}/communities/{own}")
    first = current_id(settings)
    assert first in page.locator(".app-status__publication").inner_text()
    before = page.locator("#headline-ks2_rwm_expected .app-gap").inner_text()
    second = derive_publication(settings, "20991231T000000000003Z", change_gap=(own, "66.6"))
    point_current(settings.published_dir, second)
    try:
        page.reload()
        assert second in page.locator(".app-status__publication").inner_text()
        assert page.locator("#headline-ks2_rwm_expected .app-gap").inner_text().startswith("66.6")
        assert "Signed in as" in page.locator(".app-status").inner_text()  # the session carries on
    finally:
        point_current(settings.published_dir, first)
    page.reload()
    assert page.locator("#headline-ks2_rwm_expected .app-gap").inner_text() == before


def test_organisation_sign_in_in_the_browser(page, site):
    assert httpx.put(f"{site['issuer']}/users/entra-object-id-1", json={"email": ORG_MEMBER, "name": "Org Member"}).status_code == 204
    page.goto(f"{site['base']}/communities/{site['own']}/schools")
    assert "/sign-in" in page.url
    page.click("#organisation-sign-in")
    assert page.url.startswith(site["issuer"])
    page.fill("input[name=sub]", "entra-object-id-1")
    page.click("button:has-text('Authorize')")
    page.wait_for_url(f"{site['base']}/communities/{site['own']}/schools")
    assert page.locator("h1").inner_text() == "Schools"
    assert "Org Member" in page.locator(".app-status__who").inner_text()
