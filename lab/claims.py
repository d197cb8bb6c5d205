"""Six textbook claims from the lab's source notes, each checked against a run's figures.

Each check is a pure function of the run's summary rows (`CellSummary`, lab.measurement)
and returns a `Verdict`: HOLDS, DOES_NOT_HOLD, NOT_MEASURED or "depends on ...", with the
numbers behind it. Their thresholds are the module constants below. The report (lab.report)
writes them out; the notebook shows them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lab.formatting import fmt_bytes, fmt_ms, fmt_number, fmt_seconds, fmt_share, join, plural
from lab.measurement import CellSummary
from lab.run_folder import main_rows

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold"
NOT_MEASURED = "not measured in this run"
LOAD = "load"
"""What a verdict depends on when a claim holds at some user counts and not at others."""


def depends_on(what: str) -> str:
    return f"depends on {what}"


# --- thresholds -----------------------------------------------------------------------------

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

# Claim 3: bytes of overhead per delivered event.
SSE_CLAIM_BYTES = 5.0
"""The SSE overhead per message claim 3 names, in bytes."""
ABOUT_FACTOR = 2.0
""""About X" matches a measurement within this factor of X, either way (2.5–10 bytes for
"about 5 bytes", 0.25–1 ms for "about 0.5 ms")."""
HUNDREDS_BYTES = (100.0, 1000.0)
""""Hundreds of bytes": at least 100 and below 1,000 bytes per event."""

# Claim 4: median delivery latency.
LONG_POLL_CLAIM_MS = (100.0, 200.0)
"""The long-polling delivery time claim 4 names, in ms; with ABOUT_FACTOR a p50 within
50–400 ms matches it."""
SSE_CLAIM_MS = 0.5
"""The SSE delivery time claim 4 names, in ms; with ABOUT_FACTOR a p50 within 0.25–1 ms
matches it."""

# Claim 5: server load per delivered event.
LOAD_MIN_RATIO = 1.0
"""Long polling loads the server more at a user count when its server CPU per event AND its
requests per event are more than this many times SSE's there (1.0: simply higher)."""

# Claim 6 has no threshold: mean latency must rise, and requests/s fall, strictly with the
# interval, at a user count measured at two intervals or more.


# --- verdicts -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """One claim checked against a run."""

    number: int
    claim: str
    """The claim, quoted from the source notes."""
    verdict: str
    """HOLDS, DOES_NOT_HOLD, NOT_MEASURED or depends_on(...)."""
    explanation: str
    """The numbers behind the verdict, with the cells they come from."""
    cells: tuple[str, ...] = ()
    """The summary.csv cells used."""


CLAIMS = {
    1: "Polling every 5 s can delay information by up to 5 s.",
    2: "1-second polling with 1,000 users makes 1,000 requests per second, whether or not "
       "anything changed.",
    3: "SSE adds about 5 bytes of overhead per message; long polling adds hundreds of bytes.",
    4: "Long polling delivers in 100–200 ms; SSE in about 0.5 ms.",
    5: "Long polling loads the server more than SSE, because every message costs a new "
       "request.",
    6: "Shortening the polling interval cuts delay but raises load.",
}


# --- small helpers --------------------------------------------------------------------------

Rows = Sequence[CellSummary]


def _has(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _having(rows: Rows, transport: str, *columns: str) -> list[CellSummary]:
    """The transport's rows with a value in every column."""
    return [r for r in rows if r.transport == transport
            and all(_has(r.get(c)) for c in columns)]


def _main_by_users(rows: Rows, transport: str, *columns: str) -> dict[int, CellSummary]:
    """The transport's rows at the run's main settings (as the charts pick them), by users."""
    return {r.users: r for r in main_rows(rows, transport)
            if all(_has(r.get(c)) for c in columns)}


def _users(count: int) -> str:
    return plural(count, "user")


def _percent_off(measured: float, expected: float) -> str:
    return f"{(measured - expected) / expected * 100:+.1f}%"


def _cells(rows: Rows) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.cell for r in rows))


def _caveats(rows: Rows) -> str:
    """A sentence naming the used cells that cannot be taken at face value ('' if none)."""
    notes = [f"{r.cell} ({'; '.join(r.verdict.problems())})" for r in rows if not r.verdict.ok]
    if not notes:
        return ""
    return (" Caution: these numbers include cells that cannot be taken at face value: "
            + "; ".join(notes) + ".")


