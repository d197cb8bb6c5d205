"""The simple theory of each transport: what it should cost and how late it should deliver.

Pure: standard library only, no I/O. The charts draw these predictions next to the measured
values, and the sweep's summary.csv carries them beside each measurement.

- Short polling with interval T: each user asks every T seconds whatever happens, so the
  server sees users/T requests per second at any event rate, and an event waits on average
  T/2 for the next poll.
- Long polling: a user's request is held until an event comes (or the timeout passes), so it
  costs about one request per event, plus one per timeout; when events come faster than a
  round trip, one request carries several.
- SSE: one request per user for the whole run, then a few bytes of framing per event; an event
  is written as soon as it is published.

All quantities are per run in steady state; "per event" means per *delivery*: one event
reaching one user (as in lab.measurement).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass

from lab.json_bytes import to_json_bytes
from lab.names import ARRIVALS, TRANSPORTS
from lab.theory.frames import sse_frame_overhead, websocket_frame_overhead

__all__ = [
    "ARRIVALS",
    "EVENT_JSON_BYTES",
    "ONE_WAY_S",
    "REQUEST_OVERHEAD_BYTES",
    "ROUND_TRIP_S",
    "TRANSPORTS",
    "Prediction",
    "empty_poll_share",
    "long_polling",
    "predict",
    "short_polling",
    "sse",
    "sse_frame_overhead",
    "tick_json_bytes",
    "websocket",
    "websocket_frame_overhead",
]


EVENT_JSON_BYTES = 95.0
"""Default size of one event's JSON (the "payload"), in bytes.

A tick with the default 16-byte pad is
`{"id":N,"ts":1795375312.8424191,"type":"tick","data":{"n":N,"pad":"xxxxxxxxxxxxxxxx"}}`:
92 bytes when N has 4 digits, 94 with 5 digits, 96 with 6 (N appears twice), give or take one
byte as the timestamp's repr is 17 or 18 characters. 95 is a round middle for a run of a few
thousand to a few hundred thousand events; `tick_json_bytes()` gives the exact size.
"""

# One HTTP request and response beyond the events they carry, in bytes on the wire:
#   request, as python-requests sends it (~160 bytes):
#     "GET /poll?since=123 HTTP/1.1\r\n"            30
#     "Host: 127.0.0.1:8000\r\n"                     22
#     "User-Agent: python-requests/2.32.3\r\n"       36
#     "Accept-Encoding: gzip, deflate\r\n"           32
#     "Accept: */*\r\n"                              13
#     "Connection: keep-alive\r\n"                   24
#     "\r\n"                                          2   -> 159
#   response head, as the gevent server writes it (~110 bytes):
#     "HTTP/1.1 200 OK\r\n"                          17
#     "Content-Type: application/json\r\n"           32
#     "Content-Length: 123\r\n"                      21
#     "Date: Sat, 22 Nov 2025 19:23:00 GMT\r\n"      37
#     "\r\n"                                          2   -> 109
#   the request's "&epoch=k3x9" after the cursor                             11
#   the JSON envelope around the events: {"events":[],"last_id":123,"epoch":"k3x9"}  42
# 159 + 11 + 109 + 42 = 321, rounded to 320. Locust's FastHttpUser sends a shorter request (about
# 134 bytes), and a long poll's 204 timeout has no body nor content headers; the sweep may
# pass the value it measured instead.
REQUEST_OVERHEAD_BYTES = 320.0

ROUND_TRIP_S = 0.002
"""The time a long-polling client is away between an answer and its next request reaching
the server (the answer travels, is parsed, a new request is sent): server and client on the
same 2-core machine, over loopback."""

ONE_WAY_S = 0.0005
"""The time from the server writing an event to the client having parsed it, over loopback:
the delivery latency of an event pushed to a client that is already waiting (SSE, or a held
long poll)."""


@dataclass(frozen=True)
class Prediction:
    latency_mean_ms: float
    """Mean delivery latency of an event, in milliseconds."""
    requests_per_s: float
    """HTTP requests per second, all users together."""
    bytes_per_event: float
    """Bytes on the wire (in + out, headers and framing included) per delivered event."""
    empty_share: float | None
    """Share of poll responses that carried no event (None for SSE)."""


def tick_json_bytes(
    pad_bytes: int = 16, event_id: int = 1000, ts: float = 1795375312.8424191
) -> int:
    """The exact size of a tick's JSON, compact UTF-8, as the server encodes it."""
    event = {
        "id": event_id,
        "ts": ts,
        "type": "tick",
        "data": {"n": event_id, "pad": "x" * pad_bytes},
    }
    return len(to_json_bytes(event))


