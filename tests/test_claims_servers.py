"""lab.claims.servers: the notes' claims about servers (S1-S3) and the comparison's own
checks, each both ways, on rows built here."""

from __future__ import annotations

import pytest
from rows import on_server, refused, summary

from lab.claims import DOES_NOT_HOLD, HOLDS, NOT_MEASURED, depends_on
from lab.claims.servers import (
    CHEAPER_TARGET,
    MANY_STREAMS,
    YIELDS_MARGIN,
    check_async_streams,
    check_comparison,
    check_lab_cheaper,
    check_peers_beat_lab,
    check_server_claims,
    check_sync_workers,
    check_three_yields,
    compare_users,
    compared,
    fastest,
    servers_in,
)


def sse(server: str, users: int, **values):
    return on_server(server, "sse", users, **values)


def cpu(server: str, *counts: int, us: float):
    return [sse(server, u, server_cpu_us_per_event=us) for u in counts]


LAB_HELD = [sse("lab", u) for u in (1, 4, 10)]


@pytest.mark.parametrize(
    ("rows", "verdict", "said"),
    [
        pytest.param(
            [*LAB_HELD, sse("django-wsgi", 1), sse("django-wsgi", 4),
             refused("django-wsgi", "sse", 10, 5)],
            HOLDS,
            ["django-wsgi held 4 users and did not let 10 users connect: 5 were connected",
             "the lab's server held 10 users"],
            id="stopped after a smaller count held",
        ),
        pytest.param(
            [*LAB_HELD, refused("django-wsgi", "sse", 4, 3)],
            HOLDS,
            ["django-wsgi held no cell", "the lab's server held 10 users"],
            id="stopped where another server held as many",
        ),
        pytest.param(
            [sse("lab", 1), refused("django-wsgi", "sse", 10, 5)],
            NOT_MEASURED,
            ["cannot tell the server's limit from the machine's"],
            id="stopped with nothing to compare",
        ),
        pytest.param(
            [*LAB_HELD, *(sse("django-wsgi", u) for u in (1, 4, 10))],
            DOES_NOT_HOLD,
            ["every user connected in each of its SSE cells, up to 10 users"],
            id="held every count",
        ),
        pytest.param(LAB_HELD, NOT_MEASURED, ["No django-wsgi SSE cell"], id="no django-wsgi"),
    ],
)  # fmt: skip
def test_s1_sync_workers(rows, verdict, said):
    v = check_sync_workers(rows)
    assert v.verdict == verdict
    for text in said:
        assert text in v.explanation


def held_thousands(peer: str, **values):
    return [sse(peer, 100), sse(peer, MANY_STREAMS, latency_p99_ms=80.0, **values)]


ASYNC_HELD = [
    r for p in ("fastapi", "fastapi-three-yields", "django-asgi") for r in held_thousands(p)
]


@pytest.mark.parametrize(
    ("rows", "verdict", "said"),
    [
        pytest.param(
            [sse("lab", 100), *ASYNC_HELD],
            HOLDS,
            ["fastapi held 1,000 users with no event lost, p99 80.0 ms",
             "django-asgi held 1,000 users"],
            id="every async peer held a thousand",
        ),
        pytest.param(
            [sse("lab", 100), *held_thousands("fastapi"), sse("django-asgi", 100),
             refused("django-asgi", "sse", MANY_STREAMS, 800)],
            DOES_NOT_HOLD,
            ["django-asgi held 100 users with no event lost", "but not 1,000 users",
             "800 of 1,000 connected"],
            id="one did not connect at a thousand",
        ),
        pytest.param(
            [sse("lab", 100), *held_thousands("fastapi"), sse("django-asgi", 100, events_lost=7)],
            DOES_NOT_HOLD,
            ["django-asgi held no cell, but not 100 users (7 lost"],
            id="one lost events below a thousand",
        ),
        pytest.param(
            [sse("lab", 100), sse("fastapi", 100)],
            NOT_MEASURED,
            ["fastapi held 100 users", "(not run at 1,000 users)"],
            id="none run at a thousand",
        ),
        pytest.param([sse("lab", 100), sse("flask-threaded", 100)], NOT_MEASURED,
                     ["No SSE cell on fastapi"], id="no async peer"),
    ],
)  # fmt: skip
def test_s2_async_streams(rows, verdict, said):
    v = check_async_streams(rows)
    assert v.verdict == verdict
    for text in said:
        assert text in v.explanation, v.explanation


@pytest.mark.parametrize(
    ("three", "verdict", "said"),
    [
        (45.0, HOLDS, "45.0 µs against 30.0 µs at 1,000 users (1.50×); the median ratio is 1.50×"),
        (32.0, DOES_NOT_HOLD, "32.0 µs against 30.0 µs at 100 users (1.07×)"),
        (30.0 * YIELDS_MARGIN + 0.3, HOLDS, "the median ratio is 1.16×"),
        (30.0 * YIELDS_MARGIN - 0.3, DOES_NOT_HOLD, "the median ratio is 1.14×"),
    ],
)
def test_s3_three_yields_against_one(three, verdict, said):
    rows = [*cpu("fastapi-three-yields", 100, 1000, us=three), *cpu("fastapi", 100, 1000, us=30.0)]
    v = check_three_yields(rows)
    assert v.verdict == verdict
    assert said in v.explanation


def test_s3_needs_both_at_a_common_count():
    rows = [*cpu("fastapi-three-yields", 100, us=45.0), *cpu("fastapi", 1000, us=30.0)]
    assert check_three_yields(rows).verdict == NOT_MEASURED
    assert check_three_yields([*rows, refused("fastapi", "sse", 100, 50)]).verdict == NOT_MEASURED


