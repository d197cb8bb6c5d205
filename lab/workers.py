"""Whether this process is the whole server or one worker of several, and what follows.

The default is one process with the in-process source. With a broker (`--broker`), the
source, the ticker's settings and the commands that concern every client (`POST /drop`,
`GET /metrics`) go through Redis, so every worker answers for the whole server. The
transports never know which: they read `state.source` either way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from flask import Flask, Response

from lab.errors import json_error
from lab.event_source import EventSource
from lab.held import HeldRequests
from lab.settings import Settings
from lab.ticker import Ticker
from lab.worker_metrics import combine_snapshots


class OneProcess:
    """The whole server in this process: everything is local."""

    def __init__(self, settings: Settings) -> None:
        self.source = EventSource(history=settings.history, history_bytes=settings.history_bytes)
        self.ticker = Ticker(self.source, **ticker_options(settings))

    def serve_commands(self, held: HeldRequests, snapshot: Callable[[], dict]) -> None:
        self._held, self._snapshot = held, snapshot

    def init_app(self, app: Flask) -> None:
        pass

    def drop_all(self) -> int:
        return self._held.drop_all()

    def metrics(self) -> dict:
        return self._snapshot()

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


class SharedWorkers:
    """This process is worker `settings.worker_index` of `settings.workers`, sharing one
    source through the Redis at `settings.broker`."""

    def __init__(self, settings: Settings) -> None:
        import redis

        from lab.redis_source import RedisEventSource
        from lab.shared_ticker import SharedTicker
        from lab.worker_bus import WorkerBus

        self.count = settings.workers
        self.index = settings.worker_index
        self.broker = settings.broker
        client = redis.Redis.from_url(settings.broker, socket_connect_timeout=5)
        try:
            client.ping()
        except redis.RedisError as error:
            raise BrokerUnreachable(
                f"cannot reach the broker at {settings.broker}: {error}"
            ) from None
        self.client = client
        self.bus = WorkerBus(client, self.index)
        self.source: EventSource = RedisEventSource(
            client, history=settings.history, history_bytes=settings.history_bytes
        )
        self.ticker: Ticker = SharedTicker(
            self.source, client=client, bus=self.bus, **ticker_options(settings)
        )

    def init_app(self, app: Flask) -> None:
        """A Redis that stops answering is a 503 with a sentence, not a server error; what
        needs no Redis (the polls, the streams' history) goes on working."""
        import redis

        broker = self.broker

        def on_redis_error(error: redis.RedisError) -> Response:
            return json_error(
                503,
                f"the event source the workers share (Redis at {broker}) does not answer "
                f"({error}); try again shortly",
                {"Retry-After": "5"},
            )

        app.register_error_handler(redis.RedisError, on_redis_error)

    def serve_commands(self, held: HeldRequests, snapshot: Callable[[], dict]) -> None:
        """What this worker does when any worker is asked to drop or to count."""
        self.bus.on("drop", lambda _arguments: held.drop_all())
        self.bus.on("metrics", lambda _arguments: snapshot())

    def drop_all(self) -> int:
        return sum(reply["result"] for reply in self.bus.ask_all("drop"))

    def metrics(self) -> dict:
        replies = self.bus.ask_all("metrics")
        snapshots = sorted(
            (reply["result"] | {"worker": reply["worker"]} for reply in replies),
            key=lambda snapshot: snapshot["worker"],
        )
        combined = combine_snapshots(snapshots)
        combined["workers"] = snapshots
        combined["worker"] = self.index
        combined["workers_expected"] = self.count
        combined["broker"] = self.broker_figures()
        return combined

    def broker_figures(self) -> dict:
        """The Redis server's own CPU and memory: with Redis in the path, part of what an
        event costs (all of its work, when the Redis serves this lab alone)."""
        import redis

        try:
            info: Any = self.client.info("cpu") | self.client.info("memory")
        except redis.RedisError as error:
            return {"error": f"the broker did not answer: {error}"}
        return {
            "cpu_s": float(info["used_cpu_sys"]) + float(info["used_cpu_user"]),
            "rss_bytes": int(info["used_memory_rss"]),
        }

    def start(self) -> None:
        self.bus.start()
        self.source.start()  # type: ignore[attr-defined]

    def stop(self) -> None:
        self.source.stop()  # type: ignore[attr-defined]
        self.bus.stop()


class BrokerUnreachable(RuntimeError):
    """The Redis named by --broker did not answer; the message says where it was looked for."""


def ticker_options(settings: Settings) -> dict[str, Any]:
    return {
        "rate": settings.rate,
        "arrivals": settings.arrivals,
        "payload_bytes": settings.payload_bytes,
        "paused": settings.paused,
        **settings.ticker_limits(),
    }


def share(limit: int, workers: int) -> int:
    """One worker's part of a limit set for the whole server (rounded up)."""
    return math.ceil(limit / workers)


def for_settings(settings: Settings) -> OneProcess | SharedWorkers:
    return SharedWorkers(settings) if settings.broker else OneProcess(settings)
