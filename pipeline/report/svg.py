"""Small inline-SVG charts for the HTML report: no JavaScript, no library, nothing fetched.

Every chart is one ``<svg class="plot">`` element with a fixed size, a ``<title>`` for screen readers and
``<title>`` tooltips on its bars. Every label passes through ``html.escape``: source names, stage names and
reasons come from the user's recipe and data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
KEPT_COLOR = "#4e79a7"
DROPPED_COLOR = "#e15759"
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def human(value: float) -> str:
    """1234567 -> '1.23M'; used for axis ticks and bar labels."""
    a = abs(value)
    for suffix, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if a >= scale:
            return f"{value / scale:.3g}{suffix}"
    if a == 0 or a >= 1:
        return f"{value:.4g}"
    return f"{value:.3g}"


def _open(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg class="plot" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" {FONT}>',
        f"<title>{escape(title)}</title>",
        f'<text x="8" y="16" font-size="13" font-weight="600">{escape(title)}</text>',
    ]


def stacked_hbars(
    title: str,
    rows: Sequence[tuple[str, dict[str, float]]],
    series: Sequence[str],
    fmt: Callable[[float], str] = human,
    width: int = 760,
) -> str:
    """One horizontal bar per row, split by series (e.g. tokens per stage, split by source)."""
    label_w, right_pad, bar_h, gap, top = 170, 70, 18, 6, 28
    legend_h = 18 * math.ceil(len(series) / 4) if len(series) > 1 else 0
    height = top + len(rows) * (bar_h + gap) + legend_h + 12
    longest = max([sum(v.values()) for _, v in rows] + [0]) or 1
    scale = (width - label_w - right_pad) / longest
    out = _open(width, height, title)
    for r, (label, values) in enumerate(rows):
        y = top + r * (bar_h + gap)
        out.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{escape(label[:28])}</text>')
        x = float(label_w)
        for s, name in enumerate(series):
            v = values.get(name, 0)
            if v <= 0:
                continue
            w = max(v * scale, 0.5)
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color(s)}">'
                f"<title>{escape(label)} / {escape(name)}: {escape(fmt(v))}</title></rect>"
            )
            x += w
        out.append(f'<text x="{x + 4:.1f}" y="{y + 13}">{escape(fmt(sum(values.values())))}</text>')
    if legend_h:
        y0 = top + len(rows) * (bar_h + gap) + 4
        for s, name in enumerate(series):
            lx, ly = 8 + (s % 4) * (width // 4), y0 + (s // 4) * 18
            out.append(f'<rect x="{lx}" y="{ly}" width="10" height="10" fill="{color(s)}"/>')
            out.append(f'<text x="{lx + 14}" y="{ly + 9}">{escape(name[:32])}</text>')
    out.append("</svg>")
    return "\n".join(out)


def histogram(
    title: str,
    edges: Sequence[float],
    groups: dict[str, Sequence[int]],
    log2: bool = False,
    width: int = 370,
    height: int = 200,
) -> str:
    """Kept and dropped counts per bin, stacked (kept below). ``log2`` bins are labelled by their lower edge."""
    n_bins = len(edges) - 1
    nonzero = [i for i in range(n_bins) if any(g[i] for g in groups.values())]
    lo, hi = (min(nonzero), max(nonzero) + 1) if nonzero else (0, n_bins)
    left, bottom, top, right = 44, 30, 26, 10
    plot_w, plot_h = width - left - right, height - top - bottom
    bins = range(lo, hi)
    totals = [sum(g[i] for g in groups.values()) for i in bins]
    peak = max(totals + [1])
    bw = plot_w / max(len(totals), 1)
    out = _open(width, height, title)
    base = top + plot_h
    out.append(f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="#888"/>')
    out.append(f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{human(peak)}</text>')
    out.append(f'<text x="{left - 4}" y="{base}" text-anchor="end">0</text>')
    for j, i in enumerate(bins):
        y = float(base)
        for name, counts in groups.items():
            c = counts[i]
            if not c:
                continue
            h = c / peak * plot_h
            y -= h
            fill = DROPPED_COLOR if name == "dropped" else KEPT_COLOR
            out.append(
                f'<rect x="{left + j * bw + 0.5:.1f}" y="{y:.1f}" width="{max(bw - 1, 0.8):.1f}" height="{h:.1f}" '
                f'fill="{fill}"><title>{escape(name)} [{human(edges[i])}, {human(edges[i + 1])}): {c:,}</title></rect>'
            )
    ticks = sorted({0, len(totals) // 2, len(totals)})
    for t in ticks:
        i = min(lo + t, n_bins)
        out.append(f'<text x="{left + t * bw:.1f}" y="{base + 14}" text-anchor="middle">{human(edges[i])}</text>')
    axis = "tokens (log2 bins)" if log2 else ""
    if axis:
        out.append(f'<text x="{left + plot_w / 2:.0f}" y="{height - 3}" text-anchor="middle">{axis}</text>')
    lx = width - 120
    for k, name in enumerate(groups):
        fill = DROPPED_COLOR if name == "dropped" else KEPT_COLOR
        out.append(f'<rect x="{lx + k * 60}" y="6" width="10" height="10" fill="{fill}"/>')
        out.append(f'<text x="{lx + k * 60 + 13}" y="15">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def vbars(title: str, labels: Sequence[str], values: Sequence[float], width: int = 370, height: int = 200) -> str:
    """Plain vertical bars (dedup cluster sizes, PII counts by type)."""
    left, bottom, top, right = 44, 42, 26, 10
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(list(values) + [1])
    bw = plot_w / max(len(values), 1)
    base = top + plot_h
    out = _open(width, height, title)
    out.append(f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="#888"/>')
    out.append(f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{human(peak)}</text>')
    for j, (label, v) in enumerate(zip(labels, values, strict=True)):
        h = v / peak * plot_h
        x = left + j * bw
        out.append(
            f'<rect x="{x + 1:.1f}" y="{base - h:.1f}" width="{max(bw - 2, 0.8):.1f}" height="{h:.1f}" '
            f'fill="{color(j)}"><title>{escape(label)}: {v:,}</title></rect>'
        )
        out.append(
            f'<text x="{x + bw / 2:.1f}" y="{base + 12}" text-anchor="middle" font-size="9">{escape(label[:14])}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)
