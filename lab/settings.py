"""The server's settings: every limit is a setting, with the defaults the lab documents."""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import asdict, dataclass, field

ARRIVALS = ("fixed", "poisson")


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
    max_batch: int = 1_000
    """Most events one poll or long-poll response carries."""
    heartbeat: float = 15.0
    """Seconds of silence before an SSE stream gets a ': ping' comment (0 = never)."""
    retry_ms: int = 2_000
    """The reconnection delay announced to SSE clients in the stream's first line."""
    max_streams: int = 20_000
    """Most SSE streams and held long polls at once; beyond it new ones get 503."""
    max_body_bytes: int = 64 * 1024
    longpoll_timeout: float = 25.0
    """Seconds a long poll is held when the client names no timeout."""
    longpoll_max_timeout: float = 120.0
    token: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    """Needed by the endpoints that change state when the server is not on loopback."""

    def __post_init__(self) -> None:
        problems = list(self.problems())
        if problems:
            raise ValueError("; ".join(problems))

    def problems(self):
        if not 0 <= self.port <= 65_535:
            yield f"port must be between 0 and 65535, not {self.port}"
        if self.rate < 0:
            yield f"rate must be 0 or more events per second, not {self.rate}"
        if self.arrivals not in ARRIVALS:
            yield f"arrivals must be one of {', '.join(ARRIVALS)}, not {self.arrivals!r}"
        if self.payload_bytes < 0:
            yield f"payload bytes must be 0 or more, not {self.payload_bytes}"
        if self.history < 1:
            yield f"history must keep at least 1 event, not {self.history}"
        if self.max_batch < 1:
            yield f"max batch must be at least 1, not {self.max_batch}"
        if self.heartbeat < 0:
            yield f"heartbeat must be 0 (off) or more seconds, not {self.heartbeat}"
        if self.retry_ms < 0:
            yield f"retry must be 0 or more milliseconds, not {self.retry_ms}"
        if self.max_streams < 1:
            yield f"max streams must be at least 1, not {self.max_streams}"
        if self.max_body_bytes < 1:
            yield f"max body bytes must be at least 1, not {self.max_body_bytes}"
        if not self.longpoll_max_timeout > 0:
            yield f"the maximum long-poll timeout must be above 0, not {self.longpoll_max_timeout}"
        if not 0 < self.longpoll_timeout <= self.longpoll_max_timeout:
            yield (
                f"the default long-poll timeout must be above 0 and at most "
                f"{self.longpoll_max_timeout:g} s, not {self.longpoll_timeout:g}"
            )

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
