"""The server's settings: every limit is a setting, with the defaults the lab documents.

`Settings` checks everything the server will need, including what the ticker accepts, so a
bad value is one sentence at start-up rather than a traceback later. The ticker's own checks
at run time (`PUT /source`) use the same function, `ticker_problems`.
"""

from __future__ import annotations

import ipaddress
import math
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, TypeGuard

from lab.names import ARRIVALS

MAX_RATE = 10_000.0
"""Most events per second the ticker may publish."""
MAX_PAYLOAD_BYTES = 1_000_000
"""Most bytes of padding in one tick."""
MiB = 1024 * 1024
MAX_WORKERS = 64
PRIVATE_BROKER = "redis"
"""`--broker redis`: a redis-server of the server's own, started and stopped with it."""
LONGPOLL_TIMEOUT_S = 25.0
"""Seconds a long poll is held when the client names no timeout (clients use it too)."""


def _is_number(value: object) -> TypeGuard[int | float]:
    # bool is an int subclass, but `"rate": true` is a mistake, not 1 event per second.
    return isinstance(value, int | float) and not isinstance(value, bool)


def ticker_problems(
    rate: object,
    arrivals: object,
    payload_bytes: object,
    paused: object,
    max_payload_bytes: int = MAX_PAYLOAD_BYTES,
    max_bytes_per_s: float | None = None,
) -> Iterator[str]:
    """Why these ticker settings cannot be used (nothing when they can)."""
    if not _is_number(rate) or not 0 <= rate <= MAX_RATE:  # NaN fails both comparisons
        yield f"rate must be a number of events per second from 0 to {MAX_RATE:g}, not {rate!r}"
    if arrivals not in ARRIVALS:
        yield f"arrivals must be one of {', '.join(ARRIVALS)}, not {arrivals!r}"
    if (
        not isinstance(payload_bytes, int)
        or isinstance(payload_bytes, bool)
        or not 0 <= payload_bytes <= max_payload_bytes
    ):  # a whole number of bytes, not a float nor True
        yield (
            f"payload_bytes must be a whole number from 0 to {max_payload_bytes}, "
            f"not {payload_bytes!r}"
        )
    elif (
        max_bytes_per_s is not None
        and _is_number(rate)
        and 0 <= rate <= MAX_RATE
        and rate * payload_bytes > max_bytes_per_s
    ):
        yield (
            f"{rate:g} events/s of {payload_bytes} bytes is "
            f"{rate * payload_bytes / MiB:.1f} MiB/s, "
            f"more than this server publishes ({max_bytes_per_s / MiB:g} MiB/s, "
            "--max-source-bytes-per-s); lower the rate or the payload"
        )
    if not isinstance(paused, bool):
        yield f"paused must be true or false, not {paused!r}"


