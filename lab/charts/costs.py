"""What each transport costs as users grow: requests per second (7), and the bytes of one
delivered event split into payload and overhead (8)."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from lab.cell_selection import compare_users, rows_at
from lab.cell_selection import series as select_series
from lab.charts.marks import flag_color, flag_handles, lost_mark, plot_points, plot_theory
from lab.charts.style import (
    LABEL_PT,
    MUTED,
    NOTE_PT,
    THEORY_STYLE,
    TRANSPORT_COLORS,
    MissingData,
    legend_below,
    new_figure,
    plain_tick,
    style_axes,
    titles,
    transport_handles,
    users_axis,
)
from lab.formatting import fmt_number, fmt_seconds, fmt_share, join
from lab.names import transport_label
from lab.run_folder import Run

REQUESTS_THEORY = {
    "short_polling": "users ÷ interval",
    "long_polling": "users × requests per event × rate",
    "sse": "0 once the streams are open",
    "websocket": "0 once the sockets are open",
}

# --- 7. requests per second -----------------------------------------------------------------


def figure_requests_vs_users(run: Run) -> Figure:
    series = select_series(run.rows, "users", "requests_per_s")
    if not series:
        raise MissingData("no cell has requests_per_s")
    users = compare_users(series)
    fig = new_figure()
    ax = fig.add_subplot()
    style_axes(ax)
    for transport, rows in series.items():
        plot_theory(ax, transport, [(r.users, r.theory_requests_per_s) for r in rows])
        plot_points(ax, transport, [(r.users, r.requests_per_s, r) for r in rows])
    users_axis(ax, [r.users for rows in series.values() for r in rows])
    # symlog rather than log: SSE makes no request once its streams are open, and a 0 must
    # show as a line at the bottom rather than vanish from a log axis
    top = max(
        max(r.requests_per_s, r.theory_requests_per_s or 0)
        for rows in series.values()
        for r in rows
    )
    ax.set_yscale("symlog", linthresh=1, linscale=0.5)
    ax.yaxis.set_major_locator(FixedLocator([0, *(10**k for k in range(0, 7) if 10**k <= top * 3)]))
    ax.yaxis.set_major_formatter(FuncFormatter(plain_tick))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_ylim(0, max(10, top * 3))
    ax.set_ylabel(
        "HTTP requests per second\n(log scale above 1, 0 at the bottom)", fontsize=LABEL_PT
    )

    at = rows_at(series, users)
    order = sorted(at, key=lambda t: -at[t].requests_per_s)
    first = order[0]
    title = (
        f"At {users:,} users {transport_label(first)} makes "
        f"{fmt_number(at[first].requests_per_s)} requests/s"
    )
    if len(order) > 1:
        title += ", " + join(
            [f"{transport_label(t)} {fmt_number(at[t].requests_per_s)}" for t in order[1:]]
        )
    why = []
    for transport in order:
        row = at[transport]
        if transport == "short_polling" and row.interval_s:
            why.append(
                f"short polling asks users ÷ interval = {users:,} ÷ "
                f"{fmt_seconds(row.interval_s)}, events or not"
            )
        elif transport == "long_polling" and row.requests_per_event is not None:
            why.append(
                f"long polling {row.requests_per_event:.2f} per event "
                f"({row.rate:g} events/s to each user)"
            )
        elif transport == "sse":
            why.append("SSE one per user for the whole run")
    titles(fig, title, "; ".join(why), ax)
    notes = [
        Line2D(
            [],
            [],
            color=TRANSPORT_COLORS[t],
            label=f"{transport_label(t, True)} theory: {REQUESTS_THEORY[t]}",
            **THEORY_STYLE,
        )
        for t in series
    ]
    legend_below(
        fig,
        transport_handles(series),
        notes,
        flag_handles(r for rows in series.values() for r in rows),
    )
    return fig


# --- 8. bytes per event, payload and overhead ------------------------------------------------


def figure_bytes_per_event(run: Run) -> Figure:
    series = select_series(run.rows, "users", "payload_bytes_per_event", "overhead_bytes_per_event")
    if not series:
        raise MissingData("no cell has payload_bytes_per_event and overhead_bytes_per_event")
    users = compare_users(series)
    at = rows_at(series, users)
    fig = new_figure()
    ax = fig.add_subplot()
    style_axes(ax)
    ax.grid(False, axis="x")
    width = 0.6
    totals = {}
    for x, (transport, row) in enumerate(at.items()):
        color = TRANSPORT_COLORS[transport]
        payload, overhead = row.payload_bytes_per_event, row.overhead_bytes_per_event
        total = payload + overhead
        totals[transport] = total
        flag = row.verdict.flag
        if flag is None:
            ax.bar(x, payload, width, color=color, edgecolor=color, gid=f"payload:{transport}")
            ax.bar(
                x,
                overhead,
                width,
                bottom=payload,
                color=color,
                alpha=0.35,
                hatch="//",
                edgecolor=color,
                gid=f"overhead:{transport}",
            )
        else:
            gid = f"flagged:{flag}:{row.cell}"
            ax.bar(x, payload, width, facecolor="white", edgecolor=color, lw=2.4, gid=gid)
            ax.bar(
                x,
                overhead,
                width,
                bottom=payload,
                facecolor="white",
                hatch="//",
                edgecolor=color,
                lw=2.4,
                gid=gid,
            )
            if row.verdict.lossy:
                lost_mark(ax, x, payload / 2, gid=f"lost-mark:{row.cell}")
        expected = row.theory_bytes_per_event
        if expected is not None:
            ax.plot(
                [x - width / 2 - 0.08, x + width / 2 + 0.08],
                [expected, expected],
                color="black",
                lw=2.4,
                ls=(0, (3, 1.5)),
                zorder=4,
                gid=f"theory:{transport}",
            )
        text = f"{total:,.0f} B\n{fmt_share(overhead / total)} overhead"
        if flag is not None:
            text += f"\n{row.verdict.short()}"
        ax.annotate(
            text,
            (x, max(total, expected or 0)),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=NOTE_PT,
            color=flag_color(row, color) if flag else "#222222",
        )
    ax.set_xticks(range(len(at)), [transport_label(t, True) for t in at], fontsize=LABEL_PT)
    ax.set_xlim(-0.6, len(at) - 0.4)
    top = max([*totals.values(), *(r.theory_bytes_per_event or 0 for r in at.values())])
    ax.set_ylim(0, top * 1.3)
    ax.set_ylabel("bytes on the wire per delivered event", fontsize=LABEL_PT)

    best = min(totals, key=totals.get)
    worst = max(totals, key=totals.get)
    title = f"{transport_label(best, True)} puts {totals[best]:,.0f} bytes on the wire per event"
    if worst != best:
        share = at[worst].overhead_bytes_per_event / totals[worst]
        title += (
            f", {transport_label(worst)} {totals[worst]:,.0f} ({fmt_share(share)} of it overhead)"
        )
    payloads = {round(r.payload_bytes_per_event) for r in at.values()}
    payload_text = f"is {payloads.pop()} B" if len(payloads) == 1 else "is the solid part"
    titles(
        fig,
        title,
        f"bytes in + out ÷ deliveries at {users:,} users. The event's JSON "
        f"{payload_text}; the rest is HTTP headers, the JSON envelope, SSE framing",
        ax,
    )
    legend_below(
        fig,
        [
            Patch(facecolor=MUTED, edgecolor=MUTED, label="event JSON (payload)"),
            Patch(
                facecolor="#cccccc",
                edgecolor=MUTED,
                hatch="//",
                label="overhead: headers, envelope, framing",
            ),
            Line2D([], [], color="black", lw=2.4, ls=(0, (3, 1.5)), label="theory (total)"),
        ],
        flag_handles(at.values(), marker="s"),
    )
    return fig
