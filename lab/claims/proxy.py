"""The source notes' claims about proxies, checked against the cells a run measured through
nginx (`lab bench --via nginx:PROFILE`).

    P1. a buffering proxy makes SSE late and bursty      (buffered against direct)
    P2. X-Accel-Buffering: no fixes it                    (honours-header against buffered)
    P3. a 15-30 s heartbeat keeps an idle stream alive    (the idle-timeout cells)
    P4. long polls break past the proxy's timeout         (the idle-timeout cells)
    P5. HTTP/2 lifts the six-connection limit             (a browser's matter: not benched)

Each check compares cells that differ only in what stands between clients and server (or,
for P3 and P4, only in the heartbeat or the hold). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lab.cell_summary import CellSummary
from lab.claims.verdict import DOES_NOT_HOLD, HOLDS, NOT_MEASURED, Rows, Verdict, depends_on, has
from lab.formatting import fmt_ms, fmt_number, fmt_seconds, fmt_share
from lab.proxy.profiles import DIRECT, PROFILES, VIA_PREFIX

CLAIM_P1 = "Behind a buffering proxy, SSE events arrive late and all at once."
CLAIM_P2 = "`X-Accel-Buffering: no` fixes nginx buffering without touching nginx's config."
CLAIM_P3 = "A heartbeat every 15–30 s keeps an idle stream alive through a proxy's read timeout."
CLAIM_P4 = "Long polling breaks when the hold is longer than the proxy's timeout."
CLAIM_P5 = "HTTP/2 lifts the browser's six-connection limit."

LATE_FACTOR = 10.0
""""Late": a median delivery at least this many times the same cell's direct one..."""
LATE_MS = 100.0
"""...and at least this long: later than a person notices."""
BURSTY_SHARE = 0.5
""""All at once": at least this share of the events came in the same read as another."""
CLOSE_FACTOR = 2.0
"""A profile "fixes" buffering when its median is within this factor of passthrough's (or
of direct's)..."""
CLOSE_MS = 5.0
"""...or within this many milliseconds of it (on loopback a proxy's hop costs about 1 ms)."""
SMOOTH_SHARE = 0.1
"""...and at most this share of its events came in the same read as another."""

BUFFERED = VIA_PREFIX + "buffered"
HONOURS = VIA_PREFIX + "honours-header"
PASSTHROUGH = VIA_PREFIX + "passthrough"
SHORT_TIMEOUT = VIA_PREFIX + "short-timeout"
SHORT_TIMEOUT_S = PROFILES["short-timeout"].read_timeout_s


def _same_point(row: CellSummary, other: CellSummary) -> bool:
    keys = ("transport", "users", "rate", "arrivals", "rtt_ms", "heartbeat_s", "repeat")
    return all(row.get(k) == other.get(k) for k in keys)


def _twin(rows: Rows, row: CellSummary, via: str) -> CellSummary | None:
    """The cell measured at the same point as `row`, through `via`."""
    return next((r for r in rows if r.via == via and _same_point(r, row)), None)


def _sse(rows: Rows, via: str) -> list[CellSummary]:
    return [r for r in rows if r.transport == "sse" and r.via == via and r.heartbeat_s is None]


def _late_text(row: CellSummary) -> str:
    if not has(row.latency_p50_ms):
        return (
            f"{row.cell}: no event arrived within its {fmt_seconds(row.duration_s)} window "
            f"({fmt_number(row.events_published)} published)"
        )
    return (
        f"{row.cell}: median {fmt_ms(row.latency_p50_ms)}, p99 {fmt_ms(row.latency_p99_ms)}, "
        f"{fmt_share(row.burst_share or 0)} of events in the same read as another, "
        f"{fmt_number(row.mean_batch or 0)} events per read"
    )