def _combine(results: Sequence[tuple[object, bool]]) -> str:
    """HOLDS if every check holds, DOES_NOT_HOLD if none does, else 'depends on load'."""
    if all(ok for _key, ok in results):
        return HOLDS
    if not any(ok for _key, ok in results):
        return DOES_NOT_HOLD
    return depends_on(LOAD)


def _where_clause(results: Sequence[tuple[int, bool]]) -> str:
    """'holds at 10 and 100 users, not at 1,000' for a mixed verdict ('' otherwise)."""
    yes = sorted({u for u, ok in results if ok})
    no = sorted({u for u, ok in results if not ok})
    if not yes or not no:
        return ""
    return (f"holds at {join([f'{u:,}' for u in yes])} users, "
            f"not at {join([f'{u:,}' for u in no])}")


def _where(results: Sequence[tuple[int, bool]]) -> str:
    """' It holds at 10 and 100 users, not at 1,000.' for a mixed verdict ('' otherwise)."""
    clause = _where_clause(results)
    return f" It {clause}." if clause else ""


def _about(measured: float, claimed: float) -> bool:
    return claimed / ABOUT_FACTOR <= measured <= claimed * ABOUT_FACTOR


# --- the six claims -------------------------------------------------------------------------

def check_polling_delay(rows: Rows) -> Verdict:
    """Claim 1: short polling every 5 s delays events by up to 5 s."""
    interval = DELAY_INTERVAL_S
    used = sorted((r for r in _having(rows, "short_polling", "interval_s", "latency_max_ms")
                   if math.isclose(r.interval_s, interval)), key=lambda r: r.users)
    if not used:
        return Verdict(1, CLAIMS[1], NOT_MEASURED,
                       f"No short-polling cell polled every {fmt_seconds(interval)} in this run "
                       f"(`lab bench --interval-sweep {interval:g}` measures it at the "
                       "interval-sweep user count; a --quick run has no interval sweep).")
    low, high = DELAY_MAX_LOW_SHARE * interval * 1000, (interval + DELAY_MAX_SLACK_S) * 1000
    results, parts = [], []
    for row in used:
        longest = row.latency_max_ms
        ok = low <= longest <= high
        results.append((row.users, ok))
        theory_mean = (row.theory_latency_mean_ms if _has(row.theory_latency_mean_ms)
                       else interval / 2 * 1000)
        text = (f"at {_users(row.users)} ({row.cell}) the longest delay was "
                f"{fmt_ms(longest)}")
        if _has(row.latency_mean_ms):
            text += (f", the mean {fmt_ms(row.latency_mean_ms)} (theory, T/2: "
                     f"{fmt_ms(theory_mean)})")
        if _has(row.latency_p99_ms):
            text += f" and the p99 {fmt_ms(row.latency_p99_ms)}"
        if longest > high:
            text += (f" — longer than the interval by more than {fmt_seconds(DELAY_MAX_SLACK_S)}: "
                     "polls fell behind their schedule")
        elif longest < low:
            text += (f" — below {DELAY_MAX_LOW_SHARE:.0%} of the interval: no event waited "
                     "close to a whole interval")
        parts.append(text)
    verdict = _combine(results)
    explanation = (
        f"Polling every {fmt_seconds(interval)}: " + "; ".join(parts) + "."
        f" The claim counts as holding when the longest delay lies between "
        f"{fmt_ms(low)} and {fmt_ms(high)}." + _where(results)
        + " The more useful statement is the average: an event waits about half the "
        "interval, and the p99 says how close the unlucky ones come to a whole interval."
    )
    return Verdict(1, CLAIMS[1], verdict, explanation + _caveats(used), _cells(used))