@pytest.mark.parametrize(
    ("lab_us", "verdict", "said"),
    [
        ({100: 7.0, 1000: 7.0}, HOLDS,
         "at 1,000 users the lab is 4.29× cheaper (7.00 µs against 30.0 µs)"),
        ({100: 15.0, 1000: 15.0}, DOES_NOT_HOLD, "at 100 users the lab is 2.00× cheaper"),
        ({100: 7.0, 1000: 15.0}, depends_on("load"), "It holds at 100 users, not at 1,000."),
        ({100: 60.0, 1000: 60.0}, DOES_NOT_HOLD, "the lab costs 2.00× more"),
    ],
)  # fmt: skip
def test_the_lab_against_fastapi_per_sse_delivery(lab_us, verdict, said):
    rows = [sse("lab", u, server_cpu_us_per_event=us) for u, us in lab_us.items()]
    v = check_lab_cheaper([*rows, *cpu("fastapi", 100, 1000, us=30.0)])
    assert v.verdict == verdict
    assert said in v.explanation
    assert f"{CHEAPER_TARGET:g}×" in v.claim


def test_the_lab_against_fastapi_needs_both():
    assert check_lab_cheaper(cpu("lab", 100, us=7.0)).verdict == NOT_MEASURED


def lab_and(peer_values: dict, transport: str = "sse", users: int = 100):
    lab = {"latency_p99_ms": 20.0, "server_cpu_us_per_event": 7.0, "server_rss_per_user_kb": 1.5}
    return [
        on_server("lab", transport, users, **lab),
        on_server("fastapi", transport, users, **(lab | peer_values)),
    ]


@pytest.mark.parametrize(
    ("rows", "verdict", "lines"),
    [
        (lab_and({"latency_p99_ms": 30.0, "server_cpu_us_per_event": 30.0}), HOLDS, []),
        (
            lab_and({"latency_p99_ms": 10.0}),
            DOES_NOT_HOLD,
            ["- fastapi, SSE, 100 users: p99 10.0 ms against the lab's 20.0 ms."],
        ),
        (
            lab_and({"server_rss_per_user_kb": 1.0, "server_cpu_us_per_event": 5.0},
                    "long_polling", 10),
            DOES_NOT_HOLD,
            ["- fastapi, long polling, 10 users: CPU per delivery 5.00 µs against the lab's "
             "7.00 µs; memory per user 1.00 KB against the lab's 1.50 KB."],
        ),
        ([*lab_and({}), refused("fastapi", "sse", 1000, 10), sse("lab", 1000)], HOLDS, []),
        ([on_server("fastapi", "sse", 100), on_server("django-asgi", "sse", 100)],
         NOT_MEASURED, []),
    ],
)  # fmt: skip
def test_where_a_peer_beats_the_lab(rows, verdict, lines):
    v = check_peers_beat_lab(rows)
    assert v.verdict == verdict
    assert v.explanation.splitlines() == lines or not lines


def test_nothing_is_checked_on_a_one_server_run():
    rows = [summary("sse", 100), summary("long_polling", 100)]
    assert check_server_claims(rows) == [] and check_comparison(rows) == []
    assert [v.number for v in check_server_claims([*rows, sse("fastapi", 100)])] == [1, 2, 3]


def test_servers_come_lab_first_then_the_peers_in_order():
    rows = [sse(s, 10) for s in ("flask-threaded", "someone-else", "lab", "django-wsgi")]
    assert servers_in(rows) == ["lab", "django-wsgi", "flask-threaded", "someone-else"]


def test_only_the_cells_at_the_main_settings_straight_to_the_server_are_compared():
    rows = [sse("lab", 10), sse("fastapi", 10), sse("lab", 10, via="nginx:passthrough"),
            sse("lab", 10, workers=2), sse("lab", 10, rtt_ms=50.0), sse("lab", 10, rate=5.0),
            sse("lab", 20, heartbeat_s=5.0)]  # fmt: skip
    assert [(r.server, r.users) for r in compared(rows, "sse")] == [("lab", 10), ("fastapi", 10)]


@pytest.mark.parametrize(
    ("rows", "users"),
    [
        ([*cpu("lab", 10, 100, 1000, us=7), *cpu("fastapi", 10, 100, 1000, us=30),
          *cpu("django-wsgi", 10, us=60), refused("django-wsgi", "sse", 100, 17)], 1000),
        ([*cpu("lab", 10, 100, 1000, us=7), *cpu("fastapi", 10, 100, us=30)], 100),
        ([*cpu("lab", 10, us=7), refused("fastapi", "sse", 10, 4)], 10),
        ([refused("lab", "sse", 10, 4), refused("fastapi", "sse", 10, 4)], None),
    ],
)  # fmt: skip
def test_costs_are_compared_at_the_largest_count_the_steady_servers_held(rows, users):
    assert compare_users(rows) == users


def test_the_fastest_cell_is_clean_and_under_the_bound():
    rows = [
        sse("lab", 100, latency_p99_ms=20.0),
        sse("lab", 1000, latency_p99_ms=60.0),
        sse("lab", 2000, latency_p99_ms=150.0),
        sse("lab", 1500, latency_p99_ms=50.0, client_cpu_percent=95.0),
    ]
    assert fastest(rows, "lab").users == 1000
    assert fastest([sse("lab", 10)], "lab") is None  # no latency figure
