"""Screenshots for the README and reviews, with Debian's chromium driven by Playwright.

Start the pages first (after `make demo`), then run this:
    make ui &                                   # Dagster UI on 127.0.0.1:3000
    make notebook NB=gap_explorer LC=LC03 &     # the notebook as an app on 127.0.0.1:2718
    .venv/bin/python docs/screenshots/capture.py --dagster http://127.0.0.1:3000 --notebook http://127.0.0.1:2718
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--dagster", default="http://127.0.0.1:3000")
    p.add_argument("--notebook", default="http://127.0.0.1:2718")
    p.add_argument("--mart", default="marts/learning_community_outcomes")
    args = p.parse_args()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        # the mart's asset page: its latest materialisation's row count and its column schema
        page.goto(f"{args.dagster}/assets/{args.mart}", wait_until="networkidle", timeout=120_000)
        page.get_by_text("Columns").first.wait_for(timeout=60_000)
        page.wait_for_timeout(3000)
        skip = page.get_by_role("button", name="Skip")  # Dagster's first-visit newsletter dialog
        if skip.count():
            skip.first.click()
            page.wait_for_timeout(1000)
        page.screenshot(path=str(HERE / "dagster-mart-asset.png"), full_page=True)
        # the notebook as an app: every cell has run on opening, charts drawn without pressing anything
        page.set_viewport_size({"width": 1500, "height": 1900})
        page.goto(args.notebook, wait_until="networkidle", timeout=120_000)
        page.locator("canvas, svg.marks").first.wait_for(timeout=120_000)
        page.wait_for_timeout(5000)
        page.screenshot(path=str(HERE / "notebook-gap-explorer.png"), full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
