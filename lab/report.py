"""The report of one sweep run: `<run>/report.md`, with its charts and the claims checked.

`write_report(results/<run-id>/)` draws the charts (lab.charts) and writes report.md: the
run's parameters and machine, any cell that cannot be taken at face value (loudly, at the
top), a summary table whose numbers come from summary.csv, each chart with what to look at,
and "Claims checked": six claims from the lab's source notes, each with the numbers that
test it and a verdict computed from them.

The claim checks are pure functions of summary rows (dicts as read from summary.csv, numbers
converted, e.g. by `lab.charts.read_csv`); each returns a `Verdict`. Their thresholds are the
module constants below. `lab report [RUN]` is the command-line entry point.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lab import charts
from lab.charts import TRANSPORT_LABELS, fmt_ms, fmt_number, fmt_share
from lab.measurement import SUMMARY_COLUMNS, problems_of

__all__ = [
    "CHART_NOTES",
    "CLAIMS",
    "CLAIM_CHECKS",
    "DOES_NOT_HOLD",
    "HOLDS",
    "NOT_MEASURED",
    "Verdict",
    "check_claims",
    "check_delivery_latency",
    "check_interval_tradeoff",
    "check_overhead_bytes",
    "check_polling_delay",
    "check_polling_requests",
    "check_server_load",
    "depends_on",
    "read_rows",
    "render_report",
    "summary_table",
    "write_report",
]

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

def _is_number(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and not math.isnan(value))


def _complete(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows with every summary column present (None where missing), so partial rows work."""
    blank = dict.fromkeys(SUMMARY_COLUMNS)
    return [{**blank, **row} for row in rows]


def _having(rows: Sequence[dict[str, Any]], transport: str, *keys: str) -> list[dict[str, Any]]:
    """The transport's rows with a number in every key."""
    return [r for r in rows if r["transport"] == transport
            and all(_is_number(r.get(k)) for k in keys)]


def _main_by_users(rows: Sequence[dict[str, Any]], transport: str,
                   *keys: str) -> dict[int, dict[str, Any]]:
    """The transport's rows at the run's main settings (as the charts pick them), by users."""
    run = charts.Run(path=Path("."), rows=list(rows), events={}, history={})
    return {r["users"]: r for r in charts.main_rows(run, transport)
            if all(_is_number(r.get(k)) for k in keys)}


def _users(count: int) -> str:
    return f"{count:,} user" + ("" if count == 1 else "s")


def _join(parts: Sequence[str]) -> str:
    parts = list(parts)
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _bytes(value: float) -> str:
    return f"{fmt_number(value)} bytes"


def _percent_off(measured: float, expected: float) -> str:
    return f"{(measured - expected) / expected * 100:+.1f}%"


def _cells(rows: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(r["cell"]) for r in rows))


def _caveats(rows: Sequence[dict[str, Any]]) -> str:
    """A sentence naming the used cells that cannot be taken at face value ('' if none)."""
    notes = [f"{r['cell']} ({'; '.join(problems_of(r))})" for r in rows if problems_of(r)]
    if not notes:
        return ""
    return (" Caution: these numbers include cells that cannot be taken at face value: "
            + "; ".join(notes) + ".")


def _combine(results: Sequence[tuple[Any, bool]]) -> str:
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
    return (f"holds at {_join([f'{u:,}' for u in yes])} users, "
            f"not at {_join([f'{u:,}' for u in no])}")


def _where(results: Sequence[tuple[int, bool]]) -> str:
    """' It holds at 10 and 100 users, not at 1,000.' for a mixed verdict ('' otherwise)."""
    clause = _where_clause(results)
    return f" It {clause}." if clause else ""


def _about(measured: float, claimed: float) -> bool:
    return claimed / ABOUT_FACTOR <= measured <= claimed * ABOUT_FACTOR


# --- the six claims -------------------------------------------------------------------------

