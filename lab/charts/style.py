"""What every chart shares: colours, sizes, titles, legends, axes, and how measured points,
theory lines and flagged cells are drawn.

Cells whose numbers cannot be taken at face value are drawn hollow and labelled, never
hidden: client-bound cells (the load generator was the bottleneck, so they measure it) and
cells with lost or repeated events or errors (their `verdict`, lab.measurement).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import Any

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from lab.formatting import plural
from lab.names import transport_label


class MissingData(LookupError):
    """The run has no data for this chart; the message says what is missing."""


TRANSPORT_COLORS = {
    "short_polling": "#1f77b4",
    "long_polling": "#ff7f0e",
    "sse": "#2ca02c",
    "websocket": "#9467bd",
}
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
    "boxstyle": "square,pad=0.2",
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
    log = values[-1] / values[0] >= 5
    if log:
        ax.set_xscale("log")
        ax.set_xlim(values[0] / 1.5, values[-1] * 1.5)
    ax.xaxis.set_major_locator(FixedLocator(values))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("simulated users" + (" (log scale)" if log else ""), fontsize=LABEL_PT)


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
