"""The same transport on different servers (15): the lab's own and the peers, side by side.

Three panels, one bar per server (the lab first, then the peers in their usual order): how
many deliveries a second each served while 99% of them arrived within 100 ms, and at the
largest user count the servers shared, the server's CPU per delivery and its memory per
open stream. A server without a figure keeps its row with a written reason.
"""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from lab.cell_selection import median_repeat
from lab.cell_summary import CellSummary
from lab.charts.marks import flag_handles, lost_mark
from lab.charts.style import (
    LABEL_PT,
    LOST_COLOR,
    MUTED,
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
from lab.claims.servers import (
    FAST_P99_MS,
    compare_users,
    compared,
    connected,
    deliveries_per_s,
    fastest,
    of_server,
    refusal,
    servers_in,
)
from lab.formatting import fmt_ms, fmt_number, plural
from lab.names import LAB_SERVER, transport_label
from lab.run_folder import Run

CHART_TRANSPORTS = ("sse", "long_polling", "short_polling")
"""The first of these that more than one server measured is drawn: SSE is where the
servers differ most, and one transport keeps six bars readable from the back of a room."""
PEER_ALPHA = 0.45
NBSP = "\u00a0"
"""Between a figure and its unit, so that the title's wrapping keeps them on one line."""
INSIDE_SHARE = 0.6
"""A bar longer than this share of its panel carries its label inside."""

Bar = tuple[float | None, str, CellSummary | None]
"""A server's bar: its length (None: no bar), its label or why there is none, its cell."""


def chart_transport(rows: list[CellSummary]) -> str:
    for transport in CHART_TRANSPORTS:
        if len(servers_in(compared(rows, transport))) > 1:
            return transport
    raise MissingData("no transport was measured on more than one server (--servers)")


def _speed_bar(rows: list[CellSummary], server: str) -> Bar:
    best = fastest(rows, server)
    if best is not None:
        rate = deliveries_per_s(best)
        return rate, f"{fmt_number(rate)}/s\n({plural(best.users, 'user')})", best
    if not of_server(rows, server):
        return None, "not measured", None
    if not any(connected(r) for r in of_server(rows, server)):
        return None, _refused_text(rows, server), None
    return None, f"none with p99 under {fmt_ms(FAST_P99_MS)}", None


def _refused_text(rows: list[CellSummary], server: str) -> str:
    refused = refusal(rows, server)
    if refused is None:
        return "did not connect"
    return (
        f"did not connect at {plural(refused.users, 'user')}\n"
        f"({refused.users_connected:,} of {refused.users:,} connected)"
    )


def _cost_bar(
    rows: list[CellSummary], server: str, users: int | None, column: str, unit: str
) -> Bar:
    if users is None:
        return None, "no user count every server held", None
    mine = [r for r in of_server(rows, server) if r.users == users]
    held = [r for r in mine if connected(r) and r.get(column) is not None]
    if held:
        row = median_repeat(held, column)
        return row.get(column), f"{fmt_number(row.get(column))} {unit}", row
    refused = refusal(rows, server)
    if refused is not None and refused.users <= users:
        return None, _refused_text(rows, server), None
    if mine and all(connected(r) for r in mine):
        return None, "not measured", None
    return None, f"not measured at {plural(users, 'user')}", None


def _panel(ax, bars: list[Bar], color: str, servers: list[str], title: str, label: str) -> None:
    style_axes(ax)
    ax.grid(False, axis="y")
    longest = max([b[0] for b in bars if b[0] is not None] + [0.0]) or 1.0
    for y, (server, (value, text, row)) in enumerate(zip(servers, bars, strict=True)):
        if value is None:
            ax.annotate(
                text,
                (0, y),
                xytext=(4, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontsize=NOTE_PT,
                color=LOST_COLOR if text.startswith("did not connect") else MUTED,
                gid=f"missing:{server}",
            )
            continue
        flagged = row is not None and row.verdict.flag is not None
        ax.barh(
            y,
            value,
            0.66,
            color="white" if flagged else color,
            alpha=1.0 if server == LAB_SERVER or flagged else PEER_ALPHA,
            edgecolor=color,
            lw=2.2 if flagged else 0,
            gid=f"bar:{server}",
        )
        if flagged:
            text += f"\n⚠ {row.verdict.short()}"
            if row.verdict.lossy:
                lost_mark(ax, longest * 0.04, y, gid=f"lost-mark:{row.cell}")
        inside = value >= INSIDE_SHARE * longest
        ax.annotate(
            text,
            (value, y),
            xytext=(-5 if inside else 5, 0),
            textcoords="offset points",
            ha="right" if inside else "left",
            va="center",
            fontsize=NOTE_PT,
            color="white" if inside and server == LAB_SERVER and not flagged else "#222222",
            fontweight="bold" if server == LAB_SERVER else "normal",
        )
    ax.set_xlim(0, longest * 1.08)
    ax.xaxis.set_major_formatter(FuncFormatter(plain_tick))
    ax.set_title(title, fontsize=SUBTITLE_PT, color="#333333", loc="left")
    ax.set_xlabel(label, fontsize=LABEL_PT)
    ax.tick_params(axis="y", length=0)


def figure_servers(run: Run) -> Figure:
    transport = chart_transport(run.rows)
    rows = compared(run.rows, transport)
    servers = servers_in(rows)
    users = compare_users(rows)
    rate = rows[0].rate
    color = TRANSPORT_COLORS[transport]
    at = f"at {users:,} users" if users is not None else "(no common user count)"
    panels: list[tuple[Callable[[str], Bar], str, str]] = [
        (
            lambda s: _speed_bar(rows, s),
            f"Deliveries a second with p99\nunder {fmt_ms(FAST_P99_MS)} (best cell)",
            "deliveries per second",
        ),
        (
            lambda s: _cost_bar(rows, s, users, "server_cpu_us_per_event", "µs"),
            f"Server CPU per delivery\n{at}",
            "µs of server CPU per delivery",
        ),
        (
            lambda s: _cost_bar(rows, s, users, "server_rss_per_user_kb", "KB"),
            f"Server memory per user\n{at}",
            "KB of server memory per user",
        ),
    ]
    fig = new_figure(WIDE_FIGSIZE)
    axes = fig.subplots(1, 3, sharey=True)
    shown: list[CellSummary] = []
    for ax, (bar, title, label) in zip(axes, panels, strict=True):
        bars = [bar(s) for s in servers]
        shown += [row for _value, _text, row in bars if row is not None]
        _panel(ax, bars, color, servers, title, label)
    axes[0].set_yticks(range(len(servers)), servers, fontsize=TICK_PT)
    axes[0].set_ylim(len(servers) - 0.5, -0.5)
    axes[0].set_ylabel("server", fontsize=LABEL_PT)
    fig.suptitle(
        wrap(_title(rows, servers, users, transport, rate), TITLE_PT * 1.12, fig),
        fontsize=TITLE_PT,
        fontweight="bold",
    )
    legend_below(
        fig,
        [
            Patch(color=color, label=f"the lab's server ({transport_label(transport)})"),
            Patch(color=color, alpha=PEER_ALPHA, label="a peer framework's server"),
        ],
        flag_handles(shown, marker="s"),
    )
    return fig


def _title(
    rows: list[CellSummary], servers: list[str], users: int | None, transport: str, rate: float
) -> str:
    what = (
        f"{transport_label(transport, True)} at {rate:g} event"
        f"{'' if rate == 1 else 's'}/s to each user, on {len(servers)} servers"
    )
    if users is None:
        return what
    cpu = {s: _cost_bar(rows, s, users, "server_cpu_us_per_event", "µs")[0] for s in servers}
    lab = cpu.get(LAB_SERVER)
    peers = {s: v for s, v in cpu.items() if s != LAB_SERVER and v is not None}
    if lab is None or not peers:
        return what
    cheapest = min(peers, key=peers.__getitem__)
    return (
        f"{what}: at {users:,} users the lab's server spends {fmt_number(lab)}{NBSP}µs of CPU "
        f"per delivery, the cheapest peer ({cheapest}) {fmt_number(peers[cheapest])}{NBSP}µs"
    )
