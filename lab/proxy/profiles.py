"""nginx profiles: each one setting (or none) that changes what a proxy does to a stream.

Each profile is the body of nginx's `location /` that forwards to the lab server, plus, for
HTTP/2, how the server block listens. They are short on purpose: the README quotes them, and
each differs from `passthrough` or from nginx's defaults in the one thing it is there to show.

Every profile forwards the browser's `Host` header: the lab answers only requests addressed
to a loopback name (its defence against DNS rebinding), and nginx would otherwise send the
upstream's name.
"""

from __future__ import annotations

from dataclasses import dataclass

DIRECT = "direct"
"""No proxy: the clients talk to the lab server itself."""
VIA_PREFIX = "nginx:"

_FORWARD = """\
proxy_pass http://lab;
proxy_set_header Host $http_host;
"""

_PASSTHROUGH = """\
proxy_http_version 1.1;          # keep-alive to the lab server, chunked streams
proxy_set_header Connection "";
proxy_buffering off;             # every byte goes on as it arrives
"""


@dataclass(frozen=True)
class Profile:
    name: str
    shows: str
    """What the profile is there to show, in one sentence."""
    location: str
    """The directives inside `location / { ... }` beyond forwarding."""
    http2: bool = False
    read_timeout_s: float = 60.0
    """nginx's proxy_read_timeout under this profile (60 s is nginx's default)."""
    buffers_streams: bool = False
    """Whether an SSE stream's bytes wait in nginx's buffer until it fills."""

    def location_block(self) -> str:
        body = _FORWARD + self.location
        inner = "".join(f"    {line}\n" if line else "\n" for line in body.splitlines())
        return "location / {\n" + inner + "}\n"


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile(
            "passthrough", "a proxy set up for streaming: events pass as they come", _PASSTHROUGH
        ),
        Profile(
            "buffered",
            "nginx's defaults with the server's X-Accel-Buffering header ignored: a stream's "
            "events wait in nginx's buffer until it fills",
            "proxy_ignore_headers X-Accel-Buffering;   # the server's header cannot help\n",
            buffers_streams=True,
        ),
        Profile(
            "honours-header",
            "nginx's defaults: buffering is on, but the server's `X-Accel-Buffering: no` "
            "turns it off for its streams",
            "# nginx's defaults: HTTP/1.0 to the lab server, proxy_buffering on\n",
        ),
        Profile(
            "short-timeout",
            "a proxy that closes a response after 10 s without a byte: idle streams and "
            "long-held polls meet it",
            _PASSTHROUGH + "proxy_read_timeout 10s;          # nginx's default is 60 s\n",
            read_timeout_s=10.0,
        ),
        Profile(
            "gzip",
            "compression of event streams: fewer bytes, each event flushed on its own",
            _PASSTHROUGH + "gzip on;\ngzip_types text/event-stream;\n",
        ),
        Profile(
            "http2",
            "HTTP/2 over TLS to the browser: one connection carries every stream",
            _PASSTHROUGH,
            http2=True,
        ),
    )
}

VIA_CHOICES = (DIRECT, *(VIA_PREFIX + name for name in PROFILES))


def parse_via(via: str) -> Profile | None:
    """The profile a `--via` value names (None for `direct`); ValueError with a sentence."""
    if via == DIRECT:
        return None
    name = via.removeprefix(VIA_PREFIX)
    if not via.startswith(VIA_PREFIX) or name not in PROFILES:
        raise ValueError(
            f"--via {via!r} is not one of: {', '.join(VIA_CHOICES)} ('direct' means no proxy)"
        )
    return PROFILES[name]