def check_polling_delay(rows: Sequence[Mapping[str, Any]]) -> Verdict:
    """Claim 1: short polling every 5 s delays events by up to 5 s."""
    rows = _complete(rows)
    interval = DELAY_INTERVAL_S
    used = sorted((r for r in _having(rows, "short_polling", "interval_s", "latency_max_ms")
                   if math.isclose(r["interval_s"], interval)), key=lambda r: r["users"])
    if not used:
        return Verdict(1, CLAIMS[1], NOT_MEASURED,
                       f"No short-polling cell polled every {_seconds(interval)} in this run "
                       f"(`lab bench --interval-sweep {interval:g}` measures it at the "
                       "interval-sweep user count; a --quick run has no interval sweep).")
    low, high = DELAY_MAX_LOW_SHARE * interval * 1000, (interval + DELAY_MAX_SLACK_S) * 1000
    results, parts = [], []
    for row in used:
        longest = row["latency_max_ms"]
        ok = low <= longest <= high
        results.append((row["users"], ok))
        theory_mean = (row["theory_latency_mean_ms"] if _is_number(row["theory_latency_mean_ms"])
                       else interval / 2 * 1000)
        text = (f"at {_users(row['users'])} ({row['cell']}) the longest delay was "
                f"{fmt_ms(longest)}")
        if _is_number(row["latency_mean_ms"]):
            text += (f", the mean {fmt_ms(row['latency_mean_ms'])} (theory, T/2: "
                     f"{fmt_ms(theory_mean)})")
        if _is_number(row["latency_p99_ms"]):
            text += f" and the p99 {fmt_ms(row['latency_p99_ms'])}"
        if longest > high:
            text += (f" — longer than the interval by more than {_seconds(DELAY_MAX_SLACK_S)}: "
                     "polls fell behind their schedule")
        elif longest < low:
            text += (f" — below {DELAY_MAX_LOW_SHARE:.0%} of the interval: no event waited "
                     "close to a whole interval")
        parts.append(text)
    verdict = _combine(results)
    explanation = (
        f"Polling every {_seconds(interval)}: " + "; ".join(parts) + "."
        f" The claim counts as holding when the longest delay lies between "
        f"{fmt_ms(low)} and {fmt_ms(high)}." + _where(results)
        + " The more useful statement is the average: an event waits about half the "
        "interval, and the p99 says how close the unlucky ones come to a whole interval."
    )
    return Verdict(1, CLAIMS[1], verdict, explanation + _caveats(used), _cells(used))


def check_polling_requests(rows: Sequence[Mapping[str, Any]]) -> Verdict:
    """Claim 2: short polling every 1 s makes users requests per second, events or not."""
    rows = _complete(rows)
    interval = REQUESTS_INTERVAL_S
    used = sorted((r for r in _having(rows, "short_polling", "interval_s", "requests_per_s")
                   if math.isclose(r["interval_s"], interval)),
                  key=lambda r: (r["users"], r["rate"] or 0))
    if not used:
        return Verdict(2, CLAIMS[2], NOT_MEASURED,
                       f"No short-polling cell polled every {_seconds(interval)} in this run.")
    results, parts = [], []
    for row in used:
        expected = row["users"] / interval
        ok = abs(row["requests_per_s"] - expected) <= REQUESTS_TOLERANCE * expected
        results.append((row["users"], ok))
        text = (f"{_users(row['users'])}: {fmt_number(row['requests_per_s'])} requests/s "
                f"against {fmt_number(expected)} expected "
                f"({_percent_off(row['requests_per_s'], expected)}, {row['cell']})")
        parts.append(text)
    largest = max(r["users"] for r in used)
    headline = [r for r in used if r["users"] == largest]
    if largest == REQUESTS_CLAIM_USERS:
        scope = f"The claim's own case, {_users(largest)}, was measured."
    else:
        scope = (f"This run's largest user count is {largest:,}, not "
                 f"{REQUESTS_CLAIM_USERS:,}: the claim is checked as its rule, users ÷ "
                 f"interval requests per second, at every user count polled every "
                 f"{_seconds(interval)}.")
    empties = []
    for row in headline:
        if _is_number(row["empty_share"]):
            text = (f"{fmt_share(row['empty_share'])} of the polls at {_users(largest)} came "
                    f"back empty")
            if _is_number(row["rate"]):
                text += f" at {row['rate']:g} event{'' if row['rate'] == 1 else 's'}/s"
            if _is_number(row["theory_empty_share"]):
                text += f" (theory: {fmt_share(row['theory_empty_share'])})"
            empties.append(text)
    changed = ""
    if empties:
        changed = (" Whether or not anything changed: " + "; ".join(empties)
                   + ". The request rate is users ÷ interval at any event rate (the theory "
                   "has no rate in it); only the share of empty polls depends on the rate — "
                   "a slower source makes the same requests, more of them for nothing.")
    explanation = (f"Polling every {_seconds(interval)} at " + "; ".join(parts) + ". "
                   + scope + f" A count within ±{REQUESTS_TOLERANCE:.0%} of users ÷ interval "
                   "counts as holding." + _where(results) + changed)
    return Verdict(2, CLAIMS[2], _combine(results), explanation + _caveats(used), _cells(used))


