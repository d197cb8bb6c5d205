"""lab.poll_answers: the polls' JSON answer, and the cache that encodes each question once."""

from __future__ import annotations

import json

import pytest

from lab.cursors import Resume
from lab.event_source import EventSource
from lab.poll_answers import MAX_KEPT_ANSWERS, MAX_KEPT_BYTES, AnswerCache, encode_answer


def source_with(count: int, history: int = 100) -> EventSource:
    source = EventSource(history=history, epoch="k3x9")
    for n in range(count):
        source.publish("tick", {"n": n})
    return source


@pytest.mark.parametrize(
    ("published", "history", "resume", "max_batch", "ids", "flags"),
    [
        (3, 100, None, 10, [], {}),  # no cursor: where "now" is, nothing replayed
        (3, 100, Resume(after=3), 10, [], {}),  # nothing new
        (3, 100, Resume(after=1), 10, [2, 3], {}),
        (5, 100, Resume(after=0), 2, [1, 2], {"more": True}),  # cut at max_batch
        (8, 4, Resume(after=1), 10, [5, 6, 7, 8], {"gap": True}),  # 2..4 left the history
        (3, 100, Resume(after=0, restarted=True), 10, [1, 2, 3], {"gap": True, "restarted": True}),
    ],
)
def test_the_answer(published, history, resume, max_batch, ids, flags):
    source = source_with(published, history)
    body, count = encode_answer(source, resume, max_batch, None)
    answer = json.loads(body)
    assert [event["id"] for event in answer["events"]] == ids and count == len(ids)
    assert answer["last_id"] == (ids[-1] if ids else source.last_id)
    assert answer["epoch"] == "k3x9"
    assert {k: v for k, v in answer.items() if k not in ("events", "last_id", "epoch")} == flags
    # The events are the source's own bytes, written as they were encoded at publish time.
    kept = source.events_after(ids[0] - 1, len(ids))[0] if ids else []
    assert body.startswith(b'{"events":[' + b",".join(event.json_bytes for event in kept) + b"]")


def test_a_batch_cut_by_bytes_keeps_at_least_one_event():
    source = EventSource(epoch="e")
    for _ in range(3):
        source.publish("tick", "x" * 100)
    body, count = encode_answer(source, Resume(after=0), 10, 50)
    assert count == 1 and json.loads(body)["more"] is True


def test_the_cache_answers_the_same_question_with_the_same_bytes_until_the_next_publish():
    source = source_with(3)
    cache = AnswerCache(source)
    first, _ = cache.answer(Resume(after=3), 10, None)
    assert cache.answer(Resume(after=3), 10, None)[0] is first
    source.publish("tick", "new")
    after, count = cache.answer(Resume(after=3), 10, None)
    assert count == 1 and json.loads(after)["last_id"] == 4


def test_the_cache_stays_small_whatever_is_asked():
    source = source_with(MAX_KEPT_ANSWERS + 10)
    cache = AnswerCache(source)
    for after in range(source.last_id + 1):
        assert cache.answer(Resume(after=after), 1000, None) == encode_answer(
            source, Resume(after=after), 1000, None
        )
    assert len(cache._answers) == MAX_KEPT_ANSWERS
    big = EventSource(epoch="e")
    big.publish("tick", "x" * MAX_KEPT_BYTES)
    big_cache = AnswerCache(big)
    big_cache.answer(Resume(after=0), 10, None)
    assert big_cache._answers == {}, "an answer over MAX_KEPT_BYTES is not kept"
