"""The one event source every transport reads: numbered events, a bounded history, wake-ups.

Each event is serialised once per representation (JSON for the polls, an SSE frame for the
streams) and the same bytes are handed to every client, so the cost of an event does not grow
with the number of readers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import gevent.event

from lab.sse import ServerSentEvent


def to_json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON, the one encoding the server uses for events and answers."""
    return json.dumps(
        value, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode()


@dataclass(frozen=True)
class Event:
    id: int
    ts: float
    type: str
    data: Any

    def as_dict(self) -> dict:
        return {"id": self.id, "ts": self.ts, "type": self.type, "data": self.data}

    @cached_property
    def json_bytes(self) -> bytes:
        """The event as JSON: what a poll response carries and what an SSE data line holds."""
        return to_json_bytes(self.as_dict())

    @cached_property
    def sse_bytes(self) -> bytes:
        """The event as one SSE frame: id, event (omitted for 'message') and data lines."""
        return ServerSentEvent(
            data=self.json_bytes.decode(), event=self.type, id=str(self.id)
        ).encode()


class EventSource:
    """Publishes numbered events, keeps the newest `history` of them and wakes waiters.

    Ids start at 1 and grow by 1, so an id doubles as every transport's cursor and the
    history can be a ring indexed by id.
    """

    def __init__(self, history: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        if history < 1:
            raise ValueError(f"history must keep at least 1 event, not {history}")
        self.capacity = history
        self._ring: list[Event | None] = [None] * history
        self._clock = clock
        self.last_id = 0
        self._news = gevent.event.Event()

    @property
    def first_id(self) -> int:
        """The oldest id still kept (last_id + 1 while nothing has been published)."""
        return max(1, self.last_id - self.capacity + 1)

    @property
    def size(self) -> int:
        return min(self.last_id, self.capacity)

    def publish(self, type: str, data: Any) -> Event:
        event = Event(id=self.last_id + 1, ts=self._clock(), type=type, data=data)
        self._ring[event.id % self.capacity] = event
        self.last_id = event.id
        # One Event object per "generation": setting it wakes every current waiter at once,
        # and waiters that arrive later take the fresh one.
        news, self._news = self._news, gevent.event.Event()
        news.set()
        return event

    def news(self) -> gevent.event.Event:
        """A flag that is set by the next publish. Take it before checking `last_id`."""
        return self._news

    def events_after(self, after_id: int, limit: int) -> tuple[list[Event], bool]:
        """Events with id > after_id, oldest first, at most `limit`; and whether some were lost.

        The second value is True when events after `after_id` have already left the history,
        so the answer starts later than the caller asked.
        """
        start = after_id + 1
        gap = start < self.first_id
        if gap:
            start = self.first_id
        stop = min(self.last_id, start + limit - 1)
        return [self._ring[i % self.capacity] for i in range(start, stop + 1)], gap
