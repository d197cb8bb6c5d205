"""HTTP/1.1 chunked transfer coding (RFC 9112, section 7.1): one chunk's encoder, and an
incremental decoder.

Pure: bytes in, bytes out. The SSE fan-out frames each event's chunk once with
`encode_chunk`; the SSE load scenario reads its stream from a plain socket with
`ChunkedDecoder`, which costs far less per event than a full HTTP client.
"""

from __future__ import annotations


def encode_chunk(payload: bytes) -> bytes:
    """The payload as one chunk, exactly as pywsgi frames what a response yields."""
    return b"%x\r\n%s\r\n" % (len(payload), payload)


class ChunkedError(ValueError):
    """The bytes are not valid chunked transfer coding."""


class ChunkedDecoder:
    MAX_SIZE_LINE = 1024

    def __init__(self) -> None:
        self._buffer = b""
        self._remaining = 0  # payload bytes of the current chunk still to come
        self._need_crlf = False  # the CRLF after a chunk's payload is still to come
        self.finished = False  # the last (zero-size) chunk has arrived

    def decode(self, data: bytes) -> bytes:
        """Feed received bytes; return the payload they complete (possibly b"")."""
        buffer = self._buffer + data if self._buffer else data
        payload = []
        position = 0
        while position < len(buffer) and not self.finished:
            if self._remaining:
                piece = buffer[position : position + self._remaining]
                payload.append(piece)
                position += len(piece)
                self._remaining -= len(piece)
                if not self._remaining:
                    self._need_crlf = True
                continue
            if self._need_crlf:
                if len(buffer) - position < 2:
                    break
                if buffer[position : position + 2] != b"\r\n":
                    raise ChunkedError("a chunk's data is not followed by CRLF")
                position += 2
                self._need_crlf = False
                continue
            end = buffer.find(b"\r\n", position)
            if end < 0:
                if len(buffer) - position > self.MAX_SIZE_LINE:
                    raise ChunkedError("a chunk-size line is too long")
                break
            size_text = buffer[position:end].split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ChunkedError(f"not a chunk size: {size_text!r}") from None
            if size < 0:
                raise ChunkedError(f"not a chunk size: {size_text!r}")
            position = end + 2
            if size == 0:
                self.finished = True  # trailers, if any, are not needed here
            else:
                self._remaining = size
        self._buffer = buffer[position:]
        return b"".join(payload)
