"""What every chart shares: colours, sizes, titles, legends, axes, and how measured points,
theory lines and flagged cells are drawn.

Cells whose numbers cannot be taken at face value are drawn hollow and labelled, never
hidden: client-bound cells (the load generator was the bottleneck, so they measure it) and
cells with lost or repeated events or errors (their `verdict`, lab.measurement).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from lab.cell_summary import CellSummary
from lab.formatting import plural
from lab.names import transport_label


class MissingData(LookupError):
    """The run has no data for this chart; the message says what is missing."""


TRANSPORT_COLORS = {"short_polling": "#1f77b4", "long_polling": "#ff7f0e", "sse": "#2ca02c"}
CLIENT_BOUND_LABEL = "client-bound (measures the load generator)"
LOST_LABEL = "lost events (or repeats, errors)"
LOST_COLOR = "#d62728"
MUTED = "#555555"

FIGSIZE = (9.0, 5.5)
WIDE_FIGSIZE = (11.0, 5.5)
DPI = 150
TITLE_PT = 15
SUBTITLE_PT = 11.5
LABEL_PT = 12.5
TICK_PT = 11.5
LEGEND_PT = 11
NOTE_PT = 11


# --- flags ----------------------------------------------------------------------------------


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


def handle_label(handle) -> str:
    return (handle[0] if isinstance(handle, tuple) else handle).get_label()


# --- numbers on axes -------------------------------------------------------------------------


def events_text(count: float) -> str:
    return plural(float(count), "event")


def plain_tick(value: float, _pos: object = None) -> str:
    """Tick labels as plain numbers (1, 10, 0.5, 1,000) rather than powers of ten."""
    if value == 0:
        return "0"
    if abs(value) >= 1:
        return f"{value:,.0f}"
    return f"{value:.3g}"


# --- drawing helpers ------------------------------------------------------------------------


def new_figure(figsize: tuple[float, float] = FIGSIZE) -> Figure:
    return Figure(figsize=figsize, layout="constrained")


def style_axes(ax) -> None:
    ax.tick_params(labelsize=TICK_PT)
    ax.grid(True, which="major", color="#dddddd", lw=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def wrap(text: str, points: float, fig: Figure, share: float = 1.0) -> str:
    """Wrap text to the figure's width (`share` of it) at a font size in points."""
    width = fig.get_figwidth() * 72 * share / (points * 0.55)
    return textwrap.fill(text, int(width), break_long_words=False, break_on_hyphens=False)


def titles(fig: Figure, title: str, subtitle: str | None = None, ax=None) -> None:
    """The finding as a bold figure title; what is drawn, with numbers, as a subtitle."""
    fig.suptitle(wrap(title, TITLE_PT * 1.12, fig), fontsize=TITLE_PT, fontweight="bold")
    if subtitle and ax is not None:
        ax.set_title(wrap(subtitle, SUBTITLE_PT, fig, 0.92), fontsize=SUBTITLE_PT, color="#333333")


NOTE_BOX: dict[str, Any] = {
    "boxstyle": "square,pad=0.1",
    "facecolor": "white",
    "edgecolor": "none",
    "alpha": 0.85,
}
BLANK = Line2D([], [], ls="none", label=" ")


def legend_below(fig: Figure, *groups: list):
    """One legend under the chart, each group of entries in its own column."""
    shown = [g for g in groups if g]
    rows = max(len(g) for g in shown)
    handles = [h for g in shown for h in (*g, *[BLANK] * (rows - len(g)))]
    return fig.legend(
        handles,
        [handle_label(h) for h in handles],
        loc="outside lower center",
        ncols=len(shown),
        fontsize=LEGEND_PT,
        frameon=False,
        columnspacing=2.5,
    )


def legend(ax, handles: list, **kwargs):
    return ax.legend(
        handles, [handle_label(h) for h in handles], fontsize=LEGEND_PT, frameon=False, **kwargs
    )


THEORY_STYLE: dict[str, Any] = {
    "lw": 6.5,
    "alpha": 0.3,
    "ls": (0, (2.5, 1.2)),
    "solid_capstyle": "butt",
    "dash_capstyle": "butt",
    "zorder": 1,
}
"""Theory lines: wide, pale and dashed, in the transport's colour, so that a measured line
running on top of its band reads as "as predicted"."""


def theory_handle(label: str = "theory") -> Line2D:
    return Line2D([], [], color=MUTED, label=label, **THEORY_STYLE)


def log_if_wide(ax, values: Iterable[float], axis: str = "y", ratio: float = 20) -> bool:
    positive = [v for v in values if v is not None and v > 0]
    if not positive or max(positive) / min(positive) < ratio:
        return False
    if axis == "y":
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(plain_tick))
    else:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(plain_tick))
    return True


def users_axis(ax, users: Iterable[int]) -> None:
    values = sorted(set(users))
    if values[-1] / values[0] >= 5:
        ax.set_xscale("log")
        ax.set_xlim(values[0] / 1.5, values[-1] * 1.5)
    ax.xaxis.set_major_locator(FixedLocator(values))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("simulated users", fontsize=LABEL_PT)


def transport_handles(transports: Iterable[str], marker: str = "o") -> list[Line2D]:
    return [
        Line2D(
            [],
            [],
            color=TRANSPORT_COLORS[t],
            marker=marker,
            ms=8,
            lw=2.2,
            label=transport_label(t, capital=True),
        )
        for t in transports
    ]


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
            ms=8,
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


def rows_at(series: dict[str, list[CellSummary]], users: int) -> dict[str, CellSummary]:
    """Each transport's row at a user count, for the transports that have one."""
    found = {t: row_at(rows, users) for t, rows in series.items()}
    return {t: r for t, r in found.items() if r is not None}


def row_at(rows: Sequence[CellSummary], users: int) -> CellSummary | None:
    found = [r for r in rows if r.users == users]
    return found[-1] if found else None


def compare_users(series: dict[str, list[CellSummary]]) -> int:
    """The largest user count every transport has; else the largest any has."""
    counts = [{r.users for r in rows} for rows in series.values()]
    common = set.intersection(*counts)
    return max(common) if common else max(set.union(*counts))
