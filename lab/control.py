"""Endpoints that inspect or change the server: publish, ticker settings, drop, metrics."""

from __future__ import annotations

import json
import re

from flask import Blueprint, Response, jsonify, request

from lab.access import requires_token
from lab.app import lab_state
from lab.errors import ApiError
from lab.event_source import to_json_bytes
from lab.ticker import TickerSettingsError

blueprint = Blueprint("control", __name__)

# The type is written into SSE framing ("event: <type>"), so it must be a plain token:
# a CR, LF or colon here would inject fields or events into every subscriber's stream.
TYPE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
RESERVED_TYPES = {"gap", "close"}


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def json_body() -> object:
    """The request's JSON, strictly: RFC 8259 only, and writable back as UTF-8.

    Python's json reads NaN and Infinity, which no browser's JSON.parse accepts, and keeps
    lone surrogates ("\\ud800"), which cannot be encoded as UTF-8: either would break every
    subscriber's stream once published, so both are refused here, before anything is stored.
    """
    if not request.is_json:
        raise ApiError(415, "send the body as JSON with the header Content-Type: application/json")
    try:
        body = json.loads(request.get_data(cache=True), parse_constant=_refuse_constant)
    except ValueError as error:
        raise ApiError(400, f"the body is not valid JSON ({error})") from None
    try:
        to_json_bytes(body)
    except UnicodeEncodeError:
        raise ApiError(
            400, "the body holds text that is not valid Unicode (a lone surrogate such as "
            "\\ud800), which cannot be sent as UTF-8"
        ) from None
    return body


@blueprint.post("/publish")
@requires_token
def publish() -> tuple[Response, int]:
    body = json_body()
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
        raise ApiError(400, f"type {event_type!r} is reserved for the server's own notices")
    event = lab_state().source.publish(event_type, body["data"])
    return Response(event.json_bytes, mimetype="application/json"), 201


@blueprint.get("/source")
def get_source() -> Response:
    state = lab_state()
    return jsonify(state.ticker.settings() | source_figures())


@blueprint.put("/source")
@requires_token
def put_source() -> Response:
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "send a JSON object, e.g. {\"rate\": 5, \"paused\": false}")
    try:
        settings = lab_state().ticker.update(**body)
    except TickerSettingsError as error:
        raise ApiError(400, str(error)) from None
    return jsonify(settings | source_figures())


@blueprint.post("/drop")
@requires_token
def drop() -> Response:
    return jsonify({"dropped": lab_state().held.drop_all()})


def source_figures() -> dict:
    state = lab_state()
    source = state.source
    return {
        "last_id": source.last_id,
        "first_id": source.first_id,
        "history_size": source.size,
        "history_capacity": source.capacity,
    }


@blueprint.get("/metrics")
def metrics() -> Response:
    state = lab_state()
    snapshot = state.metrics.snapshot()
    snapshot["source"] = state.ticker.settings() | source_figures()
    snapshot["held"] = {"count": state.held.count, "limit": state.held.limit}
    return jsonify(snapshot)
