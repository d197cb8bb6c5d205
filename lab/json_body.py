"""Reading a request's JSON body strictly, within the size and time limits.

Python's json module reads more than JSON, and some of it would break every subscriber once
published: NaN and Infinity (no browser's JSON.parse accepts them), numbers such as 1e999
(read as infinity), lone surrogates ("\\ud800", which cannot be written as UTF-8), and nesting
thousands deep (which no encoder can write back). All are refused here, before anything is
stored.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask import request
from gevent.pywsgi import _InvalidClientInput

from lab.errors import ApiError
from lab.json_bytes import NotEncodable, to_json_bytes
from lab.state import lab_state

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in a body."""


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:30]} is too large to be carried")
    return value


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest in `value` (0 for a scalar), without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        )
        if children is None:
            continue
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        pending.extend((child, level + 1) for child in children)
    return deepest


def read_body(limit: int) -> bytes:
    """The raw body, at most `limit` bytes: 413 beyond it, also for a chunked body (whose
    length is not announced), and 408 when it does not arrive in time."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise _too_large(limit)
    stream = request.environ["wsgi.input"]
    try:
        data = stream.read(limit + 1)
    except _InvalidClientInput:
        raise ApiError(
            400, "the body is not valid chunked encoding", {"Connection": "close"}
        ) from None
    except OSError:
        timeout = lab_state().settings.header_timeout
        raise ApiError(
            408,
            f"the body did not arrive within {timeout:g} s (--header-timeout)",
            {"Connection": "close"},
        ) from None
    if len(data) > limit:
        raise _too_large(limit)
    return data


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"the body is larger than this server's limit of {limit} bytes (--max-body-bytes)",
        {"Connection": "close"},
    )


def json_body() -> Any:
    """The request's JSON, strictly: RFC 8259 only, finite, not too deep, and writable back
    as UTF-8."""
    if not request.is_json:
        raise ApiError(415, "send the body as JSON with the header Content-Type: application/json")
    raw = read_body(lab_state().settings.max_body_bytes)
    try:
        body = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite)
    except RecursionError:
        raise ApiError(
            400, f"the body nests arrays or objects more than {MAX_DEPTH} deep"
        ) from None
    except ValueError as error:
        raise ApiError(400, f"the body is not valid JSON ({str(error)[:200]})") from None
    if _depth(body) > MAX_DEPTH:
        raise ApiError(400, f"the body nests arrays or objects more than {MAX_DEPTH} deep")
    try:
        to_json_bytes(body)
    except NotEncodable as error:
        raise ApiError(400, f"the body cannot be sent on: {error}") from None
    return body
