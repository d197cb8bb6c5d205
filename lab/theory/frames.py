"""What each push transport wraps around one event's JSON on the wire: pure arithmetic.

- SSE: the frame's fields (`id:`, `event:`, `data:`, the blank line) and the HTTP/1.1 chunk
  that carries it.
- WebSocket: the frame's header (RFC 6455, section 5.2). A server's frames are not masked,
  so a text frame is its payload plus 2 bytes below 126 bytes, 4 bytes up to 65,535 and 10
  beyond.
"""

from __future__ import annotations

from lab.epoch import EPOCH_LENGTH


def sse_frame_overhead(
    event_id: int, event_type: str, event_json_bytes: int, epoch_chars: int = EPOCH_LENGTH
) -> int:
    """Bytes on the wire for one SSE event beyond its JSON: frame fields plus chunk framing.

    The server writes each event as one frame, `id: <N>@<epoch>\\n` + `event: <type>\\n`
    (left out for the type "message", or "") + `data: <json>\\n` + `\\n`, and the stream's
    HTTP/1.1 chunked encoding wraps it as `<frame size in lowercase hex>\\r\\n` + frame +
    `\\r\\n`. For id 1000, type "tick", a 4-character epoch and 95 bytes of JSON:

        frame  = len("id: 1000@k3x9\\n") 14 + len("event: tick\\n") 12
                 + len("data: ") 6 + 95 + len("\\n") 1 + 1 (the blank line) = 129 = 0x81
        chunk  = len("81\\r\\n") 4 + 129 + len("\\r\\n") 2 = 135
        overhead = 135 − 95 = 40

    The epoch (`@k3x9`, 5 bytes) is what makes a resume after a server restart safe.

    The hex size grows a digit at frame sizes 16, 256, 4096, ...
    """
    if isinstance(event_id, bool) or not isinstance(event_id, int) or event_id < 0:
        raise ValueError(f"event_id must be a whole number of 0 or more, not {event_id!r}.")
    if not isinstance(event_type, str) or "\n" in event_type or "\r" in event_type:
        raise ValueError(f"event_type must be a one-line str, not {event_type!r}.")
    if (
        isinstance(event_json_bytes, bool)
        or not isinstance(event_json_bytes, int)
        or event_json_bytes < 0
    ):
        raise ValueError(
            f"event_json_bytes must be a whole number of 0 or more, not {event_json_bytes!r}."
        )
    frame = len(f"id: {event_id}@\n") + epoch_chars
    if event_type not in ("", "message"):
        frame += len(f"event: {event_type}\n".encode())
    frame += len("data: ") + event_json_bytes + len("\n") + len("\n")
    chunk = len(f"{frame:x}\r\n") + frame + len("\r\n")
    return chunk - event_json_bytes


def websocket_frame_overhead(payload_bytes: int) -> int:
    """Bytes on the wire for one unmasked WebSocket frame beyond its payload: its header.

    Two bytes (FIN and opcode; mask bit and a 7-bit length) hold lengths up to 125; 126
    announces a 2-byte length after them, 127 an 8-byte one.
    """
    if isinstance(payload_bytes, bool) or not isinstance(payload_bytes, int) or payload_bytes < 0:
        raise ValueError(
            f"payload_bytes must be a whole number of 0 or more, not {payload_bytes!r}."
        )
    if payload_bytes < 126:
        return 2
    return 4 if payload_bytes <= 0xFFFF else 10