def check_polling_requests(rows: Rows) -> Verdict:
    """Claim 2: short polling every 1 s makes users requests per second, events or not."""
    interval = REQUESTS_INTERVAL_S
    used = sorted((r for r in _having(rows, "short_polling", "interval_s", "requests_per_s")
                   if math.isclose(r.interval_s, interval)),
                  key=lambda r: (r.users, r.rate or 0))
    if not used:
        return Verdict(2, CLAIMS[2], NOT_MEASURED,
                       f"No short-polling cell polled every {fmt_seconds(interval)} in this run.")
    results, parts = [], []
    for row in used:
        expected = row.users / interval
        ok = abs(row.requests_per_s - expected) <= REQUESTS_TOLERANCE * expected
        results.append((row.users, ok))
        text = (f"{_users(row.users)}: {fmt_number(row.requests_per_s)} requests/s "
                f"against {fmt_number(expected)} expected "
                f"({_percent_off(row.requests_per_s, expected)}, {row.cell})")
        parts.append(text)
    largest = max(r.users for r in used)
    headline = [r for r in used if r.users == largest]
    if largest == REQUESTS_CLAIM_USERS:
        scope = f"The claim's own case, {_users(largest)}, was measured."
    else:
        scope = (f"This run's largest user count is {largest:,}, not "
                 f"{REQUESTS_CLAIM_USERS:,}: the claim is checked as its rule, users ÷ "
                 f"interval requests per second, at every user count polled every "
                 f"{fmt_seconds(interval)}.")
    empties = []
    for row in headline:
        if _has(row.empty_share):
            text = (f"{fmt_share(row.empty_share)} of the polls at {_users(largest)} came "
                    f"back empty")
            if _has(row.rate):
                text += f" at {row.rate:g} event{'' if row.rate == 1 else 's'}/s"
            if _has(row.theory_empty_share):
                text += f" (theory: {fmt_share(row.theory_empty_share)})"
            empties.append(text)
    changed = ""
    if empties:
        changed = (" Whether or not anything changed: " + "; ".join(empties)
                   + ". The request rate is users ÷ interval at any event rate (the theory "
                   "has no rate in it); only the share of empty polls depends on the rate — "
                   "a slower source makes the same requests, more of them for nothing.")
    explanation = (f"Polling every {fmt_seconds(interval)} at " + "; ".join(parts) + ". "
                   + scope + f" A count within ±{REQUESTS_TOLERANCE:.0%} of users ÷ interval "
                   "counts as holding." + _where(results) + changed)
    return Verdict(2, CLAIMS[2], _combine(results), explanation + _caveats(used), _cells(used))


def _bytes_part(rows: Rows, matches: Callable[[float], bool]):
    """(verdict, range text, per-user results) of one transport's overhead per event."""
    results = [(r.users, matches(r.overhead_bytes_per_event)) for r in rows]
    values = [r.overhead_bytes_per_event for r in rows]
    low, high = min(values), max(values)
    span = fmt_bytes(low) if fmt_number(low) == fmt_number(high) else (
        f"{fmt_number(low)}–{fmt_bytes(high)}")
    return _combine(results), span, results


def check_overhead_bytes(rows: Rows) -> Verdict:
    """Claim 3: SSE adds about 5 bytes per message, long polling hundreds."""
    sse = sorted(_having(rows, "sse", "overhead_bytes_per_event"), key=lambda r: r.users)
    polls = sorted(_having(rows, "long_polling", "overhead_bytes_per_event"),
                   key=lambda r: r.users)
    low_h, high_h = HUNDREDS_BYTES
    texts, verdicts = [], []
    if sse:
        verdict, span, results = _bytes_part(sse, lambda v: _about(v, SSE_CLAIM_BYTES))
        text = (f"the SSE part {verdict}: {span} of overhead per event "
                f"({join(_cells(sse))})")
        if verdict == HOLDS:
            text += f", about {SSE_CLAIM_BYTES:g} bytes"
        else:
            text += (f", not about {SSE_CLAIM_BYTES:g} bytes (within ×{ABOUT_FACTOR:g}): "
                     "the lab's frames carry an `id:` line, an `event:` line, the `data: ` "
                     "prefix and a blank line, and HTTP chunk framing wraps each one")
        theory_share = [r.theory_bytes_per_event - r.payload_bytes_per_event for r in sse
                        if _has(r.theory_bytes_per_event)
                        and _has(r.payload_bytes_per_event)]
        if theory_share:
            text += f"; the theory's count for these frames is {fmt_bytes(theory_share[-1])}"
        if _where_clause(results):
            text += f"; it {_where_clause(results)}"
        texts.append(text)
        verdicts.append(verdict)
    else:
        texts.append("the SSE part is not measured (no SSE cell)")
        verdicts.append(NOT_MEASURED)
    if polls:
        verdict, span, results = _bytes_part(polls, lambda v: low_h <= v < high_h)
        text = (f"the long-polling part {verdict}: {span} per event "
                f"({join(_cells(polls))})")
        per_request = [r.requests_per_event for r in polls
                       if _has(r.requests_per_event)]
        if per_request:
            text += (f", with {fmt_number(min(per_request))}"
                     + ("" if fmt_number(min(per_request)) == fmt_number(max(per_request))
                        else f"–{fmt_number(max(per_request))}")
                     + " requests per event: each answer carries a request and a response "
                     "head")
        if verdict != HOLDS:
            text += f" (\"hundreds\" is taken as {low_h:,.0f} to {high_h - 1:,.0f} bytes)"
        if _where_clause(results):
            text += f"; it {_where_clause(results)}"
        texts.append(text)
        verdicts.append(verdict)
    else:
        texts.append("the long-polling part is not measured (no long-polling cell)")
        verdicts.append(NOT_MEASURED)

    if DOES_NOT_HOLD in verdicts:
        overall = DOES_NOT_HOLD
    elif NOT_MEASURED in verdicts:
        overall = NOT_MEASURED
    elif all(v == HOLDS for v in verdicts):
        overall = HOLDS
    else:
        overall = depends_on(LOAD)
    joined = "; ".join(texts)
    explanation = ("Overhead = bytes on the wire per delivered event minus the event's JSON. "
                   + joined[0].upper() + joined[1:] + ".")
    used = sse + polls
    return Verdict(3, CLAIMS[3], overall, explanation + _caveats(used), _cells(used))


