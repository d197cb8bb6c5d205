"""Reading the cursor (where a client wants to continue) and other numbers in a request.

Numbers are read strictly: ASCII digits only, and not too many of them. Python's own `int()`
and `float()` would also take "1_0", fullwidth digits, "inf" or 5,000-digit numbers (which it
refuses with an error of its own), none of which a client means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lab.epoch import split_sse_id
from lab.errors import ApiError
from lab.event_source import EventSource

MAX_DIGITS = 15
"""Longest whole number read from a request (ids fit easily; JavaScript's integers too)."""
MAX_EPOCH_CHARS = 32
_WHOLE = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?")


@dataclass(frozen=True)
class Resume:
    """Where to continue: after event `after` of this run.

    `restarted` is True when the client's cursor belongs to an earlier run of the server
    (another epoch): it then continues from this run's oldest kept event, and is told so.
    """

    after: int
    restarted: bool = False


def parse_whole(raw: str, name: str) -> int:
    """A whole number of ASCII digits (surrounding spaces allowed); 400 otherwise."""
    text = raw.strip()
    if text.startswith("-") and _WHOLE.fullmatch(text[1:]):
        raise ApiError(400, f"{name} must be 0 or more, not {_shown(raw)}")
    if not _WHOLE.fullmatch(text):
        raise ApiError(400, f"{name} must be a whole number (ASCII digits), not {_shown(raw)}")
    if len(text.lstrip("0")) > MAX_DIGITS:
        raise ApiError(
            400, f"{name} has more than {MAX_DIGITS} digits; no cursor or count is that large"
        )
    return int(text)


def parse_resume(
    raw: str | None, source: EventSource, name: str, epoch: str | None = None
) -> Resume | None:
    """The client's cursor, checked against the source; None when not given.

    The cursor is an event id, optionally with the run it came from: "41" or "41@k3x9" (an
    SSE id), or "41" with `epoch` given apart (the polls' `?epoch=`). A cursor from another
    run starts over from this run's oldest event, flagged. A bare cursor ahead of the newest
    event usually means the server restarted too, so that error says how to recover.
    """
    if raw is None or raw.strip() == "":
        return None
    text, epoch_in_text = split_sse_id(raw.strip())
    epoch = epoch_in_text if epoch_in_text is not None else epoch
    if epoch is not None:
        if len(epoch) > MAX_EPOCH_CHARS:
            raise ApiError(400, f"the epoch in {name} is too long to be one this server gave")
        if epoch != source.epoch:
            parse_whole(text, name)  # still a number, or a clear 400
            return Resume(after=0, restarted=True)
    cursor = parse_whole(text, name)
    if not source.has_reached(cursor):
        raise ApiError(
            400,
            f"{name}={cursor} is ahead of the newest event ({source.last_id}); the server "
            "has probably restarted and numbers events from 1 again, so start over without it",
        )
    return Resume(after=cursor)


def parse_positive_number(raw: str, name: str, maximum: float, unit: str) -> float:
    """A number of ASCII digits with an optional decimal part, above 0 and at most maximum."""
    text = raw.strip()
    if not _DECIMAL.fullmatch(text):
        raise ApiError(
            400,
            f"{name} must be a number of {unit} written with ASCII digits "
            f"(e.g. 2.5), not {_shown(raw)}",
        )
    value = float(text)
    if not 0 < value <= maximum:
        raise ApiError(400, f"{name} must be above 0 and at most {maximum:g} {unit}, not {text}")
    return value


def parse_positive_int(raw: str, name: str) -> int:
    value = parse_whole(raw, name)
    if value < 1:
        raise ApiError(400, f"{name} must be a whole number of at least 1, not {_shown(raw)}")
    return value


def _shown(raw: str, limit: int = 40) -> str:
    """The client's text in an error message, cut short: an answer never echoes a megabyte."""
    return repr(raw) if len(raw) <= limit else repr(raw[:limit]) + f"... ({len(raw)} characters)"
