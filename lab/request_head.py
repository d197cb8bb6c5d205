"""Reading a request's header lines: plain ones directly, anything else by the email parser.

pywsgi reads headers with `http.client.parse_headers`, which runs the whole email parser
(line splitting, defect tracking, MIME checks) on every request: on a short poll that was a
fifth of the server's work. Nearly every request's header lines are plain `Name: value`
lines, and for those the result is known without the parser: each becomes (name, value
without its leading blanks and line end), exactly as the parser's default policy stores it.
A request with any other line (a folded continuation, a bare CR, a line without a name, ...)
still goes through the parser, so odd input is read exactly as before.

The limits are http.client's: lines of at most 65,536 bytes, at most 100 header lines.
"""

from __future__ import annotations

import email.parser
import re
from http import client
from typing import BinaryIO, TypeVar

MAX_LINE = 65536
MAX_HEADERS = 100
LINE_TOO_LONG = "Line too long"
"""The `status` pywsgi gives a message whose line was too long (it answers 400)."""

# A name of visible characters other than ":" (what the email parser takes as a header),
# the blanks it strips after the colon, and a value without CR or LF before the line's end.
_PLAIN_LINE = re.compile(rb"([!-9;-~]+):[ \t]*([^\r\n]*)\r?\n")

Message = TypeVar("Message", bound=client.HTTPMessage)


def read_head(fp: BinaryIO, message_class: type[Message]) -> Message:
    """The header lines up to the blank line, as `message_class` (an HTTPMessage).

    Raises http.client.HTTPException beyond MAX_HEADERS lines; a line over MAX_LINE bytes
    gives an empty message whose `status` is LINE_TOO_LONG, as pywsgi's own reader does.
    """
    lines = []
    while True:
        line = fp.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            message = message_class()
            message.status = LINE_TOO_LONG  # type: ignore[attr-defined]
            return message
        lines.append(line)
        if len(lines) > MAX_HEADERS:
            raise client.HTTPException(f"got more than {MAX_HEADERS} headers")
        if line in (b"\r\n", b"\n", b""):
            break
    fields = []
    for line in lines[:-1]:  # the last is the blank line (or the end of the input)
        plain = _PLAIN_LINE.fullmatch(line)
        if plain is None:
            text = b"".join(lines).decode("iso-8859-1")
            return email.parser.Parser(_class=message_class).parsestr(text)
        fields.append((plain[1].decode("iso-8859-1"), plain[2].decode("iso-8859-1")))
    message = message_class()
    for name, value in fields:
        message.set_raw(name, value)
    message.set_payload("")  # what the parser leaves after the blank line
    return message
