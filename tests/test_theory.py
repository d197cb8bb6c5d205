"""Tests for lab.theory: the predictions at hand-computed points, and the argument checks."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lab.sse import ServerSentEvent
from lab.theory import (
    EVENT_JSON_BYTES,
    ONE_WAY_S,
    REQUEST_OVERHEAD_BYTES,
    Prediction,
    empty_poll_share,
    long_polling,
    predict,
    short_polling,
    sse,
    sse_frame_overhead,
    tick_json_bytes,
    websocket_frame_overhead,
)

approx = pytest.approx


def case(id, *values):
    return pytest.param(*values, id=id)


# --- constants ------------------------------------------------------------------------------


def test_defaults_are_those_the_lab_documents():
    assert EVENT_JSON_BYTES == 95
    assert 92 <= tick_json_bytes(16, 1000) <= EVENT_JSON_BYTES <= tick_json_bytes(16, 123_456)
    assert 250 <= REQUEST_OVERHEAD_BYTES <= 350


@pytest.mark.parametrize(
    ("pad", "event_id", "expected"),
    [
        case("4-digit id", 16, 1000, 92),
        case("5-digit id", 16, 10_000, 94),
        case("6-digit id", 16, 123_456, 96),
        case("no padding", 0, 1000, 76),
        case("1 KiB padding", 1024, 1000, 1100),
    ],
)
def test_tick_json_bytes(pad, event_id, expected):
    assert tick_json_bytes(pad, event_id) == expected


# --- short polling --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "latency_ms", "requests_per_s", "bytes_per_event", "empty_share"),
    [
        case(
            "poisson 2/s every 1 s",
            dict(users=100, rate=2, interval_s=1, arrivals="poisson"),
            500,
            100,
            95 + 1 + 320 / 2,
            math.exp(-2),
        ),
        case(
            "fixed 2/s every 1 s never empty",
            dict(users=100, rate=2, interval_s=1, arrivals="fixed"),
            500,
            100,
            256,
            0,
        ),
        case(
            "fixed 0.5/s every 1 s half empty",
            dict(users=10, rate=0.5, interval_s=1, arrivals="fixed"),
            500,
            10,
            95 + 1 + 640,
            0.5,
        ),
        case(
            "fixed 3/s every 0.1 s",
            dict(users=1, rate=3, interval_s=0.1, arrivals="fixed"),
            50,
            10,
            95 + 1 + 320 / 0.3,
            0.7,
        ),
        case(
            "poisson 0.1/s every 2 s",
            dict(users=1, rate=0.1, interval_s=2, arrivals="poisson"),
            1000,
            0.5,
            95 + 1 + 1600,
            math.exp(-0.2),
        ),
        case(
            "every 0.25 s, 40 users", dict(users=40, rate=4, interval_s=0.25), 125, 160, 96 + 320, 0
        ),
        case(
            "bigger events, measured overhead",
            dict(users=5, rate=10, interval_s=1, event_json_bytes=1100, request_overhead_bytes=270),
            500,
            5,
            1100 + 1 + 27,
            0,
        ),
    ],
)
def test_short_polling(kwargs, latency_ms, requests_per_s, bytes_per_event, empty_share):
    p = short_polling(**kwargs)
    assert p == Prediction(
        approx(latency_ms), approx(requests_per_s), approx(bytes_per_event), approx(empty_share)
    )


@pytest.mark.parametrize("rate", [0.01, 1, 50, 5000], ids=lambda r: f"rate {r}")
def test_short_polling_requests_do_not_depend_on_the_event_rate(rate):
    p = short_polling(users=250, rate=rate, interval_s=2, arrivals="poisson")
    assert p.requests_per_s == approx(125)
    assert p.latency_mean_ms == approx(1000)


@pytest.mark.parametrize(
    ("rate", "interval_s", "arrivals", "expected"),
    [
        case("poisson x=1", 1, 1, "poisson", math.exp(-1)),
        case("poisson x=0.2", 0.1, 2, "poisson", math.exp(-0.2)),
        case("poisson x=4", 8, 0.5, "poisson", math.exp(-4)),
        case("fixed x=0.5", 0.5, 1, "fixed", 0.5),
        case("fixed x=0.3", 3, 0.1, "fixed", 0.7),
        case("fixed x=1 never empty", 1, 1, "fixed", 0),
        case("fixed x=2 never empty", 2, 1, "fixed", 0),
    ],
)
def test_empty_poll_share(rate, interval_s, arrivals, expected):
    assert empty_poll_share(rate, interval_s, arrivals) == approx(expected, abs=1e-12)


# --- long polling ---------------------------------------------------------------------------


def test_long_polling_poisson_at_a_hand_computed_point():
    # λ = 0.1/s, τ = 5 s, rtt = 2 ms, 10 users:
    # cycle = 0.002 + e^(−0.0002)·(1 − e^(−0.5))/0.1 = 0.002 + 0.99980002 × 3.9346934
    #       = 3.9359065 s  ->  0.2540711 requests/s per user, 2.540711 for 10 users;
    # timeouts: e^(−0.1 × 5.002) = 0.6064094 of the answers;
    # latency: 0.5 ms + (0.002 / 3.9359065) × 2 ms / 2 = 0.5005081 ms;
    # bytes: 95 + 320 × 0.2540711 / 0.1 = 908.0275.
    p = long_polling(users=10, rate=0.1, timeout_s=5, arrivals="poisson")
    assert p.requests_per_s == approx(2.540711, rel=1e-6)
    assert p.empty_share == approx(0.6064094, rel=1e-6)
    assert p.latency_mean_ms == approx(0.5005081, rel=1e-6)
    assert p.bytes_per_event == approx(908.0275, rel=1e-6)


@pytest.mark.parametrize(
    ("rate", "timeout_s"),
    [
        case("slow events", 0.05, 25),
        case("1/s", 1, 25),
        case("timeouts often", 0.5, 1),
        case("fast events", 20, 10),
    ],
)
def test_long_polling_poisson_without_round_trip_is_the_textbook_formula(rate, timeout_s):
    # With rtt = 0, a cycle is the hold alone: E[wait] = (1 − e^(−λτ))/λ, and e^(−λτ) of the
    # answers are timeouts.
    p = long_polling(users=3, rate=rate, timeout_s=timeout_s, arrivals="poisson", round_trip_s=0)
    wait = (1 - math.exp(-rate * timeout_s)) / rate
    assert p.requests_per_s == approx(3 / wait)
    assert p.empty_share == approx(math.exp(-rate * timeout_s))
    assert p.latency_mean_ms == approx(ONE_WAY_S * 1000)


@pytest.mark.parametrize("rate", [0.1, 1, 5], ids=lambda r: f"rate {r}")
def test_long_polling_poisson_close_to_the_simple_cycle_when_round_trips_are_short(rate):
    p = long_polling(users=1, rate=rate, timeout_s=25, arrivals="poisson")
    simple = 1 / ((1 - math.exp(-rate * 25)) / rate + 0.002)
    assert p.requests_per_s == approx(simple, rel=0.01)
    share_away = rate * 0.002 / (1 + rate * 0.002)
    assert p.latency_mean_ms == approx(0.5 + share_away * 1, rel=0.01)


@pytest.mark.parametrize(
    ("kwargs", "latency_ms", "requests_per_s", "bytes_per_event", "empty_share"),
    [
        case("one request per event", dict(users=100, rate=2, timeout_s=25), 0.5, 200, 95 + 320, 0),
        case(
            "gap 3.33 s over 1 s timeouts: 3 timeouts per event",
            dict(users=1, rate=0.3, timeout_s=1),
            0.5,
            1.2,
            95 + 4 * 320 / 1,
            0.75,
        ),
        case(
            "gap 2.5 s over 1 s timeouts: 2 timeouts per event",
            dict(users=2, rate=0.4, timeout_s=1),
            0.5,
            2.4,
            95 + 3 * 320,
            2 / 3,
        ),
        case(
            "gap just under the timeout: no timeout",
            dict(users=1, rate=1, timeout_s=1.5),
            0.5,
            1,
            415,
            0,
        ),
        case(
            "events outpace the round trip: batched, one request per rtt",
            dict(users=10, rate=1000, timeout_s=25),
            0.5 + 1,
            10 * 500,
            95 + 320 / 2,
            0,
        ),
    ],
)
def test_long_polling_fixed(kwargs, latency_ms, requests_per_s, bytes_per_event, empty_share):
    p = long_polling(arrivals="fixed", **kwargs)
    assert p == Prediction(
        approx(latency_ms), approx(requests_per_s), approx(bytes_per_event), approx(empty_share)
    )


@pytest.mark.parametrize(
    ("rate", "timeout_s"),
    [
        case("2.5 gaps", 0.4, 1),
        case("3.3 gaps", 0.3, 1),
        case("7.5 gaps", 0.2, 2 / 3),
        case("1.2 gaps", 1 / 12, 10),
    ],
)
def test_long_polling_fixed_timeouts_per_event_are_floor_gap_over_timeout(rate, timeout_s):
    timeouts = math.floor(1 / (rate * timeout_s))
    p = long_polling(users=1, rate=rate, timeout_s=timeout_s, arrivals="fixed")
    assert p.requests_per_s / rate == approx(1 + timeouts)


# --- SSE ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_id", "event_type", "json_bytes", "expected"),
    [
        # The id line carries the run's epoch: "id: 1000@k3x9\n" is 14 bytes.
        # frame 14 + 12 + 6 + 95 + 1 + 1 = 129 = 0x81; chunk "81\r\n" 4 + 129 + 2 -> 135 - 95
        case("id 1000 tick 95 B", 1000, "tick", 95, 40),
        # frame 14 + 6 + 95 + 2 = 117 = 0x75: no event line for "message"
        case("message type has no event line", 1000, "message", 95, 28),
        case("empty type has no event line", 1000, "", 95, 28),
        # "id: 9@k3x9\n" 11: frame 11 + 12 + 6 + 95 + 2 = 126 = 0x7e -> 4 + 126 + 2 - 95
        case("id 9: one digit", 9, "tick", 95, 37),
        case("id 10: two digits", 10, "tick", 95, 38),
        # "id: 123456@k3x9\n" 16: frame 131 = 0x83 -> 4 + 131 + 2 - 95
        case("id 123456", 123456, "tick", 95, 42),
        # "event: café\n" is 13 bytes (é is 2): frame 130 = 0x82
        case("non-ASCII type counted in bytes", 1000, "café", 95, 41),
        # frame = 19 + json for id 1, "message": 255 = 0xff vs 256 = 0x100
        case("frame 255 B: 2 hex digits", 1, "message", 236, 25),
        case("frame 256 B: 3 hex digits", 1, "message", 237, 26),
        # frame = 34 + json for id 1000, "tick": 4095 = 0xfff vs 4096 = 0x1000
        case("frame 4095 B: 3 hex digits", 1000, "tick", 4061, 41),
        case("frame 4096 B: 4 hex digits", 1000, "tick", 4062, 42),
        # frame 11 + 12 + 6 + 0 + 2 = 31 = 0x1f -> 4 + 31 + 2
        case("empty data", 1, "tick", 0, 37),
    ],
)
def test_sse_frame_overhead(event_id, event_type, json_bytes, expected):
    assert sse_frame_overhead(event_id, event_type, json_bytes) == expected


def encoded_overhead(event_id: int, event_type: str, json_bytes: int) -> int:
    """The overhead as the project's encoder writes the frame, plus HTTP/1.1 chunk framing."""
    frame = ServerSentEvent(data="x" * json_bytes, event=event_type, id=f"{event_id}@k3x9").encode()
    chunk = f"{len(frame):x}\r\n".encode() + frame + b"\r\n"
    return len(chunk) - json_bytes


