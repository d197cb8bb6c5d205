"""The claims about short polling: its delay (1), its requests (2), and the interval
trade-off (6)."""

from __future__ import annotations

import math

from lab.cell_selection import median_repeat
from lab.cell_summary import CellSummary
from lab.claims.verdict import (
    NOT_MEASURED,
    Rows,
    Verdict,
    caveats,
    cells_of,
    combine,
    has,
    having,
    percent_off,
    users_text,
    where,
)
from lab.formatting import fmt_ms, fmt_number, fmt_seconds, fmt_share, join

CLAIM_1 = "Polling every 5 s can delay information by up to 5 s."
CLAIM_2 = (
    "1-second polling with 1,000 users makes 1,000 requests per second, whether or not "
    "anything changed."
)
CLAIM_6 = "Shortening the polling interval cuts delay but raises load."

# Claim 1: "up to T" holds when the longest delay seen comes close to the interval T ...
DELAY_INTERVAL_S = 5.0
"""The poll interval claim 1 names, in seconds."""
DELAY_MAX_LOW_SHARE = 0.8
"""The longest delay must reach this share of the interval: a maximum far below T would mean
events never waited a whole interval, so "up to T" would overstate it."""
DELAY_MAX_SLACK_S = 0.5
"""... and may pass the interval by at most this much: a poll's round trip and scheduling add
a little; more means polls fell behind their schedule, so delays exceed "up to T"."""

# Claim 2: requests per second against users ÷ interval.
REQUESTS_INTERVAL_S = 1.0
"""The poll interval claim 2 names, in seconds."""
REQUESTS_CLAIM_USERS = 1000
"""The user count claim 2 names; a run without it is checked at its largest user count."""
REQUESTS_TOLERANCE = 0.10
"""Requests/s within ±10% of users ÷ interval count as "users requests per second": the
window's edges and ramp jitter move the count by a few percent, a slow client by more."""

# Claim 6 has no threshold: mean latency must rise, and requests/s fall, strictly with the
# interval, at a user count measured at two intervals or more.


def check_polling_delay(rows: Rows) -> Verdict:
    """Claim 1: short polling every 5 s delays events by up to 5 s."""
    interval = DELAY_INTERVAL_S
    used = sorted(
        (
            r
            for r in having(rows, "short_polling", "interval_s", "latency_max_ms")
            if math.isclose(r.interval_s, interval)
        ),
        key=lambda r: r.users,
    )
    if not used:
        return Verdict(
            1,
            CLAIM_1,
            NOT_MEASURED,
            f"No short-polling cell polled every {fmt_seconds(interval)} in this run "
            f"(`lab bench --interval-sweep {interval:g}` measures it at the "
            "interval-sweep user count; a --quick run has no interval sweep).",
        )
    low, high = DELAY_MAX_LOW_SHARE * interval * 1000, (interval + DELAY_MAX_SLACK_S) * 1000
    results, parts = [], []
    for row in used:
        longest = row.latency_max_ms
        ok = low <= longest <= high
        results.append((row.users, ok))
        theory_mean = (
            row.theory_latency_mean_ms if has(row.theory_latency_mean_ms) else interval / 2 * 1000
        )
        text = f"at {users_text(row.users)} ({row.cell}) the longest delay was {fmt_ms(longest)}"
        if has(row.latency_mean_ms):
            text += f", the mean {fmt_ms(row.latency_mean_ms)} (theory, T/2: {fmt_ms(theory_mean)})"
        if has(row.latency_p99_ms):
            text += f" and the p99 {fmt_ms(row.latency_p99_ms)}"
        if longest > high:
            text += (
                f" — longer than the interval by more than {fmt_seconds(DELAY_MAX_SLACK_S)}: "
                "polls fell behind their schedule"
            )
        elif longest < low:
            text += (
                f" — below {DELAY_MAX_LOW_SHARE:.0%} of the interval: no event waited "
                "close to a whole interval"
            )
        parts.append(text)
    verdict = combine(results)
    explanation = (
        f"Polling every {fmt_seconds(interval)}: " + "; ".join(parts) + "."
        f" The claim counts as holding when the longest delay lies between "
        f"{fmt_ms(low)} and {fmt_ms(high)}."
        + where(results)
        + " The more useful statement is the average: an event waits about half the "
        "interval, and the p99 says how close the unlucky ones come to a whole interval."
    )
    return Verdict(1, CLAIM_1, verdict, explanation + caveats(used), cells_of(used))


