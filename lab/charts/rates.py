"""What each transport costs as events come faster: requests (1), bytes (2) and server CPU
(3) per delivered event, against the event rate.

These are the run's main sweep: the same users and settings at several event rates, each
repeated. A point is the median of its repeats; its bar runs from the lowest to the highest.
"""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from lab import theory
from lab.cell_selection import Point, main_settings, points, sweep_rows
from lab.charts.marks import flag_handles, plot_measured, spread_handles
from lab.charts.rate_sweep import (
    every_point,
    few_events_note,
    label_values,
    label_values_below,
    rate_axis,
    rate_grid,
    sweep_points,
    theory_curve,
    theory_handles,
)
from lab.charts.style import (
    LABEL_PT,
    MissingData,
    events_text,
    legend_below,
    new_figure,
    plain_tick,
    style_axes,
    titles,
    transport_handles,
)
from lab.formatting import fmt_number, fmt_seconds, join
from lab.names import TRANSPORTS, transport_label
from lab.run_folder import Run

THEORY_WORDS = {
    "short_polling": "1 ÷ (λT)",
    "long_polling": "1, plus timeouts",
    "sse": "0, the stream is open",
    "websocket": "0, the socket is open",
}
"""Each transport's requests per delivered event in theory, for the legend."""


# --- 1. requests per delivered event ---------------------------------------------------------


def _requests_per_event(users: int) -> Callable[[theory.Prediction, float], float]:
    def value(prediction: theory.Prediction, rate: float) -> float:
        return prediction.requests_per_s / (users * rate)

    return value


def _events_per_interval(period: float) -> Callable[[float], float]:
    def x(rate: float) -> float:
        return rate * period

    return x


