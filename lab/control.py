"""Endpoints that inspect or change the server: publish, ticker settings, drop, metrics."""

from __future__ import annotations

import re

from flask import Blueprint, Response, jsonify

from lab.access import changes_state
from lab.errors import ApiError
from lab.event_source import Event
from lab.json_body import json_body
from lab.json_bytes import NotEncodable
from lab.state import LabState, lab_state
from lab.ticker import TickerSettingsError

blueprint = Blueprint("control", __name__)

# The type is written into SSE framing ("event: <type>"), so it must be a plain token:
# a CR, LF or colon here would inject fields or events into every subscriber's stream.
TYPE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# "gap" and "close" are the server's own notices; "error" and "open" would fire a browser
# EventSource's own handlers (onerror, onopen), faking a broken or reopened connection.
RESERVED_TYPES = {"gap", "close", "error", "open"}


@blueprint.post("/publish")
@changes_state
def publish() -> tuple[Response, int]:
    event = publish_event(lab_state(), json_body())
    return Response(event.json_bytes, mimetype="application/json"), 201


def publish_event(state: LabState, body: object) -> Event:
    """Publish the event a client sent (POST /publish, or a WebSocket frame): a JSON object
    with "data" and optionally "type" (ApiError 400 saying what is wrong)."""
    if not isinstance(body, dict) or "data" not in body:
        raise ApiError(400, 'send a JSON object with "data" (any JSON) and optionally "type"')
    unknown = sorted(set(body) - {"type", "data"})
    if unknown:
        raise ApiError(400, f"unknown field {', '.join(unknown)}: send only type and data")
    event_type = body.get("type", "message")
    if not isinstance(event_type, str) or not TYPE_PATTERN.fullmatch(event_type):
        raise ApiError(
            400,
            "type must be a short token of letters, digits, '_', '.' or '-' (at most 64, no "
            "spaces, colons or line breaks, which would break SSE framing), "
            f"not {event_type!r}",
        )
    if event_type in RESERVED_TYPES:
        raise ApiError(
            400,
            f"type {event_type!r} is reserved: the server's own notices and the browser's "
            "EventSource use it",
        )
    try:
        return state.source.publish(event_type, body["data"])
    except NotEncodable as error:
        raise ApiError(400, f"the data cannot be sent on: {error}") from None


@blueprint.get("/source")
def get_source() -> Response:
    state = lab_state()
    return jsonify(state.ticker.settings() | source_figures())


@blueprint.put("/source")
@changes_state
def put_source() -> Response:
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, 'send a JSON object, e.g. {"rate": 5, "paused": false}')
    try:
        settings = lab_state().ticker.update(**body)
    except TickerSettingsError as error:
        raise ApiError(400, str(error)) from None
    return jsonify(settings | source_figures())


@blueprint.post("/drop")
@changes_state
def drop() -> Response:
    return jsonify({"dropped": lab_state().workers.drop_all()})


def source_figures(state: LabState | None = None) -> dict:
    source = (state or lab_state()).source
    return {
        "last_id": source.last_id,
        "first_id": source.first_id,
        "history_size": source.size,
        "history_capacity": source.capacity,
        "history_bytes": source.bytes,
        "history_capacity_bytes": source.capacity_bytes,
        "epoch": source.epoch,
    }


@blueprint.get("/metrics")
def metrics() -> Response:
    """This server's counters: with several workers, the sum of theirs, and each one's."""
    return jsonify(lab_state().workers.metrics())


def worker_snapshot(state: LabState) -> dict:
    """This process's own counters (the whole server's when it works alone)."""
    snapshot = state.metrics.snapshot()
    snapshot["source"] = state.ticker.settings() | source_figures(state)
    snapshot["held"] = {"count": state.held.count, "limit": state.held.limit}
    snapshot["network"] = {"simulated_rtt_ms": state.network_rtt_ms}
    return snapshot
