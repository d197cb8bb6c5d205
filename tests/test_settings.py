"""lab.settings: the defaults the lab documents, and a sentence for every refusal."""

from __future__ import annotations

import pytest

from lab.settings import Settings


def test_defaults():
    s = Settings()
    assert (s.host, s.port, s.rate, s.history, s.max_batch) == (
        "127.0.0.1",
        8000,
        1.0,
        10_000,
        1_000,
    )
    assert s.max_batch_bytes == 1024 * 1024 and s.history_bytes == 64 * 1024 * 1024
    assert (s.header_timeout, s.idle_timeout, s.write_timeout) == (10.0, 60.0, 30.0)
    assert s.on_loopback and "token" not in s.public()


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"port": 70_000}, "port must be between 0 and 65535"),
        ({"rate": -1}, "rate must be a number of events per second from 0 to 10000"),
        ({"rate": 20_000}, "rate must be a number of events per second from 0 to 10000"),
        ({"arrivals": "bursty"}, "arrivals must be one of fixed, poisson"),
        ({"payload_bytes": -5}, "payload_bytes must be a whole number"),
        ({"payload_bytes": 2_000_000}, "payload_bytes must be a whole number from 0 to"),
        ({"rate": 100, "payload_bytes": 500_000}, "more than this server publishes"),
        ({"history": 0}, "history must keep at least 1 event"),
        ({"history_bytes": 10}, "history bytes must be at least 1024"),
        ({"max_batch": 0}, "max batch must be at least 1"),
        ({"max_batch_bytes": 100}, "max batch bytes must be at least 1024"),
        ({"heartbeat": -1}, "heartbeat must be 0 (off) or more seconds"),
        ({"retry_ms": -1}, "retry ms must be 0 or more milliseconds"),
        ({"max_streams": 0}, "max streams must be at least 1"),
        ({"max_connections": -1}, "max connections must be 0 (automatic) or more"),
        ({"max_body_bytes": 0}, "max body bytes must be at least 1"),
        ({"header_timeout": 0}, "header timeout must be at least 0.1 seconds"),
        ({"idle_timeout": float("inf")}, "idle timeout must be at least 0.1 seconds"),
        ({"write_timeout": float("nan")}, "write timeout must be at least 0.1 seconds"),
        ({"longpoll_max_timeout": 0}, "the maximum long-poll timeout must be above 0"),
        ({"longpoll_timeout": 200}, "the default long-poll timeout must be above 0 and at most"),
        ({"workers": 0}, "workers must be a whole number from 1 to 64"),
        ({"workers": 65}, "workers must be a whole number from 1 to 64"),
        ({"workers": 2, "worker_index": 2}, "the worker index must be from 0 to 1"),
        ({"broker": "memcached://x"}, "broker must be 'redis' (a private redis-server) or an"),
        ({"broker": 6379}, "broker must be text"),
    ],
)
def test_every_refusal_is_a_sentence(values, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        Settings(**values)


@pytest.mark.parametrize("broker", ["", "redis", "redis://127.0.0.1:6379/0", "unix:///tmp/r.sock"])
def test_brokers_the_lab_can_use(broker):
    assert Settings(broker=broker, workers=2).broker == broker


def test_several_problems_are_named_together():
    with pytest.raises(ValueError) as refused:
        Settings(port=-1, history=0)
    assert "port" in str(refused.value) and "history" in str(refused.value)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
        ("lab.local", False),
    ],
)
def test_on_loopback(host, loopback):
    assert Settings(host=host).on_loopback is loopback


def test_the_largest_tick_leaves_room_for_a_few_in_the_history():
    assert Settings().max_payload_bytes == 1_000_000
    assert Settings(history_bytes=400_000).max_payload_bytes == 100_000
