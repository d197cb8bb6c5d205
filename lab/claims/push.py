"""The claims that set the push transports against polling: framing bytes (3), delivery
time (4) and server load (5)."""

from __future__ import annotations

from collections.abc import Callable

from lab.cell_selection import median_repeat, sweep_rows
from lab.cell_summary import CellSummary
from lab.claims.verdict import (
    ABOUT_FACTOR,
    DOES_NOT_HOLD,
    HOLDS,
    LOAD,
    NOT_MEASURED,
    ROUND_TRIP,
    Rows,
    Verdict,
    about,
    caveats,
    cells_of,
    combine,
    depends_on,
    has,
    having,
    main_by_users,
    users_text,
    where,
    where_clause,
)
from lab.formatting import fmt_bytes, fmt_ms, fmt_number, join

CLAIM_3 = "SSE adds about 5 bytes of overhead per message; long polling adds hundreds of bytes."
CLAIM_4 = "Long polling delivers in 100–200 ms; SSE in about 0.5 ms."
CLAIM_5 = "Long polling loads the server more than SSE, because every message costs a new request."

# Claim 3: bytes of overhead per delivered event.
SSE_CLAIM_BYTES = 5.0
"""The SSE overhead per message claim 3 names, in bytes."""
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


def _bytes_part(rows: Rows, matches: Callable[[float], bool]):
    """(verdict, range text, per-user results) of one transport's overhead per event."""
    results = [(r.users, matches(r.overhead_bytes_per_event)) for r in rows]
    values = [r.overhead_bytes_per_event for r in rows]
    low, high = min(values), max(values)
    span = (
        fmt_bytes(low)
        if fmt_number(low) == fmt_number(high)
        else (f"{fmt_number(low)}–{fmt_bytes(high)}")
    )
    return combine(results), span, results


def check_overhead_bytes(rows: Rows) -> Verdict:
    """Claim 3: SSE adds about 5 bytes per message, long polling hundreds."""
    sse = sorted(having(rows, "sse", "overhead_bytes_per_event"), key=lambda r: r.users)
    polls = sorted(having(rows, "long_polling", "overhead_bytes_per_event"), key=lambda r: r.users)
    low_h, high_h = HUNDREDS_BYTES
    texts, verdicts = [], []
    if sse:
        verdict, span, results = _bytes_part(sse, lambda v: about(v, SSE_CLAIM_BYTES))
        text = f"the SSE part {verdict}: {span} of overhead per event ({join(cells_of(sse))})"
        if verdict == HOLDS:
            text += f", about {SSE_CLAIM_BYTES:g} bytes"
        else:
            text += (
                f", not about {SSE_CLAIM_BYTES:g} bytes (within ×{ABOUT_FACTOR:g}): "
                "the lab's frames carry an `id:` line, an `event:` line, the `data: ` "
                "prefix and a blank line, and HTTP chunk framing wraps each one"
            )
        theory_share = [
            r.theory_bytes_per_event - r.payload_bytes_per_event
            for r in sse
            if has(r.theory_bytes_per_event) and has(r.payload_bytes_per_event)
        ]
        if theory_share:
            text += f"; the theory's count for these frames is {fmt_bytes(theory_share[-1])}"
        if where_clause(results):
            text += f"; it {where_clause(results)}"
        texts.append(text)
        verdicts.append(verdict)
    else:
        texts.append("the SSE part is not measured (no SSE cell)")
        verdicts.append(NOT_MEASURED)
    if polls:
        verdict, span, results = _bytes_part(polls, lambda v: low_h <= v < high_h)
        text = f"the long-polling part {verdict}: {span} per event ({join(cells_of(polls))})"
        per_request = [r.requests_per_event for r in polls if has(r.requests_per_event)]
        if per_request:
            text += (
                f", with {fmt_number(min(per_request))}"
                + (
                    ""
                    if fmt_number(min(per_request)) == fmt_number(max(per_request))
                    else f"–{fmt_number(max(per_request))}"
                )
                + " requests per event: each answer carries a request and a response "
                "head"
            )
        if verdict != HOLDS:
            text += f' ("hundreds" is taken as {low_h:,.0f} to {high_h - 1:,.0f} bytes)'
        if where_clause(results):
            text += f"; it {where_clause(results)}"
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
    explanation = (
        "Overhead = bytes on the wire per delivered event minus the event's JSON. "
        + joined[0].upper()
        + joined[1:]
        + "."
    )
    used = sse + polls
    return Verdict(3, CLAIM_3, overall, explanation + caveats(used), cells_of(used))


