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
