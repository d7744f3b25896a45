"""Charts as inline SVG, drawn on the server: no JavaScript, no external request, and every chart
has its figures in a table beside it (the table is the accessible alternative; the SVG carries a
title and a one-sentence description).

Series differ by line style and marker shape as well as colour (WCAG 1.4.1), and every colour
has at least 3:1 contrast with the white background (WCAG 1.4.11).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import count

from markupsafe import Markup, escape

# colour, dash pattern, marker (GOV.UK palette: blue, black, dark grey, purple, green)
STYLES = [
    ("#1d70b8", None, "circle"),
    ("#0b0c0c", "7 4", "square"),
    ("#505a5f", "2 3", "triangle"),
    ("#6f2c91", "10 3 2 3", "diamond"),
    ("#00703c", "4 2", "cross"),
]
_ids = count(1)


@dataclass
class Series:
    name: str
    values: list[float | None]
    style: int = 0
    lower: list[float | None] | None = None
    upper: list[float | None] | None = None


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    ticks = []
    t = first
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 10))
        t += step
    if ticks[-1] < hi:
        ticks.append(round(t, 10))
    return ticks


def _fmt(v: float) -> str:
    return f"{v:g}" if abs(v) >= 1 or v == 0 else f"{v:.2g}"


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    if shape == "triangle":
        return f'<path d="M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y + 4:.1f}L{x - 5:.1f} {y + 4:.1f}Z" fill="{colour}"/>'
    if shape == "diamond":
        return f'<path d="M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y:.1f}L{x:.1f} {y + 5:.1f}L{x - 5:.1f} {y:.1f}Z" fill="{colour}"/>'
    return (f'<path d="M{x - 4:.1f} {y - 4:.1f}L{x + 4:.1f} {y + 4:.1f}M{x - 4:.1f} {y + 4:.1f}L{x + 4:.1f} {y - 4:.1f}" '
            f'stroke="{colour}" stroke-width="2.5"/>')


def legend(series: list[Series], interval: str = "shaded: 95% interval") -> Markup:
    items = []
    for s in series:
        colour, dash, shape = STYLES[s.style % len(STYLES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        band = (f'<rect x="0" y="2" width="36" height="12" fill="{colour}" fill-opacity="0.18"/>'
                if s.lower is not None else "")
        items.append(
            f'<li class="app-legend__item"><svg class="app-legend__key" width="36" height="16" viewBox="0 0 36 16" '
            f'aria-hidden="true" focusable="false">{band}<line x1="0" y1="8" x2="36" y2="8" stroke="{colour}" stroke-width="2.5"'
            f'{dash_attr}/>{_marker(shape, 18, 8, colour)}</svg>{escape(s.name)}'
            + (f" ({interval})" if s.lower is not None else "") + "</li>")
    return Markup('<ul class="app-legend">' + "".join(items) + "</ul>")


def line_chart(title: str, description: str, x_labels: list[str], series: list[Series], y_label: str,
               include_zero: bool = True, y_range: tuple[float, float] | None = None) -> Markup:
    """A line chart: one line per series across ``x_labels`` (a None breaks the line)."""
    uid = next(_ids)
    width, height = 640, 300
    left, right, top, bottom = 60, 16, 14, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for vs in (s.values, s.lower or [], s.upper or []) for v in vs if v is not None]
    if y_range:
        lo, hi = y_range
    elif values:
        lo, hi = min(values), max(values)
        if include_zero:
            lo, hi = min(lo, 0), max(hi, 0)
        pad = (hi - lo) * 0.08 or 1
        lo, hi = lo - (pad if lo < 0 or not include_zero else 0), hi + pad
    else:
        lo, hi = 0, 1
    ticks = _nice_ticks(lo, hi)
    lo, hi = ticks[0], ticks[-1]
    n = max(len(x_labels), 1)
    xs = [left + plot_w * (i + 0.5) / n for i in range(n)]

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - lo) / (hi - lo))

    out = [f'<svg class="app-chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart{uid}-t chart{uid}-d" '
           f'focusable="false"><title id="chart{uid}-t">{escape(title)}</title><desc id="chart{uid}-d">{escape(description)}</desc>']
    for t in ticks:
        colour = "#0b0c0c" if t == 0 and lo < 0 < hi or t == 0 else "#b1b4b6"
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="{colour}" '
                   f'stroke-width="{1.5 if colour == "#0b0c0c" else 1}"/>')
        out.append(f'<text x="{left - 8}" y="{y(t) + 4:.1f}" text-anchor="end" class="app-chart__tick">{_fmt(t)}</text>')
    step = max(1, math.ceil(n / 10))
    for i, label in enumerate(x_labels):
        if i % step == 0:
            out.append(f'<text x="{xs[i]:.1f}" y="{height - bottom + 18}" text-anchor="middle" class="app-chart__tick">'
                       f'{escape(label)}</text>')
    out.append(f'<text x="14" y="{top + plot_h / 2:.1f}" transform="rotate(-90 14 {top + plot_h / 2:.1f})" '
               f'text-anchor="middle" class="app-chart__axis">{escape(y_label)}</text>')
    for s in series:
        colour, dash, shape = STYLES[s.style % len(STYLES)]
        if s.lower is not None and s.upper is not None:
            for seg in _segments([(i, lo_, up) for i, (lo_, up) in enumerate(zip(s.lower, s.upper))
                                  if lo_ is not None and up is not None]):
                pts = [f"{xs[i]:.1f},{y(min(up, hi)):.1f}" for i, _, up in seg]
                pts += [f"{xs[i]:.1f},{y(max(lo_, lo)):.1f}" for i, lo_, _ in reversed(seg)]
                if len(seg) == 1:
                    i, lo_, up = seg[0]
                    out.append(f'<line x1="{xs[i]:.1f}" x2="{xs[i]:.1f}" y1="{y(up):.1f}" y2="{y(lo_):.1f}" stroke="{colour}" '
                               f'stroke-width="8" stroke-opacity="0.25"/>')
                else:
                    out.append(f'<polygon points="{" ".join(pts)}" fill="{colour}" fill-opacity="0.18"/>')
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        for seg in _segments([(i, v) for i, v in enumerate(s.values) if v is not None]):
            if len(seg) > 1:
                d = "M" + "L".join(f"{xs[i]:.1f} {y(v):.1f}" for i, v in seg)
                out.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="2.5"{dash_attr}/>')
        for i, v in enumerate(s.values):
            if v is not None:
                out.append(_marker(shape, xs[i], y(v), colour))
    out.append("</svg>")
    return Markup("".join(out))


def bar_chart(title: str, description: str, categories: list[str], series: list[Series], x_label: str,
              include_zero: bool = True) -> Markup:
    """Horizontal bars: a group of bars per category, one per series, with optional interval whiskers."""
    uid = next(_ids)
    label_w = min(260, 12 + 7 * max((len(c) for c in categories), default=10))
    width = 640
    bar_h, gap = 14, 10
    group_h = bar_h * len(series) + gap
    top, bottom = 8, 44
    height = top + group_h * len(categories) + bottom
    left, right = label_w, 24
    plot_w = width - left - right
    values = [v for s in series for vs in (s.values, s.lower or [], s.upper or []) for v in vs if v is not None]
    lo, hi = (min(values + [0] if include_zero else values), max(values + [0] if include_zero else values)) if values else (0, 1)
    ticks = _nice_ticks(lo, hi)
    lo, hi = ticks[0], ticks[-1]

    def x(v: float) -> float:
        return left + plot_w * (v - lo) / (hi - lo)

    out = [f'<svg class="app-chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart{uid}-t chart{uid}-d" '
           f'focusable="false"><title id="chart{uid}-t">{escape(title)}</title><desc id="chart{uid}-d">{escape(description)}</desc>']
    base = height - bottom
    for t in ticks:
        colour = "#0b0c0c" if t == 0 else "#b1b4b6"
        out.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top}" y2="{base}" stroke="{colour}"/>')
        out.append(f'<text x="{x(t):.1f}" y="{base + 16}" text-anchor="middle" class="app-chart__tick">{_fmt(t)}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" class="app-chart__axis">'
               f'{escape(x_label)}</text>')
    zero = x(max(lo, min(0, hi)))
    for ci, cat in enumerate(categories):
        gy = top + ci * group_h
        out.append(f'<text x="{left - 8}" y="{gy + group_h / 2 + 2:.1f}" text-anchor="end" class="app-chart__label">'
                   f'{escape(cat)}</text>')
        for si, s in enumerate(series):
            colour, _, _ = STYLES[s.style % len(STYLES)]
            v = s.values[ci]
            by = gy + si * bar_h
            if v is None:
                out.append(f'<text x="{zero + 4:.1f}" y="{by + bar_h - 3}" class="app-chart__note">withheld or none</text>')
                continue
            x0, x1 = sorted((zero, x(v)))
            out.append(f'<rect x="{x0:.1f}" y="{by + 1}" width="{max(x1 - x0, 1):.1f}" height="{bar_h - 2}" fill="{colour}"/>')
            if s.lower is not None and s.upper is not None and s.lower[ci] is not None and s.upper[ci] is not None:
                a, b = x(s.lower[ci]), x(s.upper[ci])
                mid = by + bar_h / 2
                out.append(f'<path d="M{a:.1f} {mid:.1f}H{b:.1f}M{a:.1f} {mid - 4:.1f}V{mid + 4:.1f}M{b:.1f} {mid - 4:.1f}'
                           f'V{mid + 4:.1f}" stroke="#0b0c0c" stroke-width="1.5" fill="none"/>')
    out.append("</svg>")
    return Markup("".join(out))


def _segments(points: list[tuple]) -> list[list[tuple]]:
    """Runs of consecutive x positions (a missing year breaks a line)."""
    runs: list[list[tuple]] = []
    for p in points:
        if runs and p[0] == runs[-1][-1][0] + 1:
            runs[-1].append(p)
        else:
            runs.append([p])
    return runs
