"""lab.held: the limit on held requests, /drop, timeouts, and noticing a client that left."""

from __future__ import annotations

import socket

import gevent
import gevent.event
import pytest

from lab.held import DROPPED, SHUTTING_DOWN, HeldRequests, TooManyHeld


def test_the_limit_refuses_one_more_and_frees_a_place_when_one_ends():
    held = HeldRequests(limit=2)
    with held.hold({}), held.hold({}):
        assert held.count == 2
        with pytest.raises(TooManyHeld), held.hold({}):
            pass
    assert held.count == 0
    with held.hold({}):
        assert held.count == 1


def test_a_wait_ends_on_news():
    held = HeldRequests(limit=5)
    news = gevent.event.Event()
    with held.hold({}) as hold:
        gevent.spawn_later(0.01, news.set)
        assert hold.wait(news, 5) is True


def test_news_that_comes_due_with_the_timeout_wins():
    import time

    news = gevent.event.Event()
    # The loop is held past both moments (as a long fan-out can hold it), so the news and
    # the timeout come due in the same turn, the news first.
    gevent.spawn(time.sleep, 0.1)
    with HeldRequests(limit=5).hold({}) as hold:
        gevent.spawn_later(0.01, news.set)
        assert hold.wait(news, 0.02) is True


def test_a_wait_ends_on_its_timeout():
    with HeldRequests(limit=5).hold({}) as hold:
        assert hold.wait(gevent.event.Event(), 0.02) is False


@pytest.mark.parametrize("reason", [DROPPED, SHUTTING_DOWN])
def test_drop_all_ends_every_wait_and_says_why(reason):
    held = HeldRequests(limit=5)
    reasons = []

    def wait() -> None:
        with held.hold({}) as hold:
            hold.wait(None, 5)
            reasons.append(hold.drop_reason)

    waiters = [gevent.spawn(wait) for _ in range(3)]
    gevent.sleep(0)
    assert held.drop_all(reason) == 3
    gevent.joinall(waiters, timeout=5)
    assert reasons == [reason] * 3 and held.count == 0


def test_a_client_that_closes_its_socket_ends_the_wait_at_once():
    server_side, client_side = socket.socketpair()
    try:
        server_side.setblocking(False)
        environ = {"lab.client_socket": server_side}
        with HeldRequests(limit=5).hold(environ) as hold:
            gevent.spawn_later(0.01, client_side.close)
            assert hold.wait(None, 5) is True
            assert hold.client_gone and not hold.dropped
            assert environ["lab.client_gone"] is True, "the connection is told too"
    finally:
        server_side.close()
