"""The chunked-transfer decoder, fed whole and in pieces of every size."""

from __future__ import annotations

import pytest

from lab.http_chunks import ChunkedDecoder, ChunkedError

CASES = [
    ("one_chunk", b"5\r\nhello\r\n", b"hello", False),
    ("two_chunks", b"5\r\nhello\r\n6\r\n world\r\n", b"hello world", False),
    ("last_chunk", b"3\r\nabc\r\n0\r\n\r\n", b"abc", True),
    ("uppercase_hex", b"A\r\n0123456789\r\n", b"0123456789", False),
    ("extension_ignored", b"3;name=value\r\nabc\r\n", b"abc", False),
    ("crlf_inside_payload", b"4\r\n\r\n\r\n\r\n", b"\r\n\r\n", False),
    ("sse_frame", b"f\r\nid: 1\ndata: x\n\n\r\n", b"id: 1\ndata: x\n\n", False),
    ("empty", b"", b"", False),
]


def feed(data: bytes, piece: int) -> tuple[bytes, bool]:
    decoder = ChunkedDecoder()
    out = b"".join(decoder.decode(data[i : i + piece]) for i in range(0, len(data), piece))
    return out, decoder.finished


@pytest.mark.parametrize(
    ("data", "payload", "finished"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_payload_is_the_same_however_the_bytes_are_split(data, payload, finished):
    for piece in range(1, max(len(data), 1) + 1):
        assert feed(data, piece) == (payload, finished), piece


@pytest.mark.parametrize(
    "data",
    [b"zz\r\nabc\r\n", b"3\r\nabcXY", b"-1\r\n", b"1" * 2000],
    ids=["not_hex", "no_crlf_after_data", "negative", "endless_size_line"],
)
def test_bad_framing_is_refused(data):
    with pytest.raises(ChunkedError):
        ChunkedDecoder().decode(data)