def check_polling_requests(rows: Rows) -> Verdict:
    """Claim 2: short polling every 1 s makes users requests per second, events or not."""
    interval = REQUESTS_INTERVAL_S
    used = sorted(
        (
            r
            for r in having(rows, "short_polling", "interval_s", "requests_per_s")
            if math.isclose(r.interval_s, interval)
        ),
        key=lambda r: (r.users, r.rate or 0),
    )
    if not used:
        return Verdict(
            2,
            CLAIM_2,
            NOT_MEASURED,
            f"No short-polling cell polled every {fmt_seconds(interval)} in this run.",
        )
    results, parts = [], []
    by_users: dict[int, list[CellSummary]] = {}
    for row in used:
        expected = row.users / interval
        ok = abs(row.requests_per_s - expected) <= REQUESTS_TOLERANCE * expected
        results.append((row.users, ok))
        by_users.setdefault(row.users, []).append(row)
    for users, cells in by_users.items():
        expected = users / interval
        if len(cells) == 1:
            (row,) = cells
            parts.append(
                f"{users_text(users)}: {fmt_number(row.requests_per_s)} requests/s "
                f"against {fmt_number(expected)} expected "
                f"({percent_off(row.requests_per_s, expected)}, {row.cell})"
            )
            continue
        # many cells at one user count (event rates, repeats, round trips): their range
        low = min(cells, key=lambda r: r.requests_per_s)
        high = max(cells, key=lambda r: r.requests_per_s)
        parts.append(
            f"{users_text(users)}: {fmt_number(low.requests_per_s)} to "
            f"{fmt_number(high.requests_per_s)} requests/s against {fmt_number(expected)} "
            f"expected ({percent_off(low.requests_per_s, expected)} to "
            f"{percent_off(high.requests_per_s, expected)}, over {len(cells)} cells at "
            f"{join([f'{r:g}' for r in sorted({c.rate for c in cells})])} events/s)"
        )
    largest = max(r.users for r in used)
    headline = [r for r in used if r.users == largest]
    if largest == REQUESTS_CLAIM_USERS:
        scope = f"The claim's own case, {users_text(largest)}, was measured."
    else:
        scope = (
            f"This run's largest user count is {largest:,}, not "
            f"{REQUESTS_CLAIM_USERS:,}: the claim is checked as its rule, users ÷ "
            f"interval requests per second, at every user count polled every "
            f"{fmt_seconds(interval)}."
        )
    empties = []
    for row in headline:
        if has(row.empty_share):
            text = (
                f"{fmt_share(row.empty_share)} of the polls at {users_text(largest)} came "
                f"back empty"
            )
            if has(row.rate):
                text += f" at {row.rate:g} event{'' if row.rate == 1 else 's'}/s"
            if has(row.theory_empty_share):
                text += f" (theory: {fmt_share(row.theory_empty_share)})"
            empties.append(text)
    changed = ""
    if empties:
        changed = (
            " Whether or not anything changed: "
            + "; ".join(empties)
            + ". The request rate is users ÷ interval at any event rate (the theory "
            "has no rate in it); only the share of empty polls depends on the rate — "
            "a slower source makes the same requests, more of them for nothing."
        )
    explanation = (
        f"Polling every {fmt_seconds(interval)} at "
        + "; ".join(parts)
        + ". "
        + scope
        + f" A count within ±{REQUESTS_TOLERANCE:.0%} of users ÷ interval "
        "counts as holding." + where(results) + changed
    )
    return Verdict(2, CLAIM_2, combine(results), explanation + caveats(used), cells_of(used))


def check_interval_tradeoff(rows: Rows) -> Verdict:
    """Claim 6: a shorter poll interval means less delay and more requests."""
    repeats: dict[tuple, dict[float, list[CellSummary]]] = {}
    for row in having(rows, "short_polling", "interval_s", "latency_mean_ms", "requests_per_s"):
        key = (row.users, row.rate, row.arrivals, row.payload_pad_bytes, row.rtt_ms)
        repeats.setdefault(key, {}).setdefault(row.interval_s, []).append(row)
    groups = {
        key: {i: median_repeat(cells, "latency_mean_ms") for i, cells in found.items()}
        for key, found in repeats.items()
    }
    sweeps = {k: v for k, v in sorted(groups.items(), key=lambda kv: kv[0][0]) if len(v) >= 2}
    if not sweeps:
        return Verdict(
            6,
            CLAIM_6,
            NOT_MEASURED,
            "No user count was polled at two intervals or more in this run (a "
            "--quick run has no interval sweep).",
        )
    results, parts, used = [], [], []
    for (users, *_settings), by_interval in sweeps.items():
        ordered = [by_interval[i] for i in sorted(by_interval)]
        used += ordered
        latencies = [r.latency_mean_ms for r in ordered]
        requests = [r.requests_per_s for r in ordered]
        delay_rises = all(a < b for a, b in zip(latencies, latencies[1:], strict=False))
        load_falls = all(a > b for a, b in zip(requests, requests[1:], strict=False))
        results.append((users, delay_rises and load_falls))
        steps = "; ".join(
            f"every {fmt_seconds(r.interval_s)}: mean delay "
            f"{fmt_ms(r.latency_mean_ms)}, "
            f"{fmt_number(r.requests_per_s)} requests/s"
            for r in ordered
        )
        found = []
        if not delay_rises:
            found.append("the mean delay does not rise with every longer interval")
        if not load_falls:
            found.append("requests/s do not fall with every longer interval")
        verdict_here = "; " + " and ".join(found) if found else ""
        parts.append(f"at {users_text(users)}: {steps}{verdict_here}")
    explanation = "Short polling " + ". Short polling ".join(parts) + "."
    if len(sweeps) == 1 and results[0][1]:
        shortest = min(used, key=lambda r: r.interval_s)
        longest = max(used, key=lambda r: r.interval_s)
        explanation += (
            f" Going from {fmt_seconds(longest.interval_s)} to "
            f"{fmt_seconds(shortest.interval_s)} cut the mean delay "
            f"{longest.latency_mean_ms / shortest.latency_mean_ms:.1f}× and multiplied "
            f"the requests {shortest.requests_per_s / longest.requests_per_s:.1f}×."
        )
    explanation += (
        " The claim holds when the mean delay rises and requests/s fall with "
        "every longer interval." + where(results)
    )
    return Verdict(6, CLAIM_6, combine(results), explanation + caveats(used), cells_of(used))
