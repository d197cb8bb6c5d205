"""A connection's raw input, with a deadline for each phase of a request.

Phases: IDLE (waiting for the first byte of a request), HEAD (the rest of the request line
and headers, from that first byte), BODY (the request body), NONE (no deadline). A
per-read timeout would not stop a "slowloris" client that sends a byte every few seconds;
a deadline per phase does.
"""

from __future__ import annotations

import errno
import io
import time
from collections.abc import Callable

MAX_HEAD_BYTES = 64 * 1024
"""Most bytes of request line and headers read for one request."""
IDLE, HEAD, BODY, NONE = "idle", "head", "body", None


class ReadTimedOut(TimeoutError):
    def __init__(self, phase: str | None) -> None:
        super().__init__(errno.ETIMEDOUT, f"read deadline passed while waiting for the {phase}")
        self.phase = phase


class HeadTooLarge(OSError):
    pass


class DeadlineReader(io.RawIOBase):
    """Reports each read's size, and bounds each phase in time."""

    def __init__(self, client_socket, on_bytes: Callable[[int], None]) -> None:
        self._socket = client_socket
        self._raw = client_socket.makefile("rb", buffering=0)
        self._on_bytes = on_bytes
        self.phase: str | None = NONE
        self.deadline: float | None = None
        self.head_timeout = 10.0
        self.head_bytes = 0
        self.timed_out: str | None = None

    def start(self, phase: str | None, seconds: float | None) -> None:
        self.phase = phase
        self.deadline = None if seconds is None else time.monotonic() + seconds
        if phase in (HEAD, IDLE):
            self.head_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int | None:
        if self.deadline is None:
            count = self._raw.readinto(buffer)
        else:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                self.timed_out = self.phase
                raise ReadTimedOut(self.phase)
            self._socket.settimeout(remaining)
            try:
                count = self._raw.readinto(buffer)
            except TimeoutError:
                self.timed_out = self.phase
                raise ReadTimedOut(self.phase) from None
            finally:
                self._socket.settimeout(None)
        if count:
            self._on_bytes(count)
            if self.phase == IDLE:
                # The first bytes of a request: the rest of its head has --header-timeout.
                self.start(HEAD, self.head_timeout)
            if self.phase == HEAD:
                self.head_bytes += count
                if self.head_bytes > MAX_HEAD_BYTES:
                    raise HeadTooLarge(errno.EMSGSIZE, "request head too large")
        return count

    def close(self) -> None:
        self._raw.close()
        super().close()