def broker_problems(broker: object) -> Iterator[str]:
    """Why `broker` names no broker the lab can use (nothing when it does)."""
    if not isinstance(broker, str):
        yield f"broker must be text, not {broker!r}"
    elif broker not in ("", PRIVATE_BROKER) and not broker.startswith(("redis://", "unix://")):
        yield (
            f"broker must be 'redis' (a private redis-server) or an address such as "
            f"redis://127.0.0.1:6379/0, not {broker!r}"
        )


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    rate: float = 1.0
    """Events per second the ticker publishes (0 publishes none)."""
    arrivals: str = "fixed"
    """'fixed' spaces ticks evenly; 'poisson' draws exponential gaps with the same mean rate."""
    payload_bytes: int = 16
    """Bytes of padding in each tick's data."""
    paused: bool = False
    history: int = 10_000
    """Events kept for resuming clients (a ring buffer)."""
    history_bytes: int = 64 * MiB
    """Most bytes of encoded events the history keeps; the oldest leave first."""
    max_batch: int = 1_000
    """Most events one poll or long-poll response carries."""
    max_batch_bytes: int = 1 * MiB
    """Most bytes of events in one poll or long-poll answer (always at least one event)."""
    max_source_bytes_per_s: int = 16 * MiB
    """Most bytes of padding per second the ticker may publish (rate x payload)."""
    heartbeat: float = 15.0
    """Seconds of silence before an SSE stream gets a ': ping' comment (0 = never)."""
    retry_ms: int = 2_000
    """The reconnection delay announced to SSE clients in the stream's first line."""
    max_streams: int = 20_000
    """Most SSE streams and held long polls at once; beyond it new ones get 503."""
    max_chat_answers: int = 200
    """Most chat answers generated at once (streamed or as jobs); beyond it new ones get 503.
    Each costs the server a greenlet and a token every few tens of milliseconds."""
    max_connections: int = 0
    """Most open client connections (0: as many as the open-file limit allows, less a reserve)."""
    max_body_bytes: int = 64 * 1024
    header_timeout: float = 10.0
    """Seconds a client has to send a request's head (and, separately, its body)."""
    idle_timeout: float = 60.0
    """Seconds a keep-alive connection may wait between requests before it is closed."""
    write_timeout: float = 30.0
    """Seconds a response's writes may stay blocked (a client that does not read) before the
    connection is closed."""
    longpoll_timeout: float = LONGPOLL_TIMEOUT_S
    """Seconds a long poll is held when the client names no timeout."""
    longpoll_max_timeout: float = 120.0
    workers: int = 1
    """Server processes sharing the port and, through the broker, one event source."""
    broker: str = ""
    """Where several workers share the source: `redis` (a private redis-server the lab
    starts), `redis://HOST:PORT/DB` (a running one), or empty (the in-process source)."""
    worker_index: int = 0
    """Which of the workers this process is (set by the process that starts them)."""
    token: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    """Needed by the endpoints that change state when the server is not on loopback."""

    def __post_init__(self) -> None:
        problems = list(self.problems())
        if problems:
            raise ValueError("; ".join(problems))

    def problems(self) -> Iterator[str]:
        def at_least(name: str, minimum: float, what: str) -> Iterator[str]:
            value = getattr(self, name)
            if not _is_number(value) or not minimum <= value < math.inf:
                yield f"{name.replace('_', ' ')} must {what}, not {value!r}"

        if not isinstance(self.port, int) or not 0 <= self.port <= 65_535:
            yield f"port must be between 0 and 65535, not {self.port}"
        yield from ticker_problems(
            self.rate,
            self.arrivals,
            self.payload_bytes,
            self.paused,
            self.max_payload_bytes,
            self.max_source_bytes_per_s,
        )
        yield from at_least("history", 1, "keep at least 1 event")
        yield from at_least("history_bytes", 1024, "be at least 1024")
        yield from at_least("max_batch", 1, "be at least 1")
        yield from at_least("max_batch_bytes", 1024, "be at least 1024")
        yield from at_least("max_source_bytes_per_s", 0, "be 0 or more")
        yield from at_least("heartbeat", 0, "be 0 (off) or more seconds")
        yield from at_least("retry_ms", 0, "be 0 or more milliseconds")
        yield from at_least("max_streams", 1, "be at least 1")
        yield from at_least("max_chat_answers", 1, "be at least 1")
        yield from at_least("max_connections", 0, "be 0 (automatic) or more")
        yield from at_least("max_body_bytes", 1, "be at least 1")
        for name in ("header_timeout", "idle_timeout", "write_timeout"):
            yield from at_least(name, 0.1, "be at least 0.1 seconds")
        if not isinstance(self.workers, int) or not 1 <= self.workers <= MAX_WORKERS:
            yield f"workers must be a whole number from 1 to {MAX_WORKERS}, not {self.workers!r}"
        elif not isinstance(self.worker_index, int) or not 0 <= self.worker_index < self.workers:
            yield (
                f"the worker index must be from 0 to {self.workers - 1}, not {self.worker_index!r}"
            )
        yield from broker_problems(self.broker)
        if not _is_number(self.longpoll_max_timeout) or not self.longpoll_max_timeout > 0:
            yield f"the maximum long-poll timeout must be above 0, not {self.longpoll_max_timeout}"
        elif not _is_number(self.longpoll_timeout) or not (
            0 < self.longpoll_timeout <= self.longpoll_max_timeout
        ):
            yield (
                f"the default long-poll timeout must be above 0 and at most "
                f"{self.longpoll_max_timeout:g} s, not {self.longpoll_timeout:g}"
            )

    @property
    def max_payload_bytes(self) -> int:
        """The largest tick padding allowed: the history must hold a few ticks at least."""
        return max(0, min(MAX_PAYLOAD_BYTES, self.history_bytes // 4))

    def ticker_limits(self) -> dict[str, Any]:
        return {
            "max_payload_bytes": self.max_payload_bytes,
            "max_bytes_per_s": self.max_source_bytes_per_s,
        }

    @property
    def on_loopback(self) -> bool:
        """True when only this machine can reach the server, so no token is needed."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def public(self) -> dict:
        """The settings without the token, safe to show to anyone."""
        shown = asdict(self)
        shown.pop("token")
        return shown
