"""Small charts drawn on the server as SVG: real charts with axes and labels, no script needed."""

from __future__ import annotations

from html import escape


def bar_chart(rows: list[tuple[str, float, float | None, str]], title: str, legend: tuple[str, str] | None = None,
              width: int = 640) -> str:
    """Horizontal bars: ``(label, value, overlay or None, value text)`` per row.

    ``overlay`` is drawn over the bar in a darker colour (e.g. the round-tripped part of an inflow);
    ``legend`` names the bar and the overlay.  Values share one linear scale from zero.
    """
    bar_h, gap, left, right, top = 16, 6, 170, 110, 28
    height = top + len(rows) * (bar_h + gap) + (22 if legend else 6)
    top_value = max((r[1] for r in rows), default=0) or 1
    scale = (width - left - right) / top_value
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(title)}">',
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for i, (name, value, overlay, text) in enumerate(rows):
        y = top + i * (bar_h + gap)
        parts.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end" class="chart-label">{escape(name)}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{max(value * scale, 0.5):.1f}" height="{bar_h}" class="bar"/>')
        if overlay:
            parts.append(f'<rect x="{left}" y="{y}" width="{overlay * scale:.1f}" height="{bar_h}" class="bar-overlay"/>')
        parts.append(f'<text x="{left + value * scale + 4:.1f}" y="{y + 12}" class="chart-value">{escape(text)}</text>')
    axis_y = top + len(rows) * (bar_h + gap)
    parts.append(f'<line x1="{left}" y1="{top - 4}" x2="{left}" y2="{axis_y}" class="axis"/>')
    if legend:
        parts.append(f'<rect x="{left}" y="{axis_y + 6}" width="12" height="10" class="bar"/>'
                     f'<text x="{left + 16}" y="{axis_y + 15}" class="chart-label">{escape(legend[0])}</text>'
                     f'<rect x="{left + 220}" y="{axis_y + 6}" width="12" height="10" class="bar-overlay"/>'
                     f'<text x="{left + 236}" y="{axis_y + 15}" class="chart-label">{escape(legend[1])}</text>')
    parts.append("</svg>")
    return "".join(parts)
