"""The event source of the asyncio peers (fastapi, fastapi-three-yields, django-asgi): one
ticker task, the kept events, and one `asyncio.Queue` per subscriber, as FastAPI's SSE
tutorials fan events out.

Each published event is put into every subscriber's queue, and each stream's generator
takes it from its own queue, formats it and yields it: one generator step, one string and
one framework send per event per client. The lab's server instead encodes an event once
and writes the same bytes to every socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from lab.peers import PeerOptions
from lab.peers.peer_metrics import PeerCounters
from lab.peers.queries import cursor, poll_answer, timeout
from lab.peers.schedule import TICK_TYPE, tick_data, tick_times


class AsyncSource:
    def __init__(self, options: PeerOptions) -> None:
        self.options = options
        self.events: deque[dict] = deque(maxlen=options.history)
        self.last_id = 0
        self.subscribers: set[asyncio.Queue] = set()
        self.news = asyncio.Event()
        """Set on each publish and replaced at once: a long poll waits on the current one."""

    def publish(self, kind: str, data: object) -> dict:
        self.last_id += 1
        event = {"id": self.last_id, "ts": time.time(), "type": kind, "data": data}
        self.events.append(event)
        for queue in self.subscribers:
            queue.put_nowait(event)
        self.news.set()
        self.news = asyncio.Event()
        return event

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue()
        self.subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self.subscribers.discard(queue)

    async def long_poll(self, since: str | None, wait: str | None) -> dict:
        """A long poll's answer: the events after `since` as soon as there are any, or none
        once `wait` seconds (the `timeout` asked for) have passed. Raises BadRequest."""
        options = self.options
        seconds = timeout(wait, options.longpoll_timeout, options.longpoll_max_timeout)
        after = cursor(since, self.last_id)
        if after is None:
            after = self.last_id
        if self.last_id <= after:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.news.wait(), seconds)
        return poll_answer(self.events, after, self.last_id, options.max_batch)

    async def run_ticker(self) -> None:
        options = self.options
        for n, at in enumerate(tick_times(options.rate, options.arrivals), start=1):
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            self.publish(TICK_TYPE, tick_data(n, options.payload_bytes))

    async def stream(self, start: int | None, counters: PeerCounters) -> AsyncIterator[dict]:
        """Each event after `start` (None: from the next one), kept ones first, then live
        ones from this stream's own queue, until the client leaves."""
        # Subscribing and reading the history in one step, with no await between them,
        # leaves no event to fall between the two.
        queue = self.subscribe()
        kept = [] if start is None else [e for e in self.events if e["id"] > start]
        try:
            for event in kept:
                counters.sent("sse")
                yield event
            while True:
                event = await queue.get()
                if kept and event["id"] <= kept[-1]["id"]:
                    continue
                counters.sent("sse")
                yield event
        finally:
            self.unsubscribe(queue)
            counters.answered("sse", 200)

    def figures(self) -> dict:
        """The source's part of /metrics."""
        return {
            "last_id": self.last_id,
            "rate": self.options.rate,
            "arrivals": self.options.arrivals,
            "payload_bytes": self.options.payload_bytes,
            "history": len(self.events),
        }


def serve_asgi(app: Any, source: AsyncSource, options: PeerOptions) -> None:
    """Run `app` on uvicorn (uvloop and httptools, as `uvicorn[standard]` installs them)
    with `source`'s ticker on the same loop, until SIGTERM or SIGINT."""
    import signal
    import socket

    import uvicorn
    import uvloop

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((options.host, options.port))
    listener.listen(2048)
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
        # Open streams never end by themselves: give them a second, then cancel them.
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)

    async def main() -> None:
        ticker = asyncio.create_task(source.run_ticker())
        print(f"listening on http://{options.host}:{listener.getsockname()[1]}/", flush=True)
        try:
            await server.serve(sockets=[listener])
        finally:
            ticker.cancel()

    # uvicorn handles SIGTERM and SIGINT while it serves, then sends them again to the
    # handlers it found: these let the process end normally (exit code 0) once it stopped.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: None)
    uvloop.run(main())
    print("stopped", flush=True)
