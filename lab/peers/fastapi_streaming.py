"""The "fastapi" peer: FastAPI's `StreamingResponse` on uvicorn, as the notes write it, with
one yield per event: `id:`, `event:` and `data:` lines in one string.

Every stream is an async generator that waits on its own queue (lab.peers.asgi_source);
each event it yields goes through Starlette's and uvicorn's send path on its own, one
`send()` per event per client.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from lab.peers import PeerOptions
from lab.peers.asgi_source import AsyncSource, serve_asgi
from lab.peers.peer_metrics import PeerCounters
from lab.peers.queries import RETRY_MS, BadRequest, cursor, poll_answer, publish_body, resume_point

EventGenerator = Callable[[AsyncIterator[dict]], AsyncIterator[str]]


async def event_generator(events: AsyncIterator[dict]) -> AsyncIterator[str]:
    yield f"retry: {RETRY_MS}\n\n"
    async for event in events:
        kind = "" if event["type"] == "message" else f"event: {event['type']}\n"
        yield f"id: {event['id']}\n{kind}data: {json.dumps(event)}\n\n"


def create_app(
    options: PeerOptions,
    source: AsyncSource,
    counters: PeerCounters,
    generator: EventGenerator = event_generator,
) -> FastAPI:
    app = FastAPI()

    def refused(transport: str, error: BadRequest) -> JSONResponse:
        counters.answered(transport, error.status)
        return JSONResponse(error.body(), status_code=error.status)

    @app.get("/poll")
    async def poll(since: str | None = None):
        counters.request("short_polling")
        try:
            after = cursor(since, source.last_id)
        except BadRequest as error:
            return refused("short_polling", error)
        answer = poll_answer(source.events, after, source.last_id, options.max_batch)
        counters.answered("short_polling", 200, len(answer["events"]))
        return answer

    @app.get("/longpoll")
    async def long_poll(request: Request):
        counters.request("long_polling")
        query = request.query_params
        try:
            answer = await source.long_poll(query.get("since"), query.get("timeout"))
        except BadRequest as error:
            return refused("long_polling", error)
        if not answer["events"]:
            counters.answered("long_polling", 204)
            return Response(status_code=204)
        counters.answered("long_polling", 200, len(answer["events"]))
        return answer

    @app.get("/sse")
    async def sse(request: Request, last_event_id: str | None = None):
        counters.request("sse")
        try:
            start = resume_point(
                request.headers.get("last-event-id"), last_event_id, source.last_id
            )
        except BadRequest as error:
            return refused("sse", error)
        return StreamingResponse(
            generator(source.stream(start, counters)),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.post("/publish")
    async def publish(request: Request):
        try:
            kind, data = publish_body(await request.body(), request.headers.get("content-type"))
        except BadRequest as error:
            return JSONResponse(error.body(), status_code=error.status)
        return JSONResponse(source.publish(kind, data), status_code=201)

    @app.get("/metrics")
    async def metrics():
        return counters.snapshot(source=source.figures())

    return app


def serve(options: PeerOptions, generator: EventGenerator = event_generator) -> None:
    counters = PeerCounters(options.name)
    source = AsyncSource(options)
    serve_asgi(create_app(options, source, counters, generator), source, options)