def _is_late_and_bursty(row: CellSummary, reference: CellSummary) -> bool:
    if not has(row.latency_p50_ms):
        return row.events_published > 0  # held back for the whole window
    late = row.latency_p50_ms >= max(LATE_MS, LATE_FACTOR * (reference.latency_p50_ms or 0))
    return late and (row.burst_share or 0) >= BURSTY_SHARE


def _is_smooth(row: CellSummary, reference: CellSummary) -> bool:
    if not (has(row.latency_p50_ms) and has(reference.latency_p50_ms)):
        return False
    close = row.latency_p50_ms <= max(
        CLOSE_FACTOR * reference.latency_p50_ms, reference.latency_p50_ms + CLOSE_MS
    )
    return close and (row.burst_share or 0) <= SMOOTH_SHARE


def check_buffering_proxy(rows: Rows) -> Verdict:
    """P1: SSE through nginx:buffered against the same cell direct (or through passthrough)."""
    pairs = [
        (row, twin)
        for row in _sse(rows, BUFFERED)
        if (twin := _twin(rows, row, DIRECT) or _twin(rows, row, PASSTHROUGH)) is not None
    ]
    if not pairs:
        return Verdict(
            1,
            CLAIM_P1,
            NOT_MEASURED,
            "No SSE cell was measured both through nginx:buffered and direct (or through "
            "nginx:passthrough); run `lab bench --transports sse --via direct nginx:buffered`.",
        )
    results = [(row, _is_late_and_bursty(row, twin)) for row, twin in pairs]
    verdict = _all_or_none(results)
    parts = [f"{_late_text(row)}; the same cell {_late_text(twin)}" for row, twin in pairs]
    explanation = (
        f"{'; '.join(parts)}. Late means a median at least {LATE_FACTOR:g} times the "
        f"unbuffered one and above {fmt_ms(LATE_MS)}; all at once means at least "
        f"{fmt_share(BURSTY_SHARE)} of the events came in the same read as another. nginx "
        "passes a buffered response on when its 4 KB buffer is full, so the wait is about "
        "4 KB ÷ (bytes per event × events per second)."
    )
    return Verdict(1, CLAIM_P1, verdict, explanation, _cells(pairs))


def check_accel_buffering_header(rows: Rows) -> Verdict:
    """P2: SSE through nginx:honours-header (defaults, header honoured) against buffered."""
    found = []
    for row in _sse(rows, HONOURS):
        reference = _twin(rows, row, PASSTHROUGH) or _twin(rows, row, DIRECT)
        if reference is not None:
            found.append((row, reference, _twin(rows, row, BUFFERED)))
    if not found:
        return Verdict(
            2,
            CLAIM_P2,
            NOT_MEASURED,
            "No SSE cell was measured through nginx:honours-header and through "
            "nginx:passthrough or direct; run `lab bench --transports sse --via direct "
            "nginx:buffered nginx:honours-header`.",
        )
    results = [(row, _is_smooth(row, reference)) for row, reference, _ in found]
    parts = []
    for row, reference, buffered in found:
        text = f"{_late_text(row)}; unbuffered, {_late_text(reference)}"
        if buffered is not None:
            text += f"; with the header ignored, {_late_text(buffered)}"
        parts.append(text)
    explanation = (
        f"{'; '.join(parts)}. nginx:honours-header is nginx's default configuration "
        "(proxy_buffering on); the lab's SSE responses carry `X-Accel-Buffering: no`. It "
        f"fixes buffering when its median is within {CLOSE_FACTOR:g} times (or "
        f"{fmt_ms(CLOSE_MS)}) of the unbuffered cell's and at most {fmt_share(SMOOTH_SHARE)} "
        "of its events came with another. The header only reaches nginx: a proxy that "
        "does not know it (a CDN, a corporate proxy) still buffers."
    )
    return Verdict(2, CLAIM_P2, _all_or_none(results), explanation, _cells(found))


