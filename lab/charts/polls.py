"""How often a short poll comes back empty (9), against events per poll interval."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from lab import theory
from lab.cell_summary import CellSummary
from lab.charts.marks import flag_color, flag_handles, plot_points
from lab.charts.style import (
    LABEL_PT,
    MUTED,
    NOTE_BOX,
    NOTE_PT,
    TRANSPORT_COLORS,
    MissingData,
    events_text,
    legend,
    new_figure,
    style_axes,
    titles,
)
from lab.formatting import fmt_seconds, fmt_share, join
from lab.run_folder import Run

# --- 9. empty polls -------------------------------------------------------------------------

ARRIVAL_MARKERS = {"poisson": "o", "fixed": "s"}
ARRIVAL_WORDS = {"poisson": "Poisson", "fixed": "evenly spaced"}


def _label_polls(ax, rows: Sequence[CellSummary], width: float) -> None:
    """Name each point's interval (and rate, when the run has several), flags included;
    points at the same x share one label, and labels of nearby points are stacked."""
    several_rates = len({r.rate for r in rows}) > 1
    groups: dict[float, list[CellSummary]] = {}
    for row in rows:
        groups.setdefault(round(row.interval_s * row.rate, 9), []).append(row)
    previous, level = None, 0
    for x in sorted(groups):
        texts = []
        for row in groups[x]:
            text = f"every {fmt_seconds(row.interval_s)}"
            if several_rates:
                text += f" at {row.rate:g}/s"
            if row.verdict.short():
                text += f" ({row.verdict.short()})"
            if text not in texts:
                texts.append(text)
        level = level + 1 if previous is not None and x - previous < width * 0.08 else 0
        previous = x
        y = max(100 * r.empty_share for r in groups[x])
        flagged = [r for r in groups[x] if r.verdict.flag]
        ax.annotate(
            "\n".join(texts),
            (x, y),
            xytext=(7, 6 + 16 * (level % 4)),
            textcoords="offset points",
            fontsize=NOTE_PT,
            va="bottom",
            color=flag_color(flagged[0], MUTED) if flagged else MUTED,
            bbox=NOTE_BOX,
            zorder=5,
        )


def figure_empty_polls(run: Run) -> Figure:
    rows = [
        r
        for r in run.rows
        if r.transport == "short_polling"
        and all(isinstance(r.get(k), int | float) for k in ("empty_share", "interval_s", "rate"))
    ]
    if not rows:
        raise MissingData("no short-polling cell has empty_share, interval_s and rate")
    fig = new_figure()
    ax = fig.add_subplot()
    style_axes(ax)
    xs = [r.interval_s * r.rate for r in rows]
    top = max(1.5, max(xs) * 1.15)
    grid = [top * i / 200 for i in range(1, 201)]
    color = TRANSPORT_COLORS["short_polling"]
    for arrivals, style in (("poisson", "--"), ("fixed", ":")):
        curve = [100 * theory.empty_poll_share(1.0, x, arrivals) for x in grid]
        ax.plot(
            [0, *grid],
            [100, *curve],
            color=color,
            ls=style,
            lw=1.8,
            zorder=1,
            gid=f"theory:{arrivals}",
        )
    arrivals_seen = []
    for arrivals in ARRIVAL_MARKERS:
        mine = [r for r in rows if r.arrivals == arrivals]
        if mine:
            arrivals_seen.append(arrivals)
            points = [(r.interval_s * r.rate, 100 * r.empty_share, r) for r in mine]
            plot_points(
                ax,
                "short_polling",
                points,
                marker=ARRIVAL_MARKERS[arrivals],
                line=False,
                annotate=False,
            )
    _label_polls(ax, rows, top)
    ax.set_xlim(0, top)
    ax.set_ylim(0, 105)
    ax.set_xlabel("events per poll interval (interval × event rate)", fontsize=LABEL_PT)
    ax.set_ylabel("polls that came back empty (%)", fontsize=LABEL_PT)

    by_x: dict[float, list[float]] = {}
    for x, r in zip(xs, rows, strict=True):
        by_x.setdefault(round(x, 9), []).append(r.empty_share)
    low, high = min(by_x), max(by_x)
    share_low, share_high = statistics.fmean(by_x[low]), statistics.fmean(by_x[high])
    if low == high:
        title = (
            f"{fmt_share(share_low)} of short polls came back empty at "
            f"{events_text(low)} per poll interval"
        )
    else:
        trend = (
            "The more events per poll interval, the fewer empty polls"
            if share_high < share_low
            else "Empty polls against events per poll interval"
        )
        title = (
            f"{trend}: {fmt_share(share_low)} at {events_text(low)}, "
            f"{fmt_share(share_high)} at {events_text(high)}"
        )
    rates = sorted({r.rate for r in rows})
    intervals = sorted({r.interval_s for r in rows})
    titles(
        fig,
        title,
        f"short polling at {join([f'{v:g}' for v in rates])} events/s, every "
        f"{join([fmt_seconds(v) for v in intervals])}; a poll finds nothing when no event "
        "came since the last one",
        ax,
    )
    handles = [
        Line2D(
            [],
            [],
            ls="none",
            marker=ARRIVAL_MARKERS[a],
            ms=8,
            color=color,
            label=f"measured, {ARRIVAL_WORDS[a]} arrivals",
        )
        for a in arrivals_seen
    ]
    handles += [
        Line2D([], [], color=color, ls="--", lw=1.8, label=r"theory, Poisson: $e^{-x}$"),
        Line2D([], [], color=color, ls=":", lw=1.8, label="theory, evenly spaced: max(0, 1 − x)"),
    ] + flag_handles(rows)
    legend(ax, handles, loc="upper right", bbox_to_anchor=None)
    return fig
