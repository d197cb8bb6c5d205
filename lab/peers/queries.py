"""What every peer reads from a request and answers to a poll, written once and framework-
free: the cursor, the long poll's timeout, the SSE resume point, a publish body, and the
poll answer. The streaming itself stays in each peer's own module, in its framework's words.

Numbers are read as strictly as the lab server reads them, so a peer refuses what the lab
refuses (with a 400 and a sentence) and the same scenarios run against both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from itertools import islice

MAX_DIGITS = 15
_WHOLE = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?")
MAX_TYPE_CHARS = 64
RETRY_MS = 1000
"""The `retry:` a peer's stream opens with, in milliseconds."""


class BadRequest(ValueError):
    """A request a peer refuses: answer `status` with {"error": message}."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict:
        return {"error": self.message}


def whole_number(raw: str, name: str) -> int:
    text = raw.strip()
    if not _WHOLE.fullmatch(text):
        raise BadRequest(400, f"{name} must be a whole number of 0 or more, not {raw[:40]!r}")
    if len(text.lstrip("0")) > MAX_DIGITS:
        raise BadRequest(400, f"{name} has more than {MAX_DIGITS} digits; no cursor is that large")
    return int(text)


def cursor(raw: str | None, last_id: int, name: str = "since") -> int | None:
    """The event id a client has seen up to, or None when it gave none; 400 when it is not
    a whole number or is ahead of the newest event."""
    if raw is None or raw.strip() == "":
        return None
    since = whole_number(raw, name)
    if since > last_id:
        raise BadRequest(
            400,
            f"{name}={since} is ahead of the newest event ({last_id}); the server has "
            "probably restarted and numbers events from 1 again, so start over without it",
        )
    return since


def resume_point(last_event_id: str | None, query_value: str | None, last_id: int) -> int | None:
    """Where an SSE stream starts: after the Last-Event-ID header, else after
    ?last_event_id=, else None (live: from the next event)."""
    if last_event_id is not None and last_event_id.strip():
        return cursor(last_event_id, last_id, "Last-Event-ID")
    return cursor(query_value, last_id, "last_event_id")


def timeout(raw: str | None, default: float, maximum: float) -> float:
    """A long poll's timeout in seconds: above 0 and at most `maximum`."""
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip()
    if not _DECIMAL.fullmatch(text) or not 0 < float(text) <= maximum:
        raise BadRequest(
            400,
            f"timeout must be a number of seconds above 0 and at most {maximum:g}, "
            f"not {raw[:40]!r}",
        )
    return float(text)


def publish_body(body: bytes, content_type: str | None) -> tuple[str, object]:
    """The (type, data) of a POST /publish: JSON {"type"?: str, "data": any}."""
    if (content_type or "").split(";", 1)[0].strip().lower() != "application/json":
        raise BadRequest(415, "send the event as JSON (Content-Type: application/json)")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise BadRequest(400, "the body is not valid JSON") from None
    if not isinstance(payload, dict) or "data" not in payload:
        raise BadRequest(400, 'send an object with "data" (and optionally "type")')
    kind = payload.get("type", "message")
    if (
        not isinstance(kind, str)
        or not 0 < len(kind) <= MAX_TYPE_CHARS
        or any(c in kind for c in "\r\n:")
        or kind != kind.strip()
    ):
        raise BadRequest(
            400,
            f'"type" must be a short word without line breaks or colons, '
            f"at most {MAX_TYPE_CHARS} characters",
        )
    return kind, payload["data"]


def poll_answer(history: Sequence[dict], since: int | None, last_id: int, max_batch: int) -> dict:
    """The answer to a poll: the kept events after `since` (at most `max_batch`, oldest
    first), the newest id, and `"gap": true` when events after `since` have left the
    history. `history` holds the kept events in id order, the newest last (a list or a
    deque: only the wanted end of it is read, so a poll near the present is cheap)."""
    if since is None:
        return {"events": [], "last_id": last_id}
    wanted = min(last_id - since, len(history))
    newest_first = list(islice(reversed(history), wanted))
    answer: dict = {"events": newest_first[::-1][:max_batch], "last_id": last_id}
    if last_id - since > len(history):
        answer["gap"] = True
    return answer
