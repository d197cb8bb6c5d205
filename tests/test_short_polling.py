"""GET /poll against a real server."""

from __future__ import annotations

import pytest
from helpers import run_server


def test_poll_without_since_tells_the_cursor_and_replays_nothing(server):
    server.publish("before")
    body = server.get("/poll").json()
    assert body == {"events": [], "last_id": server.last_id(), "epoch": server.epoch()}


def test_poll_returns_events_after_the_cursor_oldest_first(server):
    since = server.last_id()
    published = [server.publish(f"message {i}") for i in range(3)]
    body = server.get(f"/poll?since={since}").json()
    assert body["events"] == published
    assert body["last_id"] == published[-1]["id"]
    assert "gap" not in body


def test_poll_with_nothing_new_is_empty_at_once(server):
    last = server.last_id()
    assert server.get(f"/poll?since={last}").json() == {
        "events": [],
        "last_id": last,
        "epoch": server.epoch(),
    }


def test_event_has_id_ts_type_and_data(server):
    since = server.last_id()
    server.publish({"k": [1, 2]}, type="quote")
    (event,) = server.get(f"/poll?since={since}").json()["events"]
    assert set(event) == {"id", "ts", "type", "data"}
    assert event["id"] == since + 1
    assert event["type"] == "quote"
    assert event["data"] == {"k": [1, 2]}
    assert isinstance(event["ts"], float)


def test_batch_is_capped_and_says_there_is_more():
    with run_server("--rate", "0", "--max-batch", "2") as small:
        for i in range(5):
            small.publish(i)
        first = small.get("/poll?since=0").json()
        assert [e["id"] for e in first["events"]] == [1, 2]
        assert first["last_id"] == 2 and first["more"] is True
        rest = small.get("/poll?since=2").json()
        rest2 = small.get(f"/poll?since={rest['last_id']}").json()
        assert [e["id"] for e in rest["events"] + rest2["events"]] == [3, 4, 5]
        assert "more" not in rest2


def test_cursor_older_than_history_returns_oldest_kept_with_gap():
    with run_server("--rate", "0", "--history", "5") as small:
        for i in range(8):
            small.publish(i)
        body = small.get("/poll?since=1").json()
        assert body["gap"] is True
        assert [e["id"] for e in body["events"]] == [4, 5, 6, 7, 8]
        # Exactly at the edge of the history nothing was lost.
        assert "gap" not in small.get("/poll?since=3").json()


@pytest.mark.parametrize(
    ("since", "words"),
    [
        ("abc", "whole number"),
        ("1.5", "whole number"),
        ("-1", "0 or more"),
        ("99999999", "restarted"),
        ("１２", "whole number"),  # full-width digits are not an id
    ],
)
def test_bad_since_is_a_clear_400_and_the_server_keeps_serving(server, since, words):
    response = server.get("/poll", params={"since": since})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert words in response.json()["error"]
    assert server.get("/poll").status_code == 200
