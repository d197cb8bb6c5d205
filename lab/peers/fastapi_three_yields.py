"""The "fastapi-three-yields" peer: the fastapi peer with the notes' own generator, which
yields an event's `id:`, `event:` and `data:` lines as three separate strings.

The stream carries the same bytes, but each yield is its own trip through Starlette and
uvicorn: three chunks on the wire, each with its chunk framing, and three `send()`s per
event per client where the fastapi peer makes one.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from lab.peers import PeerOptions, fastapi_streaming
from lab.peers.queries import RETRY_MS


async def event_generator(events: AsyncIterator[dict]) -> AsyncIterator[str]:
    yield f"retry: {RETRY_MS}\n\n"
    async for event in events:
        yield f"id: {event['id']}\n"
        if event["type"] != "message":
            yield f"event: {event['type']}\n"
        yield f"data: {json.dumps(event)}\n\n"


def serve(options: PeerOptions) -> None:
    fastapi_streaming.serve(options, event_generator)
