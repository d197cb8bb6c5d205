"""Chat answers as jobs for polling clients: against a real server, and the job registry's
idle abort and expiry with a hand-moved clock."""

from __future__ import annotations

import time

import gevent
import pytest
from helpers import run_server, wait_until

from lab.chat.jobs import IDLE_ABORT_S, KEEP_S, KEPT_PER_ANSWER, ChatJobs, TooManyJobs
from lab.chat.model import answer_tokens
from lab.chat.request import ChatRequest
from lab.metrics import ChatCounters


@pytest.fixture(scope="module")
def server():
    with run_server("--paused") as running:
        yield running


def start(server, **question) -> str:
    response = server.post("/chat/jobs", json=question)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def poll_to_the_end(server, job_id: str, wait: float = 0, interval: float = 0.05) -> list[dict]:
    tokens, after, deadline = [], None, time.monotonic() + 20
    while time.monotonic() < deadline:
        query = {"wait": wait} if wait else {}
        if after is not None:
            query["after"] = after
        answer = server.get(f"/chat/jobs/{job_id}", params=query).json()
        tokens += answer["tokens"]
        after = answer["last"]
        if answer["done"]:
            return tokens
        if not wait:
            time.sleep(interval)  # a short poller's interval: the transport under test
    raise AssertionError(f"the answer did not end; it had {len(tokens)} tokens")


@pytest.mark.parametrize("wait", [0, 10], ids=["short polling", "long polling"])
def test_polling_a_job_gets_the_whole_answer_in_order(server, wait):
    job_id = start(server, prompt="What is long polling?", max_tokens=15, first_token_ms=50,
                   tokens_per_s=100)  # fmt: skip
    tokens = poll_to_the_end(server, job_id, wait)
    assert [t["index"] for t in tokens] == list(range(15))
    assert "".join(t["text"] for t in tokens) == "".join(answer_tokens("What is long polling?", 15))


def test_a_long_poll_is_answered_when_the_first_token_is_ready(server):
    job_id = start(server, prompt="hold", max_tokens=3, first_token_ms=300, tokens_per_s=1)
    asked = time.time()
    answer = server.get(f"/chat/jobs/{job_id}", params={"wait": 10}).json()
    assert [t["index"] for t in answer["tokens"]] == [0]
    assert answer["tokens"][0]["ts"] - asked >= 0.3 * 0.95
    assert not answer["done"]


def test_deleting_a_job_aborts_it(server):
    before = server.metrics()["chat"]
    job_id = start(server, prompt="stop me", max_tokens=500, first_token_ms=0, tokens_per_s=5)
    assert server.delete(f"/chat/jobs/{job_id}").status_code == 204
    wait_until(lambda: server.metrics()["chat"]["generating"] == before["generating"])
    after = server.metrics()["chat"]
    assert after["answers_aborted"] - before["answers_aborted"] == 1
    assert server.get(f"/chat/jobs/{job_id}").status_code == 404


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/chat/jobs/nope", 404, "no such chat answer"),
        ("/chat/jobs/{id}?after=x", 400, "after must be a whole number"),
        ("/chat/jobs/{id}?after=-1", 400, "after must be 0 or more"),
        ("/chat/jobs/{id}?wait=100", 400, "wait must be above 0 and at most 25"),
        ("/chat/jobs/{id}?wait=soon", 400, "wait must be a number"),
    ],
)
def test_bad_reads_of_a_job_get_json_errors(server, path, status, words):
    job_id = start(server, prompt="x", max_tokens=1, first_token_ms=0)
    response = server.get(path.format(id=job_id))
    assert response.status_code == status
    assert words in response.json()["error"]


def test_a_job_needs_a_json_question(server):
    response = server.post("/chat/jobs", data="prompt=x")
    assert response.status_code == 415


