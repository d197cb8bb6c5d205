"""Commands that every worker of one server answers, carried by Redis publish/subscribe.

A request reaches one worker, but some must reach them all: `POST /drop` ends every worker's
streams, `GET /metrics` counts every worker's clients, `PUT /source` changes every worker's
ticker. The worker that was asked publishes the command on one channel; every worker
(itself included) runs it and, when an answer is wanted, pushes its reply onto a list that
the asker reads until every worker has answered or the deadline has passed.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from collections.abc import Callable
from typing import Any

import gevent
import gevent.event
import redis

ASK_TIMEOUT_S = 2.0
"""How long the asker waits for every worker's reply; one that is late is left out."""
REPLY_TTL_S = 10
"""Replies nobody reads (the asker gave up) vanish from Redis after this long."""

Handler = Callable[[dict[str, Any]], Any]


class WorkerBus:
    def __init__(self, client: redis.Redis, worker: int, channel: str = "lab:workers") -> None:
        self.client = client
        self.worker = worker
        self.channel = channel
        self.handlers: dict[str, Handler] = {}
        self._listener: gevent.Greenlet | None = None
        self._subscribed = gevent.event.Event()

    def on(self, command: str, handler: Handler) -> None:
        """Run `handler(arguments)` when any worker sends `command`; its return value (JSON)
        is this worker's reply."""
        self.handlers[command] = handler

    def start(self, timeout: float = 5.0) -> None:
        """Listen for commands; return once subscribed, so that no command sent after this
        returns can be missed."""
        if self._listener is None:
            self._listener = gevent.spawn(self._listen)
        if not self._subscribed.wait(timeout):
            raise RuntimeError(f"could not subscribe to Redis channel {self.channel} in time")

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.kill()
            self._listener = None

    def tell_all(self, command: str, **arguments: Any) -> int:
        """Send a command that wants no reply; return how many workers heard it."""
        message = {"command": command, "arguments": arguments}
        return int(self.client.publish(self.channel, json.dumps(message)))

    def ask_all(self, command: str, timeout: float = ASK_TIMEOUT_S, **arguments: Any) -> list:
        """Every worker's reply to a command (this one's included), in no set order."""
        reply_key = f"{self.channel}:reply:{secrets.token_hex(8)}"
        message = {"command": command, "arguments": arguments, "reply": reply_key}
        listeners = int(self.client.publish(self.channel, json.dumps(message)))
        replies: list = []
        deadline = time.monotonic() + timeout
        try:
            while len(replies) < listeners:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                popped = self.client.blpop([reply_key], timeout=max(left, 0.01))
                if popped is None:
                    break
                replies.append(json.loads(popped[1]))
        finally:
            self.client.delete(reply_key)
        return replies

    def _listen(self) -> None:
        while True:
            subscription = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                subscription.subscribe(self.channel)
                self._subscribed.set()
                for message in subscription.listen():
                    if message["type"] == "message":
                        self._run(json.loads(message["data"]))
            except redis.RedisError as error:
                print(
                    f"lab: lost the workers' channel in Redis ({error}); retrying", file=sys.stderr
                )
                gevent.sleep(0.5)
            finally:
                subscription.close()

    def _run(self, message: dict[str, Any]) -> None:
        handler = self.handlers.get(message.get("command", ""))
        if handler is None:
            return
        try:
            result = handler(message.get("arguments", {}))
        except Exception as error:  # one bad command must not stop this worker listening
            result = {"error": f"worker {self.worker} could not run it: {error}"}
        if message.get("reply"):
            reply = json.dumps({"worker": self.worker, "result": result})
            pipe = self.client.pipeline()
            pipe.rpush(message["reply"], reply)
            pipe.expire(message["reply"], REPLY_TTL_S)
            pipe.execute()
