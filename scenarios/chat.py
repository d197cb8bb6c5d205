"""Chat answers: each user asks a question, reads the answer to its end, waits, and asks again,
over the transport chosen with --chat-transport.

Run by hand against a running server (`lab serve`):

    locust -f scenarios/chat.py --host http://127.0.0.1:8000 --headless \\
        -u 10 -r 10 --run-time 1m --chat-transport sse
    locust -f scenarios/chat.py --host http://127.0.0.1:8000 --headless \\
        -u 10 -r 10 --run-time 1m --chat-transport short_polling --poll-interval 0.5

- `sse`: POST /chat, the answer read as it streams (a plain socket and the lab's SSE parser,
  as a page reads it with fetch and a stream reader);
- `long_polling`: POST /chat/jobs, then GET /chat/jobs/<id>?after=N&wait=25 again as soon as
  it is answered;
- `short_polling`: the same GET without `wait`, every --poll-interval seconds.

Each answer's time to first token (from asking to the first token in hand) is an "EVENT
chat first token" entry; each token's delay (its receipt minus the server's stamp on it) is
a "EVENT chat token" entry, and the time since the answer's previous token arrived a "EVENT
chat gap" entry, all named after the transport: a token that waits for the next poll shows
in the first, tokens that come together in the second. A wrong or missing token is a
failure under "chat sequence". With --events-log, every answer and every token is also
written to raw logs (lab.chat.measurement), from which `lab bench --chat` takes exact
percentiles.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import socket
from urllib.parse import urlsplit

import gevent
from client_measurement import (
    add_options,  # noqa: F401 (registers the shared options)
    now,
)
from locust import FastHttpUser, events, task

from lab.chat.measurement import ANSWER_LOG_COLUMNS, LOAD_QUESTION, THINK_S, TOKEN_LOG_COLUMNS
from lab.chat.model import answer_tokens
from lab.delivery_recorder import RawLog
from lab.http_chunks import ChunkedDecoder
from lab.http_client import read_head, status
from lab.names import CHAT_TRANSPORTS
from lab.sse import SSEDecoder

QUESTIONS = ("What is SSE?", "Why does long polling hold the request?", "When is polling fine?")
ANSWER_LOG = RawLog("chat-answers", ANSWER_LOG_COLUMNS)
TOKEN_LOG = RawLog("chat-tokens", TOKEN_LOG_COLUMNS)
_user_numbers = itertools.count(1)
LONG_POLL_WAIT_S = 25


@events.init_command_line_parser.add_listener
def add_chat_options(parser) -> None:
    parser.add_argument(
        "--chat-transport",
        choices=CHAT_TRANSPORTS,
        default="sse",
        help="how each answer reaches the user (default %(default)s)",
    )


@events.quitting.add_listener
def close_chat_logs(**_kwargs) -> None:
    ANSWER_LOG.close()
    TOKEN_LOG.close()


class WrongAnswer(Exception):
    """The tokens that came were not the question's answer, in order."""


