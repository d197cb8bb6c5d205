"""The "flask-threaded" peer: Flask on Werkzeug's threaded server, streaming SSE from a
generator as a student writes it: `Response(generator(), mimetype="text/event-stream")`.

Werkzeug gives every connection an OS thread of its own, and a stream keeps its thread
for as long as the client stays: a thousand streams are a thousand threads, each with its
stack and its turn in the scheduler. The lab's gevent server holds each connection in a
greenlet instead. The events live in this process (a deque guarded by a
`threading.Condition`), and each stream's thread sleeps in `condition.wait()` until the
ticker or a POST /publish wakes it.

A generator learns that its client has gone only when a write fails, so a vanished client's
thread lives on until the next event or two are written to its dead socket (a second
write is the one that fails). At the lab's tick rates that is a fraction of a second; on
a source that stays silent, such a thread would wait for as long as the silence lasts.
"""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from collections import deque

from flask import Flask, Response, request
from werkzeug.serving import LISTEN_QUEUE, WSGIRequestHandler, make_server

from lab.peers import PeerOptions
from lab.peers.peer_metrics import PeerCounters
from lab.peers.queries import (
    RETRY_MS,
    BadRequest,
    cursor,
    poll_answer,
    publish_body,
    resume_point,
    timeout,
)
from lab.peers.schedule import TICK_TYPE, tick_data, tick_times

NAME = "flask-threaded"


class Source:
    """The kept events and the newest id; `condition` wakes whoever waits for a new one."""

    def __init__(self, history: int) -> None:
        self.condition = threading.Condition()
        self.events: deque[dict] = deque(maxlen=history)
        self.last_id = 0
        self.closed = False

    def publish(self, kind: str, data: object) -> dict:
        with self.condition:
            self.last_id += 1
            event = {"id": self.last_id, "ts": time.time(), "type": kind, "data": data}
            self.events.append(event)
            self.condition.notify_all()
        return event

    def close(self) -> None:
        """Wake every waiter for good: the server is stopping."""
        with self.condition:
            self.closed = True
            self.condition.notify_all()


def sse_message(event: dict) -> str:
    kind = "" if event["type"] == "message" else f"event: {event['type']}\n"
    return f"id: {event['id']}\n{kind}data: {json.dumps(event)}\n\n"


def create_app(options: PeerOptions, source: Source, counters: PeerCounters) -> Flask:
    app = Flask(__name__)

    @app.get("/poll")
    def poll():
        counters.request("short_polling")
        try:
            with source.condition:
                since = cursor(request.args.get("since"), source.last_id)
                answer = poll_answer(source.events, since, source.last_id, options.max_batch)
        except BadRequest as error:
            counters.answered("short_polling", error.status)
            return error.body(), error.status
        counters.answered("short_polling", 200, len(answer["events"]))
        return answer

    @app.get("/longpoll")
    def longpoll():
        counters.request("long_polling")
        try:
            wait = timeout(
                request.args.get("timeout"), options.longpoll_timeout, options.longpoll_max_timeout
            )
            with source.condition:
                since = cursor(request.args.get("since"), source.last_id)
                if since is None:
                    since = source.last_id
                deadline = time.monotonic() + wait
                while source.last_id <= since and not source.closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    source.condition.wait(left)
                answer = poll_answer(source.events, since, source.last_id, options.max_batch)
        except BadRequest as error:
            counters.answered("long_polling", error.status)
            return error.body(), error.status
        if not answer["events"]:
            counters.answered("long_polling", 204)
            return "", 204
        counters.answered("long_polling", 200, len(answer["events"]))
        return answer

    @app.get("/sse")
    def sse():
        counters.request("sse")
        try:
            with source.condition:
                start = resume_point(
                    request.headers.get("Last-Event-ID"),
                    request.args.get("last_event_id"),
                    source.last_id,
                )
                # Live: from the next event after this request, not after the first write.
                seen = source.last_id if start is None else start
        except BadRequest as error:
            counters.answered("sse", error.status)
            return error.body(), error.status

        def generator():
            nonlocal seen
            try:
                yield f"retry: {RETRY_MS}\n\n"
                while True:
                    with source.condition:
                        while source.last_id <= seen and not source.closed:
                            source.condition.wait()
                        if source.closed:
                            return
                        batch = poll_answer(source.events, seen, source.last_id, options.max_batch)
                    for event in batch["events"]:
                        yield sse_message(event)
                        counters.sent("sse")
                        seen = event["id"]
            finally:
                counters.answered("sse", 200)

        return Response(
            generator(),
            mimetype="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.post("/publish")
    def publish():
        try:
            kind, data = publish_body(request.get_data(), request.content_type)
        except BadRequest as error:
            return error.body(), error.status
        return source.publish(kind, data), 201

    @app.get("/metrics")
    def metrics():
        with source.condition:
            figures = {
                "last_id": source.last_id,
                "rate": options.rate,
                "arrivals": options.arrivals,
                "payload_bytes": options.payload_bytes,
                "history": len(source.events),
            }
        return counters.snapshot(source=figures)

    return app


def tick(source: Source, options: PeerOptions, stop: threading.Event) -> None:
    for n, at in enumerate(tick_times(options.rate, options.arrivals), start=1):
        if stop.wait(max(0.0, at - time.monotonic())):
            return
        source.publish(TICK_TYPE, tick_data(n, options.payload_bytes))


class QuietHandler(WSGIRequestHandler):
    """No line on stderr per request: the lab's server logs none either, and formatting
    one costs CPU in every request's thread."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def serve(options: PeerOptions) -> None:
    # Bound here, with Werkzeug's own backlog, so that a busy port raises OSError (the
    # lab's one sentence) instead of Werkzeug printing its advice and exiting.
    listener = socket.create_server((options.host, options.port), backlog=LISTEN_QUEUE)
    source = Source(options.history)
    app = create_app(options, source, PeerCounters(NAME))
    # threaded=True makes Werkzeug speak HTTP/1.1, so a stream goes out chunked.
    try:
        server = make_server(
            options.host,
            options.port,
            app,
            threaded=True,
            request_handler=QuietHandler,
            fd=listener.fileno(),
        )
    finally:
        listener.close()  # Werkzeug listens on a duplicate of it
    stop = threading.Event()
    ticker = threading.Thread(target=tick, args=(source, options, stop), daemon=True)
    ticker.start()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(f"listening on http://{options.host}:{server.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        # Each stream ends its response properly; the threads are daemons, so a stream
        # still writing to a slow client does not hold the exit up.
        source.close()
        server.server_close()
    print("stopped", flush=True)