def figure_requests_per_event(run: Run) -> Figure:
    interval = main_settings(run.rows)["interval_s"] or 1.0
    found: dict[str, list[Point]] = {}
    for transport in TRANSPORTS:
        free = ("rate", "interval_s") if transport == "short_polling" else ("rate",)
        rows = sweep_rows(run.rows, transport, *free)
        pts = points(rows, lambda r: r.rate * (r.interval_s or interval), "requests_per_event")
        if pts:
            found[transport] = pts
    if not found:
        raise MissingData("no cell has requests_per_event")
    fig = new_figure()
    ax = fig.add_subplot()
    style_axes(ax)
    xs = [p.x for p in every_point(found)]
    grid = rate_grid(min(xs) / 1.8, max(xs) * 1.8)
    # short polling last: where it costs what long polling costs (λT = 1), its point is drawn
    # over long polling's, which shows as a ring around it
    for transport in sorted(found, key=lambda t: t == "short_polling"):
        pts = found[transport]
        row = pts[len(pts) // 2].row
        period = row.interval_s or interval
        theory_curve(
            ax,
            transport,
            row,
            [x / period for x in grid],
            _requests_per_event(row.users),
            _events_per_interval(period),
        )
        if transport == "short_polling":
            at_main = [p for p in pts if p.row.interval_s == interval]
            other = [p for p in pts if p.row.interval_s != interval]
            plot_measured(ax, transport, at_main, line=False)
            plot_measured(ax, transport, other, line=False, marker="s")
            label_values(ax, transport, at_main, "", place=(9, 7, "left"))
            label_values_below(ax, other)
        else:
            plot_measured(ax, transport, pts, marker_size=12 if transport == "long_polling" else 8)
    ax.set_yscale("symlog", linthresh=0.1, linscale=0.6)
    ax.yaxis.set_major_locator(FixedLocator([0, 0.1, 0.2, 0.5, 1, 2, 5, 10]))
    ax.yaxis.set_major_formatter(FuncFormatter(plain_tick))
    ax.yaxis.set_minor_locator(NullLocator())
    top = max(p.high for p in every_point(found))
    ax.set_ylim(0, max(2.0, top * 1.8))
    rate_axis(
        ax,
        xs,
        f"events per poll interval, λT (log scale; long polling and SSE: λ × {interval:g} s)",
    )
    ax.set_ylabel(
        "HTTP requests per delivered event\n(log scale above 0.1, 0 at the bottom)",
        fontsize=LABEL_PT,
    )

    parts = []
    polls = found.get("short_polling")
    if polls:
        low, high = polls[0], polls[-1]
        parts.append(
            f"Short polling makes {fmt_number(low.y)} requests per event at λT = {low.x:g} "
            f"and {fmt_number(high.y)} at {high.x:g}"
        )
    if "long_polling" in found:
        values = [p.y for p in found["long_polling"]]
        span = fmt_number(min(values))
        if fmt_number(max(values)) != span:
            span += f"–{fmt_number(max(values))}"
        parts.append(f"long polling {span}" + (" at every rate" if len(values) > 1 else ""))
    for stream in ("sse", "websocket"):
        if stream in found:
            parts.append(f"{transport_label(stream)} {fmt_number(max(p.y for p in found[stream]))}")
    others = sorted({p.row.interval_s for p in polls or []} - {interval})
    squares = ""
    if others:
        squares = (
            f" (squares: every {join([fmt_seconds(v) for v in others])} at "
            f"{events_text(main_settings(run.rows)['rate'])}/s)"
        )
    subtitle = (
        f"{found[next(iter(found))][0].row.users:,} users. Short polling asks every "
        f"{fmt_seconds(interval)}{squares} whether or not there is news; a long poll is "
        "answered by the next event; an SSE stream (or a WebSocket) carries every event on its "
        "one request" + few_events_note(found)
    )
    titles(fig, join(parts), subtitle, ax)
    legend_below(
        fig,
        transport_handles(found),
        theory_handles(found, THEORY_WORDS),
        spread_handles(every_point(found)) + flag_handles(p.row for p in every_point(found)),
    )
    return fig


def _bytes_per_event(prediction: theory.Prediction, _rate: float) -> float:
    return prediction.bytes_per_event


# --- 2. bytes per delivered event ------------------------------------------------------------


def figure_bytes_vs_rate(run: Run) -> Figure:
    found = sweep_points(run, "bytes_per_event")
    if not found:
        raise MissingData("no cell has bytes_per_event")
    fig = new_figure()
    ax = fig.add_subplot()
    style_axes(ax)
    rates = [p.x for p in every_point(found)]
    grid = rate_grid(min(rates) / 1.8, max(rates) * 1.8)
    for transport, pts in found.items():
        theory_curve(
            ax, transport, pts[len(pts) // 2].row, grid, lambda p, _rate: p.bytes_per_event
        )
        plot_measured(ax, transport, pts)
        label_values(ax, transport, pts, " B")
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(FixedLocator([50, 100, 200, 500, 1000, 2000, 5000, 10000]))
    ax.yaxis.set_major_formatter(FuncFormatter(plain_tick))
    ax.yaxis.set_minor_locator(NullLocator())
    values = [v for p in every_point(found) for v in (p.low, p.high)]
    ax.set_ylim(min(values) / 1.6, max(values) * 2)
    rate_axis(ax, rates, "event rate λ (events per second, log scale)")
    ax.set_ylabel("bytes per delivered event (log scale)", fontsize=LABEL_PT)

    cheapest = {t: min(pts, key=lambda p: p.y) for t, pts in found.items()}
    costly = {t: max(pts, key=lambda p: p.y) for t, pts in found.items()}
    parts = []
    if "short_polling" in found:
        a, b = costly["short_polling"], cheapest["short_polling"]
        text = f"Short polling spends {fmt_number(a.y)} bytes per event at {a.x:g} events/s"
        if b.x != a.x:
            text += f", {fmt_number(b.y)} at {b.x:g}/s"
        parts.append(text)
    several = len(set(rates)) > 1
    for transport in ("long_polling", "sse", "websocket"):
        if transport in found:
            low, high = cheapest[transport].y, costly[transport].y
            span = (
                fmt_number(low)
                if fmt_number(low) == fmt_number(high)
                else (f"{fmt_number(low)}–{fmt_number(high)}")
            )
            parts.append(
                f"{transport_label(transport)} {span}" + (" at every rate" if several else "")
            )
    payload = [p.row.payload_bytes_per_event for p in every_point(found)]
    payload_text = f"{min(payload):.0f} B" if payload else "the event"
    titles(
        fig,
        join(parts),
        f"bytes in + out ÷ deliveries. Each event's JSON is {payload_text}; the rest is "
        "HTTP headers (once per request), the JSON envelope, SSE or WebSocket framing. An "
        "empty poll still costs its headers, shared by the events the next polls find"
        + few_events_note(found),
        ax,
    )
    words = {
        "short_polling": "JSON + headers ÷ λT",
        "long_polling": "JSON + headers",
        "sse": "JSON + SSE frame",
        "websocket": "JSON + frame header",
    }
    legend_below(
        fig,
        transport_handles(found),
        theory_handles(found, words),
        spread_handles(every_point(found)) + flag_handles(p.row for p in every_point(found)),
    )
    return fig


# --- 3. server CPU per delivered event -------------------------------------------------------


def figure_server_cpu_vs_rate(run: Run) -> Figure:
    found = sweep_points(run, "server_cpu_us_per_event")
    if not found:
        raise MissingData("no cell has server_cpu_us_per_event")
    fig = new_figure()
    ax = fig.add_subplot()
    style_axes(ax)
    rates = [p.x for p in every_point(found)]
    for transport, pts in found.items():
        plot_measured(ax, transport, [p for p in pts if p.y > 0], log_y=True)
        label_values(ax, transport, [p for p in pts if p.y > 0], " µs")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(plain_tick))
    ax.yaxis.set_minor_locator(NullLocator())
    values = [v for p in every_point(found) for v in (p.low, p.high) if v > 0]
    if values:
        ax.set_ylim(min(values) / 3, max(values) * 3)
    rate_axis(ax, rates, "event rate λ (events per second, log scale)")
    ax.set_ylabel("server CPU per delivered event (µs, log scale)", fontsize=LABEL_PT)

    at_low = {t: pts[0] for t, pts in found.items()}
    best = min(at_low, key=lambda t: at_low[t].y)
    worst = max(at_low, key=lambda t: at_low[t].y)
    rate = min(p.x for p in at_low.values())
    title = (
        f"At {rate:g} events/s the server spends {fmt_number(at_low[worst].y)} µs per "
        f"delivered event on {transport_label(worst)}, {fmt_number(at_low[best].y)} µs on "
        f"{transport_label(best)}"
    )
    if at_low[best].y > 0:
        title += f" ({at_low[worst].y / at_low[best].y:.0f}×)"
    users = found[next(iter(found))][0].row.users
    titles(
        fig,
        title,
        f"{users:,} users; server process CPU time (user + system) ÷ deliveries. A poll is "
        "parsed, routed and answered with headers whether or not it finds news; an SSE "
        "event is one write on each open stream. No theory line: CPU time depends on the "
        "machine" + few_events_note(found),
        ax,
    )
    legend_below(
        fig,
        transport_handles(found),
        spread_handles(every_point(found)) + flag_handles(p.row for p in every_point(found)),
    )
    return fig
