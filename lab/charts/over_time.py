"""How delivery latency moves through a run (10): Locust's percentiles of its last 10 s,
beside the users running."""

from __future__ import annotations

import statistics

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullLocator

from lab.cell_selection import main_rows
from lab.cell_summary import CellSummary
from lab.charts.marks import flag_color, flag_handles, plot_points
from lab.charts.style import (
    LABEL_PT,
    MUTED,
    NOTE_BOX,
    NOTE_PT,
    SUBTITLE_PT,
    TICK_PT,
    TITLE_PT,
    TRANSPORT_COLORS,
    WIDE_FIGSIZE,
    MissingData,
    legend_below,
    new_figure,
    plain_tick,
    style_axes,
    wrap,
)
from lab.formatting import fmt_ms, join
from lab.names import TRANSPORTS, transport_label
from lab.run_folder import HistoryPoint, Run

# --- 10. latency over time -----------------------------------------------------------------


def _event_history(run: Run, transport: str) -> tuple[CellSummary, list[HistoryPoint]] | None:
    """The transport's largest-user-count cell with a stats history of delivered events."""
    candidates = main_rows(run.rows, transport) or [r for r in run.rows if r.transport == transport]
    for row in sorted(candidates, key=lambda r: -r.users):
        points = run.event_history(row.cell, transport)
        if any(p.p50_ms is not None for p in points):
            return row, points
    return None


def figure_latency_over_time(run: Run) -> Figure:
    found = {t: h for t in TRANSPORTS if (h := _event_history(run, t)) is not None}
    if not found:
        raise MissingData(
            "no Locust stats history (<cell>_stats_history.csv with EVENT rows) for any cell"
        )
    fig = new_figure(WIDE_FIGSIZE)
    axes = fig.subplots(1, len(found), sharey=True, squeeze=False)[0]
    twins = []
    levels = {}
    climbs = {}
    peak_users = 1
    for ax, (transport, (row, records)) in zip(axes, found.items(), strict=True):
        style_axes(ax)
        color = TRANSPORT_COLORS[transport]
        start = min(p.timestamp for p in run.history[row.cell])
        seconds = [p.timestamp - start for p in records]
        twin = ax.twinx()
        twins.append(twin)
        users = [p.users for p in records]
        twin.fill_between(seconds, users, step="post", color="#bbbbbb", alpha=0.35, lw=0, zorder=0)
        twin.plot(seconds, users, drawstyle="steps-post", color="#999999", lw=1.2)
        peak_users = max(peak_users, *users)
        ax.set_zorder(twin.get_zorder() + 1)
        ax.patch.set_visible(False)
        flag = row.verdict.flag
        for values, style, marker in (
            ([p.p50_ms for p in records], "-", "o"),
            ([p.p99_ms for p in records], "--", "^"),
        ):
            points = [(s, v, row) for s, v in zip(seconds, values, strict=True)]
            plot_points(ax, transport, points, linestyle=style, marker=marker, annotate=False)
        measured = [p for p in records if p.p50_ms is not None]
        full = [p for p in measured if p.users == max(users)] or measured
        levels[transport] = statistics.median(p.p50_ms for p in full)
        tails = [p.p99_ms for p in full if p.p99_ms is not None]
        if len(tails) >= 4:
            half = len(tails) // 2
            early, late = statistics.median(tails[:half]), statistics.median(tails[half:])
            if late > 1.5 * early and late - early >= 5:
                climbs[transport] = (early, late)
        ax.set_title(
            f"{transport_label(transport, True)}, {row.users:,} users\n"
            f"median {fmt_ms_whole(levels[transport])} once all are in",
            fontsize=SUBTITLE_PT,
            color="#333333",
        )
        if flag is not None:
            ax.annotate(
                row.verdict.short(),
                (0.02, 0.02),
                xycoords="axes fraction",
                fontsize=NOTE_PT,
                color=flag_color(row, color),
                bbox=NOTE_BOX,
            )
        ax.set_xlabel("seconds since start", fontsize=LABEL_PT)
    axes[0].set_yscale("symlog", linthresh=1, linscale=0.5)
    axes[0].yaxis.set_major_formatter(FuncFormatter(plain_tick))
    axes[0].yaxis.set_minor_locator(NullLocator())
    axes[0].set_ylim(bottom=0)
    axes[0].set_ylabel("delivery latency (ms, log scale)", fontsize=LABEL_PT)
    for index, twin in enumerate(twins):
        twin.set_ylim(0, peak_users * 1.1)
        twin.tick_params(labelsize=TICK_PT, colors="#777777")
        twin.spines["top"].set_visible(False)
        if index == len(twins) - 1:
            twin.set_ylabel("users running", fontsize=LABEL_PT, color="#777777")
        else:
            twin.tick_params(right=False, labelright=False)
            twin.spines["right"].set_visible(False)

    title = "After ramp-up the median holds at " + join(
        [f"{fmt_ms_whole(v)} ({transport_label(t)})" for t, v in levels.items()]
    )
    if climbs:
        title += "; the p99 climbs for " + join(
            [
                f"{transport_label(t)} ({fmt_ms_whole(a)} → {fmt_ms_whole(b)})"
                for t, (a, b) in climbs.items()
            ]
        )
    fig.suptitle(wrap(title, (TITLE_PT - 1) * 1.12, fig), fontsize=TITLE_PT - 1, fontweight="bold")
    legend_below(
        fig,
        [
            Line2D([], [], color=MUTED, lw=2.2, marker="o", label="median (p50)"),
            Line2D([], [], color=MUTED, lw=2.2, ls="--", marker="^", label="99th percentile"),
        ],
        [
            Patch(facecolor="#bbbbbb", alpha=0.6, label="users running (right axis)"),
            Line2D([], [], ls="none", label="Locust: percentiles of its last 10 s, whole ms"),
        ],
        flag_handles(row for row, _h in found.values()),
    )
    return fig


def fmt_ms_whole(value: float) -> str:
    """Locust's histogram rounds latencies to whole milliseconds below 100 ms."""
    if value < 1:
        return "under 1 ms"
    return f"{value:.0f} ms" if value == int(value) and value < 1000 else fmt_ms(value)