class ChatUser(FastHttpUser):
    network_timeout = 60.0

    def on_start(self) -> None:
        options = self.environment.parsed_options
        self.transport = options.chat_transport
        self.log_folder = getattr(options, "events_log", "")
        self.user = f"{os.getpid()}-{next(_user_numbers)}"
        self.answers = 0

    @task
    def ask(self) -> None:
        prompt = random.choice(QUESTIONS)
        question = LOAD_QUESTION.as_json(prompt)
        asked = now()
        self.requests = 0
        read = {"sse": self.read_stream, "long_polling": self.poll_job}
        reader = read.get(self.transport, self.poll_job)
        try:
            tokens = reader(question)
        except (OSError, ValueError) as error:
            self.record("chat answer", 0, error)
        else:
            self.check(prompt, tokens, asked)
        gevent.sleep(random.uniform(*THINK_S))

    # --- the transports --------------------------------------------------------------------

    def read_stream(self, question: dict) -> list[tuple[dict, float]]:
        """POST /chat on a plain socket: every token with the moment it came off the socket."""
        address = urlsplit(self.host)
        body = json.dumps(question).encode()
        head = (
            f"POST /chat HTTP/1.1\r\nHost: {address.netloc}\r\n"
            "Content-Type: application/json\r\nAccept: text/event-stream\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        tokens: list[tuple[dict, float]] = []
        with socket.create_connection((address.hostname, address.port or 80), timeout=30) as c:
            c.sendall(head + body)
            self.requests += 1
            answer, data = read_head(c)
            if status(answer) != 200:
                raise ConnectionError(answer.split(b"\r\n", 1)[0].decode(errors="replace"))
            chunks, decoder = ChunkedDecoder(), SSEDecoder()
            arrived = now()
            while True:
                for message in decoder.decode(chunks.decode(data)):
                    if message.data == "[DONE]":
                        return tokens
                    if message.event == "token":
                        tokens.append((json.loads(message.data), arrived))
                data = c.recv(65536)
                arrived = now()
                if not data:
                    raise ConnectionError("the answer ended before [DONE]")

    def poll_job(self, question: dict) -> list[tuple[dict, float]]:
        """POST /chat/jobs, then poll its tokens: held (long polling) or on a clock (short)."""
        started = self.client.post("/chat/jobs", json=question, name="/chat/jobs")
        self.requests += 1
        if started.status_code != 201:
            raise ConnectionError(f"POST /chat/jobs answered {started.status_code}")
        job = started.json()["id"]
        long_polling = self.transport == "long_polling"
        interval = self.environment.parsed_options.poll_interval
        tokens: list[tuple[dict, float]] = []
        after = None
        while True:
            query = f"?wait={LONG_POLL_WAIT_S}" if long_polling else "?"
            if after is not None:
                query += f"&after={after}"
            answer = self.client.get(f"/chat/jobs/{job}{query}", name="/chat/jobs/<id>")
            self.requests += 1
            arrived = now()
            if answer.status_code != 200:
                raise ConnectionError(f"GET /chat/jobs answered {answer.status_code}")
            result = answer.json()
            tokens += [(token, arrived) for token in result["tokens"]]
            after = result["last"]
            if result["done"] or result["aborted"]:
                return tokens
            if not long_polling:
                gevent.sleep(interval)

    # --- what is recorded ------------------------------------------------------------------

    def check(self, prompt: str, tokens: list[tuple[dict, float]], asked: float) -> None:
        expected = list(answer_tokens(prompt, LOAD_QUESTION.max_tokens))
        texts = [token["text"] for token, _ in tokens]
        # Missing tokens, and those in the wrong place or with the wrong text.
        wrong = max(0, len(expected) - len(texts)) + sum(
            a != b for a, b in zip(texts, expected, strict=False)
        )
        self.answers += 1
        ttft = (tokens[0][1] - asked) * 1000 if tokens else None
        self.log(
            ANSWER_LOG,
            asked,
            f"{now():.6f}",
            self.user,
            self.answers,
            len(tokens),
            wrong,
            "" if ttft is None else f"{ttft:.3f}",
            self.requests,
        )
        if texts != expected:
            message = f"{len(texts)} tokens, {wrong} missing or different of {len(expected)}"
            self.record("chat sequence", 0, WrongAnswer(message))
            return
        self.record("chat first token", ttft, None)
        previous = None
        for index, (token, arrived) in enumerate(tokens):
            delay = (arrived - token["ts"]) * 1000
            gap = None if previous is None else (arrived - previous) * 1000
            self.record("chat token", delay, None)
            if gap is not None:
                self.record("chat gap", gap, None)
            self.log(
                TOKEN_LOG,
                arrived,
                self.user,
                self.answers,
                index,
                f"{delay:.3f}",
                "" if gap is None else f"{gap:.3f}",
            )
            previous = arrived

    def log(self, raw_log: RawLog, moment: float, *values: object) -> None:
        raw_log.write(self.log_folder, (f"{moment:.6f}", *values))

    def record(self, what: str, milliseconds: float, error: Exception | None) -> None:
        self.environment.events.request.fire(
            request_type="EVENT",
            name=f"{what} {self.transport}",
            response_time=milliseconds,
            response_length=0,
            exception=error,
            context={},
        )
