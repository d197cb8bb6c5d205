"""lab.redis_source against a real redis-server: ids, the rebuilt JSON, a late mirror."""

from __future__ import annotations

import json

import pytest
import redis

from lab.redis_server import RedisServer
from lab.redis_source import RedisEventSource, event_from_entry


@pytest.fixture(scope="module")
def broker():
    with RedisServer() as server:
        yield server


@pytest.fixture
def client(broker):
    client = redis.Redis.from_url(broker.url)
    client.flushdb()
    return client


def test_an_entry_becomes_the_event_the_in_process_source_would_write():
    event = event_from_entry(
        b"0-41", {b"t": b"tick", b"j": b'{"ts":1700000000.5,"type":"tick","data":{"n":1}}'}, "k3x9"
    )
    assert (event.id, event.ts, event.type, event.epoch) == (41, 1700000000.5, "tick", "k3x9")
    assert event.json_bytes == b'{"id":41,"ts":1700000000.5,"type":"tick","data":{"n":1}}'
    assert event.sse_bytes.startswith(b"id: 41@k3x9\nevent: tick\ndata: {")


def test_two_sources_on_one_stream_number_their_events_as_one(client):
    first, second = RedisEventSource(client), RedisEventSource(client)
    published = [source.publish("message", k) for k in range(6) for source in (first, second)]
    assert [event.id for event in published] == list(range(1, 13))
    assert first.epoch == second.epoch
    assert json.loads(published[3].json_bytes) == {
        "id": 4,
        "ts": published[3].ts,
        "type": "message",
        "data": 1,
    }


def test_a_late_worker_loads_the_kept_history_and_the_stream_stays_bounded(client):
    early = RedisEventSource(client, history=100)
    for k in range(500):
        early.publish("tick", k)
    late = RedisEventSource(client, history=100)
    assert late.last_id == 500
    assert late.size == 100 and late.first_id == 401
    assert client.xlen("lab:events") < 300  # trimmed to about the history (whole nodes)
    events, gap = late.events_after(10, 5)
    assert gap and [event.id for event in events] == [401, 402, 403, 404, 405]


def test_a_redis_that_lost_its_data_numbers_on_from_the_newest_id_and_keeps_the_epoch(client):
    source = RedisEventSource(client)
    assert [source.publish("tick", k).id for k in range(5)] == [1, 2, 3, 4, 5]
    client.flushdb()  # what a restart without saved data leaves
    assert source.publish("tick", 5).id == 6
    assert int(client.get("lab:last_id")) == 6
    assert client.get("lab:epoch").decode() == source.epoch
    assert [entry_id for entry_id, _ in client.xrange("lab:events")] == [b"0-6"]