# --- argument checks -----------------------------------------------------------------------


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"{name} must be a number, not {value!r}.")
    return float(value)


def positive(name: str, value: object, unit: str) -> float:
    number = _number(name, value)
    if not 0 < number < math.inf:
        raise ValueError(f"{name} must be more than 0 {unit}, not {value!r}.")
    return number


def not_negative(name: str, value: object, unit: str) -> float:
    number = _number(name, value)
    if not 0 <= number < math.inf:
        raise ValueError(f"{name} must be 0 {unit} or more, not {value!r}.")
    return number


def _users(value: object) -> int:
    number = _number("users", value)
    if number < 1 or number != int(number) or math.isinf(number):
        raise ValueError(f"users must be a whole number of at least 1, not {value!r}.")
    return int(number)


def _arrivals(value: object) -> str:
    if not isinstance(value, str) or value not in ARRIVALS:
        raise ValueError(f"arrivals must be 'fixed' or 'poisson', not {value!r}.")
    return value


# --- the three transports ------------------------------------------------------------------


def empty_poll_share(rate: float, interval_s: float, arrivals: str) -> float:
    """The share of short polls that find nothing new, with x = rate × interval.

    Poisson arrivals: the chance of no event in an interval, e^(−x). Evenly spaced arrivals
    seen from a random phase: an interval holds floor(x) or floor(x)+1 events and is empty
    only when x < 1, with probability 1 − x; so max(0, 1 − x).
    """
    x = positive("rate", rate, "events per second") * positive("interval_s", interval_s, "s")
    if _arrivals(arrivals) == "poisson":
        return math.exp(-x)
    return max(0.0, 1.0 - x)


def short_polling(
    *,
    users: int,
    rate: float,
    interval_s: float,
    arrivals: str = "fixed",
    event_json_bytes: float = EVENT_JSON_BYTES,
    request_overhead_bytes: float = REQUEST_OVERHEAD_BYTES,
    network_rtt_s: float = 0.0,
) -> Prediction:
    """Each user polls every `interval_s`, whatever the event rate.

    - requests/s = users / T;
    - mean latency = T/2 + half the network's round trip: an event arrives at a random point
      of the interval between two polls (Poisson arrivals, or fixed arrivals with a random
      phase), so it waits half of it on average, and the answer then travels back. Loopback's
      own delay (ONE_WAY_S) is negligible beside it and left out;
    - empty share: see `empty_poll_share`;
    - bytes per delivered event = the event's JSON + 1 (the comma joining events in the JSON
      list) + the request overhead shared by the rate·T events a poll carries on average
      (when rate·T < 1, one event pays for several polls).
    """
    users = _users(users)
    rate = positive("rate", rate, "events per second")
    interval = positive("interval_s", interval_s, "s")
    arrivals = _arrivals(arrivals)
    payload = not_negative("event_json_bytes", event_json_bytes, "bytes")
    overhead = not_negative("request_overhead_bytes", request_overhead_bytes, "bytes")
    network = not_negative("network_rtt_s", network_rtt_s, "s")
    events_per_poll = rate * interval
    return Prediction(
        latency_mean_ms=(interval + network) / 2 * 1000,
        requests_per_s=users / interval,
        bytes_per_event=payload + 1 + overhead / events_per_poll,
        empty_share=empty_poll_share(rate, interval, arrivals),
    )


