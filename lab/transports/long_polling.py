"""Long polling: answer at once if there is news, else hold the request until there is."""

from __future__ import annotations

import time

from flask import Blueprint, Response, request

from lab.cursors import Resume, parse_positive_number
from lab.errors import ApiError, too_many_held
from lab.held import SHUTTING_DOWN, TooManyHeld
from lab.state import lab_state
from lab.transports.batch import batch_response, read_resume

TRANSPORT = "long_polling"
blueprint = Blueprint(TRANSPORT, __name__)

SHUTDOWN_RETRY_S = 5
"""Retry-After for requests ended by a server that is stopping: long enough to restart it."""


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
    resume = read_resume(source)
    timeout = settings.longpoll_timeout
    if request.args.get("timeout") is not None:
        timeout = parse_positive_number(
            request.args["timeout"], "timeout", settings.longpoll_max_timeout, "seconds"
        )
    if request.method == "HEAD" or (resume is not None and resume.restarted):
        return batch_response(TRANSPORT, resume)  # a HEAD is never held; a restart is told
    since = source.last_id if resume is None else resume.after  # none: wait for the next
    if source.last_id > since:
        return batch_response(TRANSPORT, resume or Resume(after=since))

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
                return batch_response(TRANSPORT, resume or Resume(after=since))
    except TooManyHeld:
        raise too_many_held(settings) from None
    if held.client_gone:
        # Nobody is listening; the answer only lets the handler finish and count it.
        return no_news()
    if held.drop_reason == SHUTTING_DOWN:
        raise ApiError(
            503,
            "the server is shutting down; ask again in a few seconds (it may be restarting)",
            {"Retry-After": str(SHUTDOWN_RETRY_S)},
        )
    raise ApiError(
        503,
        "the server dropped this long poll on purpose (POST /drop); ask again",
        {"Retry-After": "0"},
    )
