"""`lab serve --workers 2`: two real server processes on one port, one real redis-server.

Each new connection is a new client address, which the kernel spreads across the workers;
the per-worker figures in /metrics say which worker holds which stream.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import requests
from helpers import SSEClient, event_number, run_server, wait_until

from lab.redis_server import RedisServer


@pytest.fixture(scope="module")
def workers():
    with run_server("--workers", "2", "--rate", "20", "--max-streams", "1000") as server:
        yield server


def patiently(request, tries: int = 5):
    """A request retried after a reset, as a real client does: a connection that the
    kernel had queued for a worker that was just killed is reset."""
    for attempt in range(tries):
        try:
            return request()
        except requests.ConnectionError:
            if attempt == tries - 1:
                raise
    raise AssertionError("unreachable")


def per_worker(server, *path: str) -> list:
    """One figure from each worker's own snapshot, in worker order."""
    found = []
    for snapshot in patiently(server.metrics)["workers"]:
        value = snapshot
        for key in path:
            value = value[key]
        found.append(value)
    return found


def stream_worker(server, expected_open: int = 1) -> int:
    """The worker holding the only open SSE stream."""
    opened = wait_until(
        lambda: (lambda o: o if sum(o) == expected_open else None)(
            per_worker(server, "transports", "sse", "open")
        ),
        what="the stream to show in one worker's counters",
    )
    return next(i for i, n in enumerate(opened) if n)


