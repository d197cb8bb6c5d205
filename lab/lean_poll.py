"""A lean path for the hot requests: `GET /poll` and a `GET /longpoll` that has news.

Short pollers on a clock send most of a server's requests, and most of their answers are
empty. Through Flask each one builds a request context, routes, runs the before/after hooks
and a Response object, and pywsgi then formats the head: about as much work again as the
rest of the request. Here the connection's handler answers these requests itself, with the
same bytes Flask would send: the same checks (lab.cursors, the Host rule of lab.access), the
same body (lab.poll_answers), the same head (status line, Content-Type, Content-Length, Date).

Only the plain case is taken: GET over HTTP/1.1, the exact path, a query that needs no
decoding, no body, and an answer of 200. Everything else (an error to explain, a HEAD, a
long poll that must wait, an odd query) goes to Flask, which stays the one place that words
errors and holds requests; so the lean path cannot answer differently, only faster.
"""

from __future__ import annotations

import re
import time

from gevent.pywsgi import format_date_time

from lab.access import LOOPBACK_NAMES, host_name
from lab.cursors import Resume, parse_positive_number, parse_resume
from lab.errors import ApiError
from lab.poll_answers import answer_cache
from lab.state import LabState

SHORT_POLLING, LONG_POLLING = "short_polling", "long_polling"
LEAN_PATHS = {"/poll": SHORT_POLLING, "/longpoll": LONG_POLLING}

# Characters that percent-decoding, '+' or a non-ASCII byte would change: a query made of
# these only reads the same to Flask and to the simple split below.
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9_.=&@-]*")


def plain_query(query: str) -> dict[str, str] | None:
    """A query's parameters when it needs no decoding (the first value of each name, as
    Flask's `request.args.get` gives); None when it does."""
    if not _PLAIN_QUERY.fullmatch(query):
        return None
    found: dict[str, str] = {}
    for part in query.split("&"):
        if part:
            name, _, value = part.partition("=")
            found.setdefault(name, value)
    return found


class HttpDate:
    """The Date header's value, formatted once a second rather than once a request."""

    def __init__(self) -> None:
        self._second = -1
        self._text = b""

    def now(self) -> bytes:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._text = format_date_time(second)  # pywsgi's own, so the bytes match
        return self._text


_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nDate: %b\r\n\r\n"
)


class LeanPolls:
    """Answers the plain poll requests of one server; None tells the caller to ask Flask."""

    def __init__(self, state: LabState) -> None:
        self.state = state
        settings = state.settings
        # The Host rule of lab.access (a defence against DNS rebinding), read once: the
        # settings do not change while the server runs.
        self.allowed_hosts = (
            LOOPBACK_NAMES | {settings.host.lower()} if settings.on_loopback else None
        )
        self.date = HttpDate()

    def answer(
        self, method: str, target: str, version: str, host: str | None
    ) -> tuple[bytes, bytes] | None:
        """The answer's head and body for a request that takes the lean path, else None.

        `target` is the request line's target (path and query, undecoded); `host` the
        Host header as the WSGI environ has it (None without one).
        """
        if method != "GET" or version != "HTTP/1.1":
            return None
        path, _, query = target.partition("?")
        transport = LEAN_PATHS.get(path)
        if transport is None:
            return None
        allowed = self.allowed_hosts
        if host is not None and allowed is not None and host_name(host) not in allowed:
            return None  # Flask words the 403
        args = plain_query(query)
        if args is None:
            return None
        state = self.state
        source, settings = state.source, state.settings
        try:
            resume = parse_resume(args.get("since"), source, "since", args.get("epoch"))
            if transport == LONG_POLLING:
                if "timeout" in args:
                    parse_positive_number(
                        args["timeout"], "timeout", settings.longpoll_max_timeout, "seconds"
                    )
                if not _has_news(resume, source.last_id):
                    return None  # it waits: Flask holds it
        except ApiError:
            return None  # Flask words the 400
        body, count = answer_cache(source).answer(
            resume, settings.max_batch, settings.max_batch_bytes
        )
        counters = state.metrics[transport]
        counters.events_sent += count
        counters.empty_responses += not count
        return _HEAD % (len(body), self.date.now()), body


def _has_news(resume: Resume | None, last_id: int) -> bool:
    """Whether a long poll is answered at once with events (a restart notice is left to
    Flask; no cursor means "wait for the next event")."""
    return resume is not None and not resume.restarted and last_id > resume.after


LEAN_KEY = "lab.lean_polls"


def lean_polls_for(application: object) -> LeanPolls | None:
    """The lean path of the lab app a server runs (made on first use); None for any other
    WSGI application."""
    extensions = getattr(application, "extensions", None)
    if not isinstance(extensions, dict) or "lab" not in extensions:
        return None
    lean = extensions.get(LEAN_KEY)
    if lean is None:
        lean = extensions[LEAN_KEY] = LeanPolls(extensions["lab"])
    return lean
