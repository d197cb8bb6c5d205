"""The JSON answer both polling transports give: a batch of events and the next cursor."""

from __future__ import annotations

from flask import Response, request

from lab.cursors import Resume, parse_resume
from lab.event_source import EventSource
from lab.poll_answers import answer_cache
from lab.state import lab_state


def read_resume(source: EventSource) -> Resume | None:
    """The poll's cursor: `?since=N`, with `?epoch=` when the client knows the run."""
    return parse_resume(request.args.get("since"), source, "since", request.args.get("epoch"))


def batch_response(transport: str, resume: Resume | None) -> Response:
    """`{"events": [...], "last_id": cursor, "epoch": run}`, answered at once (the body is
    lab.poll_answers' `encode_answer`, shared with the lean path for the hot requests)."""
    state = lab_state()
    settings = state.settings
    body, count = answer_cache(state.source).answer(
        resume, settings.max_batch, settings.max_batch_bytes
    )
    counters = state.metrics[transport]
    counters.events_sent += count
    counters.empty_responses += not count
    return Response(body, status=200, mimetype="application/json")
