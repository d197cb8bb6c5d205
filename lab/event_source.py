"""The one event source every transport reads: numbered events, a bounded history, wake-ups.

Each event is encoded to JSON once, when it is published, and only those bytes are kept: the
polls send them as they are, and an SSE frame wraps them in its `id:`/`event:`/`data:` lines
when it is written. So the cost of an event does not grow with the number of readers, and the
history holds one copy of each event (bounded in count and in bytes).

Every run of the server has an *epoch*, a short random name. SSE ids carry it
(`id: 41@k3x9`), and poll answers name it, so a client that resumes against a restarted
server, whose ids began again at 1, is told so instead of silently skipping events.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, cast

import gevent.event

from lab.epoch import new_epoch, sse_id
from lab.json_bytes import to_json_bytes

EVENT_OVERHEAD_BYTES = 200
"""What one kept event costs besides its JSON (the object, its id and time), for the
history's byte bound."""


class Event:
    """One published event, kept as the JSON bytes every transport sends."""

    __slots__ = ("id", "ts", "type", "json_bytes", "epoch")

    def __init__(self, id: int, ts: float, type: str, json_bytes: bytes, epoch: str) -> None:
        self.id = id
        self.ts = ts
        self.type = type
        self.json_bytes = json_bytes
        self.epoch = epoch

    @property
    def data(self) -> Any:
        return json.loads(self.json_bytes)["data"]

    def as_dict(self) -> dict:
        return json.loads(self.json_bytes)

    @property
    def cursor(self) -> str:
        """The SSE id: the event's number and the server run it belongs to."""
        return sse_id(self.id, self.epoch)

    @property
    def sse_bytes(self) -> bytes:
        """The event as one SSE frame: id, event (omitted for 'message') and data lines.

        Compact JSON holds no CR or LF (they are escaped inside strings), so the whole JSON
        is one data line.
        """
        if self.type == "message":
            return b"id: %d@%b\ndata: %b\n\n" % (self.id, self.epoch.encode(), self.json_bytes)
        return b"id: %d@%b\nevent: %b\ndata: %b\n\n" % (
            self.id,
            self.epoch.encode(),
            self.type.encode(),
            self.json_bytes,
        )

    def __repr__(self) -> str:
        return f"Event(id={self.id}, type={self.type!r}, {len(self.json_bytes)} bytes)"


class EventSource:
    """Publishes numbered events, keeps the newest of them and wakes waiters.

    Ids start at 1 and grow by 1, so an id doubles as every transport's cursor and the
    history can be a ring indexed by id. The history keeps at most `history` events and at
    most `history_bytes` of them; the oldest leave first, and the newest always stays.
    """

    def __init__(
        self,
        history: int = 10_000,
        history_bytes: int = 64 * 1024 * 1024,
        clock: Callable[[], float] = time.time,
        epoch: str | None = None,
    ) -> None:
        if history < 1:
            raise ValueError(f"history must keep at least 1 event, not {history}")
        self.capacity = history
        self.capacity_bytes = history_bytes
        self.epoch = epoch or new_epoch()
        self._ring: list[Event | None] = [None] * history
        self._clock = clock
        self.last_id = 0
        self._first_id = 1
        self.bytes = 0
        self._news = gevent.event.Event()

    @property
    def first_id(self) -> int:
        """The oldest id still kept (last_id + 1 while nothing has been published)."""
        return self._first_id

    @property
    def size(self) -> int:
        return self.last_id - self._first_id + 1

    @staticmethod
    def cost(event: Event) -> int:
        return len(event.json_bytes) + EVENT_OVERHEAD_BYTES

    def publish(self, type: str, data: Any) -> Event:
        """Encode and keep a new event, then wake every waiter; raise NotEncodable (and
        keep nothing) when `data` cannot be written as JSON."""
        event_id, ts = self.last_id + 1, self._clock()
        encoded = to_json_bytes({"id": event_id, "ts": ts, "type": type, "data": data})
        event = Event(event_id, ts, type, encoded, self.epoch)
        self.keep(event)
        return event

    def keep(self, event: Event) -> None:
        """Add an event numbered elsewhere (a shared source's) and wake every waiter.

        Its id must follow the newest kept; an id further on means the events between were
        missed, and the history starts again at this one (the transports then tell their
        clients about the gap, as for events that left the history).
        """
        if event.id <= self.last_id:
            raise ValueError(f"event {event.id} is not newer than the newest kept ({self.last_id})")
        if event.id != self.last_id + 1:
            self._ring = [None] * self.capacity
            self.bytes = 0
            self._first_id = event.id
        slot = event.id % self.capacity
        if self.size == self.capacity:
            self._forget_oldest()  # the ring is full by count: its slot is about to be reused
        self._ring[slot] = event
        self.bytes += self.cost(event)
        self.last_id = event.id
        while self.bytes > self.capacity_bytes and self._first_id < event.id:
            self._forget_oldest()
        # One Event object per "generation": setting it wakes every current waiter at once,
        # and waiters that arrive later take the fresh one.
        news, self._news = self._news, gevent.event.Event()
        news.set()

    def _forget_oldest(self) -> None:
        slot = self._first_id % self.capacity
        oldest = self._ring[slot]
        if oldest is not None:
            self.bytes -= self.cost(oldest)
            self._ring[slot] = None
        self._first_id += 1

    def has_reached(self, event_id: int) -> bool:
        """Whether `event_id` has been published (a shared source may wait a moment for it)."""
        return event_id <= self.last_id

    def news(self) -> gevent.event.Event:
        """A flag that is set by the next publish. Take it before checking `last_id`."""
        return self._news

    def events_after(
        self, after_id: int, limit: int, max_bytes: int | None = None
    ) -> tuple[list[Event], bool]:
        """Events with id > after_id, oldest first; and whether some were lost.

        At most `limit` events and, when `max_bytes` is given, at most that many bytes of
        JSON, but always at least one event when there is one. The second value is True when
        events after `after_id` have already left the history, so the answer starts later
        than the caller asked.
        """
        start = after_id + 1
        gap = start < self._first_id
        if gap:
            start = self._first_id
        stop = min(self.last_id, start + limit - 1)
        # Every slot from first_id to last_id holds an event; only the others are None.
        ring, capacity = cast("list[Event]", self._ring), self.capacity
        if max_bytes is None:
            return [ring[i % capacity] for i in range(start, stop + 1)], gap
        events: list[Event] = []
        total = 0
        for i in range(start, stop + 1):
            event = ring[i % capacity]
            total += len(event.json_bytes)
            if events and total > max_bytes:
                break
            events.append(event)
        return events, gap