def check_delivery_latency(rows: Rows) -> Verdict:
    """Claim 4: long polling delivers in 100–200 ms, SSE in about 0.5 ms (p50)."""
    polls = _main_by_users(rows, "long_polling", "latency_p50_ms")
    sse = _main_by_users(rows, "sse", "latency_p50_ms")
    common = sorted(set(polls) & set(sse))
    if not common:
        return Verdict(4, CLAIMS[4], NOT_MEASURED,
                       "No user count has both a long-polling and an SSE cell with a "
                       "delivery latency in this run.")
    low, high = LONG_POLL_CLAIM_MS
    band = (low / ABOUT_FACTOR, high * ABOUT_FACTOR)
    results, parts = [], []
    misses: dict[tuple[str, str], list[int]] = {}
    for users in common:
        lp, ev = polls[users].latency_p50_ms, sse[users].latency_p50_ms
        lp_ok = band[0] <= lp <= band[1]
        sse_ok = _about(ev, SSE_CLAIM_MS)
        results.append((users, lp_ok and sse_ok))
        parts.append(f"{_users(users)}: long polling {fmt_ms(lp)}, SSE {fmt_ms(ev)}")
        if not lp_ok:
            misses.setdefault(("long polling", "faster" if lp < band[0] else "slower"),
                              []).append(users)
        if not sse_ok:
            misses.setdefault(("SSE", "faster" if ev < SSE_CLAIM_MS else "slower"),
                              []).append(users)
    verdict = _combine(results)
    explanation = (
        "Median (p50) delivery latency at " + "; ".join(parts) + ". A p50 matches the claim "
        f"within ×{ABOUT_FACTOR:g}: {fmt_ms(band[0])}–{fmt_ms(band[1])} for long polling, "
        f"{fmt_ms(SSE_CLAIM_MS / ABOUT_FACTOR)}–{fmt_ms(SSE_CLAIM_MS * ABOUT_FACTOR)} for SSE."
        + _where(results)
    )
    if misses:
        explanation += " Outside the claim: " + "; ".join(
            f"{name} at {join([f'{u:,}' for u in users])} "
            f"{'user' if users == [1] else 'users'} ({how} than claimed)"
            for (name, how), users in misses.items()) + "."
    explanation += (" Client and server share one host here, so no network round trip is "
                    "included; across a network both transports would add it.")
    used = [polls[u] for u in common] + [sse[u] for u in common]
    return Verdict(4, CLAIMS[4], verdict, explanation + _caveats(used), _cells(used))


