"""Bar charts as inline SVG (no JavaScript), each bar with its number written beside it."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

COLOURS = ("#1f5fa8", "#b35900", "#2e7d32")  # each ≥ 4.5:1 against white
LABEL_W, BAR_W, ROW_H, BAR_H = 190, 300, 20, 14


def bars(title: str, groups: Sequence[tuple[str, Sequence[int]]], series: Sequence[str]
         ) -> str:
    """Horizontal bars: one block per group, one bar per series, scaled to the largest."""
    top = max((v for _, values in groups for v in values), default=0) or 1
    per_group = len(series) * ROW_H + 8
    height = 24 + len(groups) * per_group
    width = LABEL_W + BAR_W + 70
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" direction="ltr">'
           f"<title>{escape(title)}</title>"]
    for i, name in enumerate(series):
        x = LABEL_W + i * 110
        out.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{COLOURS[i % 3]}"/>'
                   f'<text x="{x + 14}" y="13" font-size="11" fill="#1a1a1a">'
                   f"{escape(name)}</text>")
    y = 24
    for label, values in groups:
        out.append(f'<text x="0" y="{y + 11}" font-size="12" fill="#1a1a1a">'
                   f"{escape(_cut(label))}</text>")
        for i, value in enumerate(values):
            w = round(BAR_W * value / top) if value else 0
            out.append(f'<rect x="{LABEL_W}" y="{y}" width="{w}" height="{BAR_H}" '
                       f'fill="{COLOURS[i % 3]}"/>'
                       f'<text x="{LABEL_W + w + 4}" y="{y + 11}" font-size="11" '
                       f'fill="#1a1a1a">{value}</text>')
            y += ROW_H
        y += 8
    out.append("</svg>")
    return "".join(out)


def _cut(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
