"""What each transport costs: requests per second (3), bytes per delivered event (4) and
server CPU per delivered event (5)."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from lab.cell_selection import compare_users, rows_at
from lab.cell_selection import series as select_series
from lab.charts.marks import flag_color, flag_handles, lost_mark, plot_points, plot_theory
from lab.charts.style import (
    LABEL_PT,
    MUTED,
    NOTE_PT,
    TRANSPORT_COLORS,
    MissingData,
    legend_below,
    log_if_wide,
    new_figure,
    style_axes,
    theory_handle,
    titles,
    transport_handles,
    users_axis,
)
from lab.formatting import fmt_number, fmt_seconds, fmt_share, join
from lab.names import transport_label
from lab.run_folder import Run

# --- 3. requests per second -----------------------------------------------------------------


def figure_requests_vs_users(run: Run) -> Figure:
    series = select_series(run.rows, "users", "requests_per_s")
    if not series:
        raise MissingData("no cell has requests_per_s")
    users = compare_users(series)
    fig = new_figure()
    ax = fig.add_subplot()
    style_axes(ax)
    keys = ("requests_per_s", "theory_requests_per_s")
    log_y = log_if_wide(ax, [r.get(k) for rows in series.values() for r in rows for k in keys])
    off_scale = []
    for transport, rows in series.items():
        plot_points(ax, transport, [(r.users, r.requests_per_s, r) for r in rows], log_y=log_y)
        points = [(r.users, r.theory_requests_per_s) for r in rows]
        if not plot_theory(ax, transport, points, log_y) and any(y is not None for _x, y in points):
            off_scale.append(transport)
    users_axis(ax, [r.users for rows in series.values() for r in rows])
    ax.set_ylabel("HTTP requests per second" + (" (log scale)" if log_y else ""), fontsize=LABEL_PT)

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
    notes = [theory_handle("theory")]
    if off_scale:
        notes.append(
            Line2D(
                [],
                [],
                ls="none",
                label=join([transport_label(t, True) for t in off_scale])
                + " theory: 0, off the log scale",
            )
        )
    legend_below(
        fig,
        transport_handles(series),
        notes,
        flag_handles(r for rows in series.values() for r in rows),
    )
    return fig


# --- 4. bytes per event ---------------------------------------------------------------------


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


# --- 5. server CPU per event ----------------------------------------------------------------


def figure_server_cpu_per_event(run: Run) -> Figure:
    series = select_series(run.rows, "users", "server_cpu_us_per_event")
    if not series:
        raise MissingData("no cell has server_cpu_us_per_event")
    users = compare_users(series)
    fig = new_figure()
    ax = fig.add_subplot()
    style_axes(ax)
    log_y = log_if_wide(
        ax, [r.server_cpu_us_per_event for rows in series.values() for r in rows], ratio=30
    )
    for transport, rows in series.items():
        plot_points(
            ax, transport, [(r.users, r.server_cpu_us_per_event, r) for r in rows], log_y=log_y
        )
    users_axis(ax, [r.users for rows in series.values() for r in rows])
    if not log_y:
        ax.set_ylim(bottom=0)
    ax.set_ylabel("server CPU per delivered event (µs)", fontsize=LABEL_PT)

    cost = {t: r.server_cpu_us_per_event for t, r in rows_at(series, users).items()}
    best, worst = min(cost, key=cost.get), max(cost, key=cost.get)
    title = (
        f"At {users:,} users the server spends {fmt_number(cost[best])} µs per event "
        f"on {transport_label(best)}"
    )
    if worst != best:
        title += (
            f", {fmt_number(cost[worst])} µs on {transport_label(worst)} "
            f"({cost[worst] / cost[best]:.0f}×)"
        )
    titles(
        fig,
        title,
        "server process CPU time (user + system) ÷ deliveries. Each poll is "
        "parsed, routed and answered with headers; an SSE event is one write per open "
        "stream",
        ax,
    )
    legend_below(
        fig, transport_handles(series), flag_handles(r for rows in series.values() for r in rows)
    )
    return fig
