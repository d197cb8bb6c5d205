"""Short polling: answer at once with whatever is newer than the client's cursor."""

from __future__ import annotations

from flask import Blueprint, Response

from lab.state import lab_state
from lab.transports.batch import batch_response, read_resume

TRANSPORT = "short_polling"
blueprint = Blueprint(TRANSPORT, __name__)


@blueprint.get("/poll")
def poll() -> Response:
    # No cursor: the answer only tells the client where "now" is, without replaying history.
    return batch_response(TRANSPORT, read_resume(lab_state().source))
