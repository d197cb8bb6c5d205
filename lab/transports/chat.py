"""Chat answers streamed over SSE from a POST: `POST /chat` with a question, answered with
one `event: token` per token and a final `data: [DONE]`, as language-model services do.

A browser's EventSource can only GET, so a page reads this with fetch and a stream reader.
Each answer is its own generator (lab.chat.model), paced by its timing. It is held like a
stream (lab.held): the limit on held requests applies, POST /drop ends it, and a client
that goes away ends the generation at once, counted as aborted, rather than when the next
token finds the socket closed.
"""

from __future__ import annotations

import time
from collections.abc import Generator

from flask import Blueprint, Response, request

from lab.chat.model import answer_tokens
from lab.chat.request import ChatRequest
from lab.errors import ApiError
from lab.held import Hold
from lab.json_body import json_body
from lab.json_bytes import to_json_bytes
from lab.metrics import ChatCounters
from lab.sse import ServerSentEvent
from lab.state import lab_state
from lab.transports.sse import held_stream

blueprint = Blueprint("chat", __name__)

DONE = b"data: [DONE]\n\n"
TOKEN_EVENT = "token"


def token_frame(index: int, text: str) -> bytes:
    data = to_json_bytes({"index": index, "text": text, "ts": time.time()}).decode()
    return ServerSentEvent(data=data, event=TOKEN_EVENT, id=str(index)).encode()


def read_question() -> ChatRequest:
    """The request's question (415 when it is not sent as JSON: a plain cross-site form
    cannot send JSON, so no other site's page can make the server generate)."""
    if request.mimetype != "application/json":
        raise ApiError(
            415,
            "send the question as JSON, with the header Content-Type: application/json "
            '(for example {"prompt": "What is SSE?"})',
        )
    return ChatRequest.from_json(json_body())


@blueprint.post("/chat")
def chat() -> Response:
    question = read_question()
    state = lab_state()
    if state.metrics.chat.generating >= state.settings.max_chat_answers:
        raise ApiError(
            503,
            f"the server already generates {state.settings.max_chat_answers:,} chat answers "
            "(--max-chat-answers); try again soon",
            {"Retry-After": "5"},
        )
    return held_stream(state, lambda held: answer(question, held, state.metrics.chat))


def answer(
    question: ChatRequest, held: Hold, counters: ChatCounters
) -> Generator[bytes, None, None]:
    """The answer's frames, each when its token is due; counted finished or aborted.

    Counted from its first step: a body that is never iterated never started generating."""
    counters.answers_started += 1
    counters.generating += 1
    asked = time.monotonic()
    finished = False
    try:
        for index, text in enumerate(answer_tokens(question.prompt, question.max_tokens)):
            wait = asked + question.timing.due_s(index) - time.monotonic()
            # Waiting on the hold, not sleeping: a client that leaves ends the wait at once.
            if wait > 0:
                held.wait(None, wait)
            if held.ended:
                return
            counters.tokens_generated += 1
            yield token_frame(index, text)
            counters.tokens_sent += 1
        yield DONE
        finished = True
    finally:
        counters.generating -= 1
        if finished:
            counters.answers_finished += 1
        else:
            counters.answers_aborted += 1
