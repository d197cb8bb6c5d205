"""The summary table: one row per cell, in Markdown, for the report and the notebook.

Numbers come from summary.csv, rounded one way (lab.formatting); flagged cells carry their
verdict in a few words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lab.cell_selection import main_settings
from lab.cell_summary import CellSummary
from lab.formatting import fmt_number, fmt_seconds, fmt_share
from lab.names import LAB_SERVER, TRANSPORTS, transport_label
from lab.proxy.profiles import VIA_CHOICES

TRANSPORT_ORDER = {t: i for i, t in enumerate(TRANSPORTS)}


def _fmt(value: Any, kind: str = "number") -> str:
    """A table cell: numbers rounded for reading (lab.formatting), '–' where there is none."""
    if value is None:
        return "–"
    if kind == "share":
        return fmt_share(value)
    if kind == "percent":
        return f"{value:.0f}%"
    if kind == "int":
        return f"{value:,.0f}"
    if kind == "setting":
        return f"{value:g}"
    return fmt_number(value)


SUMMARY_TABLE = (
    # (header, column, kind)
    ("transport", "transport", "transport"),
    ("users", "users", "int"),
    ("interval", "interval_s", "seconds"),
    ("p50 ms", "latency_p50_ms", "number"),
    ("p90 ms", "latency_p90_ms", "number"),
    ("p99 ms", "latency_p99_ms", "number"),
    ("requests/s", "requests_per_s", "number"),
    ("requests/event", "requests_per_event", "number"),
    ("empty polls", "empty_share", "share"),
    ("bytes/event", "bytes_per_event", "number"),
    ("overhead bytes/event", "overhead_bytes_per_event", "number"),
    ("server CPU µs/event", "server_cpu_us_per_event", "number"),
    ("client CPU", "client_cpu_percent", "percent"),
    ("flags", "flags", "flags"),
)
"""The summary table's columns: header, summary.csv column, how it is formatted."""


def _ordered(rows: Sequence[CellSummary]) -> list[CellSummary]:
    """Transports in order; the main interval before the interval sweep, loopback before an
    added round trip; then by users, event rate and repeat."""
    main_interval = main_settings(rows)["interval_s"] if rows else None

    def key(row: CellSummary) -> tuple:
        interval = row.interval_s or 0
        return (
            TRANSPORT_ORDER.get(row.transport, 99),
            interval != (main_interval or 0),
            interval,
            row.rtt_ms,
            row.users,
            row.rate,
            row.server != LAB_SERVER,
            row.server,
            row.workers,
            bool(row.broker),
            row.repeat,
            row.cell,
        )

    return sorted(rows, key=key)


def summary_table(rows: Sequence[CellSummary]) -> str:
    """The summary rows as a Markdown table (numbers from the rows, rounded for reading)."""
    columns = list(SUMMARY_TABLE)
    several = [
        c
        for c in (
            "rate",
            "arrivals",
            "timeout_s",
            "heartbeat_s",
            "payload_pad_bytes",
            "rtt_ms",
            "via",
            "workers",
            "broker",
            "server",
            "repeat",
        )
        if len({r.get(c) for r in rows if r.get(c) is not None}) > 1
    ]
    extra = {
        "rate": ("events/s", "rate", "setting"),
        "arrivals": ("arrivals", "arrivals", "text"),
        "timeout_s": ("timeout", "timeout_s", "seconds"),
        "heartbeat_s": ("heartbeat", "heartbeat_s", "seconds"),
        "via": ("via", "via", "text"),
        "payload_pad_bytes": ("pad bytes", "payload_pad_bytes", "int"),
        "rtt_ms": ("RTT ms", "rtt_ms", "setting"),
        "workers": ("workers", "workers", "int"),
        "broker": ("broker", "broker", "text"),
        "server": ("server", "server", "text"),
        "repeat": ("repeat", "repeat", "int"),
    }
    for name in reversed(several):
        columns.insert(3, extra[name])
    return _table(columns, _ordered(rows))


WORKERS_TABLE = (
    ("transport", "transport", "transport"),
    ("users", "users", "int"),
    ("events/s", "rate", "setting"),
    ("workers", "workers", "int"),
    ("broker", "broker", "text"),
    ("p50 ms", "latency_p50_ms", "number"),
    ("p99 ms", "latency_p99_ms", "number"),
    ("requests/s", "requests_per_s", "number"),
    ("server CPU µs/event", "server_cpu_us_per_event", "number"),
    ("client CPU", "client_cpu_percent", "percent"),
    ("flags", "flags", "flags"),
)
"""The workers table: the same cells on one process, through Redis, and on several."""


def table_of(columns: Sequence[tuple[str, str, str]], rows: Sequence[CellSummary]) -> str:
    """Any of the tables above, rows in the summary table's order."""
    return _table(list(columns), _ordered(rows))


PROXY_TABLE = (
    ("transport", "transport", "transport"),
    ("via", "via", "text"),
    ("events/s", "rate", "number"),
    ("hold", "timeout_s", "seconds"),
    ("heartbeat", "heartbeat_s", "seconds"),
    ("p50 ms", "latency_p50_ms", "number"),
    ("p99 ms", "latency_p99_ms", "number"),
    ("in bursts", "burst_share", "share"),
    ("events/read", "mean_batch", "number"),
    ("client bytes/event", "client_bytes_per_event", "number"),
    ("streams reopened", "reconnects", "int"),
    ("504s", "gateway_timeouts", "int"),
    ("lost", "events_lost", "int"),
    ("flags", "flags", "flags"),
)
"""The proxy table's columns: how events reached the clients through each profile."""


