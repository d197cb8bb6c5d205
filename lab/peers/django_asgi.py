"""The "django-asgi" peer: Django's `StreamingHttpResponse` with an async iterator, on
uvicorn, as the notes write Django SSE (`data: ...\\n\\n` pieces from a generator) with
Django's async views.

Django is configured here in code, with no database, apps or middleware. Every stream is
an async generator that waits on its own queue (lab.peers.asgi_source); Django's ASGI
handler sends each piece it yields as one body message, through uvicorn, one `send()` per
event per client.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from django.conf import settings
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from lab.peers import PeerOptions
from lab.peers.asgi_source import AsyncSource, serve_asgi
from lab.peers.peer_metrics import PeerCounters
from lab.peers.queries import RETRY_MS, BadRequest, cursor, poll_answer, publish_body, resume_point

# Set once by serve(), before the first request.
options: PeerOptions
source: AsyncSource
counters: PeerCounters


async def event_stream(events: AsyncIterator[dict]) -> AsyncIterator[str]:
    yield f"retry: {RETRY_MS}\n\n"
    async for event in events:
        kind = "" if event["type"] == "message" else f"event: {event['type']}\n"
        yield f"id: {event['id']}\n{kind}data: {json.dumps(event)}\n\n"


def refused(transport: str, error: BadRequest) -> JsonResponse:
    counters.answered(transport, error.status)
    return JsonResponse(error.body(), status=error.status)


@require_GET
async def poll(request):
    counters.request("short_polling")
    try:
        after = cursor(request.GET.get("since"), source.last_id)
    except BadRequest as error:
        return refused("short_polling", error)
    answer = poll_answer(source.events, after, source.last_id, options.max_batch)
    counters.answered("short_polling", 200, len(answer["events"]))
    return JsonResponse(answer)


@require_GET
async def longpoll(request):
    counters.request("long_polling")
    try:
        answer = await source.long_poll(request.GET.get("since"), request.GET.get("timeout"))
    except BadRequest as error:
        return refused("long_polling", error)
    if not answer["events"]:
        counters.answered("long_polling", 204)
        return HttpResponse(status=204)
    counters.answered("long_polling", 200, len(answer["events"]))
    return JsonResponse(answer)


@require_GET
async def sse(request):
    counters.request("sse")
    try:
        start = resume_point(
            request.headers.get("Last-Event-ID"), request.GET.get("last_event_id"), source.last_id
        )
    except BadRequest as error:
        return refused("sse", error)
    response = StreamingHttpResponse(
        event_stream(source.stream(start, counters)), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


@require_POST
async def publish(request):
    try:
        kind, data = publish_body(request.body, request.content_type)
    except BadRequest as error:
        return JsonResponse(error.body(), status=error.status)
    return JsonResponse(source.publish(kind, data), status=201)


@require_GET
async def metrics(request):
    return JsonResponse(counters.snapshot(source=source.figures()))


urlpatterns = [
    path("poll", poll),
    path("longpoll", longpoll),
    path("sse", sse),
    path("publish", publish),
    path("metrics", metrics),
]


def serve(peer_options: PeerOptions) -> None:
    global options, source, counters
    import django
    from django.core.asgi import get_asgi_application

    options, source = peer_options, AsyncSource(peer_options)
    counters = PeerCounters(peer_options.name)
    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        SECRET_KEY="a peer that signs nothing",
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        DATABASES={},
        USE_TZ=True,
    )
    django.setup()
    serve_asgi(get_asgi_application(), source, options)
