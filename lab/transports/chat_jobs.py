"""Chat answers for polling clients: `POST /chat/jobs` starts an answer, `GET
/chat/jobs/<id>?after=N` returns its tokens after index N, at once (short polling) or, with
`wait=T`, held until there are new tokens or the answer ends (long polling), and `DELETE
/chat/jobs/<id>` stops it. The same answer as `POST /chat` streams, for the comparison.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from lab.chat.jobs import Job, TooManyJobs
from lab.cursors import parse_positive_number, parse_whole
from lab.errors import ApiError, too_many_held
from lab.held import TooManyHeld
from lab.state import lab_state
from lab.transports.chat import read_question

blueprint = Blueprint("chat_jobs", __name__)

MAX_WAIT_S = 25.0
"""The longest a poll for new tokens is held (below a proxy's usual 30-60 s)."""


def tokens_after(job: Job, after: int | None) -> list[dict]:
    start = 0 if after is None else after + 1
    return [token.as_json() for token in job.tokens[start:]]


def answer(job: Job, after: int | None) -> Response:
    tokens = tokens_after(job, after)
    lab_state().metrics.chat.tokens_sent += len(tokens)
    last = tokens[-1]["index"] if tokens else after
    response = jsonify(
        {"id": job.id, "tokens": tokens, "last": last, "done": job.done, "aborted": job.aborted}
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/chat/jobs")
def start_job() -> tuple[Response, int]:
    question = read_question()
    try:
        job = lab_state().chat_jobs.start(question)
    except TooManyJobs as full:
        raise ApiError(
            503,
            f"the server already has {full.args[0]:,} chat answers under way "
            "(--max-chat-answers); try again soon",
            {"Retry-After": "5"},
        ) from None
    return jsonify({"id": job.id, "url": f"/chat/jobs/{job.id}"}), 201


@blueprint.get("/chat/jobs/<job_id>")
def read_job(job_id: str) -> Response:
    after = parse_whole(request.args["after"], "after") if "after" in request.args else None
    wait = 0.0
    if request.args.get("wait") not in (None, "", "0"):
        wait = parse_positive_number(request.args["wait"], "wait", MAX_WAIT_S, "seconds")
    state = lab_state()
    job = state.chat_jobs.get(job_id)
    if job is None:
        raise ApiError(
            404, "there is no such chat answer (unknown, or ended a while ago and forgotten)"
        )
    if wait and not job.ended and not tokens_after(job, after):
        job.waiting += 1
        try:
            with state.held.hold(request.environ) as held:
                held.wait(job.news, wait)
        except TooManyHeld:
            raise too_many_held(state.settings.max_streams) from None
        finally:
            job.waiting -= 1
            job.last_asked = state.chat_jobs.clock()
    return answer(job, after)


@blueprint.delete("/chat/jobs/<job_id>")
def delete_job(job_id: str) -> Response:
    if not lab_state().chat_jobs.delete(job_id):
        raise ApiError(
            404, "there is no such chat answer (unknown, or ended a while ago and forgotten)"
        )
    return Response(status=204)
