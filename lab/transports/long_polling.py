"""Long polling: answer at once if there is news, else hold the request until there is."""

from __future__ import annotations

import time

from flask import Blueprint, Response, request

from lab.app import lab_state
from lab.cursors import parse_cursor, parse_positive_number
from lab.errors import ApiError
from lab.held import TooManyHeld
from lab.transports.batch import batch_response

TRANSPORT = "long_polling"
blueprint = Blueprint(TRANSPORT, __name__)


def no_news() -> Response:
    """204: the timeout passed with nothing new; the client asks again with the same cursor."""
    lab_state().metrics[TRANSPORT].empty_responses += 1
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response


@blueprint.get("/longpoll")
def longpoll() -> Response:
    state = lab_state()
    settings, source = state.settings, state.source
    since = parse_cursor(request.args.get("since"), source, "since")
    timeout = settings.longpoll_timeout
    if request.args.get("timeout") is not None:
        timeout = parse_positive_number(
            request.args["timeout"], "timeout", settings.longpoll_max_timeout, "seconds"
        )
    if since is None:
        since = source.last_id  # no cursor: wait for the next event
    if source.last_id > since:
        events, gap = source.events_after(since, settings.max_batch)
        return batch_response(TRANSPORT, events, gap, source.last_id)

    deadline = time.monotonic() + timeout
    try:
        with state.held.hold(request.environ) as held:
            while source.last_id <= since:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return no_news()
                if held.ended:
                    break
                held.wait(source.news(), remaining)
            else:
                events, gap = source.events_after(since, settings.max_batch)
                return batch_response(TRANSPORT, events, gap, source.last_id)
    except TooManyHeld:
        raise ApiError(
            503,
            f"the server is already holding its maximum of {settings.max_streams} streams and "
            "long polls (--max-streams); try again shortly",
            {"Retry-After": "1"},
        ) from None
    if held.client_gone:
        # Nobody is listening; the answer only lets the handler finish and count it.
        return no_news()
    raise ApiError(
        503,
        "the server dropped this long poll on purpose (POST /drop); ask again",
        {"Retry-After": "0"},
    )
