"""How late events arrive: latency against users (4), and its distribution (5)."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from lab.cell_selection import compare_users, main_rows, rows_at
from lab.cell_selection import series as select_series
from lab.cell_summary import CellSummary
from lab.charts.marks import flag_handles, plot_points, plot_theory
from lab.charts.style import (
    LABEL_PT,
    MUTED,
    NOTE_PT,
    THEORY_STYLE,
    TRANSPORT_COLORS,
    MissingData,
    legend_below,
    log_if_wide,
    new_figure,
    style_axes,
    titles,
    transport_handles,
    users_axis,
)
from lab.formatting import fmt_ms, fmt_seconds, fmt_share, join
from lab.measurement import percentile
from lab.names import TRANSPORTS, transport_label
from lab.run_folder import Run

# --- 4. latency against users ---------------------------------------------------------------


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
    lp, ev = at.get("long_polling"), at.get("sse")
    lp_theory = lp.theory_latency_mean_ms if lp else None
    sse_theory = ev.theory_latency_mean_ms if ev else None
    if lp_theory and sse_theory and abs(lp_theory / sse_theory - 1) < 0.1:
        subtitle += (
            f". Long polling's and SSE's theory lines lie on each other (one band at "
            f"{fmt_ms(sse_theory)}): the theory counts one trip across loopback, not the "
            "time to serve every user"
        )
    titles(fig, "; ".join(parts), subtitle, ax)

    rows = [r for rows in series.values() for r in rows]
    legend_below(
        fig,
        transport_handles(series),
        [
            Line2D([], [], color=MUTED, lw=2.2, marker="o", label="median (p50)"),
            Line2D([], [], color=MUTED, lw=2.2, ls="--", marker="^", label="99th percentile"),
        ],
        [
            Line2D(
                [],
                [],
                color=TRANSPORT_COLORS[t],
                label=f"{transport_label(t, True)} theory: mean {fmt_ms(theory_at)}",
                **THEORY_STYLE,
            )
            for t, r in at.items()
            if (theory_at := r.theory_latency_mean_ms) is not None
        ],
        flag_handles(rows),
    )
    return fig


# --- 5. latency distribution ----------------------------------------------------------------


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
