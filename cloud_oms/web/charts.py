"""Charts as inline SVG, drawn on the server: vertical bars, horizontal bars and lines.

    >>> svg = bar_chart(["Mon", "Tue"], [("Sales", [120_000, 95_000])], fmt=str)
    >>> svg.startswith("<svg") and "Tue" in svg
    True

No JavaScript and no library: the SVG scales with its container (a viewBox, width 100%), every
text is escaped, colours come from a short palette, and each bar or point has a `<title>` so a
pointer (or a screen reader) shows its exact value. Empty data gives a short "no data" figure
rather than an empty box.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6")
FONT = 'font-family="system-ui, sans-serif"'


def nice_ticks(top: float, count: int = 4, integer: bool = False) -> list[float]:
    """Round tick values from 0 to at least `top`: 0, 25k, 50k, 75k, 100k (whole steps only
    when `integer`, for counts)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if integer:
        step = max(1, math.ceil(step))
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(ticks[-1] + step)
    return ticks


def short(value: float) -> str:
    """Axis labels: 1.5 jt, 250 rb (Indonesian thousands and millions), plain below that."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    for size, unit in ((1e12, " T"), (1e9, " M"), (1e6, " jt"), (1e3, " rb")):
        if value >= size:
            number = value / size
            text = f"{number:.1f}".rstrip("0").rstrip(".")
            return f"{sign}{text}{unit}"
    return f"{sign}{value:g}"


def _empty(title: str, width: int) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} 60" role="img" aria-label="{escape(title)}">'
        f'<text x="{width / 2}" y="35" text-anchor="middle" {FONT} font-size="14" '
        f'fill="#6b7280">No data for this period</text></svg>'
    )


def _legend(series: Sequence[tuple[str, Sequence]], x: float, y: float) -> str:
    if len(series) < 2:
        return ""
    parts = []
    for i, (name, _) in enumerate(series):
        cx = x + i * 170
        parts.append(
            f'<rect x="{cx}" y="{y - 9}" width="10" height="10" fill="{PALETTE[i % 5]}"/>'
            f'<text x="{cx + 14}" y="{y}" {FONT} font-size="12" fill="#374151">'
            f"{escape(name)}</text>"
        )
    return "".join(parts)


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str = "chart",
    fmt: Callable[[float], str] = short,
    width: int = 720,
    height: int = 280,
    integer: bool = False,
) -> Markup:
    """Vertical bars, one group per label and one bar per series in a group."""
    values = [v or 0 for _, vs in series for v in vs]
    if not labels or not any(values):
        return _empty(title, width)
    left, right, top, bottom = 56, 10, 24 if len(series) > 1 else 10, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    low = min(0, min(values))
    ticks = nice_ticks(max(values) if max(values) > 0 else 1, integer=integer)
    high = ticks[-1]
    span = high - low or 1

    def y(v: float) -> float:
        return top + plot_h * (high - v) / span

    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">'
    ]
    for t in ticks:
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(t):.1f}" y2="{y(t):.1f}" '
            f'stroke="#e5e7eb"/><text x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end" '
            f'{FONT} font-size="11" fill="#6b7280">{escape(short(t))}</text>'
        )
    group = plot_w / len(labels)
    bar = max(min(group * 0.8 / len(series), 60), 1)
    every = max(1, math.ceil(len(labels) / 14))  # at most ~14 labels on the axis
    for i, name in enumerate(labels):
        gx = left + i * group + (group - bar * len(series)) / 2
        for s, (series_name, vs) in enumerate(series):
            v = vs[i] or 0
            y0, y1 = sorted((y(0), y(v)))
            out.append(
                f'<rect x="{gx + s * bar:.1f}" y="{y0:.1f}" width="{bar:.1f}" '
                f'height="{max(y1 - y0, 0.5):.1f}" fill="{PALETTE[s % 5]}">'
                f"<title>{escape(name)} — {escape(series_name)}: {escape(fmt(v))}</title></rect>"
            )
        if i % every == 0:
            cx = left + i * group + group / 2
            out.append(
                f'<text x="{cx:.1f}" y="{height - bottom + 16}" text-anchor="middle" {FONT} '
                f'font-size="11" fill="#374151">{escape(_clip(str(name), 12))}</text>'
            )
    out.append(
        f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#9ca3af"/>'
    )
    out.append(_legend(series, left, 14))
    out.append("</svg>")
    return Markup("".join(out))


def hbar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str = "chart",
    fmt: Callable[[float], str] = short,
    width: int = 720,
) -> Markup:
    """Horizontal bars, one per label, the value written at the end of each."""
    values = [v or 0 for v in values]
    if not labels or not any(values):
        return _empty(title, width)
    row, left, right = 26, 170, 110
    height = row * len(labels) + 10
    high = max(max(values), 0) or 1
    low = min(min(values), 0)
    span = high - low
    plot_w = width - left - right

    def x(v: float) -> float:
        return left + plot_w * (v - low) / span

    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">'
    ]
    for i, (name, v) in enumerate(zip(labels, values, strict=True)):
        top = 5 + i * row
        x0, x1 = sorted((x(0), x(v)))
        out.append(
            f'<text x="{left - 8}" y="{top + 16}" text-anchor="end" {FONT} font-size="12" '
            f'fill="#374151">{escape(_clip(str(name), 24))}</text>'
            f'<rect x="{x0:.1f}" y="{top + 3}" width="{max(x1 - x0, 0.5):.1f}" height="{row - 8}" '
            f'fill="{PALETTE[0] if v >= 0 else PALETTE[3]}"><title>{escape(str(name))}: '
            f"{escape(fmt(v))}</title></rect>"
            f'<text x="{x1 + 6:.1f}" y="{top + 16}" {FONT} font-size="11" fill="#374151">'
            f"{escape(fmt(v))}</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str = "chart",
    fmt: Callable[[float], str] = short,
    width: int = 720,
    height: int = 280,
    integer: bool = False,
) -> Markup:
    """One line per series over the same labels (e.g. this period against the last)."""
    values = [v or 0 for _, vs in series for v in vs]
    if not labels or not any(values):
        return _empty(title, width)
    left, right, top, bottom = 56, 14, 26, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    low = min(0, min(values))
    ticks = nice_ticks(max(values) if max(values) > 0 else 1, integer=integer)
    high = ticks[-1]
    span = high - low or 1
    step = plot_w / max(len(labels) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + plot_h * (high - v) / span

    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">'
    ]
    for t in ticks:
        _, ty = xy(0, t)
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="#e5e7eb"/><text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" '
            f'{FONT} font-size="11" fill="#6b7280">{escape(short(t))}</text>'
        )
    every = max(1, math.ceil(len(labels) / 10))
    for i, name in enumerate(labels):
        if i % every == 0:
            lx, _ = xy(i, 0)
            out.append(
                f'<text x="{lx:.1f}" y="{height - bottom + 16}" text-anchor="middle" {FONT} '
                f'font-size="11" fill="#374151">{escape(_clip(str(name), 10))}</text>'
            )
    for s, (series_name, vs) in enumerate(series):
        colour = PALETTE[s % 5]
        points = " ".join(
            f"{px:.1f},{py:.1f}" for px, py in (xy(i, v or 0) for i, v in enumerate(vs))
        )
        dash = ' stroke-dasharray="5 4"' if s else ""
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
        )
        for i, v in enumerate(vs):
            px, py = xy(i, v or 0)
            out.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"><title>'
                f"{escape(str(labels[i]))} — {escape(series_name)}: {escape(fmt(v or 0))}"
                "</title></circle>"
            )
    out.append(_legend(series, left, 14))
    out.append("</svg>")
    return Markup("".join(out))
