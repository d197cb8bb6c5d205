"""Summary rows for unit tests: a clean cell with the lab's default settings, any column
overridden."""

from __future__ import annotations

from dataclasses import replace

from lab.cell_summary import CellSummary


def summary(transport: str, users: int, **values) -> CellSummary:
    """A clean cell: 1 event/s for 30 s, every event delivered, nothing flagged."""
    interval = values.pop("interval_s", 1.0 if transport == "short_polling" else None)
    timeout = 25.0 if transport == "long_polling" else None
    rate = values.get("rate", 1.0)
    name = f"{transport}-u{users}-r{rate:g}" + (f"-i{interval:g}" if interval else "")
    base = CellSummary(
        cell=name,
        transport=transport,
        users=users,
        rate=1.0,
        arrivals="fixed",
        interval_s=interval,
        timeout_s=timeout,
        payload_pad_bytes=16,
        rtt_ms=0.0,
        repeat=1,
        via="direct",
        heartbeat_s=None,
        duration_s=30.0,
        events_published=30,
        events_expected=30 * users,
        events_received=30 * users,
        events_lost=0,
        events_repeated=0,
        latency_p50_ms=None,
        latency_p90_ms=None,
        latency_p99_ms=None,
        latency_max_ms=None,
        latency_mean_ms=None,
        requests=0,
        requests_per_s=None,
        requests_per_event=None,
        empty_responses=None,
        empty_share=None,
        bytes_in=0,
        bytes_out=0,
        bytes_per_event=None,
        payload_bytes_per_event=None,
        overhead_bytes_per_event=None,
        server_cpu_s=0.0,
        server_cpu_us_per_event=None,
        client_cpu_percent=10.0,
        client_bound=False,
        errors=0,
    )
    return replace(base, **values)


def with_values(row: CellSummary, **values) -> CellSummary:
    return replace(row, **values)


def chat_summary(transport: str, users: int, **values) -> CellSummary:
    """A clean chat cell: the load question's model (30 tokens, 400 ms, 20/s), answered as
    theory says (short polling every 1 s)."""
    interval = 1.0 if transport == "short_polling" else None
    theory = {
        # (first token ms, token delay mean ms, requests per answer)
        "sse": (400.0, 0.5, 1.0),
        "long_polling": (400.0, 0.5, 31.0),
        "short_polling": (1000.0, 441.7, 4.0),
    }[transport]
    measured = {
        "sse": (402.0, 0.3, 1.2, 1.0),
        "long_polling": (405.0, 1.5, 9.0, 31.0),
        "short_polling": (1010.0, 430.0, 960.0, 4.0),
    }[transport]
    base = summary(
        transport,
        users,
        interval_s=interval,
        cell=f"chat-{transport}-u{users}" + ("-i1" if interval else ""),
        workload="chat",
        rate=20.0,
        answers=10 * users,
        model_first_token_ms=400.0,
        ttft_p50_ms=measured[0],
        ttft_p90_ms=measured[0] + 2,
        ttft_p99_ms=measured[0] + 5,
        latency_p50_ms=measured[1],
        latency_mean_ms=measured[1] + 10 if transport == "short_polling" else measured[1],
        latency_p99_ms=measured[2],
        latency_max_ms=measured[2] + 1,
        gap_p50_ms=0.0 if transport == "short_polling" else 50.0,
        gap_p90_ms=0.0 if transport == "short_polling" else 51.0,
        gap_p99_ms=1000.0 if transport == "short_polling" else 53.0,
        requests_per_answer=measured[3],
        theory_ttft_ms=theory[0],
        theory_latency_mean_ms=theory[1],
        theory_requests_per_answer=theory[2],
        timeout_s=None,
        payload_pad_bytes=0,
    )
    return replace(base, **values)


def on_server(server: str, transport: str, users: int, **values) -> CellSummary:
    """A clean cell on a server, every user connected; a peer's has no socket bytes (the
    clients' bytes stand in)."""
    peer = server != "lab"
    base = summary(
        transport,
        users,
        server=server,
        cell=f"{transport}-u{users}-r1-{server}",
        users_connected=users,
        client_bytes_per_event=60.0,
        bytes_in=None if peer else 0,
        bytes_out=None if peer else 0,
    )
    return replace(base, **values)


def refused(server: str, transport: str, users: int, connected: int) -> CellSummary:
    """A cell whose users did not all connect before the deadline: no figures."""
    return on_server(
        server, transport, users, users_connected=connected, duration_s=0.0, events_received=0
    )
