"""The claims that set the push transports against polling: framing bytes (3), delivery
time (4) and server load (5)."""

from __future__ import annotations

from collections.abc import Callable

from lab.claims.verdict import (
    ABOUT_FACTOR,
    DOES_NOT_HOLD,
    HOLDS,
    LOAD,
    NOT_MEASURED,
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


def check_delivery_latency(rows: Rows) -> Verdict:
    """Claim 4: long polling delivers in 100–200 ms, SSE in about 0.5 ms (p50)."""
    polls = main_by_users(rows, "long_polling", "latency_p50_ms")
    sse = main_by_users(rows, "sse", "latency_p50_ms")
    common = sorted(set(polls) & set(sse))
    if not common:
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
    misses: dict[tuple[str, str], list[int]] = {}
    for users in common:
        lp, ev = polls[users].latency_p50_ms, sse[users].latency_p50_ms
        lp_ok = band[0] <= lp <= band[1]
        sse_ok = about(ev, SSE_CLAIM_MS)
        results.append((users, lp_ok and sse_ok))
        parts.append(f"{users_text(users)}: long polling {fmt_ms(lp)}, SSE {fmt_ms(ev)}")
        if not lp_ok:
            misses.setdefault(("long polling", "faster" if lp < band[0] else "slower"), []).append(
                users
            )
        if not sse_ok:
            misses.setdefault(("SSE", "faster" if ev < SSE_CLAIM_MS else "slower"), []).append(
                users
            )
    verdict = combine(results)
    explanation = (
        "Median (p50) delivery latency at " + "; ".join(parts) + ". A p50 matches the claim "
        f"within ×{ABOUT_FACTOR:g}: {fmt_ms(band[0])}–{fmt_ms(band[1])} for long polling, "
        f"{fmt_ms(SSE_CLAIM_MS / ABOUT_FACTOR)}–{fmt_ms(SSE_CLAIM_MS * ABOUT_FACTOR)} for SSE."
        + where(results)
    )
    if misses:
        explanation += (
            " Outside the claim: "
            + "; ".join(
                f"{name} at {join([f'{u:,}' for u in users])} "
                f"{'user' if users == [1] else 'users'} ({how} than claimed)"
                for (name, how), users in misses.items()
            )
            + "."
        )
    explanation += (
        " Client and server share one host here, so no network round trip is "
        "included; across a network both transports would add it."
    )
    used = [polls[u] for u in common] + [sse[u] for u in common]
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
