"""lab.claims.proxy: the proxy claims against hand-made rows, each verdict worked out by hand."""

from __future__ import annotations

import pytest
from rows import summary

from lab.claims import DOES_NOT_HOLD, HOLDS, NOT_MEASURED, depends_on
from lab.claims.proxy import (
    check_accel_buffering_header,
    check_buffering_proxy,
    check_heartbeat,
    check_http2,
    check_long_poll_timeout,
    check_proxy_claims,
    uses_proxy,
)


def sse(via: str = "direct", p50: float | None = 1.5, burst: float = 0.0, **values):
    return summary(
        "sse",
        20,
        via=via,
        cell=f"sse-{via}",
        latency_p50_ms=p50,
        latency_p99_ms=None if p50 is None else p50 * 2,
        burst_share=burst,
        mean_batch=1.0 + 30 * burst,
        events_received=0 if p50 is None else 600,
        **values,
    )


def idle(transport: str, **values):
    """An idle-timeout cell: through short-timeout, one event every 15 s, 30 s window."""
    name = f"{transport}-idle-{values}"
    return summary(transport, 20, via="nginx:short-timeout", rate=1 / 15, cell=name, **values)


@pytest.mark.parametrize(
    ("rows", "verdict"),
    [
        pytest.param([sse(), sse("nginx:buffered", 8875, 1.0)], HOLDS, id="late-and-bursty"),
        # Late but each event alone is not "all at once".
        pytest.param([sse(), sse("nginx:buffered", 8875, 0.0)], DOES_NOT_HOLD, id="late-alone"),
        # Bursty but only 3 ms late is not "late".
        pytest.param([sse(), sse("nginx:buffered", 3.0, 1.0)], DOES_NOT_HOLD, id="bursty-soon"),
        # Nothing arrived in the whole window: held back.
        pytest.param([sse(), sse("nginx:buffered", None)], HOLDS, id="held-all-window"),
        # Compared with passthrough when there is no direct cell.
        pytest.param(
            [sse("nginx:passthrough", 1.8), sse("nginx:buffered", 8875, 1.0)], HOLDS, id="vs-pass"
        ),
        pytest.param([sse("nginx:buffered", 8875, 1.0)], NOT_MEASURED, id="no-reference"),
        pytest.param([sse()], NOT_MEASURED, id="no-buffered"),
    ],
)
def test_a_buffering_proxy_makes_sse_late_and_bursty(rows, verdict):
    assert check_buffering_proxy(rows).verdict == verdict


@pytest.mark.parametrize(
    ("rows", "verdict"),
    [
        pytest.param(
            [
                sse("nginx:passthrough", 1.8),
                sse("nginx:honours-header", 2.1),
                sse("nginx:buffered", 8875, 1.0),
            ],
            HOLDS,
            id="header-fixes",
        ),
        # Within 5 ms of passthrough counts as close even beyond twice its median.
        pytest.param(
            [sse("nginx:passthrough", 1.0), sse("nginx:honours-header", 4.5)], HOLDS, id="plus-5ms"
        ),
        pytest.param(
            [sse("nginx:passthrough", 1.8), sse("nginx:honours-header", 8875, 1.0)],
            DOES_NOT_HOLD,
            id="header-ignored",
        ),
        pytest.param([sse(), sse("nginx:honours-header", 2.0)], HOLDS, id="vs-direct"),
        pytest.param([sse(), sse("nginx:buffered", 8875, 1.0)], NOT_MEASURED, id="no-honours"),
    ],
)
def test_the_accel_buffering_header_fixes_buffering(rows, verdict):
    assert check_accel_buffering_header(rows).verdict == verdict


@pytest.mark.parametrize(
    ("cells", "verdict"),
    [
        # 15 s comes after the 10 s timeout (cut); 5 s before it (kept): the claim's range
        # is too slow for this proxy.
        ([(15.0, 40), (5.0, 0)], depends_on("the proxy's read timeout")),
        # A heartbeat sooner than the timeout that is still cut: something else is wrong.
        ([(15.0, 40), (5.0, 3)], DOES_NOT_HOLD),
        ([(5.0, 0)], depends_on("the proxy's read timeout")),
    ],
)
def test_a_heartbeat_keeps_a_stream_only_if_it_beats_the_timeout(cells, verdict):
    rows = [idle("sse", heartbeat_s=beat, reconnects=cuts) for beat, cuts in cells]
    result = check_heartbeat(rows)
    assert result.verdict == verdict
    assert "40 streams cut" in result.explanation or cells == [(5.0, 0)]


@pytest.mark.parametrize(
    ("cells", "verdict"),
    [
        ([(25.0, 40), (5.0, 0)], HOLDS),
        ([(25.0, 0), (5.0, 0)], DOES_NOT_HOLD),
        # 504s under the timeout too: the hold is not what breaks it.
        ([(25.0, 40), (5.0, 12)], DOES_NOT_HOLD),
    ],
)
def test_long_polls_held_past_the_proxy_s_timeout_get_504(cells, verdict):
    rows = [idle("long_polling", timeout_s=hold, gateway_timeouts=n) for hold, n in cells]
    assert check_long_poll_timeout(rows).verdict == verdict


def test_without_idle_cells_the_timeout_claims_are_not_measured():
    rows = [sse(), sse("nginx:short-timeout")]
    assert check_heartbeat(rows).verdict == NOT_MEASURED
    assert check_long_poll_timeout(rows).verdict == NOT_MEASURED
    assert "--via nginx:short-timeout" in check_heartbeat(rows).explanation


def test_http2_is_a_browser_s_matter_and_says_where_to_see_it():
    result = check_http2([sse()])
    assert result.verdict == NOT_MEASURED
    assert "lab bench --via nginx:http2" in result.explanation


def browser(via: str, protocol: str, opened: int) -> dict:
    return {"via": via, "protocol": protocol, "opened": opened, "waiting": 7 - opened}


@pytest.mark.parametrize(
    ("checks", "verdict"),
    [
        ([browser("direct", "http/1.1", 4), browser("nginx:http2", "h2", 7)], HOLDS),
        # HTTP/2 spoken, yet streams wait: the limit is not lifted.
        ([browser("direct", "http/1.1", 4), browser("nginx:http2", "h2", 5)], DOES_NOT_HOLD),
        # Nothing waited over HTTP/1.1 either: there was no limit to lift.
        ([browser("direct", "http/1.1", 7), browser("nginx:http2", "h2", 7)], DOES_NOT_HOLD),
        # The browser fell back to HTTP/1.1 through the proxy.
        ([browser("direct", "http/1.1", 4), browser("nginx:http2", "http/1.1", 7)], DOES_NOT_HOLD),
        ([browser("direct", "http/1.1", 4), {"via": "nginx:http2", "error": "no"}], NOT_MEASURED),
    ],
)
def test_http2_in_a_browser(checks, verdict):
    assert check_http2([], checks).verdict == verdict


def test_every_proxy_claim_is_checked_in_order():
    assert [v.number for v in check_proxy_claims([sse()])] == [1, 2, 3, 4, 5]
    assert not uses_proxy([sse()]) and uses_proxy([sse(), sse("nginx:gzip")])
