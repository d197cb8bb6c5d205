"""Reading the cursor (the last event id a client has seen) and other query numbers."""

from __future__ import annotations

from lab.errors import ApiError
from lab.event_source import EventSource


def parse_cursor(raw: str | None, source: EventSource, name: str) -> int | None:
    """The event id a client has seen, checked against the source; None when not given.

    A cursor ahead of the newest event usually means the server restarted and its ids began
    again at 1, so the error says how to recover.
    """
    if raw is None or raw == "":
        return None
    text = raw.strip()
    if not (text.isascii() and text.isdigit()):
        if text.startswith("-") and text[1:].isdigit():
            raise ApiError(400, f"{name} must be 0 or more, not {raw!r}")
        raise ApiError(400, f"{name} must be a whole number (an event id), not {raw!r}")
    cursor = int(text)
    if cursor > source.last_id:
        raise ApiError(
            400,
            f"{name}={cursor} is ahead of the newest event ({source.last_id}); the server "
            "has probably restarted and numbers events from 1 again, so start over without it",
        )
    return cursor


def parse_positive_number(raw: str, name: str, maximum: float, unit: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a number of {unit}, not {raw!r}") from None
    if not 0 < value <= maximum:
        raise ApiError(400, f"{name} must be above 0 and at most {maximum:g} {unit}, not {raw}")
    return value


def parse_positive_int(raw: str, name: str) -> int:
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise ApiError(400, f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(text)