def _bytes_part(rows: Sequence[dict[str, Any]], matches: Callable[[float], bool]):
    """(verdict, range text, per-user results) of one transport's overhead per event."""
    results = [(r["users"], matches(r["overhead_bytes_per_event"])) for r in rows]
    values = [r["overhead_bytes_per_event"] for r in rows]
    low, high = min(values), max(values)
    span = _bytes(low) if fmt_number(low) == fmt_number(high) else (
        f"{fmt_number(low)}–{_bytes(high)}")
    return _combine(results), span, results


def check_overhead_bytes(rows: Sequence[Mapping[str, Any]]) -> Verdict:
    """Claim 3: SSE adds about 5 bytes per message, long polling hundreds."""
    rows = _complete(rows)
    sse = sorted(_having(rows, "sse", "overhead_bytes_per_event"), key=lambda r: r["users"])
    polls = sorted(_having(rows, "long_polling", "overhead_bytes_per_event"),
                   key=lambda r: r["users"])
    low_h, high_h = HUNDREDS_BYTES
    texts, verdicts = [], []
    if sse:
        verdict, span, results = _bytes_part(sse, lambda v: _about(v, SSE_CLAIM_BYTES))
        text = (f"the SSE part {verdict}: {span} of overhead per event "
                f"({_join(_cells(sse))})")
        if verdict == HOLDS:
            text += f", about {SSE_CLAIM_BYTES:g} bytes"
        else:
            text += (f", not about {SSE_CLAIM_BYTES:g} bytes (within ×{ABOUT_FACTOR:g}): "
                     "the lab's frames carry an `id:` line, an `event:` line, the `data: ` "
                     "prefix and a blank line, and HTTP chunk framing wraps each one")
        theory_share = [r["theory_bytes_per_event"] - r["payload_bytes_per_event"] for r in sse
                        if _is_number(r["theory_bytes_per_event"])
                        and _is_number(r["payload_bytes_per_event"])]
        if theory_share:
            text += f"; the theory's count for these frames is {_bytes(theory_share[-1])}"
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
                f"({_join(_cells(polls))})")
        per_request = [r["requests_per_event"] for r in polls
                       if _is_number(r["requests_per_event"])]
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


def check_delivery_latency(rows: Sequence[Mapping[str, Any]]) -> Verdict:
    """Claim 4: long polling delivers in 100–200 ms, SSE in about 0.5 ms (p50)."""
    rows = _complete(rows)
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
        lp, ev = polls[users]["latency_p50_ms"], sse[users]["latency_p50_ms"]
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
            f"{name} at {_join([f'{u:,}' for u in users])} "
            f"{'user' if users == [1] else 'users'} ({how} than claimed)"
            for (name, how), users in misses.items()) + "."
    explanation += (" Client and server share one host here, so no network round trip is "
                    "included; across a network both transports would add it.")
    used = [polls[u] for u in common] + [sse[u] for u in common]
    return Verdict(4, CLAIMS[4], verdict, explanation + _caveats(used), _cells(used))


