"""Writing to a client's socket without letting a client that does not read hold it forever.

A client that stops reading fills the kernel's buffers (megabytes on loopback), after which
every write would wait. Here a write may wait for the socket to take more bytes, but only
for `timeout` seconds without progress; then it gives up with WriteTimedOut, and the server
closes the connection. A reader that is slow but moving is never cut.
"""

from __future__ import annotations

import errno

from gevent.socket import wait_write

from lab.metrics import TransportCounters


class WriteTimedOut(TimeoutError):
    """The client took no bytes for the write timeout: it is not reading."""

    def __init__(self, timeout: float) -> None:
        super().__init__(
            errno.ETIMEDOUT, f"the client read nothing for {timeout:g} s (--write-timeout)"
        )


def send_all_within(
    client_socket,
    data: bytes | memoryview,
    timeout: float,
    counters: TransportCounters | None = None,
) -> None:
    """Send all of `data`, waiting at most `timeout` seconds each time no byte can be sent.

    `counters.bytes_out` grows by what actually crossed the socket, even when this fails;
    `counters.write_timeouts` by one when the client read nothing for `timeout` seconds.
    """
    raw = getattr(client_socket, "_sock", client_socket)
    view = memoryview(data)
    try:
        while view:
            try:
                sent = raw.send(view)
            except BlockingIOError:
                try:
                    wait_write(raw.fileno(), timeout, WriteTimedOut(timeout))
                except WriteTimedOut:
                    if counters is not None:
                        counters.write_timeouts += 1
                    raise
                continue
            if counters is not None:
                counters.bytes_out += sent
            view = view[sent:]
    finally:
        view.release()


def send_parts_within(
    client_socket, parts: list, timeout: float, counters: TransportCounters | None = None
) -> None:
    """Send several buffers in order, as one system call when the socket takes them all
    (no copy to join them), else as `send_all_within` does."""
    raw = getattr(client_socket, "_sock", client_socket)
    try:
        sent = raw.sendmsg(parts) if len(parts) > 1 else raw.send(parts[0])
    except BlockingIOError:
        sent = 0
    if counters is not None:
        counters.bytes_out += sent
    for part in parts:
        if sent >= len(part):
            sent -= len(part)
            continue
        send_all_within(client_socket, memoryview(part)[sent:], timeout, counters)
        sent = 0
