"""Short polling: answer at once with whatever is newer than the client's cursor."""

from __future__ import annotations

from flask import Blueprint, Response, request

from lab.app import lab_state
from lab.cursors import parse_cursor
from lab.transports.batch import batch_response

TRANSPORT = "short_polling"
blueprint = Blueprint(TRANSPORT, __name__)


@blueprint.get("/poll")
def poll() -> Response:
    state = lab_state()
    source = state.source
    since = parse_cursor(request.args.get("since"), source, "since")
    if since is None:
        # No cursor yet: tell the client where "now" is, without replaying history.
        return batch_response(TRANSPORT, [], False, source.last_id)
    events, gap = source.events_after(since, state.settings.max_batch)
    return batch_response(TRANSPORT, events, gap, source.last_id)
