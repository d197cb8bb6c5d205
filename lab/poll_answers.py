"""The polls' JSON answer, encoded once per question while the source stays the same.

Pollers on a clock mostly ask the same question (`since` = the newest id, or the id before
the newest event) and get the same bytes: between two publishes an answer depends only on
the cursor asked and on the source's state (newest and oldest kept id, epoch). So each
answer is encoded once and kept until the next publish; the cache holds only the current
state's answers, few and small, so a client asking every cursor in turn cannot make it big.
"""

from __future__ import annotations

import weakref

from lab.cursors import Resume
from lab.event_source import Event, EventSource

MAX_KEPT_ANSWERS = 64
"""Distinct questions kept per state of the source (clients on a clock ask a handful)."""
MAX_KEPT_BYTES = 16 * 1024
"""Larger answers are encoded for each request: they are rare, and kept they would cost memory."""


def encode_answer(
    source: EventSource, resume: Resume | None, max_batch: int, max_batch_bytes: int | None
) -> tuple[bytes, int]:
    """`{"events": [...], "last_id": cursor, "epoch": run}` and how many events it holds.

    Without a cursor the batch is empty and `last_id` says where "now" is. `"gap": true`
    says that events after the cursor were lost (they left the history, or the server
    restarted: then `"restarted": true` too, and the batch starts from this run's oldest
    event). `"more": true` says the batch was cut (at max_batch events or max_batch_bytes)
    and to ask again at once. The body is joined from each event's JSON, encoded once at
    publish time.
    """
    newest = source.last_id
    events: list[Event]
    if resume is None:
        events, gap = [], False
    else:
        events, gap = source.events_after(resume.after, max_batch, max_batch_bytes)
    cursor = events[-1].id if events else newest
    tail = b'],"last_id":%d,"epoch":"%b"' % (cursor, source.epoch.encode())
    restarted = resume is not None and resume.restarted
    if gap or restarted:
        tail += b',"gap":true'
    if restarted:
        tail += b',"restarted":true'
    if cursor < newest:
        tail += b',"more":true'
    body = b",".join([event.json_bytes for event in events])
    return b'{"events":[' + body + tail + b"}", len(events)


class AnswerCache:
    """Encoded answers for the source's current state, keyed by the question."""

    def __init__(self, source: EventSource) -> None:
        self.source = source
        self._state: tuple[int, int, str] | None = None
        self._answers: dict[tuple, tuple[bytes, int]] = {}

    def answer(
        self, resume: Resume | None, max_batch: int, max_batch_bytes: int | None
    ) -> tuple[bytes, int]:
        """The answer's bytes and its number of events (see `encode_answer`)."""
        source = self.source
        state = (source.last_id, source.first_id, source.epoch)
        if state != self._state:
            self._state, self._answers = state, {}
        key = (
            None if resume is None else resume.after,
            resume is not None and resume.restarted,
            max_batch,
            max_batch_bytes,
        )
        found = self._answers.get(key)
        if found is None:
            found = encode_answer(source, resume, max_batch, max_batch_bytes)
            if len(found[0]) <= MAX_KEPT_BYTES and len(self._answers) < MAX_KEPT_ANSWERS:
                self._answers[key] = found
        return found


_CACHES: weakref.WeakKeyDictionary[EventSource, AnswerCache] = weakref.WeakKeyDictionary()


def answer_cache(source: EventSource) -> AnswerCache:
    """The one cache of `source`'s answers, shared by every path that answers a poll."""
    cache = _CACHES.get(source)
    if cache is None:
        cache = _CACHES[source] = AnswerCache(source)
    return cache