@pytest.mark.parametrize(
    ("event_id", "event_type", "json_bytes"),
    list(
        itertools.product(
            [0, 7, 1000, 123456],
            ["tick", "message", "", "café"],
            [0, 1, 2, 95, 221, 222, 236, 237, 4061, 4062],
        )
    ),
    ids=lambda value: repr(value),
)
def test_sse_frame_overhead_matches_the_encoder(event_id, event_type, json_bytes):
    assert sse_frame_overhead(event_id, event_type, json_bytes) == encoded_overhead(
        event_id, event_type, json_bytes
    )


@given(
    event_id=st.integers(0, 10**12),
    event_type=st.text(
        st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=12
    ),
    json_bytes=st.integers(0, 70_000),
)
def test_sse_frame_overhead_matches_the_encoder_anywhere(event_id, event_type, json_bytes):
    assert sse_frame_overhead(event_id, event_type, json_bytes) == encoded_overhead(
        event_id, event_type, json_bytes
    )


@pytest.mark.parametrize(
    ("kwargs", "requests_per_s", "bytes_per_event"),
    [
        case("steady state", dict(users=100, rate=2), 0, 95 + 40),
        case("message type", dict(users=100, rate=2, event_type="message"), 0, 95 + 28),
        case(
            "one request per user over 60 s",
            dict(users=100, rate=2, duration_s=60),
            100 / 60,
            95 + 40 + 320 / 120,
        ),
        # frame 34 + 227 = 261 = 0x105 -> 5 + 261 + 2 - 227 = 41
        case("bigger events", dict(users=1, rate=1, event_json_bytes=227), 0, 227 + 41),
        case(
            "fractional payload rounds for framing",
            dict(users=1, rate=1, event_json_bytes=94.6),
            0,
            94.6 + 40,
        ),
    ],
)
def test_sse(kwargs, requests_per_s, bytes_per_event):
    p = sse(**kwargs)
    assert p == Prediction(approx(0.5), approx(requests_per_s), approx(bytes_per_event), None)


