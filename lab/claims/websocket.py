"""The claims that set WebSocket against SSE, checked against a run's WebSocket cells.

    W1. WebSocket framing adds only 2-6 bytes per message      (bytes per event, measured)
    W2. WebSocket needs its own resume; SSE has it built in   (the drop cells)
    W3. a client's message: one frame, or a whole request      (the publish comparison)

Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

from lab.cell_summary import CellSummary
from lab.claims.verdict import (
    DOES_NOT_HOLD,
    HOLDS,
    NOT_MEASURED,
    Rows,
    Verdict,
    caveats,
    cells_of,
    combine,
    having,
    users_text,
    where,
)
from lab.formatting import fmt_bytes, fmt_ms, fmt_number, fmt_seconds, join
from lab.proxy.profiles import DIRECT

CLAIM_W1 = "WebSocket framing adds only 2–6 bytes per message."
CLAIM_W2 = "WebSocket needs its own reconnection and resume logic; SSE has it built in."
CLAIM_W3 = "A message from the client costs one frame over WebSocket, but a whole request with SSE."

FRAMING_BYTES = (2.0, 6.0)
"""W1: the overhead per delivered event the claim allows, in bytes."""
PING_SLACK_BYTES = 0.5
"""W1: what the heartbeat's pings may add per event on top (a ping of a few bytes every
few seconds, shared by the events between them)."""


def check_websocket_framing(rows: Rows) -> Verdict:
    cells = sorted(
        (
            r
            for r in having(rows, "websocket", "overhead_bytes_per_event")
            if r.drop_every_s is None
        ),
        key=lambda r: r.users,
    )
    if not cells:
        return Verdict(1, CLAIM_W1, NOT_MEASURED, "No WebSocket cell in this run.")
    low, high = FRAMING_BYTES
    results = [
        (r.users, low <= r.overhead_bytes_per_event <= high + PING_SLACK_BYTES) for r in cells
    ]
    parts = [
        f"{fmt_bytes(r.overhead_bytes_per_event)} at {users_text(r.users)} and "
        f"{r.rate:g} events/s"
        + (
            f" (frame arithmetic {fmt_bytes(r.theory_bytes_per_event - r.payload_bytes_per_event)})"
            if r.theory_bytes_per_event is not None and r.payload_bytes_per_event is not None
            else ""
        )
        for r in cells
    ]
    sse = [
        r
        for r in having(rows, "sse", "overhead_bytes_per_event")
        if r.drop_every_s is None and r.via == DIRECT
    ]
    sse_bytes = [fmt_bytes(r.overhead_bytes_per_event) for r in sse]
    contrast = f" SSE's overhead in the same run: {join(sse_bytes)}." if sse else ""
    explanation = (
        "Bytes on the wire per delivered event beyond its JSON, counted at the server's "
        f"socket: {join(parts)}. A server's frame has a 2-byte header below 126 bytes of "
        "payload and 4 bytes up to 64 KiB; it holds when the overhead lies within "
        f"{low:g}–{high:g} bytes (plus {PING_SLACK_BYTES:g} for the heartbeat's pings)."
        + where(results)
        + contrast
        + caveats(cells)
    )
    return Verdict(1, CLAIM_W1, combine(results), explanation, cells_of(cells))


def _drop_cell(rows: Rows, transport: str, resumes: bool) -> CellSummary | None:
    found = [
        r
        for r in rows
        if r.transport == transport and r.drop_every_s is not None and r.client_resumes is resumes
    ]
    return min(found, key=lambda r: r.repeat) if found else None


def check_resume(rows: Rows) -> Verdict:
    sse = _drop_cell(rows, "sse", True)
    resuming = _drop_cell(rows, "websocket", True)
    bare = _drop_cell(rows, "websocket", False)
    if bare is None or (sse is None and resuming is None):
        return Verdict(
            2,
            CLAIM_W2,
            NOT_MEASURED,
            "It needs the drop cells, which a sweep with WebSocket runs (not --quick).",
        )
    used = [c for c in (sse, resuming, bare) if c is not None]

    def described(cell: CellSummary, what: str) -> str:
        drops = cell.reconnects or 0
        per_drop = cell.events_lost / drops if drops else 0.0
        return (
            f"{what} lost {cell.events_lost:,} events over {drops:,} reconnections "
            f"({fmt_number(per_drop)} per reconnection)"
        )

    parts = [described(bare, "WebSocket reconnecting live (no resume)")]
    if resuming is not None:
        parts.append(described(resuming, "WebSocket resuming from its last id"))
    if sse is not None:
        parts.append(described(sse, "SSE (Last-Event-ID)"))
    resumed_clean = all(c.events_lost == 0 for c in (sse, resuming) if c is not None)
    holds = bare.events_lost > 0 and resumed_clean
    every = fmt_seconds(bare.drop_every_s or 0)
    explanation = (
        f"POST /drop every {every}, each client back a second later: {join(parts)}. "
        "It holds when the WebSocket client without resume loses events and the resuming "
        "ones lose none: a WebSocket client gets nothing back unless it sends its last id "
        "itself (scenarios/websocket.py, lab/static/js/websocket.js), which EventSource does "
        "by itself with Last-Event-ID. The lost events are the ones published while it was "
        "away: the event rate times the reconnection delay."
        + waits_of_resumed(resuming, sse, bare)
        + caveats([c for c in used if c.client_resumes])
    )
    return Verdict(2, CLAIM_W2, HOLDS if holds else DOES_NOT_HOLD, explanation, cells_of(used))


def waits_of_resumed(
    resuming: CellSummary | None, sse: CellSummary | None, bare: CellSummary
) -> str:
    """Why the resuming cells' p99 is up to the time away: a resumed event waited for its
    client."""
    resumed = [
        f"{what} {fmt_ms(cell.latency_p99_ms)}"
        for what, cell in (("SSE", sse), ("WebSocket resuming", resuming))
        if cell is not None and cell.latency_p99_ms is not None
    ]
    if not resumed or bare.latency_p99_ms is None:
        return ""
    return (
        f" An event sent again on resume was published while its client was away and waited "
        f"for it to come back, so its latency is up to the time away: hence the resuming "
        f"cells' p99 ({join(resumed)}). "
        f"The client that does not resume never gets those events, so its p99 "
        f"({fmt_ms(bare.latency_p99_ms)}) looks better only because they are missing."
    )


def check_client_message(publish_cost: Mapping | None) -> Verdict:
    """W3, from the run's publish comparison (manifest.json's `publish_cost`)."""
    if not publish_cost:
        return Verdict(
            3,
            CLAIM_W3,
            NOT_MEASURED,
            "It needs the publish comparison, which a sweep with WebSocket runs (not --quick).",
        )
    http, frame = publish_cost["http"], publish_cost["websocket"]
    bytes_ratio = http["bytes_per_message"] / frame["bytes_per_message"]
    cpu_ratio = http["cpu_us_per_message"] / frame["cpu_us_per_message"]
    holds = bytes_ratio > 1 and cpu_ratio > 1
    explanation = (
        f"{publish_cost['messages']:,} messages from one client, each sent as a POST /publish "
        "(on a kept-alive connection, with its 201 answer) and as a text frame over an open "
        f"WebSocket: {fmt_bytes(http['bytes_per_message'])} and "
        f"{fmt_number(http['cpu_us_per_message'])} µs of server CPU per POST against "
        f"{fmt_bytes(frame['bytes_per_message'])} and {fmt_number(frame['cpu_us_per_message'])} "
        f"µs per frame: {fmt_number(bytes_ratio)} times the bytes and "
        f"{fmt_number(cpu_ratio)} times the CPU. It holds when the request costs more in both. "
        "(A client's frames are masked, so their header is 6 bytes; and each frame's event "
        "came back to its sender, which the frame's CPU includes and the requests' does not.)"
    )
    return Verdict(3, CLAIM_W3, HOLDS if holds else DOES_NOT_HOLD, explanation)


def check_websocket_claims(rows: Rows, publish_cost: Mapping | None) -> list[Verdict]:
    """W1-W3, when the run measured WebSocket (an empty list when it did not)."""
    if not any(r.transport == "websocket" for r in rows):
        return []
    return [check_websocket_framing(rows), check_resume(rows), check_client_message(publish_cost)]
