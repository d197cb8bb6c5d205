"""Server-Sent Events: one long response per client, each event written as it is published."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator

from flask import Blueprint, Response, request

from lab.cursors import Resume, parse_positive_int, parse_resume
from lab.errors import too_many_held
from lab.fanout import ParkedStream
from lab.held import CLIENT_SOCKET_KEY, SHUTTING_DOWN, Hold, TooManyHeld
from lab.json_bytes import to_json_bytes
from lab.sse import ServerSentEvent, encode_comment, encode_retry
from lab.state import LabState, lab_state

TRANSPORT = "sse"
blueprint = Blueprint(TRANSPORT, __name__)

STREAM_HEADERS = {
    "Cache-Control": "no-cache",
    # Tells nginx-style proxies not to buffer the stream, which would hold events back.
    "X-Accel-Buffering": "no",
}
CONTENT_TYPE = "text/event-stream; charset=utf-8"
HEARTBEAT = encode_comment("ping")
DROPPED = encode_comment("dropped by the server (POST /drop); reconnect")
SHUTDOWN_RETRY_MS = 5_000
# A longer retry than usual, so that browsers do not hammer a server that is restarting.
SHUTDOWN_NOTICE = encode_comment("the server is shutting down; reconnect in a few seconds") + (
    encode_retry(SHUTDOWN_RETRY_MS)
)


def notice(type: str, **fields) -> bytes:
    """A server notice (gap, close): an event without an id, so it does not move the cursor."""
    return ServerSentEvent(data=to_json_bytes(fields).decode(), event=type).encode()


class HeldBody:
    """The response body: frames from a generator, and the hold released however it ends.

    A generator that was never started ignores close(), so releasing the hold cannot be left
    to the generator's own `finally`.
    """

    def __init__(self, frames: Generator[bytes, None, None], release: Callable[[], None]) -> None:
        self._frames = frames
        self._release = release

    def __iter__(self) -> Iterator[bytes]:
        return self._frames

    def close(self) -> None:
        try:
            self._frames.close()
        finally:
            self._release()


def resume_point(state: LabState) -> Resume | None:
    """Where the client wants to continue: the Last-Event-ID header, else ?last_event_id=."""
    header = request.headers.get("Last-Event-ID", "")
    if header.strip():
        return parse_resume(header, state.source, "the Last-Event-ID header")
    return parse_resume(request.args.get("last_event_id"), state.source, "last_event_id")


@blueprint.get("/sse")
def sse() -> Response:
    state = lab_state()
    resume = resume_point(state)
    limit = None
    if request.args.get("limit") is not None:
        limit = parse_positive_int(request.args["limit"], "limit")
    if request.method == "HEAD":
        # The same head a GET gets, and no stream: a HEAD has no body to hold open.
        return Response(b"", status=200, content_type=CONTENT_TYPE, headers=STREAM_HEADERS)
    if resume is None:
        resume = Resume(after=state.source.last_id)

    return held_stream(state, lambda held: frames(state, held, resume, limit, request.environ))


def held_stream(
    state: LabState, frames_for: Callable[[Hold], Generator[bytes, None, None]]
) -> Response:
    """A `text/event-stream` response that holds its request (lab.held: the limit, /drop,
    the client leaving) until its frames end, whichever way they end; 503 over the limit."""
    holding = state.held.hold(request.environ)
    try:
        held = holding.__enter__()
    except TooManyHeld:
        raise too_many_held(state.settings) from None
    released = False

    def release() -> None:
        nonlocal released
        if not released:
            released = True
            holding.__exit__(None, None, None)

    return Response(
        HeldBody(frames_for(held), release),
        status=200,
        content_type=CONTENT_TYPE,
        headers=STREAM_HEADERS,
    )


def frames(
    state: LabState, held: Hold, resume: Resume, limit: int | None, environ: dict
) -> Generator[bytes, None, None]:
    source, settings = state.source, state.settings
    counters = state.metrics[TRANSPORT]
    heartbeat = settings.heartbeat or None
    client_socket = environ.get(CLIENT_SOCKET_KEY)
    raw = getattr(client_socket, "_sock", None)
    # The fan-out writes its own HTTP chunks, so only chunked (HTTP/1.1) unlimited streams
    # on a real socket can park; the rest are written by their own greenlet below.
    can_park = limit is None and raw is not None and environ.get("SERVER_PROTOCOL") == "HTTP/1.1"
    cursor = resume.after
    stream = ParkedStream(held, raw, cursor) if can_park else None
    sent = 0
    yield encode_retry(settings.retry_ms)
    last_write = time.monotonic()
    restarted = resume.restarted
    while True:
        if held.ended:
            if held.dropped:
                yield SHUTDOWN_NOTICE if held.drop_reason == SHUTTING_DOWN else DROPPED
            return
        events, gap = source.events_after(cursor, settings.max_batch, settings.max_batch_bytes)
        if restarted:
            # The client's Last-Event-ID came from an earlier run of the server: what it
            # missed there is unknown, and this run's events are all new to it.
            restarted = False
            first = events[0].id if events else source.last_id + 1
            yield notice("gap", restarted=True, epoch=source.epoch, resumed_from=first)
        elif gap:
            first = events[0].id if events else source.first_id
            yield notice("gap", after=cursor, resumed_from=first, lost=first - cursor - 1)
        if events:
            if limit is not None:
                events = events[: limit - sent]
            cursor = events[-1].id
            sent += len(events)
            counters.events_sent += len(events)
            yield b"".join([event.sse_bytes for event in events])
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
        cursor, last_write = state.fanout.wait_parked(
            stream, cursor, last_write, heartbeat, client_socket
        )
        if heartbeat and time.monotonic() - last_write >= heartbeat:
            yield HEARTBEAT
            last_write = time.monotonic()