# --- predict --------------------------------------------------------------------------------

SETTINGS = dict(
    users=50,
    rate=4,
    arrivals="poisson",
    interval_s=0.5,
    timeout_s=20,
    payload_pad_bytes=16,
    duration_s=None,
)


@pytest.mark.parametrize(
    ("transport", "expected"),
    [
        case(
            "short polling",
            "short_polling",
            short_polling(users=50, rate=4, interval_s=0.5, arrivals="poisson"),
        ),
        case(
            "long polling",
            "long_polling",
            long_polling(users=50, rate=4, timeout_s=20, arrivals="poisson"),
        ),
        case("sse", "sse", sse(users=50, rate=4)),
    ],
)
def test_predict_takes_what_each_transport_uses(transport, expected):
    assert predict(transport, **SETTINGS) == expected


def test_predict_none_means_the_default():
    assert predict("sse", users=1, rate=1, event_json_bytes=None) == sse(users=1, rate=1)


# --- argument checks ------------------------------------------------------------------------

SP = dict(users=10, rate=1, interval_s=1)
LP = dict(users=10, rate=1, timeout_s=25)
SSE = dict(users=10, rate=1)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        case("users 0", lambda: short_polling(**SP | dict(users=0)), "users must be a whole"),
        case("users 1.5", lambda: long_polling(**LP | dict(users=1.5)), "users must be a whole"),
        case("users True", lambda: sse(**SSE | dict(users=True)), "users must be a number"),
        case("rate 0", lambda: short_polling(**SP | dict(rate=0)), "rate must be more than 0"),
        case("rate -1", lambda: long_polling(**LP | dict(rate=-1)), "rate must be more than 0"),
        case("rate nan", lambda: sse(**SSE | dict(rate=math.nan)), "rate must be a number"),
        case("rate text", lambda: sse(**SSE | dict(rate="2")), "rate must be a number"),
        case(
            "interval 0",
            lambda: short_polling(**SP | dict(interval_s=0)),
            "interval_s must be more than 0",
        ),
        case(
            "interval inf",
            lambda: short_polling(**SP | dict(interval_s=math.inf)),
            "interval_s must be more than 0",
        ),
        case(
            "timeout -1",
            lambda: long_polling(**LP | dict(timeout_s=-1)),
            "timeout_s must be more than 0",
        ),
        case(
            "arrivals bursty",
            lambda: short_polling(**SP | dict(arrivals="bursty")),
            "arrivals must be 'fixed' or 'poisson'",
        ),
        case(
            "arrivals LP",
            lambda: long_polling(**LP | dict(arrivals="Poisson")),
            "arrivals must be 'fixed' or 'poisson'",
        ),
        case(
            "negative payload",
            lambda: sse(**SSE | dict(event_json_bytes=-1)),
            "event_json_bytes must be 0 bytes or more",
        ),
        case(
            "negative rtt",
            lambda: long_polling(**LP | dict(round_trip_s=-0.1)),
            "round_trip_s must be 0 s or more",
        ),
        case(
            "negative overhead",
            lambda: short_polling(**SP | dict(request_overhead_bytes=-5)),
            "request_overhead_bytes must be 0 bytes or more",
        ),
        case(
            "duration 0", lambda: sse(**SSE | dict(duration_s=0)), "duration_s must be more than 0"
        ),
        case(
            "empty share rate", lambda: empty_poll_share(0, 1, "fixed"), "rate must be more than 0"
        ),
        case(
            "empty share interval",
            lambda: empty_poll_share(1, -1, "fixed"),
            "interval_s must be more than 0",
        ),
        case("empty share arrivals", lambda: empty_poll_share(1, 1, "even"), "arrivals must be"),
        case(
            "frame negative id",
            lambda: sse_frame_overhead(-1, "tick", 95),
            "event_id must be a whole number",
        ),
        case(
            "frame type with newline",
            lambda: sse_frame_overhead(1, "a\nb", 95),
            "event_type must be a one-line str",
        ),
        case(
            "frame fractional json",
            lambda: sse_frame_overhead(1, "tick", 1.5),
            "event_json_bytes must be a whole number",
        ),
        case(
            "predict unknown transport",
            lambda: predict("carrier_pigeon", **SETTINGS),
            "transport must be one of short_polling, long_polling, sse, websocket",
        ),
        case(
            "predict without interval",
            lambda: predict("short_polling", **SETTINGS | dict(interval_s=None)),
            "short polling prediction needs interval_s",
        ),
        case(
            "predict without users", lambda: predict("sse", rate=1), "an SSE prediction needs users"
        ),
    ],
)
def test_bad_arguments_are_refused_with_a_sentence(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- a network's round trip ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "kwargs", "latency_ms"),
    [
        # half the 1 s interval, then the answer's way back: 500 + 100 ms
        (short_polling, dict(users=1, rate=1, interval_s=1, network_rtt_s=0.2), 600),
        # one way: 0.5 ms of loopback + 100 ms of network
        (sse, dict(users=1, rate=1, network_rtt_s=0.2), 100.5),
        # fixed events 1 s apart, timeout 25 s: the client is back long before the next event,
        # so every event waits only the one way: 0.5 + 100 ms
        (
            long_polling,
            dict(users=1, rate=1, timeout_s=25, arrivals="fixed", network_rtt_s=0.2),
            100.5,
        ),
    ],
)
def test_a_network_round_trip_adds_its_one_way_delay(model, kwargs, latency_ms):
    assert model(**kwargs).latency_mean_ms == approx(latency_ms)


