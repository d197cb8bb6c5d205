"""Writing each new event to every caught-up SSE stream, from one greenlet.

A stream that has sent everything up to the newest event *parks* here. When an event is
published, the fan-out greenlet builds its HTTP chunk once (`<size>\\r\\n<frame>\\r\\n`) and
hands the very same bytes to each parked stream's socket with one non-blocking send. The
stream's own greenlet is not woken for it, so an event costs one system call per subscriber
instead of a greenlet switch and a pass through the WSGI layers.

A stream leaves the park (and its greenlet takes over) when a send would block (a slow
reader: the rest of the chunk goes through the cooperative, blocking path), when it missed
a batch, when its heartbeat is due, when it is dropped, or when its client has gone.
"""

from __future__ import annotations

import time

import gevent
import gevent.event

from lab.event_source import Event, EventSource
from lab.held import Hold
from lab.http_chunks import encode_chunk
from lab.metrics import TransportCounters
from lab.sending import send_all_within

YIELD_EVERY = 200
"""Streams written between yields to the event loop, so that other requests keep moving."""

HANDED_OVER = "handed over"


class ParkedStream:
    __slots__ = ("hold", "raw", "send", "cursor", "last_write", "pending", "parked")

    def __init__(self, hold: Hold, raw_socket, cursor: int) -> None:
        self.hold = hold
        self.raw = raw_socket
        self.send = raw_socket.send
        """The socket's own send, bound once: the fan-out calls it for every event."""
        self.cursor = cursor
        self.last_write = time.monotonic()
        self.pending = b""
        """Bytes of a chunk the fan-out could not finish; the stream's greenlet sends them."""
        self.parked = False


class Fanout:
    """The park: caught-up streams, and the greenlet that writes new events to them.

    A stream's own greenlet calls `wait_parked`, which returns when the stream needs its
    greenlet again (and has finished any chunk the fan-out started). The fan-out greenlet
    runs `deliver` for every new batch of events.
    """

    def __init__(
        self,
        source: EventSource,
        counters: TransportCounters,
        max_batch: int,
        max_batch_bytes: int | None = None,
        write_timeout: float = 30.0,
    ) -> None:
        self.source = source
        self.counters = counters
        self.max_batch = max_batch
        self.max_batch_bytes = max_batch_bytes
        self.write_timeout = write_timeout
        self.cursor = source.last_id
        self._parked: dict[ParkedStream, None] = {}
        self._greenlet: gevent.Greenlet | None = None

    def __len__(self) -> int:
        return len(self._parked)

    def park(self, stream: ParkedStream) -> None:
        stream.parked = True
        self._parked[stream] = None

    def unpark(self, stream: ParkedStream) -> None:
        stream.parked = False
        self._parked.pop(stream, None)

    def wait_parked(
        self,
        stream: ParkedStream,
        cursor: int,
        last_write: float,
        heartbeat: float | None,
        client_socket,
    ) -> tuple[int, float]:
        """Park a caught-up stream and sleep its greenlet until the fan-out hands it back
        (or its heartbeat is due, or it is dropped, or its client leaves). Return the
        stream's new cursor and the time of its last write.

        A slow reader comes back with the rest of a chunk the fan-out could not finish; it is
        sent here, waiting as long as the write timeout allows (then WriteTimedOut: the
        connection is closed, and the client resumes later).
        """
        stream.cursor, stream.last_write = cursor, last_write
        self.park(stream)
        try:
            while True:
                timeout = None
                if heartbeat is not None:
                    timeout = max(0.0, stream.last_write + heartbeat - time.monotonic())
                if stream.hold.wait(None, timeout) or not stream.parked:
                    break
                # Timed out: unless the fan-out wrote meanwhile, the heartbeat is due. If it
                # did, the stream sleeps on where it is, without a round through its greenlet.
                if heartbeat is None or time.monotonic() - stream.last_write >= heartbeat:
                    break
        finally:
            self.unpark(stream)
        if stream.pending:
            pending, stream.pending = stream.pending, b""
            send_all_within(client_socket, pending, self.write_timeout, self.counters)
        return stream.cursor, stream.last_write

    def start(self) -> None:
        if self._greenlet is None:
            self.cursor = self.source.last_id
            self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill()
            self._greenlet = None

    def _run(self) -> None:
        while True:
            news = self.source.news()
            if self.source.last_id == self.cursor:
                news.wait()
                continue
            events, _gap = self.source.events_after(
                self.cursor, self.max_batch, self.max_batch_bytes
            )
            if not events:  # the history moved past our cursor; streams catch up themselves
                self.cursor = self.source.last_id
                continue
            self.cursor = events[-1].id
            self.deliver(events)

    def deliver(self, events: list[Event]) -> None:
        """Write one batch to every parked stream that is exactly at the batch's start.

        The loop is the server's innermost one (it runs once per subscriber per event), so
        it does little besides the send: the counters grow once per slice of streams, not
        once per stream, and always before the fan-out yields, so that /metrics is exact
        whenever another greenlet can read it.
        """
        chunk = encode_chunk(b"".join([event.sse_bytes for event in events]))
        size = len(chunk)
        before, last, count = events[0].id - 1, events[-1].id, len(events)
        streams = list(self._parked)
        counters = self.counters
        for start in range(0, len(streams), YIELD_EVERY):
            if start:
                gevent.sleep(0)
            now = time.monotonic()
            written = sent_bytes = 0
            for stream in streams[start : start + YIELD_EVERY]:
                if not stream.parked:
                    continue
                cursor = stream.cursor
                if cursor != before:
                    if cursor < last:
                        self._hand_over(stream)  # it needs events from before this batch
                    continue  # else it caught up by itself after this batch was published
                try:
                    sent = stream.send(chunk)
                except BlockingIOError:
                    sent = 0
                except OSError:
                    self._hand_over(stream)  # the client is gone: its greenlet will notice
                    continue
                stream.cursor = last
                stream.last_write = now
                written += 1
                sent_bytes += sent
                if sent < size:
                    stream.pending = chunk[sent:]
                    self._hand_over(stream)
            counters.events_sent += written * count
            counters.bytes_out += sent_bytes

    def _hand_over(self, stream: ParkedStream) -> None:
        self.unpark(stream)
        stream.hold.wake(HANDED_OVER)