# --- the registry, in this process, with a clock moved by hand ------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def settle(condition, timeout: float = 2.0) -> None:
    """Let the hub run (the workers and their links) until `condition` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the jobs' greenlets did not settle"
        gevent.sleep(0.01)


def slow_question() -> ChatRequest:
    return ChatRequest.from_json({"prompt": "slow", "max_tokens": 500, "tokens_per_s": 0.5})


def test_a_job_nobody_asks_about_is_aborted_then_forgotten():
    counters, clock = ChatCounters(), Clock()
    jobs = ChatJobs(counters, limit=10, clock=clock)
    job = jobs.start(slow_question())
    gevent.sleep(0)
    clock.now += IDLE_ABORT_S - 1
    jobs.sweep()
    assert not job.ended
    clock.now += 2
    jobs.sweep()
    settle(lambda: counters.generating == 0)
    assert job.aborted and counters.answers_aborted == 1
    assert jobs.get(job.id) is job  # its tokens can still be read for a while
    clock.now += KEEP_S + 1
    assert jobs.get(job.id) is None and jobs.count == 0


def test_a_job_killed_before_it_ran_is_still_counted():
    counters = ChatCounters()
    jobs = ChatJobs(counters, limit=10)
    job = jobs.start(slow_question())
    assert jobs.delete(job.id)  # before the worker ever ran
    settle(lambda: counters.generating == 0)
    assert counters.answers_aborted == 1


def test_the_number_of_jobs_is_limited():
    jobs = ChatJobs(ChatCounters(), limit=1)
    jobs.start(slow_question())
    with pytest.raises(TooManyJobs):
        jobs.start(slow_question())
    jobs.abort_all()


def fast_question() -> ChatRequest:
    return ChatRequest.from_json({"prompt": "f", "max_tokens": 1, "first_token_ms": 0})


def test_ended_jobs_do_not_count_against_the_limit_and_the_oldest_are_forgotten():
    # A class's pace: many short answers, each ended long before KEEP_S.
    counters = ChatCounters()
    jobs = ChatJobs(counters, limit=2)
    started = []
    for _ in range(3 * 2 * KEPT_PER_ANSWER):
        started.append(jobs.start(fast_question()))
        settle(lambda: counters.generating == 0)
    assert counters.answers_finished == len(started)
    # At most limit x KEPT_PER_ANSWER ended jobs are kept: the newest ones.
    assert jobs.count == 2 * KEPT_PER_ANSWER
    assert jobs.get(started[0].id) is None
    assert jobs.get(started[-1].id) is started[-1]


def test_a_job_stops_generating_on_its_own_when_nobody_asks():
    counters, clock = ChatCounters(), Clock()
    jobs = ChatJobs(counters, limit=10, clock=clock)
    question = ChatRequest.from_json(
        {"prompt": "p", "max_tokens": 500, "first_token_ms": 0, "tokens_per_s": 100}
    )
    job = jobs.start(question)
    settle(lambda: len(job.tokens) >= 3)
    clock.now += IDLE_ABORT_S + 1  # no sweep: the worker notices by itself
    settle(lambda: counters.generating == 0)
    assert job.aborted and len(job.tokens) < 500


def test_a_job_with_a_long_poll_waiting_is_not_idle():
    counters, clock = ChatCounters(), Clock()
    jobs = ChatJobs(counters, limit=10, clock=clock)
    job = jobs.start(slow_question())
    job.waiting = 1
    clock.now += IDLE_ABORT_S * 3
    jobs.sweep()
    assert not job.ended
    job.waiting = 0
    jobs.sweep()
    settle(lambda: counters.generating == 0)
    assert job.aborted


def test_streamed_answers_and_jobs_share_the_limit_on_answers_at_once():
    with run_server("--paused", "--max-chat-answers", "2") as server:
        slow = {"prompt": "s", "max_tokens": 500, "first_token_ms": 0, "tokens_per_s": 1}
        streams = [server.post("/chat", json=slow, stream=True) for _ in range(2)]
        try:
            assert [s.status_code for s in streams] == [200, 200]
            refused = server.post("/chat", json=slow)
            assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
            assert "--max-chat-answers" in refused.json()["error"]
            assert server.post("/chat/jobs", json=slow).status_code == 503
        finally:
            for stream in streams:
                stream.close()
        wait_until(lambda: server.metrics()["chat"]["generating"] == 0, what="the aborts")
        assert server.post("/chat/jobs", json=slow).status_code == 201
