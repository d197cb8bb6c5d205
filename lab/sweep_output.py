"""What a sweep prints when it ends: a table of its cells, the frame arithmetic checks, and
the cells that cannot be taken at face value."""

from __future__ import annotations

from typing import TextIO

from lab.cell_measurement import CellResult
from lab.cell_summary import CellSummary
from lab.formatting import fmt_number
from lab.names import CHAT
from lab.proxy.profiles import DIRECT


def print_frame_checks(results: list[CellResult], out: TextIO) -> None:
    """Each stream cell's measured overhead per event beside its frame arithmetic."""
    for result in results:
        # The arithmetic assumes the server's own chunked stream, which only a direct cell
        # (or an HTTP/1.1 proxy) reads; a reconnection's request bytes are not framing.
        plain_stream = result.cell.via == DIRECT and not result.summary.requests
        if (
            plain_stream
            and result.frame_arithmetic is not None
            and result.summary.overhead_bytes_per_event
        ):
            what = FRAME_PARTS.get(result.cell.transport, "framing")
            print(
                f"{result.cell.name}: overhead per event measured "
                f"{result.summary.overhead_bytes_per_event:.2f} bytes; frame arithmetic "
                f"({what}) {result.frame_arithmetic:.2f} bytes",
                file=out,
            )


FRAME_PARTS = {
    "sse": "id, event and data lines, blank line, chunk framing",
    "websocket": "a frame's header",
}


def print_summary(rows: list[CellSummary], problems: dict[str, list[str]], out: TextIO) -> None:
    def shown(value: float | None) -> str:
        return "–" if value is None else fmt_number(value)

    chat = [row for row in rows if row.workload == CHAT]
    rows = [row for row in rows if row.workload != CHAT]
    if chat:
        print(
            f"\n{'chat cell':<34} {'TTFT p50':>9} {'delay p50':>9} {'gap p99':>8} "
            f"{'req/answer':>10}   (ms; delay: each token's receipt minus its server stamp)",
            file=out,
        )
        for row in chat:
            print(
                f"{row.cell:<34} {shown(row.ttft_p50_ms):>9} {shown(row.latency_p50_ms):>9} "
                f"{shown(row.gap_p99_ms):>8} {shown(row.requests_per_answer):>10}",
                file=out,
            )
    if rows:
        print(
            f"\n{'cell':<34} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'B/event':>8} "
            f"{'CPU µs/ev':>9} {'connect s':>9} {'open p99':>8}",
            file=out,
        )
    for row in rows:
        print(
            f"{row.cell:<34} {shown(row.latency_p50_ms):>8} {shown(row.latency_p99_ms):>8} "
            f"{shown(row.requests_per_s):>8} {shown(row.bytes_per_event):>8} "
            f"{shown(row.server_cpu_us_per_event):>9} {shown(row.connect_s):>9} "
            f"{shown(row.connect_p99_ms):>8}",
            file=out,
        )
    timeouts = {row.cell: row.gateway_timeouts for row in rows if row.gateway_timeouts}
    if timeouts:
        print(
            "\nA proxy answered 504 (Gateway Timeout) in: "
            + ", ".join(f"{cell} ({count:,})" for cell, count in timeouts.items())
            + "; the report's 'Behind a proxy' section says why.",
            file=out,
        )
    if problems:
        print("\nPROBLEMS: these cells cannot be taken at face value:", file=out)
        for name, found in problems.items():
            for problem in found:
                print(f"  {name}: {problem}", file=out)
    else:
        print(
            "\nNo cell lost or repeated an event, hit an error or saturated its client.", file=out
        )
