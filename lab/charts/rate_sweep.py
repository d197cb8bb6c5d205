"""What the charts of a rate sweep share: the cells of the sweep as points (median and
range of repeats), theory curves over a range of rates, a log axis of rates, value labels,
and the note on windows that held few events."""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from lab import theory
from lab.cell_selection import Point, points, sweep_rows
from lab.cell_summary import CellSummary
from lab.charts.style import LABEL_PT, NOTE_BOX, NOTE_PT, THEORY_STYLE, TRANSPORT_COLORS, plain_tick
from lab.formatting import fmt_number, fmt_seconds, join
from lab.names import TRANSPORTS, transport_label
from lab.run_folder import Run


def prediction_at(row: CellSummary, rate: float) -> theory.Prediction | None:
    """The theory for the row's cell at another event rate (None without a payload)."""
    if row.payload_bytes_per_event is None:
        return None
    return theory.predict(
        row.transport,
        users=row.users,
        rate=rate,
        arrivals=row.arrivals,
        interval_s=row.interval_s,
        timeout_s=row.timeout_s,
        event_json_bytes=row.payload_bytes_per_event,
        network_rtt_s=row.rtt_ms / 1000,
    )


def theory_curve(
    ax,
    transport: str,
    row: CellSummary,
    rates: list[float],
    value: Callable[[theory.Prediction, float], float],
    x_of_rate: Callable[[float], float] = lambda rate: rate,
) -> None:
    """The transport's theory over a range of event rates, as a pale dashed band."""
    curve = [(x_of_rate(r), value(p, r)) for r in rates if (p := prediction_at(row, r)) is not None]
    if not curve:
        return
    ax.plot(
        [x for x, _y in curve],
        [y for _x, y in curve],
        color=TRANSPORT_COLORS[transport],
        gid=f"theory:{transport}",
        **THEORY_STYLE,
    )


def rate_grid(low: float, high: float, steps: int = 60) -> list[float]:
    """Geometric steps from low to high, for a theory curve on a log axis."""
    ratio = (high / low) ** (1 / steps)
    return [low * ratio**i for i in range(steps + 1)]


def rate_axis(ax, values: list[float], label: str) -> None:
    values = sorted(set(values))
    ax.set_xscale("log")
    ax.set_xlim(values[0] / 1.8, values[-1] * 1.8)
    ax.xaxis.set_major_locator(FixedLocator(values))
    ax.xaxis.set_major_formatter(FuncFormatter(plain_tick))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel(label, fontsize=LABEL_PT)


LABEL_PLACES = {
    # (x offset, y offset, alignment) in points: each transport's labels on their own side,
    # so that close values of two transports do not write over each other. SSE and
    # WebSocket often cost within a factor of two of each other: their labels go below the
    # point on opposite sides.
    "short_polling": (-9, 7, "right"),
    "long_polling": (9, 7, "left"),
    "sse": (9, -17, "left"),
    "websocket": (-9, -17, "right"),
}


def label_values(
    ax, transport: str, found: list[Point], unit: str, place: tuple | None = None
) -> None:
    """Each point's median written beside it, so that a log axis need not be read."""
    dx, dy, align = place or LABEL_PLACES[transport]
    for p in found:
        ax.annotate(
            f"{fmt_number(p.y)}{unit}",
            (p.x, p.y),
            xytext=(dx, dy),
            textcoords="offset points",
            ha=align,
            fontsize=NOTE_PT,
            color=TRANSPORT_COLORS[transport],
            bbox=NOTE_BOX,
            zorder=6,
        )


FEW_EVENTS = 20
"""Below this many events in a cell's window, a per-event figure rests on few events."""


def few_events_note(found: dict[str, list[Point]]) -> str:
    """A sentence on the rates whose windows held few events (the repeats' counts), which is
    where per-event figures spread most; '' when every window held enough."""
    rates: dict[float, list[int]] = {}
    for p in every_point(found):
        if p.spread and p.row.events_published < FEW_EVENTS:
            members = sorted(p.members, key=lambda m: m.repeat)
            rates.setdefault(p.row.rate, [m.events_published for m in members])
    if not rates:
        return ""
    rate = min(rates)
    duration = next(p.row.duration_s for p in every_point(found) if p.row.rate == rate)
    return (
        f". At {rate:g} events/s a {duration:.0f} s window holds about "
        f"{rate * duration:.0f} events; the repeats held {join([str(n) for n in rates[rate]])}, "
        "so their per-event figures spread widely"
    )


def label_values_below(ax, found: list[Point]) -> None:
    for p in found:
        ax.annotate(
            f"{fmt_number(p.y)} (every {fmt_seconds(p.row.interval_s)})",
            (p.x, p.y),
            xytext=(9, -17),
            textcoords="offset points",
            fontsize=NOTE_PT,
            color=TRANSPORT_COLORS["short_polling"],
            bbox=NOTE_BOX,
            zorder=6,
        )


def theory_handles(transports, words: dict[str, str]) -> list[Line2D]:
    return [
        Line2D(
            [],
            [],
            color=TRANSPORT_COLORS[t],
            label=f"{transport_label(t, True)} theory: {words[t]}",
            **THEORY_STYLE,
        )
        for t in transports
    ]


def sweep_points(run: Run, column: str, *free: str) -> dict[str, list[Point]]:
    """Each transport's points of `column` over the rate sweep (and `free` settings)."""
    out = {}
    for transport in TRANSPORTS:
        found = points(sweep_rows(run.rows, transport, "rate", *free), rate_of, column)
        if found:
            out[transport] = found
    return out


def rate_of(row: CellSummary) -> float:
    return row.rate


def every_point(found: dict[str, list[Point]]) -> list[Point]:
    return [p for pts in found.values() for p in pts]
