"""POST /chat against a real server: an answer streamed token by token and ended by [DONE],
bad questions refused, and answers whose clients leave ended at once and counted."""

from __future__ import annotations

import json
import random
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from helpers import address_of, run_server, wait_until

from lab.chat.model import answer_tokens
from lab.sse import SSEDecoder

FAST = {"first_token_ms": 0, "tokens_per_s": 200}


@pytest.fixture(scope="module")
def server():
    with run_server("--paused") as running:
        yield running


def chat_counters(server) -> dict:
    return server.metrics()["chat"]


def ask(server, **question) -> requests.Response:
    return server.post("/chat", json=question, stream=True)


def read_answer(response: requests.Response) -> tuple[list[dict], list[str]]:
    """The token events' data, and every data line in order (the last should be [DONE])."""
    decoder, tokens, datas = SSEDecoder(), [], []
    for chunk in response.iter_content(chunk_size=None):
        for message in decoder.decode(chunk):
            datas.append(message.data)
            if message.event == "token":
                tokens.append(json.loads(message.data))
    return tokens, datas


def test_an_answer_comes_token_by_token_and_ends_with_done(server):
    before = chat_counters(server)
    with ask(server, prompt="What is SSE?", max_tokens=12, **FAST) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert response.headers["X-Accel-Buffering"] == "no"
        tokens, datas = read_answer(response)
    assert [t["index"] for t in tokens] == list(range(12))
    assert "".join(t["text"] for t in tokens) == "".join(answer_tokens("What is SSE?", 12))
    assert datas[-1] == "[DONE]"
    timestamps = [t["ts"] for t in tokens]
    assert timestamps == sorted(timestamps)
    after = chat_counters(server)
    assert after["answers_finished"] - before["answers_finished"] == 1
    assert after["tokens_sent"] - before["tokens_sent"] == 12
    assert after["generating"] == 0


def test_the_first_token_waits_for_the_model_s_delay(server):
    asked = time.time()
    with ask(server, prompt="slow", max_tokens=2, first_token_ms=300, tokens_per_s=100) as r:
        tokens, _ = read_answer(r)
    # A lower bound only: the server may be late, never early.
    assert tokens[0]["ts"] - asked >= 0.3 * 0.95


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        (b"not json", "application/json", 400, ""),
        (b'{"prompt": ""}', "application/json", 400, "prompt must be a non-empty string"),
        (b'{"prompt": "x", "max_tokens": 9999}', "application/json", 400, "max_tokens"),
        (b'{"prompt": "x"}', "text/plain", 415, "Content-Type: application/json"),
        (b'{"prompt": "x", "tokens_per_s": NaN}', "application/json", 400, ""),
    ],
)
def test_a_bad_question_gets_a_json_error(server, body, content_type, status, words):
    response = server.post("/chat", data=body, headers={"Content-Type": content_type})
    assert response.status_code == status, response.text
    assert words in response.json()["error"]


def test_an_oversized_question_is_refused_before_it_is_read(server):
    prompt = "x" * 2_000_000
    response = server.post("/chat", json={"prompt": prompt})
    assert response.status_code == 413


def start_and_leave(server, after_bytes: int) -> None:
    """Ask for a long answer on a raw socket, read `after_bytes` of it, and vanish."""
    body = json.dumps({"prompt": f"q{after_bytes}", "max_tokens": 500, **FAST}).encode()
    host, port = address_of(server)
    with socket.create_connection((host, port), timeout=10) as client:
        client.sendall(
            b"POST /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        received = b""
        while len(received) < after_bytes:
            data = client.recv(4096)
            if not data:
                break
            received += data


def test_a_client_that_leaves_ends_its_answer_at_once(server):
    before = chat_counters(server)
    host, port = address_of(server)
    body = json.dumps({"prompt": "long", "max_tokens": 500, "first_token_ms": 0,
                       "tokens_per_s": 0.5}).encode()  # fmt: skip
    client = socket.create_connection((host, port), timeout=10)
    client.sendall(
        b"POST /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    assert b"event: token" in client.recv(4096) or b"event: token" in client.recv(4096)
    wait_until(lambda: chat_counters(server)["generating"] == 1, what="the answer to run")
    client.close()
    # The next token is 0.5 s away: the abort is noticed at the socket, not at that write.
    wait_until(lambda: chat_counters(server)["generating"] == 0, timeout=0.4, what="the abort")
    after = chat_counters(server)
    assert after["answers_aborted"] - before["answers_aborted"] == 1
    assert after["tokens_generated"] - before["tokens_generated"] == 1


def test_two_hundred_answers_aborted_at_random_points_leave_no_generator(server):
    before = chat_counters(server)
    randomly = random.Random(14)
    for _ in range(200):
        start_and_leave(server, randomly.randint(1, 3000))
    wait_until(lambda: chat_counters(server)["generating"] == 0, timeout=10, what="every generator")
    after = chat_counters(server)
    assert after["answers_started"] - before["answers_started"] == 200
    assert after["answers_aborted"] - before["answers_aborted"] == 200
    assert server.metrics()["transports"]["sse"]["open"] == 0
    # The server still answers a whole question afterwards.
    with ask(server, prompt="still there?", max_tokens=3, **FAST) as response:
        _, datas = read_answer(response)
    assert datas[-1] == "[DONE]"


def test_drop_ends_the_answers_being_generated(server):
    before = chat_counters(server)
    response = ask(server, prompt="dropped", max_tokens=500, first_token_ms=0, tokens_per_s=5)
    try:
        wait_until(lambda: chat_counters(server)["generating"] == 1, what="the answer")
        server.drop()
        wait_until(lambda: chat_counters(server)["generating"] == 0, what="the drop")
    finally:
        response.close()
    assert chat_counters(server)["answers_aborted"] - before["answers_aborted"] == 1


def test_the_readme_s_python_consumer_prints_the_answer(server):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    consumer = next(block for block in blocks if "/chat" in block)
    script = consumer.replace("http://127.0.0.1:8000", server.url)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "".join(answer_tokens("What is SSE?", 30))
