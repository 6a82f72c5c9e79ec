"""Small server-rendered SVG charts (no script, so the content-security policy stays strict and the charts also
print). Each chart has a title and a text table beside it in the page for screen readers."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2")
BUCKET_COLOURS = ("#dc2626", "#f97316", "#facc15", "#4ade80", "#22c55e", "#15803d")


def _month_label(month: str) -> str:
    names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return f"{names[int(month[5:]) - 1]} {month[2:4]}"


def _open(title: str, width: int, height: int, left: int, *, size: int = 13, baseline: int = 16) -> list[str]:
    """The opening of a chart: the SVG element (scaled by CSS to its card) and its title."""
    return [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{left}" y="{baseline}" font-size="{size}" font-weight="600" fill="#111827">{escape(title)}</text>',
    ]


def line_chart(
    title: str,
    months: list[str],
    series: list[tuple[str, list[float | None]]],
    *,
    percent: bool = True,
    marks: dict[str, str] | None = None,
    width: int = 560,
    height: int = 220,
) -> SafeString:
    """Lines over months; `marks` puts a labelled vertical rule before a month (e.g. a model change)."""
    left, right, top, bottom = 44, 12, 28, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, vs in series for v in vs if v is not None]
    top_value = 1.0 if percent else max([*values, 1.0]) * 1.1
    n = max(1, len(months) - 1)

    def x(i: int) -> float:
        return left + plot_w * i / n

    def y(v: float) -> float:
        return top + plot_h * (1 - v / top_value)

    parts = _open(title, width, height, left)
    for k in range(5):
        v = top_value * k / 4
        label = f"{round(100 * v)}%" if percent else f"{v:.0f}"
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e5e7eb"/>'
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end" fill="#6b7280">{label}</text>'
        )
    for i, m in enumerate(months):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - bottom + 16}" font-size="10" text-anchor="middle" '
            f'fill="#374151">{_month_label(m)}</text>'
        )
    for m, label in (marks or {}).items():
        if m in months:
            i = months.index(m)
            xm = x(i) - (plot_w / n / 2 if i else 0)
            parts.append(
                f'<line x1="{xm:.1f}" x2="{xm:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#6b7280" '
                f'stroke-dasharray="4 3"/><text x="{xm + 4:.1f}" y="{top + 10}" font-size="10" '
                f'fill="#374151">{escape(label)}</text>'
            )
    for k, (name, vs) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        path, pen = [], "M"
        for i, v in enumerate(vs):
            if v is None:
                pen = "M"
                continue
            path.append(f"{pen}{x(i):.1f},{y(v):.1f}")
            pen = "L"
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>')
        if path:
            parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        lx = left + (k % 3) * 170
        ly = height - 12 + (k // 3) * 0
        parts.append(
            f'<rect x="{lx}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{lx + 14}" y="{ly + 1}" font-size="10" fill="#374151">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every interpolated text above is escaped


def stacked_bars(
    title: str, months: list[str], buckets: list[str], counts: list[dict[str, int]], *, width: int = 560
) -> SafeString:
    """One bar per month, split into buckets as shares of the month's total (minutes distribution)."""
    height, left, right, top, bottom = 220, 44, 12, 28, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / max(1, len(months))
    parts = _open(title, width, height, left)
    for i, (m, c) in enumerate(zip(months, counts, strict=True)):
        total = sum(c.values())
        x = left + i * slot + slot * 0.15
        y = top + plot_h
        for b, colour in zip(buckets, BUCKET_COLOURS, strict=False):
            h = plot_h * c.get(b, 0) / total if total else 0
            if h:
                y -= h
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" fill="{colour}">'
                    f"<title>{escape(b)} min: {c.get(b, 0)}</title></rect>"
                )
        parts.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{height - bottom + 16}" font-size="10" text-anchor="middle" '
            f'fill="#374151">{_month_label(m)}</text>'
        )
    for k, (b, colour) in enumerate(zip(buckets, BUCKET_COLOURS, strict=False)):
        lx = left + k * 82
        parts.append(
            f'<rect x="{lx}" y="{height - 20}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{lx + 14}" y="{height - 11}" font-size="10" fill="#374151">{escape(b)} min</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every interpolated text above is escaped


def histogram(title: str, labels: list[str], counts: list[int], *, width: int = 360, colour: str = PALETTE[0]):
    """Bars of a distribution (e.g. simulated consistency across runs)."""
    height, left, top, bottom = 160, 30, 24, 30
    plot_w, plot_h = width - left - 8, height - top - bottom
    peak = max([*counts, 1])
    slot = plot_w / max(1, len(counts))
    parts = _open(title, width, height, left, size=12, baseline=14)
    for i, (label, c) in enumerate(zip(labels, counts, strict=True)):
        h = plot_h * c / peak
        x = left + i * slot
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" width="{slot - 2:.1f}" height="{h:.1f}" '
            f'fill="{colour}"><title>{escape(label)}: {c}</title></rect>'
        )
        if i % 2 == 0:
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{height - 14}" font-size="9" text-anchor="middle" '
                f'fill="#374151">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every interpolated text above is escaped