def open_stream_on(server, worker: int | None, last_event_id: str = "", avoid: int | None = None):
    """An SSE stream on `worker` (or on any worker but `avoid`): new connections until the
    kernel places one there."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    for _ in range(40):
        client = patiently(lambda: SSEClient(server.url + "/sse", headers=headers))
        got = stream_worker(server)
        if (worker is None or got == worker) and got != avoid:
            return client, got
        client.close()
        wait_until(lambda: sum(per_worker(server, "transports", "sse", "open")) == 0)
    raise AssertionError("40 new connections all reached the same worker")


def test_both_workers_answer_and_metrics_add_up(workers):
    for _ in range(20):  # each a new connection
        assert workers.get("/poll").status_code == 200
    metrics = workers.metrics()
    assert metrics["workers_expected"] == 2
    assert [w["worker"] for w in metrics["workers"]] == [0, 1]
    polls = [w["transports"]["short_polling"]["requests"] for w in metrics["workers"]]
    assert all(polls), f"one worker took every request: {polls}"
    assert metrics["transports"]["short_polling"]["requests"] == sum(polls)
    assert metrics["process"]["cpu_s"] == pytest.approx(
        sum(w["process"]["cpu_s"] for w in metrics["workers"])
    )
    assert sorted(metrics["process"]["pids"]) == sorted(per_worker(workers, "process", "pid"))
    assert per_worker(workers, "held", "limit") == [500, 500]  # --max-streams 1000, shared


def test_ids_are_consecutive_whichever_worker_publishes(workers):
    start = workers.last_id()
    published = [workers.publish({"k": k})["id"] for k in range(20)]
    assert published == sorted(set(published))

    def answers():
        return [workers.get(f"/poll?since={start}").json()["events"] for _ in range(6)]

    wait_until(
        lambda: all(e and e[-1]["id"] >= published[-1] for e in answers()),
        what="every worker to hold the published events",
    )
    for events in answers():
        ids = [e["id"] for e in events]
        assert ids == list(range(start + 1, start + 1 + len(ids)))
        assert set(published) <= set(ids)


def test_sse_resumes_on_the_other_worker_after_a_drop(workers):
    client, first_worker = open_stream_on(workers, None)
    with client:
        seen = client.events(3)
        assert workers.drop()["dropped"] == 1
    wait_until(lambda: sum(per_worker(workers, "transports", "sse", "open")) == 0)
    resumed, second_worker = open_stream_on(workers, None, seen[-1].id, avoid=first_worker)
    with resumed:
        after = resumed.events(5)
    assert second_worker != first_worker
    numbers = [event_number(e.id) for e in seen + after]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), numbers


def test_long_polls_continue_on_any_worker(workers):
    cursor = workers.last_id()
    for _ in range(6):  # each a new connection, so both workers answer some
        events = workers.get(f"/longpoll?since={cursor}&timeout=5").json()["events"]
        assert events[0]["id"] == cursor + 1
        cursor = events[-1]["id"]


def test_drop_ends_the_streams_of_every_worker(workers):
    streams = []
    try:
        while len(streams) < 20:
            streams.append(SSEClient(workers.url + "/sse"))
            opened = wait_until(
                lambda: (lambda o: o if sum(o) == len(streams) else None)(
                    per_worker(workers, "transports", "sse", "open")
                )
            )
            if len(streams) >= 2 and all(opened):
                break
        assert all(opened), f"every stream reached one worker: {opened}"
        assert workers.drop()["dropped"] == len(streams)
        wait_until(lambda: sum(per_worker(workers, "transports", "sse", "open")) == 0)
    finally:
        for stream in streams:
            stream.close()


def test_a_source_change_reaches_every_worker(workers):
    headers = {"Content-Type": "application/json"}
    try:
        assert workers.put("/source", json={"rate": 7.5}, headers=headers).status_code == 200
        wait_until(lambda: per_worker(workers, "source", "rate") == [7.5, 7.5])
        assert workers.get("/source").json()["rate"] == 7.5
    finally:
        workers.put("/source", json={"rate": 20}, headers=headers)
        wait_until(lambda: per_worker(workers, "source", "rate") == [20, 20])


def test_a_killed_worker_is_started_again_and_its_client_resumes_on_another():
    with run_server("--workers", "2", "--rate", "20") as server:
        client, victim = open_stream_on(server, None)
        with client:
            seen = client.events(3)
            victim_pid = per_worker(server, "process", "pid")[victim]
            os.kill(victim_pid, signal.SIGKILL)
            with pytest.raises((requests.RequestException, StopIteration)):  # ends with it
                client.events(100)
        resumed, _ = open_stream_on(server, None, seen[-1].id)
        with resumed:
            after = resumed.events(60)  # 3 s at 20/s: past a lost lease, if the ticker died
        numbers = [event_number(e.id) for e in seen + after]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
        pids = wait_until(
            lambda: (lambda p: p if len(p) == 2 and victim_pid not in p else None)(
                per_worker(server, "process", "pid")
            ),
            timeout=15,
            what="the killed worker to be started again",
        )
        assert victim_pid not in pids


def test_a_running_redis_named_by_broker_holds_the_events():
    import redis

    with RedisServer() as broker, run_server("--broker", broker.url, "--rate", "20") as server:
        wait_until(lambda: server.last_id() >= 3)
        stored = redis.Redis.from_url(broker.url)
        assert stored.xlen("lab:events") >= 3
        assert stored.get("lab:epoch").decode() == server.epoch()
        event = server.publish("through redis")
        assert int(stored.get("lab:last_id")) >= event["id"]


def test_after_redis_comes_back_empty_the_ids_and_the_epoch_go_on():
    import redis

    with (
        RedisServer() as broker,
        run_server("--workers", "2", "--broker", broker.url, "--rate", "20") as server,
        SSEClient(server.url + "/sse") as stream,
    ):
        epoch = server.epoch()
        before = [event_number(e.id) for e in stream.events(3)]
        held = server.last_id()
        broker.restart_empty()
        stored = redis.Redis.from_url(broker.url)
        first_kept = wait_until(
            lambda: stored.xrange("lab:events", count=1),
            timeout=15,
            what="an event published into the emptied Redis",
        )
        # Counting from 1 again would hide every new event from the workers' copies until
        # the count passed the ids they already hold.
        assert int(first_kept[0][0].partition(b"-")[2]) > held
        after = stream.events(10)
        numbers = before + [event_number(e.id) for e in after]
        assert numbers == sorted(set(numbers)), numbers
        assert {e.id.partition("@")[2] for e in after} == {epoch}
        assert stored.get("lab:epoch").decode() == epoch
        wait_until(lambda: stored.get("lab:ticker:settings"), what="the ticker's settings")
        newest = numbers[-1]
        for _ in range(4):  # new connections: both workers
            wait_until(lambda: server.get("/poll").json()["last_id"] >= newest)
        assert server.get("/metrics").status_code == 200


def run_lab(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lab", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )


def test_a_missing_redis_server_is_one_sentence():
    ended = run_lab("--workers", "2", env=os.environ | {"PATH": "/nonexistent"})
    assert ended.returncode != 0
    assert "redis-server was not found" in ended.stderr
    assert "apt-get install redis-server" in ended.stderr
    assert "Traceback" not in ended.stderr


def test_an_unreachable_broker_is_one_sentence():
    ended = run_lab("--broker", "redis://127.0.0.1:1/0")
    assert ended.returncode != 0
    assert "cannot reach the broker at redis://127.0.0.1:1/0" in ended.stderr
    assert "Traceback" not in ended.stderr


def test_a_chat_answer_is_read_on_the_connection_that_asked_for_it(workers):
    question = {"prompt": "hello", "max_tokens": 5, "first_token_ms": 10, "tokens_per_s": 200}
    with requests.Session() as session:  # one kept-alive connection: one worker
        job = session.post(workers.url + "/chat/jobs", json=question, timeout=10).json()
        answer = wait_until(
            lambda: (lambda a: a if a["done"] else None)(
                session.get(workers.url + job["url"], timeout=10).json()
            )
        )
        assert len(answer["tokens"]) == 5
    for _ in range(40):  # new connections, until one reaches the other worker
        elsewhere = workers.get(job["url"])
        if elsewhere.status_code == 404:
            assert "each keeps its own answers" in elsewhere.json()["error"]
            return
    raise AssertionError("40 new connections all reached the worker that holds the answer")


def test_the_demo_refuses_workers_with_a_sentence():
    ended = subprocess.run(
        [sys.executable, "-m", "lab", "demo", "--port", "0", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert ended.returncode != 0
    assert "the demo runs one process" in ended.stderr


def test_each_worker_holds_its_share_of_the_stream_limit():
    with run_server("--workers", "2", "--max-streams", "2", "--heartbeat", "0") as server:
        assert per_worker(server, "held", "limit") == [1, 1]
        streams, refused = [], None
        try:
            for _ in range(40):
                response = requests.get(server.url + "/sse", stream=True, timeout=10)
                if response.status_code == 503:
                    refused = response
                    break
                streams.append(response)
            assert refused is not None and len(streams) <= 2
            assert "1 in each of its 2 workers" in refused.json()["error"]
            assert refused.headers["Retry-After"] == "1"
            assert server.get("/poll").status_code == 200  # the polls still work
        finally:
            for stream in streams:
                stream.close()


def test_every_worker_asks_off_loopback_for_the_one_token_printed():
    with run_server("--workers", "2", "--host", "0.0.0.0", "--rate", "0") as exposed:
        teacher_line = wait_until(
            lambda: next((line for line in exposed.output if "#token=" in line), None),
            what="the teacher's address among the lines the server printed",
        )
        token = str(teacher_line).strip().rsplit("#token=", 1)[1]
        url = "http://127.0.0.1:" + exposed.url.rsplit(":", 1)[1] + "/publish"
        answers = set()
        for _ in range(10):  # new connections: both workers
            student = requests.post(url, json={"data": 1}, timeout=10)
            teacher = requests.post(
                url, json={"data": 1}, headers={"X-Lab-Token": token}, timeout=10
            )
            answers.add((student.status_code, teacher.status_code))
        assert answers == {(401, 201)}
        assert all(per_worker(exposed, "transports", "other", "requests"))


def test_a_token_that_begins_with_a_dash_reaches_every_worker():
    with run_server("--workers", "2", "--rate", "0", "--token=-dash-first") as server:
        assert len(per_worker(server, "process", "pid")) == 2


def test_without_redis_the_changes_get_a_503_sentence_and_the_polls_go_on():
    import re

    import redis

    with run_server("--workers", "2", "--rate", "20") as server:
        wait_until(lambda: server.last_id() >= 2)
        said = wait_until(
            lambda: next((line for line in server.output if "redis-server at" in line), None)
        )
        broker = re.search(r"redis://[\d.:]+/0", str(said)).group(0)
        redis.Redis.from_url(broker).shutdown(nosave=True)
        for _ in range(4):  # new connections: both workers
            assert server.get("/poll").status_code == 200
            refused = server.post("/publish", json={"data": 1})
            assert refused.status_code == 503
            assert "the event source the workers share (Redis at" in refused.json()["error"]
            assert refused.headers["Retry-After"] == "5"
        assert server.get("/metrics").status_code == 503