def _long_poll_cycle(rate: float, timeout: float, rtt: float, arrivals: str):
    """(requests/s for one user, share of answers that are timeouts, share of time away).

    A user's cycle starts when the server answers: the client is away for `rtt` (the answer
    travels, the next request comes back), then the server holds the request until there is
    news or `timeout` passes. Events published while the client is away are answered at once
    when the request arrives (several in one answer when events outpace the round trip).
    """
    if arrivals == "poisson":
        # Memoryless arrivals: the cycles are independent. With no event while away
        # (probability e^(−λ·rtt)) the hold lasts min(Exp(λ), τ), whose mean is
        # (1 − e^(−λτ))/λ; it times out when no event comes in rtt + τ.
        stay = math.exp(-rate * rtt)
        cycle = rtt + stay * (-math.expm1(-rate * timeout)) / rate
        timeouts = math.exp(-rate * (rtt + timeout))
        return 1 / cycle, timeouts, rtt / cycle
    period = 1 / rate
    if period <= rtt:
        # Events outpace the round trip: every answer is immediate and carries a batch.
        return 1 / rtt, 0.0, 1.0
    # One answer per event, and the client is back before the next one; a gap longer than
    # the timeout costs the timeouts that end before the event comes: requests start at
    # rtt + j(τ + rtt) after the answer and time out τ later.
    spare = period - rtt - timeout
    timeouts = 0 if spare <= 0 else math.ceil(spare / (timeout + rtt))
    return rate * (1 + timeouts), timeouts / (1 + timeouts), 0.0


def long_polling(
    *,
    users: int,
    rate: float,
    timeout_s: float,
    arrivals: str = "fixed",
    event_json_bytes: float = EVENT_JSON_BYTES,
    round_trip_s: float = ROUND_TRIP_S,
    request_overhead_bytes: float = REQUEST_OVERHEAD_BYTES,
    one_way_s: float = ONE_WAY_S,
    network_rtt_s: float = 0.0,
) -> Prediction:
    """Each user's request is held until there is news or `timeout_s` passes.

    A network's round trip (`network_rtt_s`) adds to the loopback round trip (rtt below)
    and half of it to the one-way delay.

    Per user, a cycle is a round trip away (rtt) plus the hold:

    - Poisson arrivals at rate λ, timeout τ: the hold lasts (1 − e^(−λτ))/λ on average when no
      event came while the client was away (probability e^(−λ·rtt)), else 0. So
      requests/s = 1 / (rtt + e^(−λ·rtt)(1 − e^(−λτ))/λ) per user, and the share of answers
      that are timeouts is e^(−λ(rtt + τ)). When λ·rtt ≪ 1 this is the textbook
      1 / ((1 − e^(−λτ))/λ + rtt) with e^(−λτ) timeouts per cycle.
    - Fixed arrivals, period 1/λ: one request per event while 1/λ < τ; beyond, the timeouts
      that end before the next event, about floor(1/(λτ)) per event (exactly
      ceil((1/λ − rtt − τ)/(τ + rtt))); when 1/λ ≤ rtt, one request per round trip.
    - Latency: an event published while the client is away waits for the next request, on
      average rtt/2 more; the share of events that do is the share of time away,
      rtt/cycle ≈ λ·rtt/(1 + λ·rtt) (exact for Poisson arrivals, which see time averages).
      Evenly spaced events arrive while the client is away only when 1/λ ≤ rtt (or, by
      chance, in the rtt after a timeout, which is left out). So the mean latency =
      one-way + share away × rtt/2.
    - Bytes per delivered event = the event's JSON + the request overhead × requests per
      delivered event (timeouts included; a batch shares one request).
    """
    users = _users(users)
    rate = positive("rate", rate, "events per second")
    timeout = positive("timeout_s", timeout_s, "s")
    arrivals = _arrivals(arrivals)
    payload = not_negative("event_json_bytes", event_json_bytes, "bytes")
    network = not_negative("network_rtt_s", network_rtt_s, "s")
    rtt = not_negative("round_trip_s", round_trip_s, "s") + network
    overhead = not_negative("request_overhead_bytes", request_overhead_bytes, "bytes")
    one_way = not_negative("one_way_s", one_way_s, "s") + network / 2
    per_user, timeouts, away = _long_poll_cycle(rate, timeout, rtt, arrivals)
    return Prediction(
        latency_mean_ms=(one_way + away * rtt / 2) * 1000,
        requests_per_s=users * per_user,
        bytes_per_event=payload + overhead * per_user / rate,
        empty_share=timeouts,
    )


