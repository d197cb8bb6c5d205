"""How measured points, theory lines and flagged cells are drawn on a chart.

Cells whose numbers cannot be taken at face value are drawn hollow and labelled, never
hidden: client-bound cells (the load generator was the bottleneck, so they measure it) and
cells with lost or repeated events or errors (their `verdict`, lab.cell_summary).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from matplotlib.lines import Line2D

from lab.cell_selection import Point
from lab.cell_summary import CellSummary
from lab.charts.style import (
    CLIENT_BOUND_LABEL,
    LOST_COLOR,
    LOST_LABEL,
    MUTED,
    NOTE_BOX,
    NOTE_PT,
    THEORY_STYLE,
    TRANSPORT_COLORS,
)


def flag_color(row: CellSummary, color: str) -> str:
    """The colour of a flagged cell's note: red for lost events, else the given colour."""
    return LOST_COLOR if row.verdict.lossy else color


def lost_mark(ax, x: float, y: float, gid: str | None = None) -> None:
    """The red cross drawn inside a hollow marker whose cell lost events."""
    ax.plot([x], [y], ls="none", marker="x", ms=6, mew=2, color=LOST_COLOR, zorder=5, gid=gid)


def flag_handles(rows: Iterable[CellSummary], marker: str = "o") -> list:
    """Legend entries for the kinds of flagged cells among `rows`: a hollow marker for
    client-bound cells, a hollow marker with a red cross for lost events."""
    rows = list(rows)
    handles: list[Any] = []
    hollow: dict[str, Any] = {
        "ls": "none",
        "marker": marker,
        "ms": 10,
        "mfc": "white",
        "mec": MUTED,
        "mew": 2.2,
    }
    if any(r.verdict.client_bound for r in rows):
        handles.append(Line2D([], [], label=CLIENT_BOUND_LABEL, **hollow))
    if any(r.verdict.lossy for r in rows):
        handles.append(
            (
                Line2D([], [], label=LOST_LABEL, **hollow),
                Line2D([], [], ls="none", marker="x", ms=6, mew=2, color=LOST_COLOR),
            )
        )
    return handles


def plot_points(
    ax,
    transport: str,
    points: Sequence[tuple[float, float | None, CellSummary]],
    *,
    log_y: bool = False,
    linestyle: str = "-",
    marker: str = "o",
    annotate: bool = True,
    line: bool = True,
    marker_size: float = 8,
) -> None:
    """A transport's measured points: a line through all, filled markers for clean cells,
    hollow labelled markers for flagged ones."""
    points = [
        (x, y, r) for x, y, r in points if x is not None and y is not None and (y > 0 or not log_y)
    ]
    if not points:
        return
    color = TRANSPORT_COLORS[transport]
    if line:
        ax.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            color=color,
            ls=linestyle,
            lw=2.2,
            zorder=2,
        )
    clean = [p for p in points if p[2].verdict.flag is None]
    if clean:
        ax.plot(
            [p[0] for p in clean],
            [p[1] for p in clean],
            ls="none",
            marker=marker,
            ms=marker_size,
            color=color,
            mfc=color,
            mec=color,
            zorder=3,
            gid=f"clean:{transport}",
        )
    for x, y, row in points:
        flag = row.verdict.flag
        if flag is None:
            continue
        ax.plot(
            [x],
            [y],
            ls="none",
            marker=marker,
            ms=11,
            mfc="white",
            mec=color,
            mew=2.4,
            zorder=4,
            gid=f"flagged:{flag}:{row.cell}",
        )
        if row.verdict.lossy:
            lost_mark(ax, x, y, gid=f"lost-mark:{row.cell}")
        if annotate:
            ax.annotate(
                row.verdict.short(),
                (x, y),
                xytext=(9, -15),
                textcoords="offset points",
                fontsize=NOTE_PT,
                color=flag_color(row, color),
                zorder=5,
                bbox=NOTE_BOX,
            )


def plot_theory(
    ax, transport: str, points: Sequence[tuple[float, float | None]], log_y: bool = False
) -> bool:
    """The transport's theory line; False if it has no point that can be drawn."""
    shown = [(x, y) for x, y in points if y is not None and (y > 0 or not log_y)]
    if not shown:
        return False
    style = dict(THEORY_STYLE)
    if len(shown) == 1:  # a line needs two points: mark the one value instead
        style.update(marker="_", ms=34, mew=style["lw"])
    ax.plot(
        [p[0] for p in shown],
        [p[1] for p in shown],
        color=TRANSPORT_COLORS[transport],
        gid=f"theory:{transport}",
        **style,
    )
    return True


def plot_spread(ax, transport: str, points: Sequence[Point]) -> None:
    """Error bars from the lowest to the highest repeat, where a setting was repeated."""
    spread = [p for p in points if p.spread]
    if not spread:
        return
    ax.errorbar(
        [p.x for p in spread],
        [p.y for p in spread],
        yerr=[[p.y - p.low for p in spread], [p.high - p.y for p in spread]],
        fmt="none",
        ecolor=TRANSPORT_COLORS[transport],
        elinewidth=2,
        capsize=6,
        capthick=2,
        zorder=3,
        label=f"spread:{transport}",
    )


def plot_measured(ax, transport: str, points: Sequence[Point], **kwargs: Any) -> None:
    """A transport's points with their repeats' spread: `plot_spread` then `plot_points`."""
    plot_spread(ax, transport, points)
    plot_points(ax, transport, [(p.x, p.y, p.row) for p in points], **kwargs)


def spread_handles(points: Iterable[Point]) -> list:
    """The legend entry for error bars, when some point has them."""
    repeats = sorted({p.repeats for p in points if p.spread})
    if not repeats:
        return []
    counts = f"{repeats[0]}" if len(repeats) == 1 else f"{repeats[0]}–{repeats[-1]}"
    return [
        Line2D(
            [],
            [],
            color=MUTED,
            marker="o",
            ms=7,
            lw=0,
            label=f"median of {counts} repeats, bar: range",
        )
    ]
