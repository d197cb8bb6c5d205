"""The one JSON encoding the lab writes: compact UTF-8, strict, safe for naive line readers.

Pure (standard library only), so that the load generator can encode an event exactly as the
server does without importing the server.
"""

from __future__ import annotations

import json
from typing import Any

# JSON allows these three raw inside strings, but some clients split lines on them
# (JavaScript before ES2019 and naive line readers): written escaped, they are harmless.
_LINE_LIKE = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\u0085": "\\u0085"}


class NotEncodable(ValueError):
    """A value that cannot be written as strict JSON in UTF-8; the message says why."""


def to_json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON, the one encoding the server uses for events and answers.

    Raises NotEncodable for NaN or infinite numbers, lone surrogates, and nesting too deep
    to encode.
    """
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except RecursionError:
        raise NotEncodable("it is nested too deeply to encode") from None
    except ValueError as error:
        raise NotEncodable(f"it holds a number JSON cannot carry ({error})") from None
    for raw, escaped in _LINE_LIKE.items():
        if raw in text:
            text = text.replace(raw, escaped)
    try:
        return text.encode()
    except UnicodeEncodeError:
        raise NotEncodable(
            "it holds text that is not valid Unicode (a lone surrogate such as \\ud800), "
            "which cannot be sent as UTF-8"
        ) from None