def check_server_load(rows: Sequence[Mapping[str, Any]]) -> Verdict:
    """Claim 5: long polling costs the server more per event than SSE (CPU and requests)."""
    rows = _complete(rows)
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
        cpu_more = lp["server_cpu_us_per_event"] > LOAD_MIN_RATIO * ev["server_cpu_us_per_event"]
        requests_more = lp["requests_per_event"] > LOAD_MIN_RATIO * ev["requests_per_event"]
        results.append((users, cpu_more and requests_more))
        ratio = (f" ({lp['server_cpu_us_per_event'] / ev['server_cpu_us_per_event']:.1f}×)"
                 if ev["server_cpu_us_per_event"] > 0 else "")
        parts.append(
            f"{_users(users)}: {fmt_number(lp['server_cpu_us_per_event'])} µs of server CPU "
            f"per event for long polling against {fmt_number(ev['server_cpu_us_per_event'])} "
            f"µs for SSE{ratio}, and {fmt_number(lp['requests_per_event'])} against "
            f"{fmt_number(ev['requests_per_event'])} requests per event"
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


def check_interval_tradeoff(rows: Sequence[Mapping[str, Any]]) -> Verdict:
    """Claim 6: a shorter poll interval means less delay and more requests."""
    rows = _complete(rows)
    groups: dict[tuple, dict[float, dict[str, Any]]] = {}
    for row in _having(rows, "short_polling", "interval_s", "latency_mean_ms",
                       "requests_per_s"):
        key = (row["users"], row["rate"], row["arrivals"], row["payload_pad_bytes"])
        groups.setdefault(key, {})[row["interval_s"]] = row
    sweeps = {k: v for k, v in sorted(groups.items(), key=lambda kv: kv[0][0]) if len(v) >= 2}
    if not sweeps:
        return Verdict(6, CLAIMS[6], NOT_MEASURED,
                       "No user count was polled at two intervals or more in this run (a "
                       "--quick run has no interval sweep).")
    results, parts, used = [], [], []
    for (users, *_settings), by_interval in sweeps.items():
        ordered = [by_interval[i] for i in sorted(by_interval)]
        used += ordered
        latencies = [r["latency_mean_ms"] for r in ordered]
        requests = [r["requests_per_s"] for r in ordered]
        delay_rises = all(a < b for a, b in zip(latencies, latencies[1:], strict=False))
        load_falls = all(a > b for a, b in zip(requests, requests[1:], strict=False))
        results.append((users, delay_rises and load_falls))
        steps = "; ".join(f"every {_seconds(r['interval_s'])}: mean delay "
                          f"{fmt_ms(r['latency_mean_ms'])}, "
                          f"{fmt_number(r['requests_per_s'])} requests/s" for r in ordered)
        found = []
        if not delay_rises:
            found.append("the mean delay does not rise with every longer interval")
        if not load_falls:
            found.append("requests/s do not fall with every longer interval")
        verdict_here = "; " + " and ".join(found) if found else ""
        parts.append(f"at {_users(users)}: {steps}{verdict_here}")
    explanation = "Short polling " + ". Short polling ".join(parts) + "."
    if len(sweeps) == 1 and results[0][1]:
        shortest = min(used, key=lambda r: r["interval_s"])
        longest = max(used, key=lambda r: r["interval_s"])
        explanation += (
            f" Going from {_seconds(longest['interval_s'])} to "
            f"{_seconds(shortest['interval_s'])} cut the mean delay "
            f"{longest['latency_mean_ms'] / shortest['latency_mean_ms']:.1f}× and multiplied "
            f"the requests {shortest['requests_per_s'] / longest['requests_per_s']:.1f}×.")
    explanation += (" The claim holds when the mean delay rises and requests/s fall with "
                    "every longer interval." + _where(results))
    return Verdict(6, CLAIMS[6], _combine(results), explanation + _caveats(used), _cells(used))


CLAIM_CHECKS: tuple[Callable[[Sequence[Mapping[str, Any]]], Verdict], ...] = (
    check_polling_delay,
    check_polling_requests,
    check_overhead_bytes,
    check_delivery_latency,
    check_server_load,
    check_interval_tradeoff,
)


def check_claims(rows: Sequence[Mapping[str, Any]]) -> list[Verdict]:
    """Every claim checked against the summary rows, in order."""
    return [check(rows) for check in CLAIM_CHECKS]


def read_rows(run_dir: Path | str) -> list[dict[str, Any]]:
    """A run's summary.csv rows, numbers converted (as the charts read them)."""
    return charts.read_run(run_dir).rows


# --- the report -----------------------------------------------------------------------------

CHART_NOTES = {
    "01_latency_vs_users": "Look at the gap between short polling, whose delay is set by its "
    "interval, and the two push transports, and at whether any p99 line bends upward as users "
    "grow: that is the server or the load generator saturating.",
    "02_latency_cdf": "Short polling's curve is a ramp across the poll interval (an event "
    "waits a random part of it), the push transports rise steeply near zero; the top of each "
    "curve is the tail.",
    "03_requests_vs_users": "Compare each transport's dots with its faint theory line: short "
    "polling asks users ÷ interval times a second whatever happens, long polling about once "
    "per event per user, SSE once per stream.",
    "04_bytes_per_event": "The overhead part of each bar is what the transport wraps around "
    "the same payload: HTTP request and response heads per poll against a few lines of "
    "framing per SSE message.",
    "05_server_cpu_per_event": "Compare the server CPU each delivered event costs: a request "
    "is parsed, routed and answered with headers, an SSE event is one write on an open "
    "stream.",
    "06_empty_polls": "The dots should sit on the theory curve of their arrival process: the "
    "more events per poll interval, the fewer polls come back with nothing.",
    "07_latency_over_time": "Check that the median is flat once all users are in; a p99 that "
    "climbs through the window means a queue is building somewhere.",
}

TRANSPORT_ORDER = {t: i for i, t in enumerate(TRANSPORT_LABELS)}


def _fmt(value: object, kind: str = "number") -> str:
    """A table cell: numbers rounded for reading, '–' where there is none."""
    if not _is_number(value):
        return "–"
    if kind == "share":
        return f"{value * 100:.1f}%"
    if kind == "percent":
        return f"{value:.0f}%"
    if kind == "int":
        return f"{value:,.0f}"
    size = abs(value)
    if value == 0:
        return "0"
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.2g}"