def _idle_cells(rows: Rows, transport: str) -> list[CellSummary]:
    """The idle-timeout cells: through short-timeout, a source quieter than its timeout."""
    return [
        r
        for r in rows
        if r.via == SHORT_TIMEOUT and r.transport == transport and r.rate * SHORT_TIMEOUT_S < 1
    ]


def _per_user_minute(count: int | None, row: CellSummary) -> float:
    return (count or 0) / row.users / (row.duration_s / 60) if row.duration_s else 0.0


def check_heartbeat(rows: Rows) -> Verdict:
    """P3: SSE heartbeats against nginx:short-timeout's 10 s read timeout, on a quiet source."""
    cells = sorted(_idle_cells(rows, "sse"), key=lambda r: -(r.heartbeat_s or 15))
    if not cells:
        return Verdict(3, CLAIM_P3, NOT_MEASURED, _idle_hint())
    parts, outcomes = [], []
    for row in cells:
        beat = row.heartbeat_s or 15.0
        cut = (row.reconnects or 0) > 0
        outcomes.append((beat, beat < SHORT_TIMEOUT_S, not cut))
        parts.append(
            f"a heartbeat after {fmt_seconds(beat)} of silence: "
            f"{fmt_number(row.reconnects or 0)} streams cut and reopened "
            f"({fmt_number(_per_user_minute(row.reconnects, row))} per user per minute), "
            f"{fmt_number(row.events_lost)} events lost ({row.cell})"
        )
    # A heartbeat keeps a stream alive when, and only when, it comes before the timeout.
    as_expected = all(early == alive for _beat, early, alive in outcomes)
    claimed_range = [(beat, alive) for beat, _early, alive in outcomes if 15 <= beat <= 30]
    if as_expected and any(alive for _b, alive in claimed_range):
        verdict = HOLDS
    elif as_expected:
        verdict = depends_on("the proxy's read timeout")
    else:
        verdict = DOES_NOT_HOLD
    explanation = (
        f"Through nginx:short-timeout (proxy_read_timeout {fmt_seconds(SHORT_TIMEOUT_S)}), "
        f"one event every {fmt_seconds(1 / cells[0].rate)}: {'; '.join(parts)}. A heartbeat "
        "keeps a stream alive only if it comes sooner than the proxy's read timeout: 15–30 s "
        "is enough for nginx's default 60 s, an ALB's 60 s or Cloudflare's 100 s, not for "
        "this 10 s one, and 30 s is not enough for CloudFront's 30 s (see the README). The "
        "cut streams reconnected with Last-Event-ID, so a cut costs a reconnection, not events."
    )
    return Verdict(3, CLAIM_P3, verdict, explanation, tuple(r.cell for r in cells))


def check_long_poll_timeout(rows: Rows) -> Verdict:
    """P4: long polls held longer and shorter than nginx:short-timeout's 10 s."""
    cells = sorted(_idle_cells(rows, "long_polling"), key=lambda r: -(r.timeout_s or 0))
    if not cells:
        return Verdict(4, CLAIM_P4, NOT_MEASURED, _idle_hint())
    parts, results = [], []
    for row in cells:
        hold = row.timeout_s or 0.0
        broke = (row.gateway_timeouts or 0) > 0
        results.append((row, broke == (hold > SHORT_TIMEOUT_S)))
        parts.append(
            f"held up to {fmt_seconds(hold)}: {fmt_number(row.gateway_timeouts or 0)} "
            f"answers were 504 Gateway Timeout "
            f"({fmt_number(_per_user_minute(row.gateway_timeouts, row))} per user per minute), "
            f"{fmt_number(row.events_lost)} events lost, median delivery "
            f"{fmt_ms(row.latency_p50_ms) if has(row.latency_p50_ms) else 'none'} ({row.cell})"
        )
    explanation = (
        f"Through nginx:short-timeout (proxy_read_timeout {fmt_seconds(SHORT_TIMEOUT_S)}), "
        f"one event every {fmt_seconds(1 / cells[0].rate)}: {'; '.join(parts)}. A hold "
        "longer than the proxy's timeout ends in a 504 instead of the server's empty 204; "
        "the client asks again with the same cursor, so the events still arrive, at the cost "
        "of an error and a request per timeout. Keep the hold below every timeout on the way "
        "(nginx 60 s, an ALB 60 s, CloudFront 30 s by default). The notes themselves rate "
        "long polling's compatibility with CDNs and proxies as perfect; this is the case "
        "where it is not."
    )
    # The claim holds when the long holds break and the short ones, the control, do not.
    verdict = HOLDS if all(ok for _row, ok in results) else DOES_NOT_HOLD
    return Verdict(4, CLAIM_P4, verdict, explanation, tuple(r.cell for r in cells))


