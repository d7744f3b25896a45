"""docs/methodology.md as a page of the scorecard, so every figure's definition is one click away
(``/methodology#<anchor>``; anchors are the GitHub slugs the code comments cite)."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from markdown_it import MarkdownIt
from markupsafe import Markup
from mdit_py_plugins.anchors import anchors_plugin

from config.settings import PROJECT_ROOT

DOCUMENT = PROJECT_ROOT / "docs" / "methodology.md"

_CLASSES = {
    "h1": "govuk-heading-xl", "h2": "govuk-heading-l", "h3": "govuk-heading-m", "h4": "govuk-heading-s",
    "p": "govuk-body", "ul": "govuk-list govuk-list--bullet", "ol": "govuk-list govuk-list--number",
    "table": "govuk-table", "thead": "govuk-table__head", "tbody": "govuk-table__body", "tr": "govuk-table__row",
    "th": "govuk-table__header", "td": "govuk-table__cell", "a": "govuk-link", "hr": "govuk-section-break govuk-section-break--l "
    "govuk-section-break--visible", "pre": "app-code",
}
_lock = threading.Lock()
_cache: dict[tuple[Path, float], tuple[Markup, list[tuple[str, str]]]] = {}


def render(path: Path = DOCUMENT) -> tuple[Markup, list[tuple[str, str]]]:
    """The document as GOV.UK-styled HTML, and its contents (anchor, section title) for level 2."""
    mtime = path.stat().st_mtime
    with _lock:
        hit = _cache.get((path, mtime))
    if hit:
        return hit
    md = MarkdownIt("commonmark", {"html": False}).enable("table").use(anchors_plugin, min_level=1, max_level=4)
    html = md.render(path.read_text())
    html = re.sub(r"<(h[1-4]|p|ul|ol|table|thead|tbody|tr|th|td|a|hr|pre)(?=[\s>/])",
                  lambda m: f'<{m.group(1)} class="{_CLASSES[m.group(1)]}"', html)
    # wide tables and code scroll on their own, reachable by keyboard; each scrolling region is named
    numbers = iter(range(1, 10_000))
    html = re.sub('<table class="govuk-table">', lambda m: f'<div class="app-table-wrap" tabindex="0" role="region" '
                  f'aria-label="Table {next(numbers)}"><table class="govuk-table">', html).replace("</table>", "</table></div>")
    html = html.replace('<pre class="app-code"', '<pre class="app-code" tabindex="0"')
    contents = re.findall(r'<h2 class="[^"]*" id="([^"]+)">(.*?)</h2>', html)
    result = (Markup(html), [(a, re.sub(r"<[^>]+>", "", t)) for a, t in contents])
    with _lock:
        _cache[(path, mtime)] = result
    return result
