"""The report's section on workers and Redis: the same cells with one process, with Redis
in the path, and with several workers, and what Redis adds to the server's CPU per event."""

from __future__ import annotations

from collections.abc import Sequence

from lab.cell_summary import CellSummary
from lab.formatting import fmt_number
from lab.names import transport_label
from lab.summary_table import WORKERS_TABLE, table_of


def baseline_of(row: CellSummary, rows: Sequence[CellSummary]) -> CellSummary | None:
    """The same cell on the single process with the in-process source."""
    return next(
        (
            r
            for r in rows
            if r.workers == 1
            and not r.broker
            and (r.transport, r.users, r.rate, r.interval_s, r.via, r.rtt_ms, r.repeat)
            == (row.transport, row.users, row.rate, row.interval_s, row.via, row.rtt_ms, row.repeat)
        ),
        None,
    )


def workers_section(rows: Sequence[CellSummary]) -> list[str]:
    """Empty when every cell ran on one process with the in-process source."""
    if all(r.workers == 1 and not r.broker for r in rows):
        return []
    out = [
        "## Workers and Redis",
        "",
        "Cells with `workers` above 1 ran `lab serve --workers N`: N server processes on "
        "one port (the kernel spreads the connections), sharing one event source through a "
        "private redis-server. `broker` = redis with one worker puts Redis in the path "
        "alone, to price it. The server's CPU is every worker's plus the redis-server's. "
        "The load generator ran on the same cores: a second worker competes with it, so "
        "these cells show what the workers cost and how they share a machine, not how far "
        "the server would scale on cores of its own.",
        "",
    ]
    ratios = []
    for row in rows:
        base = baseline_of(row, rows)
        if base is None or base is row:
            continue
        if row.server_cpu_us_per_event and base.server_cpu_us_per_event:
            ratio = row.server_cpu_us_per_event / base.server_cpu_us_per_event
            ratios.append(
                f"- {transport_label(row.transport)}, {row.users:,} users, "
                f"{row.rate:g} events/s, {row.workers} worker{'s' if row.workers > 1 else ''}"
                f"{' through Redis' if row.broker else ''}: "
                f"{fmt_number(row.server_cpu_us_per_event)} µs of server CPU per event against "
                f"{fmt_number(base.server_cpu_us_per_event)} µs on one process "
                f"({ratio:.2f}×)."
            )
    if ratios:
        out += ["Server CPU per delivered event against the single process:", "", *ratios, ""]
    return out + [table_of(WORKERS_TABLE, rows), ""]
