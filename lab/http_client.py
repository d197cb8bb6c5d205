"""The client side of a plain HTTP/1.1 exchange on a socket, for the clients that read a
response as it arrives (the scenarios' streams, the publish comparison): a response's head,
and its headers."""

from __future__ import annotations

import socket

MAX_HEAD_BYTES = 16_384


def read_head(connection: socket.socket) -> tuple[bytes, bytes]:
    """The response's status line and headers, and whatever body bytes came with them."""
    received = b""
    while b"\r\n\r\n" not in received:
        data = connection.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection before answering")
        received += data
        if len(received) > MAX_HEAD_BYTES:
            raise ConnectionError("the response head is too long")
    head, body = received.split(b"\r\n\r\n", 1)
    return head, body


def header(head: bytes, wanted: bytes) -> bytes | None:
    """A response header's value (`wanted` in lower case), or None."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == wanted:
            return value.strip()
    return None


def status(head: bytes) -> int:
    return int(head.split(b" ", 2)[1])