SUMMARY_TABLE = (
    # (header, column, kind)
    ("transport", "transport", "transport"),
    ("users", "users", "int"),
    ("interval", "interval_s", "seconds"),
    ("p50 ms", "latency_p50_ms", "number"),
    ("p90 ms", "latency_p90_ms", "number"),
    ("p99 ms", "latency_p99_ms", "number"),
    ("requests/s", "requests_per_s", "number"),
    ("requests/event", "requests_per_event", "number"),
    ("empty polls", "empty_share", "share"),
    ("bytes/event", "bytes_per_event", "number"),
    ("overhead bytes/event", "overhead_bytes_per_event", "number"),
    ("server CPU µs/event", "server_cpu_us_per_event", "number"),
    ("client CPU", "client_cpu_percent", "percent"),
    ("flags", "flags", "flags"),
)
"""The summary table's columns: header, summary.csv column, how it is formatted."""


def _ordered(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Transports in order; the main interval before the interval sweep; then by users."""
    run = charts.Run(path=Path("."), rows=list(rows), events={}, history={})
    main_interval = charts.main_settings(run)["interval_s"] if rows else None

    def key(row: dict[str, Any]) -> tuple:
        interval = row.get("interval_s") or 0
        return (TRANSPORT_ORDER.get(row["transport"], 99), interval != (main_interval or 0),
                interval, row["users"], str(row["cell"]))

    return sorted(rows, key=key)


def summary_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The summary rows as a Markdown table (numbers from the rows, rounded for reading)."""
    rows = _complete(rows)
    columns = list(SUMMARY_TABLE)
    several = [c for c in ("rate", "arrivals", "timeout_s", "payload_pad_bytes")
               if len({r[c] for r in rows if r[c] is not None}) > 1]
    extra = {"rate": ("events/s", "rate", "number"), "arrivals": ("arrivals", "arrivals", "text"),
             "timeout_s": ("timeout", "timeout_s", "seconds"),
             "payload_pad_bytes": ("pad bytes", "payload_pad_bytes", "int")}
    for name in reversed(several):
        columns.insert(3, extra[name])
    lines = ["| " + " | ".join(h for h, _c, _k in columns) + " |",
             "|" + "|".join(":--" if k in ("transport", "flags", "text") else "--:"
                            for _h, _c, k in columns) + "|"]
    for row in _ordered(rows):
        cells = []
        for _header, column, kind in columns:
            if kind == "transport":
                cells.append(TRANSPORT_LABELS.get(row["transport"], str(row["transport"])))
            elif kind == "seconds":
                cells.append(_seconds(row[column]) if _is_number(row[column]) else "–")
            elif kind == "text":
                cells.append(str(row[column] or "–"))
            elif kind == "flags":
                flags = charts.flag_text(row)
                if not row["events_received"]:
                    flags = ", ".join(f for f in (flags, "nothing delivered") if f)
                cells.append(f"**⚠ {flags}**" if flags else "")
            else:
                cells.append(_fmt(row[column], kind))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _manifest(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _distinct(values) -> list:
    return sorted({v for v in values if v is not None}, key=lambda v: (str(type(v)), v))


def _the_run(rows: Sequence[dict[str, Any]], manifest: Mapping[str, Any]) -> list[str]:
    """The run's parameters and machine, as bullet lines (from manifest.json when there is
    one, else from summary.csv)."""
    params = manifest.get("parameters") or {}
    lines = []

    def setting(key: str, column: str) -> list:
        value = params.get(key)
        if value is None:
            return _distinct(r[column] for r in rows)
        return value if isinstance(value, list) else [value]

    if rows:
        transports = sorted({r["transport"] for r in rows},
                            key=lambda t: TRANSPORT_ORDER.get(t, 99))
        users = setting("users", "users")
        lines.append(f"- **Cells**: {len(rows)} in summary.csv — "
                     f"{_join([TRANSPORT_LABELS.get(t, t) for t in transports])} "
                     f"at {_join([f'{u:,}' for u in users])} users")
    else:
        lines.append("- **Cells**: none — summary.csv has no rows")
    rates = setting("rate", "rate")
    if rates:
        source = (f"- **Event source**: {_join([f'{r:g}' for r in rates])} "
                  f"event{'' if rates == [1] else 's'}/s")
        arrivals = setting("arrivals", "arrivals")
        if arrivals:
            source += f", {_join([str(a) for a in arrivals])} arrivals"
        pads = setting("payload_bytes", "payload_pad_bytes")
        if pads:
            source += f", payload padded with {_join([str(p) for p in pads])} bytes"
        sizes = _distinct(round(r["payload_bytes_per_event"]) for r in rows
                          if _is_number(r["payload_bytes_per_event"]))
        if sizes:
            source += f" ({_join([_bytes(v) for v in sizes])} of JSON per event)"
        lines.append(source)
    intervals = _distinct(r["interval_s"] for r in rows if r["transport"] == "short_polling")
    if _is_number(params.get("interval_s")):
        sweep = [i for i in params.get("interval_sweep") or [] if i != params["interval_s"]]
        text = f"- **Short-polling interval**: {_seconds(params['interval_s'])}"
        if sweep:
            sweep_users = params.get("interval_sweep_users")
            text += ("; interval sweep"
                     + (f" at {sweep_users:,} users" if isinstance(sweep_users, int) else "")
                     + ": " + _join([_seconds(i) for i in sweep]))
        else:
            text += "; no interval sweep"
        lines.append(text)
    elif intervals:
        lines.append("- **Short-polling intervals**: " + _join([_seconds(i) for i in intervals]))
    timeouts = setting("timeout_s", "timeout_s")
    if timeouts:
        lines.append("- **Long-poll timeout**: " + _join([_seconds(t) for t in timeouts]))
    windows = [r["duration_s"] for r in rows if _is_number(r["duration_s"])]
    window = []
    if _is_number(params.get("duration_s")):
        planned = f"{_seconds(params['duration_s'])} planned"
        if _is_number(params.get("settle_s")):
            planned += f", after the ramp-up and {_seconds(params['settle_s'])} of settling"
        window.append(planned)
    if windows:
        low, high = f"{min(windows):.1f}", f"{max(windows):.1f}"
        window.append(f"{low} s measured" if low == high else f"{low}–{high} s measured")
    if window:
        lines.append("- **Measured window per cell**: " + "; ".join(window))
    machine = manifest.get("machine") or {}
    if machine:
        lines.append(f"- **Machine**: {machine.get('cores', '?')} cores, CPU "
                     f"{machine.get('cpu') or '?'}, {machine.get('system') or '?'}")
    versions = manifest.get("versions") or {}
    if versions:
        lines.append("- **Versions**: " + ", ".join(f"{k} {v}" for k, v in versions.items()
                                                     if v))
    if manifest:
        commit = manifest.get("commit")
        lines.append(f"- **Commit**: `{commit[:12]}`" if commit else
                     "- **Commit**: unknown (not run from a git checkout)")
    else:
        lines.append("- There is no manifest.json in this run folder: any settings above are "
                     "read from summary.csv; machine, versions and commit are unknown.")
    if params.get("quick"):
        lines.append("- **This is a `--quick` smoke run**: few users, short windows, no "
                     "interval sweep. Read its numbers as a check that everything works, not "
                     "as measurements.")
    return lines


def _problems(rows: Sequence[dict[str, Any]], manifest: Mapping[str, Any]) -> dict[str, list]:
    """Each cell's problems: from its summary row, and from the manifest (failed cells)."""
    found: dict[str, list[str]] = {}
    for row in rows:
        if problems_of(row):
            found[str(row["cell"])] = list(problems_of(row))
    for cell in manifest.get("cells") or []:
        name = str(cell.get("cell"))
        extra = list(cell.get("problems") or [])
        if cell.get("status") == "failed":
            extra.append(f"the cell failed, so it has no row in summary.csv: "
                         f"{cell.get('error', 'no reason recorded')}")
        for problem in extra:
            if problem not in found.setdefault(name, []):
                found[name].append(problem)
    return found


def _when(moment: datetime | str | None) -> str | None:
    """A moment as '2025-11-22 19:23 UTC' (None when there is none or it cannot be read)."""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    if not isinstance(moment, datetime):
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def render_report(run: charts.Run, manifest: Mapping[str, Any], drawn: Sequence[Path],
                  skipped: Mapping[str, str], written: datetime) -> str:
    """report.md's text for a run (pure: everything it shows is passed in)."""
    rows = _complete(run.rows)
    verdicts = check_claims(rows)
    run_id = manifest.get("run_id") or run.name
    out = [f"# Short polling, long polling and SSE: run `{run_id}`", ""]
    started = _when(manifest.get("started"))
    out.append(f"Run started {started}; report written {_when(written)}." if started else
               f"Report written {_when(written)}; the run's start time is unknown (no "
               "manifest.json).")
    out.append("")

    problems = _problems(rows, manifest)
    if problems:
        out += [f"## ⚠ PROBLEMS: {len(problems)} cell{'s' if len(problems) > 1 else ''} "
                "cannot be taken at face value", "",
                "**Read these before any number below.** Cells with numbers stay in the "
                "table (⚠), the charts (drawn hollow, labelled) and the claims (named where "
                "used), never averaged away:", ""]
        out += [f"- **{cell}**: {'; '.join(found)}" for cell, found in problems.items()]
    else:
        out.append("No cell lost or repeated an event, hit an error or saturated its load "
                   "generator.")
    out.append("")

    out += ["## Claims at a glance", ""]
    out += [f"{v.number}. {v.claim} — **{v.verdict}**" for v in verdicts]
    out += ["", "Details, with the numbers, in [Claims checked](#claims-checked).", ""]

    out += ["## The run", ""] + _the_run(rows, manifest) + [""]
    out += ["**Latency** is the client's clock when an event arrives minus the `ts` the server "
            "stamped on it when it published it. Server and load generator ran on one host, "
            "so both read the same clock; across hosts the difference would include their "
            "clock offset. **Per event** means per delivery: one event reaching one user.", ""]

    out += ["## Summary", "",
            "One row per cell, from summary.csv (rounded for reading). Requests, bytes and "
            "server CPU are counted by the server over the measured window; client CPU is "
            "the busiest load-generator process, in % of one core.", "",
            summary_table(rows), ""]

    out += ["## Charts", ""]
    drawn_names = {Path(p).stem: Path(p) for p in drawn if Path(p).suffix == ".png"}
    for number, chart in enumerate(charts.CHARTS, start=1):
        out.append(f"### {number}. {chart.what[0].upper()}{chart.what[1:]}")
        out.append("")
        path = drawn_names.get(chart.name)
        if path is not None:
            try:
                link = path.relative_to(run.path).as_posix()
            except ValueError:
                link = f"charts/{path.name}"
            out += [f"![{chart.what}]({link})", "", CHART_NOTES.get(chart.name, "")]
        else:
            reason = skipped.get(chart.name, "its data is missing")
            out.append(f"*Not drawn: {reason}.*")
        out.append("")

    out += ["## Claims checked", "",
            "These claims come from the lab's source notes (written in Korean; translated "
            "here). They are quoted as claims to test, not as facts. Each verdict is computed "
            "from this run's summary.csv by `lab.report` — `holds`, `does not hold`, "
            "`depends on …` (true at some user counts, not at others) or `not measured in "
            "this run` — with the thresholds stated in each explanation.", ""]
    for v in verdicts:
        out += [f"### {v.number}. “{v.claim}”", "", f"**Verdict: {v.verdict}.**", "",
                v.explanation, ""]
    return "\n".join(out).rstrip() + "\n"


class _SkipLog(logging.Handler):
    """Collects the reasons lab.charts logs for the charts it skips."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reasons: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if isinstance(args, tuple) and len(args) == 3:
            self.reasons[str(args[0])] = str(args[2])


@contextmanager
def _skipped_charts() -> Iterator[dict[str, str]]:
    handler = _SkipLog()
    logger = logging.getLogger(charts.__name__)
    logger.addHandler(handler)
    try:
        yield handler.reasons
    finally:
        logger.removeHandler(handler)


def write_report(run_dir: Path | str) -> Path:
    """Draw the run's charts and write `<run_dir>/report.md`; return its path."""
    run_dir = Path(run_dir)
    run = charts.read_run(run_dir)
    with _skipped_charts() as skipped:
        drawn = charts.draw_all(run_dir)
    text = render_report(run, _manifest(run_dir), drawn, skipped, datetime.now(UTC))
    path = run_dir / "report.md"
    path.write_text(text, encoding="utf-8")
    return path


# --- the CLI --------------------------------------------------------------------------------

DEFAULT_RUN = Path("results") / "latest"


def run_from_args(args: argparse.Namespace) -> int:
    folder = Path(args.run_dir)
    if not folder.is_dir():
        print(f"lab report: there is no run folder at {folder}; run `lab bench` first or name "
              "a run folder.", file=sys.stderr)
        return 2
    if not (folder / "summary.csv").is_file():
        print(f"lab report: {folder} has no summary.csv, so it is not a finished run folder.",
              file=sys.stderr)
        return 2
    print(write_report(folder))
    return 0
