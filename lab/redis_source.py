"""The event source shared by several workers through Redis.

One Redis Stream holds the history. Its entries are numbered `0-<id>` by one counter in
Redis, incremented in the same script that appends the entry, so ids stay consecutive
integers whichever worker publishes: `since`, `Last-Event-ID` and the gap notice mean the
same thing on every worker. The stream is trimmed to the history's count.

Each worker keeps a mirror of the stream (the in-process source's own ring, fed by one
reader greenlet), and its transports read the mirror exactly as they read the in-process
source: the fan-out stays per process, and Redis is read once per worker, not per client.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gevent
import redis

from lab.epoch import new_epoch
from lab.event_source import Event, EventSource
from lab.json_bytes import to_json_bytes

CATCH_UP_S = 1.0
"""How long a request may wait for this worker's mirror to reach an event another worker
has already sent."""
READ_BATCH = 1_000
"""Entries read from the stream at once: a worker that fell behind catches up in batches."""
READ_BLOCK_MS = 5_000
"""How long one read waits for news, so that a lost connection is noticed in that time."""

# INCR and XADD in one script: Redis runs a script alone, so no other worker can take a
# number between the two and append out of order. A Redis that came back empty (restarted
# without its data) would count from 1 again, below what every mirror holds, and the
# mirrors would wait for ids they already have: the newest id the publisher has seen or
# published (ARGV[4]) is a floor for the count, and then its epoch (ARGV[5]) is put back.
PUBLISH_SCRIPT = """
local id = redis.call('INCR', KEYS[2])
local newest_seen = tonumber(ARGV[4])
if id <= newest_seen then
  id = newest_seen + 1
  redis.call('SET', KEYS[2], id)
  redis.call('SET', KEYS[3], ARGV[5], 'NX')
end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '0-' .. id, 't', ARGV[2], 'j', ARGV[3])
return id
"""


@dataclass(frozen=True)
class SourceKeys:
    """The Redis keys of one shared source; the prefix keeps two labs on one Redis apart."""

    prefix: str = "lab:"

    @property
    def stream(self) -> str:
        return self.prefix + "events"

    @property
    def counter(self) -> str:
        return self.prefix + "last_id"

    @property
    def epoch(self) -> str:
        return self.prefix + "epoch"


def event_from_entry(entry_id: bytes, fields: dict[bytes, bytes], epoch: str) -> Event:
    """The event a stream entry holds: its id from the entry's number, its JSON rebuilt
    around the stored rest (`{"ts":…,"type":…,"data":…}`) without decoding it."""
    event_id = int(entry_id.partition(b"-")[2])
    rest = fields[b"j"]
    json_bytes = b'{"id":%d,%b' % (event_id, rest[1:])
    ts = float(rest[6 : rest.index(b",", 6)])  # rest begins with {"ts":<number>,
    return Event(event_id, ts, fields[b"t"].decode(), json_bytes, epoch)


class RedisEventSource(EventSource):
    """The shared source: publishes into the Redis Stream, reads it into this worker's mirror.

    A new worker loads the kept history first, so a client may resume on any worker.
    `start()` begins following the stream; until then the mirror holds what was loaded.
    """

    def __init__(
        self,
        client: redis.Redis,
        history: int = 10_000,
        history_bytes: int = 64 * 1024 * 1024,
        clock: Callable[[], float] = time.time,
        keys: SourceKeys = SourceKeys(),
    ) -> None:
        # The first worker names the epoch; the others (and restarted ones) take the same.
        client.set(keys.epoch, new_epoch(), nx=True)
        epoch: Any = client.get(keys.epoch)
        super().__init__(history, history_bytes, clock, epoch.decode())
        self.client = client
        self.keys = keys
        self._append = client.register_script(PUBLISH_SCRIPT)
        self._reader: gevent.Greenlet | None = None
        self.read_errors = 0
        self.last_published = 0
        newest_first: Any = client.xrevrange(keys.stream, count=history)
        for entry_id, fields in reversed(newest_first):
            self.keep(event_from_entry(entry_id, fields, self.epoch))

    def publish(self, type: str, data: Any) -> Event:
        """Append an event to the stream and return it; this worker's mirror keeps it when
        its reader sees it, in the stream's order, as every other worker's does."""
        ts = self._clock()
        rest = to_json_bytes({"ts": ts, "type": type, "data": data})
        event_id = int(
            self._append(
                keys=[self.keys.stream, self.keys.counter, self.keys.epoch],
                args=[
                    self.capacity,
                    type,
                    rest,
                    max(self.last_id, self.last_published),
                    self.epoch,
                ],
            )
        )
        self.last_published = event_id
        return Event(event_id, ts, type, b'{"id":%d,%b' % (event_id, rest[1:]), self.epoch)

    def has_reached(self, event_id: int) -> bool:
        """Whether `event_id` has been published; waits up to `CATCH_UP_S` for this mirror.

        A client that read an event from one worker may ask the next about it before that
        worker's reader has seen it: a cursor a moment ahead of this mirror is not an error.
        """
        deadline = time.monotonic() + CATCH_UP_S
        while event_id > self.last_id:
            news, left = self.news(), deadline - time.monotonic()
            if event_id <= self.last_id:
                break
            if left <= 0 or not news.wait(left):
                return False
        return True

    def start(self) -> None:
        if self._reader is None:
            self._reader = gevent.spawn(self._follow)

    def stop(self) -> None:
        if self._reader is not None:
            self._reader.kill()
            self._reader = None

    def _follow(self) -> None:
        while True:
            try:
                answer: Any = self.client.xread(
                    {self.keys.stream: f"0-{self.last_id}"}, count=READ_BATCH, block=READ_BLOCK_MS
                )
            except redis.RedisError as error:
                self.read_errors += 1
                if self.read_errors == 1 or self.read_errors % 100 == 0:
                    print(
                        f"lab: cannot read the shared events from Redis: {error}", file=sys.stderr
                    )
                gevent.sleep(0.5)
                continue
            for _stream, entries in answer or ():
                for entry_id, fields in entries:
                    self.keep(event_from_entry(entry_id, fields, self.epoch))
