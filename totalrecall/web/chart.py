"""A small inline SVG line chart: one service's entries held per data type over the last runs. No script, no CDN."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

__all__ = ["held_chart", "COLOURS"]

COLOURS = {"watchlist": "#2b7bb9", "ratings": "#d9822b", "reviews": "#7a4fb5", "watch_history": "#3a9a5b"}
_WIDTH, _HEIGHT, _PAD = 380, 150, 28


def held_chart(service: str, series: Sequence[Mapping[str, int]], labels: Sequence[str] = ()) -> str:
    """`series`: per run (oldest first), entries held per data type. Returns an <svg> element as text."""
    data_types = [name for name in COLOURS if any(name in point for point in series)]
    data_types += sorted({name for point in series for name in point} - set(data_types))
    if not series or not data_types:
        return f'<svg class="chart" role="img" aria-label="{escape(service)}: no runs yet" width="{_WIDTH}" ' \
               f'height="{_HEIGHT}"><text x="{_PAD}" y="{_HEIGHT // 2}">no runs yet</text></svg>'
    top = max(1, *(point.get(name, 0) for point in series for name in data_types))
    step = (_WIDTH - 2 * _PAD) / max(1, len(series) - 1)

    def x(index: int) -> float:
        return _PAD + index * step if len(series) > 1 else _WIDTH / 2

    def y(value: int) -> float:
        return _HEIGHT - _PAD - value / top * (_HEIGHT - 2 * _PAD)

    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(service)}: entries held per data type over the last '
        f'{len(series)} runs" width="{_WIDTH}" height="{_HEIGHT}" viewBox="0 0 {_WIDTH} {_HEIGHT}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{_PAD}" y1="{_HEIGHT - _PAD}" x2="{_WIDTH - _PAD}" y2="{_HEIGHT - _PAD}" stroke="#999"/>',
        f'<text x="2" y="{_PAD}" font-size="10">{top}</text>',
        f'<text x="2" y="{_HEIGHT - _PAD}" font-size="10">0</text>',
    ]
    for row, name in enumerate(data_types):
        colour = COLOURS.get(name, "#555")
        points = " ".join(f"{x(i):.1f},{y(point.get(name, 0)):.1f}" for i, point in enumerate(series))
        parts.append(f'<polyline class="series" data-type="{escape(name)}" fill="none" stroke="{colour}" '
                     f'stroke-width="2" points="{points}"><title>{escape(name)}</title></polyline>')
        # Dots, so that a single run (a polyline of one point draws nothing) still shows.
        parts.extend(f'<circle cx="{x(i):.1f}" cy="{y(point.get(name, 0)):.1f}" r="2.5" fill="{colour}"/>'
                     for i, point in enumerate(series))
        last = series[-1].get(name, 0)
        legend_x = _PAD + row * (_WIDTH - 2 * _PAD) / len(data_types)
        parts.append(f'<text x="{legend_x:.0f}" y="{_HEIGHT - 6}" font-size="10" fill="{colour}">'
                     f'{escape(name.replace("watch_history", "history"))} {last}</text>')
    if labels:
        parts.append(f'<title>{escape(labels[0])} – {escape(labels[-1])}</title>')
    parts.append("</svg>")
    return "".join(parts)