def _latency_part(lp: float, ev: float) -> tuple[bool, bool, list[str]]:
    """Whether long polling's and SSE's medians match claim 4, and how each misses it."""
    low, high = LONG_POLL_CLAIM_MS
    band = (low / ABOUT_FACTOR, high * ABOUT_FACTOR)
    lp_ok, sse_ok = band[0] <= lp <= band[1], about(ev, SSE_CLAIM_MS)
    misses = []
    if not lp_ok:
        misses.append(f"long polling {'faster' if lp < band[0] else 'slower'} than claimed")
    if not sse_ok:
        misses.append(f"SSE {'faster' if ev < SSE_CLAIM_MS else 'slower'} than claimed")
    return lp_ok, sse_ok, misses


def _by_rtt(rows: Rows, transport: str) -> dict[float, CellSummary]:
    """The transport's cells of a round-trip sweep (main settings otherwise), by round trip;
    of repeats, the median one."""
    groups: dict[float, list[CellSummary]] = {}
    for row in sweep_rows(rows, transport, "rtt_ms"):
        if has(row.latency_p50_ms):
            groups.setdefault(row.rtt_ms, []).append(row)
    return {rtt: median_repeat(g, "latency_p50_ms") for rtt, g in groups.items()}


def check_delivery_latency(rows: Rows) -> Verdict:
    """Claim 4: long polling delivers in 100–200 ms, SSE in about 0.5 ms (p50); checked at
    each user count, and at each round trip the run put between clients and server."""
    polls = main_by_users(rows, "long_polling", "latency_p50_ms")
    sse = main_by_users(rows, "sse", "latency_p50_ms")
    common = sorted(set(polls) & set(sse))
    polls_rtt, sse_rtt = _by_rtt(rows, "long_polling"), _by_rtt(rows, "sse")
    rtts = sorted(set(polls_rtt) & set(sse_rtt))
    if not common and not rtts:
        return Verdict(
            4,
            CLAIM_4,
            NOT_MEASURED,
            "No user count has both a long-polling and an SSE cell with a "
            "delivery latency in this run.",
        )
    low, high = LONG_POLL_CLAIM_MS
    band = (low / ABOUT_FACTOR, high * ABOUT_FACTOR)
    results, parts = [], []
    for users in common:
        lp, ev = polls[users].latency_p50_ms, sse[users].latency_p50_ms
        lp_ok, sse_ok, misses = _latency_part(lp, ev)
        results.append((users, lp_ok and sse_ok))
        part = f"{users_text(users)}: long polling {fmt_ms(lp)}, SSE {fmt_ms(ev)}"
        parts.append(part + (f" ({join(misses)})" if misses else ""))
    explanation = "Median (p50) delivery latency at " + "; ".join(parts) + "." + where(results)
    used = [polls[u] for u in common] + [sse[u] for u in common]
    verdict = combine(results) if results else NOT_MEASURED
    if len(rtts) > 1:
        rtt_results, rtt_parts = [], []
        fits: dict[str, list[float]] = {"long-polling": [], "SSE": []}
        for rtt in rtts:
            lp, ev = polls_rtt[rtt].latency_p50_ms, sse_rtt[rtt].latency_p50_ms
            lp_ok, sse_ok, misses = _latency_part(lp, ev)
            ok = lp_ok and sse_ok
            rtt_results.append((rtt, ok))
            for name, fit in (("long-polling", lp_ok), ("SSE", sse_ok)):
                if fit:
                    fits[name].append(rtt)
            rtt_parts.append(
                f"at {rtt:g} ms: {HOLDS if ok else DOES_NOT_HOLD} (long polling {fmt_ms(lp)}, "
                f"SSE {fmt_ms(ev)}" + (f"; {join(misses)})" if misses else ")")
            )
            used += [polls_rtt[rtt], sse_rtt[rtt]]
        users = polls_rtt[rtts[0]].users
        explanation += (
            f" With a network's round trip added by the lab's relay ({users_text(users)}): "
            + "; ".join(rtt_parts)
            + "."
        )
        verdict = combine(rtt_results)
        if verdict == depends_on(LOAD):
            verdict = depends_on(ROUND_TRIP)
        lp_far = polls_rtt[rtts[-1]].latency_p50_ms
        sse_far = sse_rtt[rtts[-1]].latency_p50_ms
        explanation += (
            " Both transports pay the network's one-way delay: an event pushed on an open "
            f"stream or a held request arrives half a round trip later ({fmt_ms(sse_far)} for "
            f"SSE, {fmt_ms(lp_far)} for long polling at {rtts[-1]:g} ms); long polling pays "
            "a whole round trip more only for the events that come while it reconnects."
        )
        halves = [
            f"the {name} half fits at "
            + (join([f"{r:g} ms" for r in found]) if found else "no round trip measured")
            for name, found in fits.items()
        ]
        explanation += " Taken apart, " + " and ".join(halves) + "."
    else:
        explanation += (
            " Client and server share one host here, so no network round trip is "
            "included; across a network both transports would add it (run with --rtt)."
        )
    explanation += (
        f" A p50 matches the claim within ×{ABOUT_FACTOR:g}: {fmt_ms(band[0])}–"
        f"{fmt_ms(band[1])} for long polling, {fmt_ms(SSE_CLAIM_MS / ABOUT_FACTOR)}–"
        f"{fmt_ms(SSE_CLAIM_MS * ABOUT_FACTOR)} for SSE."
    )
    used = list(dict.fromkeys(used))
    return Verdict(4, CLAIM_4, verdict, explanation + caveats(used), cells_of(used))


