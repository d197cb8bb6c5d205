"""Server-Sent Events framing and parsing, following the WHATWG HTML standard.

Pure: standard library only, no I/O. `ServerSentEvent.encode`, `encode_comment` and
`encode_retry` produce `text/event-stream` bytes; `SSEDecoder` turns such bytes back into
events the way a browser's EventSource would ("Parsing an event stream" and "Interpreting
an event stream" in the standard).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

__all__ = ["SSEDecoder", "SSEFieldError", "ServerSentEvent", "encode_comment", "encode_retry"]

# The standard's three line endings. CRLF must come first so it is taken as one ending.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ASCII_DIGITS = re.compile(r"[0-9]+")
_BOM = "\ufeff"
# What each refused character is called, and why it cannot be written.
_REFUSED = {
    "\r": ("a carriage return (U+000D CR)", "it would end the line early"),
    "\n": ("a line feed (U+000A LF)", "it would end the line early"),
    "\x00": ("a NUL character (U+0000)", "clients ignore an id field that contains one"),
}
_ID_REFUSED = "\r\n\x00"


class SSEFieldError(ValueError):
    """A field value that cannot be written without breaking the event stream's framing."""


def _split_lines(text: str) -> list[str]:
    return _LINE_BREAK.split(text)


def _check_text(field: str, value: object, forbidden: str) -> str:
    if not isinstance(value, str):
        raise SSEFieldError(
            f"The {field!r} field must be a str, not {type(value).__name__}: {value!r}."
        )
    for char in forbidden:
        if char in value:
            name, reason = _REFUSED[char]
            raise SSEFieldError(
                f"The {field!r} field must not contain {name} ({reason}): {value!r}."
            )
    return value


def _check_retry(value: object) -> int:
    # bool is a subclass of int, but retry=True is surely a mistake, not 1 ms.
    if isinstance(value, bool) or not isinstance(value, int):
        raise SSEFieldError(
            f"The 'retry' field must be a whole number of milliseconds (an int), "
            f"not {type(value).__name__}: {value!r}."
        )
    if value < 0:
        raise SSEFieldError(
            f"The 'retry' field must not be negative, got {value}: a client only accepts "
            "ASCII digits, so a minus sign would make it ignore the line."
        )
    return value


@dataclass(frozen=True)
class ServerSentEvent:
    """One event: what the encoder writes and what the decoder dispatches.

    `event` "" means "message". `id`: for the encoder, None writes no id line and "" writes
    an empty one (which resets the client's last event ID); for the decoder, the last event
    ID in force when the event was dispatched ("" if none). `retry`: for the encoder, a
    retry line written first; for the decoder, the retry value set in this event's block.
    """

    data: str = ""
    event: str = "message"
    id: str | None = None
    retry: int | None = None

    def encode(self) -> bytes:
        """The event as UTF-8 `text/event-stream` bytes, ending with its blank line."""
        data = _check_text("data", self.data, "")
        event = _check_text("event", self.event, "\r\n")
        lines = []
        if self.retry is not None:
            lines.append(f"retry: {_check_retry(self.retry)}")
        if self.id is not None:
            lines.append("id: " + _check_text("id", self.id, _ID_REFUSED))
        if event not in ("", "message"):
            lines.append(f"event: {event}")
        # One data line per line of data: a client joins them back with LF.
        lines.extend(f"data: {line}" for line in _split_lines(data))
        return ("\n".join(lines) + "\n\n").encode("utf-8")


def encode_comment(text: str = "") -> bytes:
    """A comment block (ignored by clients; useful as a heartbeat): b": text\\n\\n"."""
    _check_text("comment", text, "")
    # An empty comment line is written as a bare ":" so that it never becomes a blank line,
    # which would end the block early.
    lines = [f": {line}" if line else ":" for line in _split_lines(text)]
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def encode_retry(milliseconds: int) -> bytes:
    """A block that only sets the client's reconnection time: b"retry: 3000\\n\\n"."""
    return f"retry: {_check_retry(milliseconds)}\n\n".encode()


class SSEDecoder:
    """Incremental parser: feed bytes split at arbitrary points.

    `last_event_id` is the last event ID as of the last dispatch (the standard's "last event
    ID string"); `retry` is the stream's reconnection time, from the last valid retry field
    seen, or None.
    """

    def __init__(self) -> None:
        self.last_event_id: str = ""
        self.retry: int | None = None
        self._start_stream()

    def _start_stream(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._at_start = True  # no character decoded yet, so a BOM may still come
        self._skip_lf = False  # the last line ended with a CR; an LF right after belongs to it
        self._partial: list[str] = []  # pieces of the line not yet ended
        self._data: list[str] = []
        self._event_type = ""
        self._block_retry: int | None = None
        # Whatever an unfinished block set is dropped with it; a reconnecting client sends
        # the id it last dispatched with, so parsing resumes from that.
        self._id_buffer = self.last_event_id

    def decode(self, chunk: bytes) -> list[ServerSentEvent]:
        """Parse `chunk`; return the events it completed, in order."""
        return self._feed(self._utf8.decode(chunk))

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: drop any incomplete event (as the standard says) and reset.

        Always returns []; the decoder can then parse a new stream (a reconnection), keeping
        `last_event_id` and `retry`.
        """
        self._utf8.decode(b"", final=True)
        self._start_stream()
        return []

    def _feed(self, text: str) -> list[ServerSentEvent]:
        if not text:
            return []
        if self._at_start:
            self._at_start = False
            # "UTF-8 decode" drops one leading BOM only; a second one stays in the text.
            if text.startswith(_BOM):
                text = text[1:]
        if self._skip_lf:
            self._skip_lf = False
            if text.startswith("\n"):
                text = text[1:]

        events: list[ServerSentEvent] = []
        if "\r" not in text:
            # The common case (LF endings only): a plain split, no regular expression.
            lines = text.split("\n")
            rest = lines.pop()
            if self._partial and lines:
                self._partial.append(lines[0])
                lines[0] = "".join(self._partial)
                self._partial.clear()
            for line in lines:
                event = self._process_line(line)
                if event is not None:
                    events.append(event)
            if rest:
                self._partial.append(rest)
            return events
        start = 0
        for match in _LINE_BREAK.finditer(text):
            self._partial.append(text[start : match.start()])
            line = "".join(self._partial)
            self._partial.clear()
            event = self._process_line(line)
            if event is not None:
                events.append(event)
            start = match.end()
        rest = text[start:]
        if rest:
            self._partial.append(rest)
        elif text.endswith("\r"):
            # The CR may be the first half of a CRLF whose LF is in the next chunk.
            self._skip_lf = True
        return events

    def _process_line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._event_type = value
        elif field == "data":
            self._data.append(value)
        elif field == "id" and "\x00" not in value:
            self._id_buffer = value
        # Only ASCII digits: str.isdigit() would also accept e.g. "²" or Arabic-Indic digits.
        elif field == "retry" and _ASCII_DIGITS.fullmatch(value):
            self.retry = self._block_retry = int(value)
        # Any other field, an id with a NUL and a bogus retry are ignored.
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        self.last_event_id = self._id_buffer
        data, self._data = self._data, []
        event_type, self._event_type = self._event_type, ""
        retry, self._block_retry = self._block_retry, None
        if not data:
            return None
        # Each data line appended value + LF, and the final LF is removed: a join does both.
        return ServerSentEvent(
            data="\n".join(data), event=event_type or "message", id=self.last_event_id, retry=retry
        )
