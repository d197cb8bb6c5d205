"""The WebSocket claims (lab.claims.websocket), table-driven: rows built by hand."""

from __future__ import annotations

import pytest
from rows import summary, with_values

from lab.claims import DOES_NOT_HOLD, HOLDS, NOT_MEASURED, depends_on
from lab.claims.websocket import (
    check_client_message,
    check_resume,
    check_websocket_claims,
    check_websocket_framing,
)


def framed(users: int, overhead: float, **values):
    return summary(
        "websocket",
        users,
        overhead_bytes_per_event=overhead,
        payload_bytes_per_event=95.0,
        theory_bytes_per_event=97.0,
        **values,
    )


def dropped(transport: str, resumes: bool, lost: int):
    return summary(
        transport,
        20,
        cell=f"{transport}-drop5" + ("" if resumes else "-noresume"),
        drop_every_s=5.0,
        client_resumes=resumes,
        reconnects=120,
        events_lost=lost,
    )


@pytest.mark.parametrize(
    ("rows", "verdict"),
    [
        ([framed(10, 2.0), framed(100, 2.0)], HOLDS),
        ([framed(10, 6.5)], HOLDS),  # 6 bytes and the pings' half byte
        ([framed(10, 6.6)], DOES_NOT_HOLD),
        ([framed(10, 1.5)], DOES_NOT_HOLD),
        ([framed(10, 2.0), framed(1000, 40.0)], depends_on("load")),
        # A drop cell's reconnections are not framing: it is left out.
        ([framed(10, 2.0), with_values(framed(10, 40.0), drop_every_s=5.0)], HOLDS),
        ([summary("sse", 10, overhead_bytes_per_event=38.0)], NOT_MEASURED),
    ],
)
def test_framing(rows, verdict):
    assert check_websocket_framing(rows).verdict == verdict


@pytest.mark.parametrize(
    ("rows", "verdict"),
    [
        (
            [
                dropped("sse", True, 0),
                dropped("websocket", True, 0),
                dropped("websocket", False, 600),
            ],
            HOLDS,
        ),
        # Without resume nothing was lost: the claim's cost did not show.
        ([dropped("websocket", True, 0), dropped("websocket", False, 0)], DOES_NOT_HOLD),
        # A resuming client that loses events: resume does not work.
        ([dropped("sse", True, 3), dropped("websocket", False, 600)], DOES_NOT_HOLD),
        ([dropped("sse", True, 0)], NOT_MEASURED),
    ],
)
def test_resume(rows, verdict):
    assert check_resume(rows).verdict == verdict


def test_resume_explains_losses_per_reconnection():
    found = check_resume([dropped("websocket", True, 0), dropped("websocket", False, 600)])
    assert "lost 600 events over 120 reconnections (5.00 per reconnection)" in found.explanation


def test_resume_says_why_the_resuming_cells_p99_is_the_time_away():
    rows = [
        with_values(dropped("sse", True, 0), latency_p99_ms=1041.0),
        with_values(dropped("websocket", True, 0), latency_p99_ms=1424.0),
        with_values(dropped("websocket", False, 600), latency_p99_ms=10.3),
    ]
    explanation = check_resume(rows).explanation
    assert "hence the resuming cells' p99 (SSE 1.04 s and WebSocket resuming 1.42 s)" in (
        explanation
    )
    assert "its p99 (10.3 ms) looks better only because they are missing" in explanation


def cost(http_bytes, http_cpu, ws_bytes, ws_cpu):
    return {
        "messages": 500,
        "http": {"bytes_per_message": http_bytes, "cpu_us_per_message": http_cpu},
        "websocket": {"bytes_per_message": ws_bytes, "cpu_us_per_message": ws_cpu},
    }


@pytest.mark.parametrize(
    ("measured", "verdict"),
    [
        (cost(345.0, 272.0, 58.8, 29.0), HOLDS),
        (cost(345.0, 20.0, 58.8, 29.0), DOES_NOT_HOLD),
        (None, NOT_MEASURED),
    ],
)
def test_client_message(measured, verdict):
    assert check_client_message(measured).verdict == verdict


def test_a_run_without_websocket_has_no_websocket_claims():
    assert check_websocket_claims([summary("sse", 10)], None) == []
