"""The JSON answer both polling transports give: a batch of events and the next cursor."""

from __future__ import annotations

from flask import Response

from lab.app import lab_state
from lab.event_source import Event


def batch_response(transport: str, events: list[Event], gap: bool, newest_id: int) -> Response:
    """`{"events": [...], "last_id": cursor}`, plus `"gap": true` when history was lost.

    `last_id` is the cursor for the next request: the last event carried here, or the newest
    id when there is none. When a batch is cut at max_batch, `"more": true` says to ask again
    at once. Each event's JSON was encoded once at publish time and is reused here as bytes.
    """
    cursor = events[-1].id if events else newest_id
    body = bytearray(b'{"events":[')
    body += b",".join(event.json_bytes for event in events)
    body += b'],"last_id":%d' % cursor
    if gap:
        body += b',"gap":true'
    if cursor < newest_id:
        body += b',"more":true'
    body += b"}"
    counters = lab_state().metrics[transport]
    counters.events_sent += len(events)
    counters.empty_responses += not events
    return Response(bytes(body), status=200, mimetype="application/json")
