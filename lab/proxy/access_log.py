"""nginx's access log, in the lab's format, and what a cell takes from it.

Each line is written when a response ends: `$msec` (that moment, Unix seconds), the status,
the response time, the bytes sent to the client (head and body, as on the wire), the status
nginx got from the lab server, the request line and the protocol. A long poll's or a
short poll's whole answer is therefore counted in the window it ends in; a stream that is
still open is not in the log yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FORMAT = '$msec $status $request_time $bytes_sent $upstream_status "$request" $server_protocol'


@dataclass(frozen=True)
class Response:
    ended_at: float
    status: int
    bytes_sent: int
    path: str


def parse_line(line: str) -> Response | None:
    """One log line (None for a line that is not in the lab's format)."""
    parts = line.split(" ", 5)
    if len(parts) < 6:
        return None
    try:
        ended_at, status, bytes_sent = float(parts[0]), int(parts[1]), int(parts[3])
    except ValueError:
        return None
    request = parts[5].split('"')[1] if '"' in parts[5] else ""
    path = request.split(" ")[1] if request.count(" ") >= 1 else ""
    return Response(ended_at, status, bytes_sent, path)


def responses_between(log: Path, start: float, end: float, prefix: str = "/") -> list[Response]:
    """The responses to paths under `prefix` that ended between `start` and `end`."""
    if not log.exists():
        return []
    found = []
    with open(log, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            response = parse_line(line.rstrip("\n"))
            if response and start <= response.ended_at <= end and response.path.startswith(prefix):
                found.append(response)
    return found
