"""lab.event_source: numbering, the history's two bounds, batches, the epoch, wake-ups."""

from __future__ import annotations

import json

import gevent
import pytest

from lab.event_source import EVENT_OVERHEAD_BYTES, Event, EventSource
from lab.json_bytes import NotEncodable
from lab.sse import SSEDecoder


def clock_from(start: float = 1000.0):
    ticks = iter(range(10**6))
    return lambda: start + next(ticks)


def test_ids_start_at_1_and_grow_by_1_with_the_clock_as_ts():
    source = EventSource(clock=clock_from(1000.0), epoch="test")
    events = [source.publish("tick", {"n": i}) for i in range(3)]
    assert [e.id for e in events] == [1, 2, 3]
    assert [e.ts for e in events] == [1000.0, 1001.0, 1002.0]
    assert json.loads(events[1].json_bytes) == {
        "id": 2,
        "ts": 1001.0,
        "type": "tick",
        "data": {"n": 1},
    }
    assert source.last_id == 3 and source.first_id == 1 and source.size == 3


def test_nothing_published_yet():
    source = EventSource()
    assert (source.last_id, source.first_id, source.size) == (0, 1, 0)
    assert source.events_after(0, 10) == ([], False)


def test_the_history_keeps_the_newest_by_count():
    source = EventSource(history=3)
    for i in range(5):
        source.publish("tick", i)
    assert (source.first_id, source.last_id, source.size) == (3, 5, 3)
    events, gap = source.events_after(1, 10)
    assert [e.id for e in events] == [3, 4, 5] and gap is True
    events, gap = source.events_after(2, 10)  # exactly at the edge: nothing lost
    assert [e.id for e in events] == [3, 4, 5] and gap is False


def test_the_history_keeps_the_newest_by_bytes():
    one = len(EventSource(clock=lambda: 1.5).publish("m", "x" * 1000).json_bytes)
    one += EVENT_OVERHEAD_BYTES
    # Room for three such events (ids 8, 9 and 10: the last is one byte longer), not four.
    source = EventSource(history=100, history_bytes=3 * one + 10, clock=lambda: 1.5)
    for _ in range(10):
        source.publish("m", "x" * 1000)
    assert source.size == 3 and source.first_id == 8 and source.bytes == 3 * one + 1


def test_the_newest_event_stays_even_when_it_alone_is_over_the_byte_bound():
    source = EventSource(history=10, history_bytes=100)
    source.publish("m", "small")
    big = source.publish("m", "y" * 500)
    assert source.size == 1 and source.events_after(0, 10)[0] == [big]


@pytest.mark.parametrize(
    ("after", "limit", "max_bytes", "expected"),
    [
        (0, 10, None, [1, 2, 3, 4]),
        (0, 2, None, [1, 2]),
        (2, 10, None, [3, 4]),
        (4, 10, None, []),
        (0, 10, 1, [1]),  # always one event, however small the bound
        (0, 10, 2 * 48 + 10, [1, 2]),  # each event's JSON is 48 bytes
    ],
)
def test_events_after_cuts_by_count_and_bytes(after, limit, max_bytes, expected):
    source = EventSource(clock=lambda: 1.5)
    for _ in range(4):
        source.publish("m", "x" * 10)
    sizes = {len(e.json_bytes) for e in source.events_after(0, 10)[0]}
    assert sizes == {48}, "the table assumes 48-byte events"
    events, _gap = source.events_after(after, limit, max_bytes)
    assert [e.id for e in events] == expected


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (float("nan"), "number JSON cannot carry"),
        (float("inf"), "number JSON cannot carry"),
        ("\ud800", "lone surrogate"),
    ],
)
def test_what_cannot_be_encoded_is_refused_and_nothing_is_kept(data, words):
    source = EventSource()
    with pytest.raises(NotEncodable, match=words):
        source.publish("m", data)
    assert source.last_id == 0 and source.size == 0


def test_nesting_too_deep_to_encode_is_refused():
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    source = EventSource()
    with pytest.raises(NotEncodable, match="nested too deeply"):
        source.publish("m", deep)
    assert source.last_id == 0


def test_the_sse_frame_carries_the_epoch_and_decodes_to_the_event():
    source = EventSource(epoch="k3x9", clock=lambda: 2.0)
    tick = source.publish("tick", {"text": "line\nbreak"})
    message = source.publish("message", "hi")
    assert tick.sse_bytes.startswith(b"id: 1@k3x9\nevent: tick\ndata: {")
    assert (
        message.sse_bytes == b'id: 2@k3x9\ndata: {"id":2,"ts":2.0,"type":"message","data":"hi"}\n\n'
    )
    decoded = SSEDecoder().decode(tick.sse_bytes + message.sse_bytes)
    assert [(e.id, e.event, json.loads(e.data)) for e in decoded] == [
        ("1@k3x9", "tick", tick.as_dict()),
        ("2@k3x9", "message", message.as_dict()),
    ]


def test_each_run_has_its_own_epoch():
    epochs = {EventSource().epoch for _ in range(50)}
    assert len(epochs) == 50 and all(len(e) == 4 for e in epochs)


def test_a_publish_wakes_every_waiter_once_and_a_later_waiter_waits_for_the_next():
    source = EventSource()
    news = source.news()
    woken = []
    waiters = [gevent.spawn(lambda i=i: (news.wait(5), woken.append(i))) for i in range(3)]
    gevent.sleep(0)
    assert woken == []
    source.publish("m", 1)
    gevent.joinall(waiters, timeout=5)
    assert sorted(woken) == [0, 1, 2]
    assert not source.news().is_set(), "the next publish has a fresh flag"


def test_event_data_reads_back_from_its_json():
    event = Event(1, 2.0, "m", b'{"id":1,"ts":2.0,"type":"m","data":[1,"a"]}', "e")
    assert event.data == [1, "a"] and event.cursor == "1@e"


def test_keep_takes_events_numbered_elsewhere_in_order():
    source = EventSource(epoch="test")
    for event_id in (1, 2, 3):
        source.keep(Event(event_id, 1.0, "tick", b'{"id":%d}' % event_id, "test"))
    assert (source.first_id, source.last_id) == (1, 3)
    with pytest.raises(ValueError, match="event 3 is not newer than the newest kept"):
        source.keep(Event(3, 1.0, "tick", b"{}", "test"))


def test_keep_after_missed_events_starts_the_history_again():
    source = EventSource(epoch="test")
    source.keep(Event(1, 1.0, "tick", b'{"id":1}', "test"))
    source.keep(Event(7, 1.0, "tick", b'{"id":7}', "test"))
    assert (source.first_id, source.last_id, source.size) == (7, 7, 1)
    assert source.events_after(1, 10) == ([source.events_after(6, 1)[0][0]], True)