def proxy_table(rows: Sequence[CellSummary]) -> str:
    """Every cell of a run with a proxy in it, ordered so that each cell through nginx sits
    below the same cell direct."""
    order = {via: i for i, via in enumerate(VIA_CHOICES)}

    def key(row: CellSummary) -> tuple:
        return (
            TRANSPORT_ORDER.get(row.transport, 99),
            -row.rate,
            row.heartbeat_s or 0,
            -(row.timeout_s or 0),
            row.users,
            row.rtt_ms,
            order.get(row.via, 99),
            row.repeat,
        )

    return _table(list(PROXY_TABLE), sorted(rows, key=key))


CHAT_TABLE = (
    ("transport", "transport", "transport"),
    ("users", "users", "int"),
    ("interval", "interval_s", "seconds"),
    ("answers", "answers", "int"),
    ("first token p50 ms", "ttft_p50_ms", "number"),
    ("first token p99 ms", "ttft_p99_ms", "number"),
    ("token delay p50 ms", "latency_p50_ms", "number"),
    ("token delay p99 ms", "latency_p99_ms", "number"),
    ("gap p50 ms", "gap_p50_ms", "number"),
    ("gap p99 ms", "gap_p99_ms", "number"),
    ("requests/answer", "requests_per_answer", "number"),
    ("bytes/token", "bytes_per_event", "number"),
    ("server CPU µs/token", "server_cpu_us_per_event", "number"),
    ("flags", "flags", "flags"),
)
"""The chat table's columns: how one answer reached its user over each transport."""


def chat_table(rows: Sequence[CellSummary]) -> str:
    """The chat cells (`lab bench --chat`), by transport, then users and repeat."""
    ordered = sorted(rows, key=lambda r: (TRANSPORT_ORDER.get(r.transport, 99), r.users, r.repeat))
    columns = list(CHAT_TABLE)
    if len({r.repeat for r in rows}) > 1:
        columns.insert(2, ("repeat", "repeat", "int"))
    return _table(columns, ordered)


CONNECT_TABLE = (
    ("transport", "transport", "transport"),
    ("users", "users", "int"),
    ("events/s", "rate", "setting"),
    ("connected", "users_connected", "int"),
    ("connecting s", "connect_s", "number"),
    ("open p50 ms", "connect_p50_ms", "number"),
    ("open p99 ms", "connect_p99_ms", "number"),
    ("window s", "duration_s", "number"),
    ("flags", "flags", "flags"),
)
"""How each cell's users connected before its window, and how long the window was."""


def connect_table(rows: Sequence[CellSummary]) -> str:
    """The cells' connecting columns, in the summary table's order."""
    columns = list(CONNECT_TABLE)
    for name, extra in (
        ("interval_s", ("interval", "interval_s", "seconds")),
        ("via", ("via", "via", "text")),
        ("rtt_ms", ("RTT ms", "rtt_ms", "setting")),
        ("drop_every_s", ("drop every", "drop_every_s", "seconds")),
        ("repeat", ("repeat", "repeat", "int")),
    ):
        if len({r.get(name) for r in rows}) > 1:
            columns.insert(3, extra)
    return _table(columns, _ordered(rows))


DROP_TABLE = (
    ("transport", "transport", "transport"),
    ("users", "users", "int"),
    ("events/s", "rate", "number"),
    ("drop every", "drop_every_s", "seconds"),
    ("resumes", "client_resumes", "text"),
    ("reconnections", "reconnects", "int"),
    ("events received", "events_received", "int"),
    ("lost", "events_lost", "int"),
    ("p50 ms", "latency_p50_ms", "number"),
    ("p99 ms", "latency_p99_ms", "number"),
    ("flags", "flags", "flags"),
)
"""The drop cells' columns: what each client lost across the server's drops."""


def drop_table(rows: Sequence[CellSummary]) -> str:
    ordered = sorted(
        rows, key=lambda r: (TRANSPORT_ORDER.get(r.transport, 99), not r.client_resumes)
    )
    return _table(list(DROP_TABLE), ordered)


def _table(columns: list[tuple[str, str, str]], rows: Sequence[CellSummary]) -> str:
    lines = [
        "| " + " | ".join(h for h, _c, _k in columns) + " |",
        "|"
        + "|".join(":--" if k in ("transport", "flags", "text") else "--:" for _h, _c, k in columns)
        + "|",
    ]
    for row in rows:
        cells = []
        for _header, column, kind in columns:
            if kind == "transport":
                cells.append(transport_label(row.transport))
            elif kind == "seconds":
                value = row.get(column)
                cells.append(fmt_seconds(value) if value is not None else "–")
            elif kind == "text":
                value = row.get(column)
                cells.append({True: "yes", False: "no", None: "–"}.get(value, str(value or "–")))
            elif kind == "flags":
                flags = row.verdict.short()
                cells.append(f"**⚠ {flags}**" if flags else "")
            else:
                cells.append(_fmt(row.get(column), kind))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
