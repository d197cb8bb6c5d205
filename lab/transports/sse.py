"""Server-Sent Events: one long response per client, each event written as it is published."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from flask import Blueprint, Response, request

from lab.app import LabState, lab_state
from lab.cursors import parse_cursor, parse_positive_int
from lab.errors import ApiError
from lab.event_source import to_json_bytes
from lab.fanout import ParkedStream
from lab.held import CLIENT_SOCKET_KEY, Hold, TooManyHeld
from lab.sse import ServerSentEvent, encode_comment, encode_retry

TRANSPORT = "sse"
blueprint = Blueprint(TRANSPORT, __name__)

STREAM_HEADERS = {
    "Cache-Control": "no-cache",
    # Tells nginx-style proxies not to buffer the stream, which would hold events back.
    "X-Accel-Buffering": "no",
}
HEARTBEAT = encode_comment("ping")
DROPPED = encode_comment("dropped by the server (POST /drop); reconnect")


def notice(type: str, **fields) -> bytes:
    """A server notice (gap, close): an event without an id, so it does not move the cursor."""
    return ServerSentEvent(data=to_json_bytes(fields).decode(), event=type).encode()


class _Stream:
    """The response body: frames from a generator, and the hold released however it ends.

    A generator that was never started ignores close(), so releasing the hold cannot be left
    to the generator's own `finally`.
    """

    def __init__(self, frames: Iterator[bytes], release: Callable[[], None]) -> None:
        self._frames = frames
        self._release = release

    def __iter__(self) -> Iterator[bytes]:
        return self._frames

    def close(self) -> None:
        try:
            self._frames.close()
        finally:
            self._release()


def resume_point(state: LabState) -> int | None:
    """Where the client wants to continue: the Last-Event-ID header, else ?last_event_id=."""
    header = request.headers.get("Last-Event-ID", "")
    if header.strip():
        return parse_cursor(header, state.source, "the Last-Event-ID header")
    return parse_cursor(request.args.get("last_event_id"), state.source, "last_event_id")


@blueprint.get("/sse")
def sse() -> Response:
    state = lab_state()
    resume_after = resume_point(state)
    limit = None
    if request.args.get("limit") is not None:
        limit = parse_positive_int(request.args["limit"], "limit")
    start = state.source.last_id if resume_after is None else resume_after

    holding = state.held.hold(request.environ)
    try:
        held = holding.__enter__()
    except TooManyHeld:
        raise ApiError(
            503,
            f"the server is already holding its maximum of {state.settings.max_streams} streams "
            "and long polls (--max-streams); try again shortly",
            {"Retry-After": "1"},
        ) from None
    released = False

    def release() -> None:
        nonlocal released
        if not released:
            released = True
            holding.__exit__(None, None, None)

    return Response(
        _Stream(frames(state, held, start, limit, request.environ), release),
        status=200,
        content_type="text/event-stream; charset=utf-8",
        headers=STREAM_HEADERS,
    )


def frames(
    state: LabState, held: Hold, cursor: int, limit: int | None, environ: dict
) -> Iterator[bytes]:
    source, settings = state.source, state.settings
    counters = state.metrics[TRANSPORT]
    heartbeat = settings.heartbeat or None
    client_socket = environ.get(CLIENT_SOCKET_KEY)
    raw = getattr(client_socket, "_sock", None)
    # The fan-out writes its own HTTP chunks, so only chunked (HTTP/1.1) unlimited streams
    # on a real socket can park; the rest are written by their own greenlet below.
    can_park = (
        limit is None and raw is not None and environ.get("SERVER_PROTOCOL") == "HTTP/1.1"
    )
    stream = ParkedStream(held, raw, cursor) if can_park else None
    sent = 0
    yield encode_retry(settings.retry_ms)
    last_write = time.monotonic()
    while True:
        if held.ended:
            if held.dropped:
                yield DROPPED
            return
        events, gap = source.events_after(cursor, settings.max_batch)
        if gap:
            first = events[0].id if events else source.first_id
            yield notice("gap", after=cursor, resumed_from=first, missed=first - cursor - 1)
        if events:
            if limit is not None:
                events = events[: limit - sent]
            cursor = events[-1].id
            sent += len(events)
            counters.events_sent += len(events)
            # Every client gets the same cached frame bytes; only the join is per client.
            yield b"".join(event.sse_bytes for event in events)
            last_write = time.monotonic()
            if limit is not None and sent >= limit:
                yield notice("close", reason="limit", sent=sent)
                return
            continue
        if stream is None:
            if not held.wait(source.news(), heartbeat):
                yield HEARTBEAT
                last_write = time.monotonic()
            continue
        cursor, last_write = park_until_needed(state.fanout, stream, cursor, last_write,
                                               heartbeat, client_socket, counters)
        if heartbeat and time.monotonic() - last_write >= heartbeat:
            yield HEARTBEAT
            last_write = time.monotonic()


def park_until_needed(fanout, stream, cursor, last_write, heartbeat, client_socket, counters):
    """Let the fan-out write events to this stream until it hands it back; return the new
    cursor and the time of the last write."""
    stream.cursor, stream.last_write = cursor, last_write
    fanout.park(stream)
    try:
        timeout = None if heartbeat is None else max(0.0, last_write + heartbeat - time.monotonic())
        stream.hold.wait(None, timeout)
    finally:
        fanout.unpark(stream)
    if stream.pending:
        # A slow reader: finish the chunk the fan-out started, waiting as long as it takes.
        pending, stream.pending = stream.pending, b""
        client_socket.sendall(pending)
        counters.bytes_out += len(pending)
    return stream.cursor, stream.last_write
