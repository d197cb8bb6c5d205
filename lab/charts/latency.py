"""How late events arrive: latency against users (1), its distribution (2), and through
the run (7)."""

from __future__ import annotations

import statistics

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullLocator

from lab.cell_summary import CellSummary
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
    compare_users,
    flag_color,
    flag_handles,
    legend_below,
    log_if_wide,
    new_figure,
    plain_tick,
    plot_points,
    plot_theory,
    rows_at,
    style_axes,
    theory_handle,
    titles,
    transport_handles,
    users_axis,
    wrap,
)
from lab.formatting import fmt_ms, fmt_seconds, fmt_share, join
from lab.measurement import percentile
from lab.names import TRANSPORTS, transport_label
from lab.run_folder import HistoryPoint, Run, main_rows
from lab.run_folder import series as select_series

# --- 1. latency against users ---------------------------------------------------------------


def figure_latency_vs_users(run: Run) -> Figure:
    series = select_series(run.rows, "users", "latency_p50_ms")
    if not series:
        raise MissingData("no cell has a delivery latency (latency_p50_ms)")
    users = compare_users(series)
    fig = new_figure()
    ax = fig.add_subplot()
    style_axes(ax)
    keys = ("latency_p50_ms", "latency_p99_ms", "theory_latency_mean_ms")
    log_y = log_if_wide(ax, [r.get(k) for rows in series.values() for r in rows for k in keys])
    for transport, rows in series.items():
        plot_points(ax, transport, [(r.users, r.latency_p50_ms, r) for r in rows], log_y=log_y)
        plot_points(
            ax,
            transport,
            [(r.users, r.latency_p99_ms, r) for r in rows],
            log_y=log_y,
            linestyle="--",
            marker="^",
            annotate=False,
        )
        plot_theory(ax, transport, [(r.users, r.theory_latency_mean_ms) for r in rows], log_y)
    users_axis(ax, [r.users for rows in series.values() for r in rows])
    ax.set_ylabel("delivery latency (ms" + (", log scale)" if log_y else ")"), fontsize=LABEL_PT)

    at = rows_at(series, users)
    fastest = min(at, key=lambda t: at[t].latency_p50_ms)
    parts = [
        f"At {users:,} users {transport_label(fastest)} delivers in "
        f"{fmt_ms(at[fastest].latency_p50_ms)}"
    ]
    polls = at.get("short_polling")
    if polls is not None and fastest != "short_polling" and polls.interval_s:
        interval = polls.interval_s
        share = polls.latency_p50_ms / (interval * 1000)
        how = "about half" if 0.35 <= share <= 0.65 else f"{fmt_share(share)} of"
        parts.append(
            f"short polling waits {how} its {fmt_seconds(interval)} interval "
            f"({fmt_ms(polls.latency_p50_ms)})"
        )
    else:
        slowest = max(at, key=lambda t: at[t].latency_p50_ms)
        if slowest != fastest:
            parts.append(f"{transport_label(slowest)} in {fmt_ms(at[slowest].latency_p50_ms)}")
    p99 = [
        f"{transport_label(t)} {fmt_ms(r.latency_p99_ms)}"
        for t, r in at.items()
        if r.latency_p99_ms is not None
    ]
    subtitle = "median (p50) delivery latency in the title"
    if p99:
        subtitle = f"99th percentile at {users:,} users: " + join(p99)
    titles(fig, "; ".join(parts), subtitle, ax)

    rows = [r for rows in series.values() for r in rows]
    legend_below(
        fig,
        transport_handles(series),
        [
            Line2D([], [], color=MUTED, lw=2.2, marker="o", label="median (p50)"),
            Line2D([], [], color=MUTED, lw=2.2, ls="--", marker="^", label="99th percentile"),
            theory_handle("theory: mean"),
        ],
        flag_handles(rows),
    )
    return fig


# --- 2. latency distribution ----------------------------------------------------------------


def figure_latency_cdf(run: Run) -> Figure:
    if not run.events:
        raise MissingData("no events.csv (or it has no deliveries)")
    cells: dict[str, dict[int, CellSummary]] = {}
    for transport in TRANSPORTS:
        with_events = {r.users: r for r in main_rows(run.rows, transport) if run.events.get(r.cell)}
        if with_events:
            cells[transport] = with_events
    if not cells:
        raise MissingData("events.csv has no deliveries for the cells in summary.csv")
    common = set.intersection(*(set(c) for c in cells.values()))
    users = max(common) if common else max(set.union(*(set(c) for c in cells.values())))
    chosen = {t: c[users] for t, c in cells.items() if users in c}

    fig = new_figure()
    ax = fig.add_subplot()
    style_axes(ax)
    everything = [v for r in chosen.values() for v in run.events[r.cell]]
    log_x = log_if_wide(ax, everything, axis="x", ratio=30)
    floor = min((v for v in everything if v > 0), default=1.0)
    handles = []
    stats = {}
    for transport, row in chosen.items():
        latencies = run.events[row.cell]
        xs = [max(v, floor) for v in latencies] if log_x else list(latencies)
        ys = [100 * (i + 1) / len(xs) for i in range(len(xs))]
        flag = row.verdict.flag
        color = TRANSPORT_COLORS[transport]
        label = f"{transport_label(transport, True)}, {len(xs):,} deliveries"
        if flag is not None:
            label += f": {row.verdict.short()}"
        style = "-" if flag is None else "--"
        ax.step(
            [xs[0], *xs],
            [0, *ys],
            where="post",
            color=color,
            lw=2.4,
            ls=style,
            gid=f"cdf:{transport}" if flag is None else f"flagged:{flag}:{row.cell}",
        )
        handles.append(Line2D([], [], color=color, lw=2.4, ls=style, label=label))
        stats[transport] = (percentile(latencies, 50), percentile(latencies, 99))
    for level, text, above in ((50, "half of the events", True), (99, "99%", False)):
        ax.axhline(level, color="#999999", lw=1, ls=":", zorder=1)
        ax.annotate(
            text,
            (0, level),
            xycoords=("axes fraction", "data"),
            xytext=(4, 3 if above else -4),
            va="bottom" if above else "top",
            textcoords="offset points",
            fontsize=NOTE_PT,
            color=MUTED,
        )
    ax.set_ylim(0, 108)
    ax.set_yticks(range(0, 101, 20))
    ax.set_xlabel("delivery latency (ms" + (", log scale)" if log_x else ")"), fontsize=LABEL_PT)
    ax.set_ylabel("events delivered within (%)", fontsize=LABEL_PT)

    fast = min(stats, key=lambda t: stats[t][1])
    slow = max(stats, key=lambda t: stats[t][1])
    title = (
        f"At {users:,} users 99% of {transport_label(fast)} events arrive within "
        f"{fmt_ms(stats[fast][1])}"
    )
    if slow != fast:
        title += f"; {transport_label(slow)} needs {fmt_ms(stats[slow][1])}"
    medians = join([f"{transport_label(t)} {fmt_ms(s[0])}" for t, s in stats.items()])
    titles(
        fig,
        title,
        f"share of events delivered within a given latency (from events.csv); "
        f"half arrive within: {medians}",
        ax,
    )
    legend_below(fig, handles)
    return fig


# --- 7. latency over time -------------------------------------------------------------------


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
