"""Charts drawn on the server as SVG: nothing to download, nothing that needs the internet or JavaScript.

Each function takes figures from :mod:`central.reports.figures` and returns escaped SVG markup (colours as
presentation attributes, so the pages' Content-Security-Policy can forbid inline styles).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from markupsafe import Markup, escape

from common import numbers

Pct = Callable[[float | None], str]

WEEKDAYS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")
GREEN, AMBER, RED, GREY, BLUE = "#2e7d32", "#f9a825", "#c62828", "#9e9e9e", "#1565c0"
LEVEL_COLOURS = {"very_satisfied": GREEN, "satisfied": "#66bb6a", "neutral": AMBER, "unsatisfied": RED}


def _svg(width: int, height: int, body: list[str], title: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def levels_bar(levels: Sequence[dict[str, Any]], title: str, pct: Pct = numbers.percent) -> Markup:
    """One horizontal stacked bar of the level distribution, with the shares written on it (``pct``: 87,5%)."""
    total = sum(level["n"] for level in levels)
    width, body, x = 600, [], 0.0
    if not total:
        body.append(f'<rect x="0" y="0" width="{width}" height="28" fill="#eeeeee"/>')
    for level in levels:
        if not level["n"]:
            continue
        w = width * level["n"] / total
        colour = LEVEL_COLOURS.get(level["key"], GREY)
        body.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="28" fill="{colour}">')
        body.append(f"<title>{escape(level['label'])}: {level['n']} ({pct(level['pct'])})</title></rect>")
        if w > 40:
            body.append(
                f'<text x="{x + w / 2:.1f}" y="19" text-anchor="middle" font-size="13" fill="#ffffff">'
                f"{pct(level['pct'])}</text>"
            )
        x += w
    return _svg(width, 28, body, title)


def slot_label(slot: str, unit: str = "day") -> str:
    """A trend bucket as Vietnamese charts write it: a day "05/01", a month "01/2026" (never ISO "2026-01-05")."""
    year, month, day = slot[:10].split("-")
    return f"{day}/{month}" if unit == "day" else f"{month}/{year}"


def trend_line(points: Sequence[dict[str, Any]], slots: Sequence[str], title: str, unit: str = "day") -> Markup:
    """Bars for the number of ratings per day or month, a line for the share at satisfied or above.

    ``slots`` are every day (or month, ``unit``) of the period, so that gaps show as gaps.
    """
    width, height, pad = 640, 200, 30
    body = [
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - 5}" y2="{height - pad}" stroke="#888888"/>',
        f'<text x="2" y="{pad}" font-size="11" fill="#555555">100%</text>',
        f'<text x="2" y="{height - pad}" font-size="11" fill="#555555">0%</text>',
    ]
    if not slots:
        return _svg(width, height, body, title)
    position = {slot: i for i, slot in enumerate(slots)}
    step = (width - pad - 10) / len(slots)
    most = max((p["ratings"] for p in points), default=0) or 1
    line = []
    for p in points:
        if p["bucket"] not in position:
            continue
        x = pad + position[p["bucket"]] * step
        h = (height - 2 * pad) * p["ratings"] / most
        body.append(
            f'<rect x="{x + step * 0.1:.1f}" y="{height - pad - h:.1f}" width="{max(step * 0.8, 1):.1f}" '
            f'height="{h:.1f}" fill="#90caf9"><title>{slot_label(p["bucket"], unit)}: {p["ratings"]}</title></rect>'
        )
        if p["satisfied_plus_pct"] is not None:
            y = height - pad - (height - 2 * pad) * p["satisfied_plus_pct"] / 100
            line.append(f"{x + step / 2:.1f},{y:.1f}")
    if line:
        body.append(f'<polyline points="{" ".join(line)}" fill="none" stroke="{GREEN}" stroke-width="2"/>')
        body.extend(f'<circle cx="{xy.split(",")[0]}" cy="{xy.split(",")[1]}" r="3" fill="{GREEN}"/>' for xy in line)
    body.append(f'<text x="{pad}" y="{height - 8}" font-size="11" fill="#555555">{slot_label(slots[0], unit)}</text>')
    body.append(
        f'<text x="{width - 5}" y="{height - 8}" font-size="11" text-anchor="end" fill="#555555">'
        f"{slot_label(slots[-1], unit)}</text>"
    )
    return _svg(width, height, body, title)


def heat_map(
    heat: dict[str, Any],
    title: str,
    measure: str = "ratings",
    pct: Pct = numbers.percent,
    satisfied: str = "hài lòng trở lên",
) -> Markup:
    """Weekday × hour grid; darker = more ratings (or tickets). ``satisfied``: "satisfied or above", worded."""
    first, last = heat["hours"]
    hours = last - first + 1
    cell, left, top = 34, 34, 20
    most = heat["max_ratings" if measure == "ratings" else "max_tickets"] or 1
    body = []
    for j in range(hours):
        body.append(
            f'<text x="{left + j * cell + cell / 2}" y="14" font-size="11" text-anchor="middle" '
            f'fill="#555555">{first + j}h</text>'
        )
    for i, row in enumerate(heat["rows"]):
        y = top + i * cell
        body.append(f'<text x="2" y="{y + cell / 2 + 4}" font-size="12" fill="#333333">{WEEKDAYS[i]}</text>')
        for j, c in enumerate(row["cells"]):
            value = c[measure]
            shade = 0.08 + 0.92 * value / most if value else 0
            fill = f"rgba(21,101,192,{shade:.2f})" if value else "#f5f5f5"
            note = f"{WEEKDAYS[i]} {c['hour']}h: {value}"
            if measure == "ratings" and value:
                note += f" ({pct(c['satisfied_plus_pct'])} {satisfied})"
            body.append(
                f'<rect x="{left + j * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{fill}">'
                f"<title>{escape(note)}</title></rect>"
            )
            if value:
                colour = "#ffffff" if shade > 0.5 else "#222222"
                body.append(
                    f'<text x="{left + j * cell + (cell - 2) / 2}" y="{y + cell / 2 + 3}" font-size="11" '
                    f'text-anchor="middle" fill="{colour}">{value}</text>'
                )
    return _svg(left + hours * cell, top + 7 * cell, body, title)