def sse(
    *,
    users: int,
    rate: float,
    event_json_bytes: float = EVENT_JSON_BYTES,
    event_type: str = "tick",
    event_id: int = 1000,
    duration_s: float | None = None,
    request_overhead_bytes: float = REQUEST_OVERHEAD_BYTES,
    one_way_s: float = ONE_WAY_S,
    network_rtt_s: float = 0.0,
) -> Prediction:
    """One request per user opens the stream; each event is then written at once.

    - latency = the one-way delay (ONE_WAY_S, plus half the network's round trip);
    - bytes per delivered event = the JSON + `sse_frame_overhead` (for the JSON rounded to
      whole bytes). Without `duration_s`, the stream's one request is left out and
      requests/s = 0 (the steady state); with it, that request's overhead is shared by the
      rate × duration_s events the stream carries, and requests/s = users / duration_s;
    - empty share: None, there are no polls.
    """
    users = _users(users)
    rate = positive("rate", rate, "events per second")
    payload = not_negative("event_json_bytes", event_json_bytes, "bytes")
    overhead = not_negative("request_overhead_bytes", request_overhead_bytes, "bytes")
    one_way = not_negative("one_way_s", one_way_s, "s")
    one_way += not_negative("network_rtt_s", network_rtt_s, "s") / 2
    framing = sse_frame_overhead(event_id, event_type, round(payload))
    requests_per_s = 0.0
    stream_share = 0.0
    if duration_s is not None:
        duration = positive("duration_s", duration_s, "s")
        requests_per_s = users / duration
        stream_share = overhead / (rate * duration)
    return Prediction(
        latency_mean_ms=one_way * 1000,
        requests_per_s=requests_per_s,
        bytes_per_event=payload + framing + stream_share,
        empty_share=None,
    )


def websocket(
    *,
    users: int,
    rate: float,
    event_json_bytes: float = EVENT_JSON_BYTES,
    one_way_s: float = ONE_WAY_S,
    network_rtt_s: float = 0.0,
) -> Prediction:
    """One upgrade request per user opens the socket; each event is then one text frame.

    - latency = the one-way delay, as for SSE;
    - bytes per delivered event = the JSON + `websocket_frame_overhead` (a frame's header:
      2 bytes below 126 bytes of JSON, 4 up to 64 KiB); requests/s = 0 (the steady state);
    - empty share: None, there are no polls.
    """
    _users(users)
    positive("rate", rate, "events per second")
    payload = not_negative("event_json_bytes", event_json_bytes, "bytes")
    one_way = not_negative("one_way_s", one_way_s, "s")
    one_way += not_negative("network_rtt_s", network_rtt_s, "s") / 2
    return Prediction(
        latency_mean_ms=one_way * 1000,
        requests_per_s=0.0,
        bytes_per_event=payload + websocket_frame_overhead(round(payload)),
        empty_share=None,
    )


MODELS: dict[str, Callable[..., Prediction]] = {
    "short_polling": short_polling,
    "long_polling": long_polling,
    "sse": sse,
    "websocket": websocket,
}


def predict(transport: str, **params: object) -> Prediction:
    """The prediction for `transport` with `params`, e.g. a summary row's settings.

    Parameters the transport does not use are ignored, and None means "not given" (the
    default applies), so one dict of a cell's settings serves all three transports.
    """
    model = MODELS.get(transport)
    if model is None:
        raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}, not {transport!r}.")
    accepted = inspect.signature(model).parameters
    given = {k: v for k, v in params.items() if k in accepted and v is not None}
    missing = [
        name
        for name, p in accepted.items()
        if p.default is inspect.Parameter.empty and name not in given
    ]
    if missing:
        article = {
            "short_polling": "a short polling",
            "long_polling": "a long polling",
            "sse": "an SSE",
            "websocket": "a WebSocket",
        }[transport]
        raise ValueError(f"{article} prediction needs {' and '.join(missing)}.")
    return model(**given)
