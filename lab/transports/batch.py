"""The JSON answer both polling transports give: a batch of events and the next cursor."""

from __future__ import annotations

from flask import Response, request

from lab.cursors import Resume, parse_resume
from lab.event_source import Event, EventSource
from lab.state import lab_state


def read_resume(source: EventSource) -> Resume | None:
    """The poll's cursor: `?since=N`, with `?epoch=` when the client knows the run."""
    return parse_resume(request.args.get("since"), source, "since", request.args.get("epoch"))


def batch_response(transport: str, resume: Resume | None) -> Response:
    """`{"events": [...], "last_id": cursor, "epoch": run}`, answered at once.

    Without a cursor the batch is empty and `last_id` says where "now" is. `"gap": true`
    says that events after the cursor were lost (they left the history, or the server
    restarted: then `"restarted": true` too, and the batch starts from this run's oldest
    event). `"more": true` says the batch was cut (at --max-batch events or
    --max-batch-bytes) and to ask again at once.

    The body is built in one piece from each event's JSON, encoded once at publish time, so
    an answer costs its own size in memory and no more.
    """
    state = lab_state()
    source, settings = state.source, state.settings
    newest = source.last_id
    events: list[Event]
    if resume is None:
        events, gap = [], False
    else:
        events, gap = source.events_after(
            resume.after, settings.max_batch, settings.max_batch_bytes
        )
    cursor = events[-1].id if events else newest
    pieces = [b'{"events":[']
    for event in events:
        pieces += (event.json_bytes, b",")
    if events:
        pieces.pop()
    tail = b'],"last_id":%d,"epoch":"%b"' % (cursor, source.epoch.encode())
    if gap or (resume is not None and resume.restarted):
        tail += b',"gap":true'
    if resume is not None and resume.restarted:
        tail += b',"restarted":true'
    if cursor < newest:
        tail += b',"more":true'
    pieces.append(tail + b"}")
    counters = state.metrics[transport]
    counters.events_sent += len(events)
    counters.empty_responses += not events
    return Response(b"".join(pieces), status=200, mimetype="application/json")