def check_http2(rows: Rows, browser_checks: Sequence[Mapping] = ()) -> Verdict:
    """P5: the page's seven extra streams in Chromium, over HTTP/1.1 and over HTTP/2.

    The limit is the browser's, so the load generator cannot show it; `lab bench --via
    nginx:http2` runs the page in headless Chromium instead (lab.browser_check).
    """
    measured = {c["via"]: c for c in browser_checks if "opened" in c}
    direct, http2 = measured.get(DIRECT), measured.get(VIA_PREFIX + "http2")
    if direct is None or http2 is None:
        failed = [f"{c['via']}: {c['error']}" for c in browser_checks if "error" in c]
        return Verdict(
            5,
            CLAIM_P5,
            NOT_MEASURED,
            "The limit is the browser's (six HTTP/1.1 connections per host), so it is "
            "measured in Chromium: `lab bench --via nginx:http2` opens the classroom page's "
            "seven extra streams directly and through nginx:http2. "
            + (f"This run's browser check failed ({'; '.join(failed)}). " if failed else "")
            + "On the page itself: `lab demo --via nginx:http2` against `lab demo`.",
        )

    def said(check: Mapping) -> str:
        return (
            f"{check['via']}, over {check['protocol']}: {check['opened']} of 7 open, "
            f"{check['waiting']} waiting"
        )

    limited = direct["protocol"] != "h2" and direct["waiting"] > 0
    lifted = http2["protocol"] == "h2" and http2["waiting"] == 0
    verdict = HOLDS if limited and lifted else DOES_NOT_HOLD
    explanation = (
        f"Headless Chromium opened the classroom page and its 7 extra SSE streams: "
        f"{said(direct)}; {said(http2)}. Over HTTP/1.1 the page's own stream and held long "
        "poll already take two of the six connections, so fewer than six extra streams open "
        "and the rest wait; over HTTP/2 one connection carries every stream."
    )
    return Verdict(5, CLAIM_P5, verdict, explanation)


def _idle_hint() -> str:
    return (
        "No idle-timeout cells in this run; `--via nginx:short-timeout` adds them (a source "
        "quieter than the proxy's 10 s read timeout)."
    )


def _all_or_none(results: Sequence[tuple[object, bool]]) -> str:
    if all(ok for _r, ok in results):
        return HOLDS
    if not any(ok for _r, ok in results):
        return DOES_NOT_HOLD
    return depends_on("the cell: see the numbers")


def _cells(groups: Sequence[tuple]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.cell for group in groups for r in group if r is not None))


ROW_CHECKS = (
    check_buffering_proxy,
    check_accel_buffering_header,
    check_heartbeat,
    check_long_poll_timeout,
)
"""P1-P4, read from summary rows; P5 also needs the run's browser checks."""


def check_proxy_claims(rows: Rows, browser_checks: Sequence[Mapping] = ()) -> list[Verdict]:
    """The proxy claims checked against every row of a run (direct and through nginx) and
    its browser checks (manifest.json's `browser_checks`)."""
    return [check(rows) for check in ROW_CHECKS] + [check_http2(rows, browser_checks)]


def uses_proxy(rows: Rows) -> bool:
    return any(r.via != DIRECT for r in rows)