def check_server_load(rows: Rows) -> Verdict:
    """Claim 5: long polling costs the server more per event than SSE (CPU and requests)."""
    keys = ("server_cpu_us_per_event", "requests_per_event")
    polls = _main_by_users(rows, "long_polling", *keys)
    sse = _main_by_users(rows, "sse", *keys)
    common = sorted(set(polls) & set(sse))
    if not common:
        return Verdict(5, CLAIMS[5], NOT_MEASURED,
                       "No user count has both a long-polling and an SSE cell with server CPU "
                       "and request counts in this run.")
    results, parts = [], []
    for users in common:
        lp, ev = polls[users], sse[users]
        cpu_more = lp.server_cpu_us_per_event > LOAD_MIN_RATIO * ev.server_cpu_us_per_event
        requests_more = lp.requests_per_event > LOAD_MIN_RATIO * ev.requests_per_event
        results.append((users, cpu_more and requests_more))
        ratio = (f" ({lp.server_cpu_us_per_event / ev.server_cpu_us_per_event:.1f}×)"
                 if ev.server_cpu_us_per_event > 0 else "")
        parts.append(
            f"{_users(users)}: {fmt_number(lp.server_cpu_us_per_event)} µs of server CPU "
            f"per event for long polling against {fmt_number(ev.server_cpu_us_per_event)} "
            f"µs for SSE{ratio}, and {fmt_number(lp.requests_per_event)} against "
            f"{fmt_number(ev.requests_per_event)} requests per event"
        )
    verdict = _combine(results)
    explanation = (
        "At " + "; at ".join(parts) + ". The claim holds at a user count when long polling "
        "is higher on both." + _where(results)
        + " An SSE client makes one request when its stream opens; after that an event "
        "costs a write on the open stream, not a request."
    )
    used = [polls[u] for u in common] + [sse[u] for u in common]
    return Verdict(5, CLAIMS[5], verdict, explanation + _caveats(used), _cells(used))


def check_interval_tradeoff(rows: Rows) -> Verdict:
    """Claim 6: a shorter poll interval means less delay and more requests."""
    groups: dict[tuple, dict[float, CellSummary]] = {}
    for row in _having(rows, "short_polling", "interval_s", "latency_mean_ms",
                       "requests_per_s"):
        key = (row.users, row.rate, row.arrivals, row.payload_pad_bytes)
        groups.setdefault(key, {})[row.interval_s] = row
    sweeps = {k: v for k, v in sorted(groups.items(), key=lambda kv: kv[0][0]) if len(v) >= 2}
    if not sweeps:
        return Verdict(6, CLAIMS[6], NOT_MEASURED,
                       "No user count was polled at two intervals or more in this run (a "
                       "--quick run has no interval sweep).")
    results, parts, used = [], [], []
    for (users, *_settings), by_interval in sweeps.items():
        ordered = [by_interval[i] for i in sorted(by_interval)]
        used += ordered
        latencies = [r.latency_mean_ms for r in ordered]
        requests = [r.requests_per_s for r in ordered]
        delay_rises = all(a < b for a, b in zip(latencies, latencies[1:], strict=False))
        load_falls = all(a > b for a, b in zip(requests, requests[1:], strict=False))
        results.append((users, delay_rises and load_falls))
        steps = "; ".join(f"every {fmt_seconds(r.interval_s)}: mean delay "
                          f"{fmt_ms(r.latency_mean_ms)}, "
                          f"{fmt_number(r.requests_per_s)} requests/s" for r in ordered)
        found = []
        if not delay_rises:
            found.append("the mean delay does not rise with every longer interval")
        if not load_falls:
            found.append("requests/s do not fall with every longer interval")
        verdict_here = "; " + " and ".join(found) if found else ""
        parts.append(f"at {_users(users)}: {steps}{verdict_here}")
    explanation = "Short polling " + ". Short polling ".join(parts) + "."
    if len(sweeps) == 1 and results[0][1]:
        shortest = min(used, key=lambda r: r.interval_s)
        longest = max(used, key=lambda r: r.interval_s)
        explanation += (
            f" Going from {fmt_seconds(longest.interval_s)} to "
            f"{fmt_seconds(shortest.interval_s)} cut the mean delay "
            f"{longest.latency_mean_ms / shortest.latency_mean_ms:.1f}× and multiplied "
            f"the requests {shortest.requests_per_s / longest.requests_per_s:.1f}×.")
    explanation += (" The claim holds when the mean delay rises and requests/s fall with "
                    "every longer interval." + _where(results))
    return Verdict(6, CLAIMS[6], _combine(results), explanation + _caveats(used), _cells(used))


CLAIM_CHECKS: tuple[Callable[[Rows], Verdict], ...] = (
    check_polling_delay,
    check_polling_requests,
    check_overhead_bytes,
    check_delivery_latency,
    check_server_load,
    check_interval_tradeoff,
)


def check_claims(rows: Rows) -> list[Verdict]:
    """Every claim checked against the summary rows, in order."""
    return [check(rows) for check in CLAIM_CHECKS]


