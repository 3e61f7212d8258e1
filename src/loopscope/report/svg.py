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


def column_chart(columns: list[tuple[str, float, str]], line: list[float] | None, title: str,
                 legend: tuple[str, str] | None = None, line_text: list[str] | None = None,
                 scale_text=None, width: int = 640, height: int = 260) -> str:
    """Vertical bars ``(label, value, value text)`` per column, with an optional line over them
    (one value per column, e.g. revenue against commitments); bars and line share one linear scale
    from zero; ``scale_text(value)`` writes the top of the left axis."""
    left, right, top, bottom = 96, 10, 28, 44
    inner_w, inner_h = width - left - right, height - top - bottom
    values = [c[1] for c in columns] + [v for v in (line or []) if v == v]
    top_value = max(values, default=0) or 1
    slot = inner_w / max(len(columns), 1)
    bar_w = slot * 0.6

    def y(value: float) -> float:
        return top + inner_h - value / top_value * inner_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(title)}">',
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + inner_h}" class="axis"/>',
        f'<line x1="{left}" y1="{top + inner_h}" x2="{left + inner_w}" y2="{top + inner_h}" class="axis"/>',
    ]
    for i, (name, value, text) in enumerate(columns):
        x = left + i * slot + (slot - bar_w) / 2
        parts.append(f'<rect x="{x:.1f}" y="{y(value):.1f}" width="{bar_w:.1f}" height="{max(top + inner_h - y(value), 0.5):.1f}" '
                     f'class="bar"><title>{escape(name)}: {escape(text)}</title></rect>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + inner_h + 14}" text-anchor="middle" class="chart-label">{escape(name)}</text>')
    if line:
        points = [(left + i * slot + slot / 2, y(v)) for i, v in enumerate(line) if v == v]
        parts.append('<polyline class="chart-line" fill="none" points="' + " ".join(f"{px:.1f},{py:.1f}" for px, py in points) + '"/>')
        for i, (px, py) in enumerate(points):
            tip = f"<title>{escape(line_text[i])}</title>" if line_text else ""
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" class="chart-point">{tip}</circle>')
    if scale_text is not None:  # the value at the top of the axis, in the caller's units and language
        parts.append(f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" class="chart-label">{escape(scale_text(top_value))}</text>'
                     f'<text x="{left - 6}" y="{top + inner_h}" text-anchor="end" class="chart-label">0</text>')
    if legend:
        ly = height - 10
        parts.append(f'<rect x="{left}" y="{ly - 9}" width="12" height="10" class="bar"/>'
                     f'<text x="{left + 16}" y="{ly}" class="chart-label">{escape(legend[0])}</text>'
                     f'<line x1="{left + 220}" y1="{ly - 4}" x2="{left + 240}" y2="{ly - 4}" class="chart-line"/>'
                     f'<text x="{left + 246}" y="{ly}" class="chart-label">{escape(legend[1])}</text>')
    parts.append("</svg>")
    return "".join(parts)