def test_long_polling_poisson_with_a_200_ms_round_trip_at_a_hand_computed_point():
    # λ = 1/s, τ = 25 s, rtt = 0.002 + 0.2 = 0.202 s: the share of time away is
    # rtt / cycle with cycle = 0.202 + e^(−0.202)(1 − e^(−25))/1 = 0.202 + 0.8170949 = 1.0190949;
    # away = 0.1982152; latency = (0.0005 + 0.1) + 0.1982152 × 0.202 / 2 = 0.1205197 s.
    p = long_polling(users=1, rate=1, timeout_s=25, arrivals="poisson", network_rtt_s=0.2)
    assert p.latency_mean_ms == approx(120.5197, rel=1e-5)
    assert p.requests_per_s == approx(1 / 1.0190949, rel=1e-6)


@pytest.mark.parametrize(
    ("payload", "overhead"),
    [(0, 2), (95, 2), (125, 2), (126, 4), (1000, 4), (65535, 4), (65536, 10), (10**7, 10)],
)
def test_websocket_frame_overhead_is_the_header_of_an_unmasked_frame(payload, overhead):
    assert websocket_frame_overhead(payload) == overhead


@pytest.mark.parametrize("payload", [-1, 1.5, True, "95"])
def test_websocket_frame_overhead_refuses_what_is_not_a_size(payload):
    with pytest.raises(ValueError, match="payload_bytes must be a whole number"):
        websocket_frame_overhead(payload)


def test_a_websocket_event_costs_its_json_and_a_frame_header_and_no_request():
    found = predict("websocket", users=100, rate=1.0, event_json_bytes=95.0)
    assert found == Prediction(
        latency_mean_ms=ONE_WAY_S * 1000, requests_per_s=0.0, bytes_per_event=97.0, empty_share=None
    )
    assert predict("websocket", users=1, rate=1, event_json_bytes=200).bytes_per_event == 204