def check_server_load(rows: Rows) -> Verdict:
    """Claim 5: long polling costs the server more per event than SSE (CPU and requests)."""
    keys = ("server_cpu_us_per_event", "requests_per_event")
    polls = main_by_users(rows, "long_polling", *keys)
    sse = main_by_users(rows, "sse", *keys)
    common = sorted(set(polls) & set(sse))
    if not common:
        return Verdict(
            5,
            CLAIM_5,
            NOT_MEASURED,
            "No user count has both a long-polling and an SSE cell with server CPU "
            "and request counts in this run.",
        )
    results, parts = [], []
    for users in common:
        lp, ev = polls[users], sse[users]
        cpu_more = lp.server_cpu_us_per_event > LOAD_MIN_RATIO * ev.server_cpu_us_per_event
        requests_more = lp.requests_per_event > LOAD_MIN_RATIO * ev.requests_per_event
        results.append((users, cpu_more and requests_more))
        ratio = (
            f" ({lp.server_cpu_us_per_event / ev.server_cpu_us_per_event:.1f}×)"
            if ev.server_cpu_us_per_event > 0
            else ""
        )
        parts.append(
            f"{users_text(users)}: {fmt_number(lp.server_cpu_us_per_event)} µs of server CPU "
            f"per event for long polling against {fmt_number(ev.server_cpu_us_per_event)} "
            f"µs for SSE{ratio}, and {fmt_number(lp.requests_per_event)} against "
            f"{fmt_number(ev.requests_per_event)} requests per event"
        )
    verdict = combine(results)
    explanation = (
        "At " + "; at ".join(parts) + ". The claim holds at a user count when long polling "
        "is higher on both."
        + where(results)
        + " An SSE client makes one request when its stream opens; after that an event "
        "costs a write on the open stream, not a request."
    )
    used = [polls[u] for u in common] + [sse[u] for u in common]
    return Verdict(5, CLAIM_5, verdict, explanation + caveats(used), cells_of(used))
