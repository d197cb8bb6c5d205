"""How a network's round trip changes delivery latency (6): each transport at 0, 50 and
200 ms of round trip, put between clients and server by `lab relay`."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter

from lab.cell_selection import Point, points, sweep_rows
from lab.charts.marks import flag_handles, plot_measured, plot_theory, spread_handles
from lab.charts.style import (
    LABEL_PT,
    NOTE_BOX,
    NOTE_PT,
    THEORY_STYLE,
    TRANSPORT_COLORS,
    MissingData,
    events_text,
    legend_below,
    new_figure,
    plain_tick,
    style_axes,
    titles,
    transport_handles,
)
from lab.formatting import fmt_ms, fmt_seconds, join
from lab.names import TRANSPORTS, transport_label
from lab.run_folder import Run

RTT_THEORY = {
    "short_polling": "mean (T + RTT) ÷ 2",
    "long_polling": "RTT ÷ 2 + reconnects",
    "sse": "RTT ÷ 2 (one way)",
    "websocket": "RTT ÷ 2 (one way)",
}
LABEL_PLACES = {
    "short_polling": (9, -4, "left"),
    "long_polling": (-9, 6, "right"),
    "sse": (9, -14, "left"),
    "websocket": (9, -24, "left"),
}


def figure_latency_vs_rtt(run: Run) -> Figure:
    found: dict[str, list[Point]] = {}
    for transport in TRANSPORTS:
        rows = sweep_rows(run.rows, transport, "rtt_ms")
        pts = points(rows, lambda r: r.rtt_ms, "latency_p50_ms")
        if len({p.x for p in pts}) > 1:
            found[transport] = pts
    if not found:
        raise MissingData("no transport was measured at more than one round trip (--rtt)")
    fig = new_figure()
    ax = fig.add_subplot()
    style_axes(ax)
    for transport, pts in found.items():
        plot_theory(ax, transport, [(p.x, p.row.theory_latency_mean_ms) for p in pts], log_y=True)
        plot_measured(ax, transport, pts, log_y=True)
        dx, dy, align = LABEL_PLACES[transport]
        for p in pts:
            ax.annotate(
                fmt_ms(p.y),
                (p.x, p.y),
                xytext=(dx, dy),
                ha=align,
                textcoords="offset points",
                fontsize=NOTE_PT,
                color=TRANSPORT_COLORS[transport],
                bbox=NOTE_BOX,
                zorder=6,
            )
    rtts = sorted({p.x for pts in found.values() for p in pts})
    ax.set_xscale("symlog", linthresh=10, linscale=0.6)
    ax.set_xlim(-2, rtts[-1] * 1.6)
    ax.xaxis.set_major_locator(FixedLocator(rtts))
    ax.xaxis.set_major_formatter(FuncFormatter(plain_tick))
    ax.set_xlabel(
        "round trip added between clients and server (ms, log scale above 10)", fontsize=LABEL_PT
    )
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(plain_tick))
    ax.set_ylabel("median delivery latency (ms, log scale)", fontsize=LABEL_PT)

    far = rtts[-1]
    at_far = {t: p for t, pts in found.items() for p in pts if p.x == far}
    at_zero = {t: p for t, pts in found.items() for p in pts if p.x == rtts[0]}
    title = f"With {far:g} ms of round trip: " + join(
        [f"{transport_label(t)} {fmt_ms(p.y)}" for t, p in at_far.items()]
    )
    if rtts[0] == 0 and at_zero:
        title += " (on loopback: " + join([f"{fmt_ms(p.y)}" for p in at_zero.values()]) + ")"
    polls = [p for p in found.get("short_polling", []) if p.row.interval_s]
    interval = f" every {fmt_seconds(polls[0].row.interval_s)}" if polls else ""
    row = next(iter(found.values()))[0].row
    titles(
        fig,
        title,
        f"{row.users:,} users, {events_text(row.rate)}/s; short polling{interval}. A pushed "
        "event needs half a round trip to arrive; a long poll that has just answered "
        "needs a whole one to be back; a short poll waits for its next turn as well. The "
        "theory leaves out the time to serve every client, a few ms on loopback",
        ax,
    )
    legend_below(
        fig,
        transport_handles(found),
        [
            Line2D(
                [],
                [],
                color=TRANSPORT_COLORS[t],
                label=f"{transport_label(t, True)} theory: {RTT_THEORY[t]}",
                **THEORY_STYLE,
            )
            for t in found
        ],
        spread_handles([p for pts in found.values() for p in pts])
        + flag_handles(p.row for pts in found.values() for p in pts),
    )
    return fig