def hbars(
    title: str,
    rows: list[tuple[str, float]],
    *,
    unit: str = "",
    percent: bool = False,
    width: int = 560,
    colour: str = PALETTE[0],
) -> SafeString:
    """Horizontal bars, one per labelled row (a funnel's stages, a month's codes, practices side by side), each
    with its value written at its end; the page keeps the same figures in a table for screen readers."""
    bar_h, gap, top, left_pad = 18, 8, 28, 8
    label_w = min(220, max([len(label) for label, _ in rows] + [4]) * 6 + 12)
    plot_w = width - label_w - left_pad - 70
    height = top + len(rows) * (bar_h + gap) + 4
    peak = 1.0 if percent else max([v for _, v in rows] + [1e-9])
    parts = _open(title, width, height, left_pad)
    for i, (label, value) in enumerate(rows):
        y = top + i * (bar_h + gap)
        w = plot_w * (value / peak if peak else 0)
        shown = f"{round(100 * value)}%" if percent else (f"{value:,.2f}" if isinstance(value, float) else f"{value:,}")
        parts.append(
            f'<text x="{left_pad + label_w - 6}" y="{y + 13}" font-size="11" text-anchor="end" fill="#374151">'
            f"{escape(label)}</text>"
            f'<rect x="{left_pad + label_w}" y="{y}" width="{max(w, 0):.1f}" height="{bar_h}" rx="3" fill="{colour}">'
            f"<title>{escape(label)}: {escape(unit)}{shown}</title></rect>"
            f'<text x="{left_pad + label_w + max(w, 0) + 6:.1f}" y="{y + 13}" font-size="11" fill="#111827">'
            f"{escape(unit)}{shown}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every interpolated text above is escaped


def trend_chart(
    title: str,
    series: list[tuple[str, list[tuple]]],
    *,
    start,
    end,
    band: tuple[float | None, float | None] | None = None,
    unit: str = "",
    width: int = 360,
    height: int = 150,
) -> SafeString:
    """Values over time (x proportional to the date from `start` to `end`), one line per series of (date,
    value) points; `band` shades the usual range (low, high; either may be open)."""
    left, right, top, bottom = 40, 10, 26, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [float(v) for _, points in series for _, v in points]
    limits = [float(b) for b in (band or ()) if b is not None]
    low_v, high_v = min([*values, *limits]), max([*values, *limits])
    pad = (high_v - low_v) * 0.1 or abs(high_v) * 0.1 or 1.0
    low_v, high_v = low_v - pad, high_v + pad
    days = max(1, (end - start).days)

    def x(day) -> float:
        return left + plot_w * min(max((day - start).days, 0), days) / days

    def y(v: float) -> float:
        return top + plot_h * (1 - (float(v) - low_v) / (high_v - low_v))

    parts = _open(title, width, height, left, size=12, baseline=14)
    if band is not None:
        b_low = y(band[0]) if band[0] is not None else top + plot_h
        b_high = y(band[1]) if band[1] is not None else top
        parts.append(
            f'<rect x="{left}" y="{b_high:.1f}" width="{plot_w}" height="{max(0.0, b_low - b_high):.1f}" '
            'fill="#dcfce7"/>'
        )
    for k in range(3):
        v = low_v + (high_v - low_v) * (k + 0.5) / 3
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e5e7eb"/>'
            f'<text x="{left - 5}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end" fill="#6b7280">'
            f"{v:.{0 if high_v - low_v >= 10 else 1 if high_v - low_v >= 1 else 2}f}</text>"
        )
    for day, anchor in ((start, "start"), (end, "end")):
        parts.append(
            f'<text x="{x(day):.1f}" y="{height - bottom + 14}" font-size="10" text-anchor="{anchor}" '
            f'fill="#374151">{day:%b %Y}</text>'
        )
    for k, (name, points) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        path = " ".join(f"{'M' if i == 0 else 'L'}{x(d):.1f},{y(v):.1f}" for i, (d, v) in enumerate(points))
        if path:
            parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        for d, v in points:
            parts.append(
                f'<circle cx="{x(d):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}"><title>{d:%Y-%m-%d}: '
                f"{float(v):g} {escape(unit)}</title></circle>"
            )
        if len(series) > 1:
            lx = left + k * 120
            parts.append(
                f'<rect x="{lx}" y="{height - 12}" width="9" height="9" fill="{colour}"/>'
                f'<text x="{lx + 13}" y="{height - 4}" font-size="10" fill="#374151">{escape(name)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every interpolated text above is escaped
