"""What a proxy does to each transport (11, 12): the cells a run measured through nginx.

11: per profile, each transport's median delivery latency (bar) and p99 (tick), with the
events each read brought written on the bar: a buffering proxy shows as tall bars with many
events per read. 12: the idle-timeout cells through nginx:short-timeout: streams cut per
heartbeat setting, 504s per long-poll hold.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from lab.cell_selection import main_settings, main_users
from lab.cell_summary import CellSummary
from lab.charts.style import (
    LABEL_PT,
    LOST_COLOR,
    MUTED,
    NOTE_PT,
    TICK_PT,
    TRANSPORT_COLORS,
    WIDE_FIGSIZE,
    MissingData,
    legend_below,
    new_figure,
    plain_tick,
    style_axes,
    titles,
)
from lab.formatting import fmt_ms, fmt_number, fmt_seconds
from lab.names import TRANSPORTS, transport_label
from lab.proxy.profiles import DIRECT, PROFILES, VIA_CHOICES, VIA_PREFIX
from lab.run_folder import Run

SHORT_TIMEOUT = VIA_PREFIX + "short-timeout"


def via_label(via: str) -> str:
    return "direct\n(no proxy)" if via == DIRECT else via.replace(VIA_PREFIX, "nginx\n")


def compared_rows(rows: list[CellSummary]) -> dict[tuple[str, str], CellSummary]:
    """(via, transport) -> the cell at the run's main user count and rate (first repeat),
    leaving out the idle-timeout cells, which run a quieter source."""
    ordinary = [r for r in rows if r.heartbeat_s is None]
    main = main_settings([r for r in ordinary if r.via == DIRECT] or ordinary)
    users = main_users(ordinary)
    found: dict[tuple[str, str], CellSummary] = {}
    for row in sorted(ordinary, key=lambda r: r.repeat):
        at_main = row.users == users and row.rate == main["rate"] and row.rtt_ms == main["rtt_ms"]
        usual_hold = row.transport != "long_polling" or row.timeout_s == main["timeout_s"]
        if at_main and usual_hold:
            found.setdefault((row.via, row.transport), row)
    return found


def figure_latency_by_proxy(run: Run) -> Figure:
    cells = compared_rows(run.rows)
    vias = [v for v in VIA_CHOICES if any(key[0] == v for key in cells)]
    if not any(v != DIRECT for v in vias):
        raise MissingData("no cell was measured through a proxy (--via nginx:PROFILE)")
    transports = [t for t in TRANSPORTS if any(key[1] == t for key in cells)]
    fig = new_figure(WIDE_FIGSIZE)
    ax = fig.add_subplot()
    style_axes(ax)
    ax.set_yscale("log")
    width = 0.8 / len(transports)
    tallest = 1.0
    for i, via in enumerate(vias):
        for j, transport in enumerate(transports):
            row = cells.get((via, transport))
            if row is None:
                continue
            x = i + (j - (len(transports) - 1) / 2) * width
            color = TRANSPORT_COLORS[transport]
            if row.latency_p50_ms is None:
                ax.annotate(
                    "none\narrived",
                    (x, 1),
                    ha="center",
                    va="bottom",
                    fontsize=NOTE_PT,
                    color=LOST_COLOR,
                )
                continue
            ax.bar(x, row.latency_p50_ms, width * 0.9, color=color, alpha=0.85)
            if row.latency_p99_ms is not None:
                ax.plot([x - width * 0.4, x + width * 0.4], [row.latency_p99_ms] * 2, color=MUTED)
                tallest = max(tallest, row.latency_p99_ms)
            batch = row.mean_batch or 1.0
            ax.annotate(
                f"{fmt_ms(row.latency_p50_ms)}\n×{batch:.3g}",
                (x, max(row.latency_p50_ms, row.latency_p99_ms or 0)),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=NOTE_PT - 1.5,
                color=LOST_COLOR if batch >= 2 else "black",
            )
    ax.set_ylim(0.3, tallest * 30)
    ax.yaxis.set_major_formatter(FuncFormatter(plain_tick))
    ax.set_xticks(range(len(vias)), [via_label(v) for v in vias], fontsize=TICK_PT)
    ax.set_ylabel("delivery latency, ms (log scale)", fontsize=LABEL_PT)
    any_row = next(iter(cells.values()))
    titles(
        fig,
        "Through a proxy: how late each transport delivers",
        f"{any_row.users:,} users, {fmt_number(any_row.rate)} events/s. Bar: median; "
        "tick: p99; ×N: events per read (×1: each came alone; more: they came together).",
        ax,
    )
    handles = [
        Patch(color=TRANSPORT_COLORS[t], alpha=0.85, label=transport_label(t)) for t in transports
    ]
    legend_below(fig, handles)
    return fig


def figure_idle_timeout(run: Run) -> Figure:
    timeout = PROFILES["short-timeout"].read_timeout_s
    cells = [r for r in run.rows if r.via == SHORT_TIMEOUT and r.rate * timeout < 1]
    if not cells:
        raise MissingData("no idle-timeout cells (they come with --via nginx:short-timeout)")
    bars: list[tuple[str, float, str, str]] = []
    for row in sorted(cells, key=lambda r: (r.transport, -(r.heartbeat_s or r.timeout_s or 0))):
        minutes = row.duration_s / 60
        if row.transport == "sse":
            label = f"SSE, heartbeat\nafter {fmt_seconds(row.heartbeat_s or 15)}"
            value, what = (row.reconnects or 0) / row.users / minutes, "streams cut"
        else:
            label = f"long poll held\nup to {fmt_seconds(row.timeout_s or 0)}"
            value, what = (row.gateway_timeouts or 0) / row.users / minutes, "504s"
        bars.append((label, value, what, row.transport))
    fig = new_figure()
    ax = fig.add_subplot()
    style_axes(ax)
    for i, (_label, value, what, transport) in enumerate(bars):
        ax.bar(i, value, 0.6, color=TRANSPORT_COLORS[transport], alpha=0.85)
        ax.annotate(
            f"{fmt_number(value)} {what}",
            (i, value),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=NOTE_PT,
        )
    ax.set_xticks(range(len(bars)), [b[0] for b in bars], fontsize=TICK_PT)
    ax.set_ylabel("per user per minute", fontsize=LABEL_PT)
    ax.set_ylim(0, max([b[1] for b in bars] + [1]) * 1.3)
    titles(
        fig,
        f"A proxy that closes after {fmt_seconds(timeout)} of silence",
        f"nginx proxy_read_timeout {fmt_seconds(timeout)}; one event every "
        f"{fmt_seconds(1 / cells[0].rate)}. A heartbeat or a hold shorter than the timeout "
        "keeps the connection; a longer one meets it.",
        ax,
    )
    return fig
