"""The claims about streaming a chat answer, checked against the chat cells of a run
(`lab bench --chat`).

    C1. with SSE, the time to first token is the model's own delay
    C2. polling adds up to one interval to every token
    C3. streaming the answer costs one request; polling it costs one per interval

Each check reads each transport's cells by user count (of repeats, the median one). Pure.
"""

from __future__ import annotations

from collections.abc import Callable

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
    users_text,
    where,
)
from lab.formatting import fmt_ms, fmt_number, fmt_seconds, join

CLAIM_C1 = "With SSE, the time to first token is the model's own delay."
CLAIM_C2 = "Polling adds up to one interval to every token."
CLAIM_C3 = "Streaming the answer costs one request; polling it costs one per interval."

OWN_DELAY_MS = 20.0
"""C1: the first token counts as coming after the model's own delay when the median time
to it exceeds the model's delay by at most this much (a connection, a request, a write:
a few milliseconds on loopback)..."""
OWN_DELAY_SHARE = 0.05
"""...or by at most this share of the model's delay, whichever is larger."""
INTERVAL_SLACK = 0.05
"""C2: "up to one interval" allows the interval plus this share of it (a poll's own time
and a timer's lateness push each poll a little later than the clock says)."""
ADDS_SHARE = 0.25
"""C2: polling "adds" when the median token waits at least this share of the interval."""
REQUESTS_MATCH = 0.10
"""C3: a measured count of requests per answer matches its theory within this share."""


def _by_users(rows: Rows, transport: str, column: str) -> dict[int, CellSummary]:
    groups: dict[int, list[CellSummary]] = {}
    for row in rows:
        if row.transport == transport and has(row.get(column)):
            groups.setdefault(row.users, []).append(row)
    return {users: median_repeat(group, column) for users, group in sorted(groups.items())}


def check_first_token(rows: Rows) -> Verdict:
    sse = _by_users(rows, "sse", "ttft_p50_ms")
    if not sse:
        return Verdict(1, CLAIM_C1, NOT_MEASURED, "No SSE chat cell in this run.")
    results, parts = [], []
    for users, row in sse.items():
        model = row.model_first_token_ms or 0.0
        excess = row.ttft_p50_ms - model
        allowed = max(OWN_DELAY_MS, OWN_DELAY_SHARE * model)
        results.append((users, excess <= allowed))
        parts.append(
            f"at {users_text(users)} {fmt_ms(row.ttft_p50_ms)} (p99 {fmt_ms(row.ttft_p99_ms)}), "
            f"{fmt_ms(excess)} more than the model's {fmt_ms(model)}"
        )
    polls = [
        f"{label} {fmt_ms(row.ttft_p50_ms)}"
        for label, transport in (
            ("long polling", "long_polling"),
            ("short polling", "short_polling"),
        )
        for row in list(_by_users(rows, transport, "ttft_p50_ms").values())[-1:]
    ]
    used = list(sse.values())
    explanation = (
        f"SSE's median time to first token was {join(parts)}. It counts as the model's own "
        f"delay when the excess is at most {fmt_ms(OWN_DELAY_MS)} or "
        f"{OWN_DELAY_SHARE:.0%} of the delay."
        + where(results)
        + (f" At the largest user count: {join(polls)}." if polls else "")
        + " Long polling comes as close, since its held request is answered with the first "
        "token; short polling finds it at the first poll after it is made." + caveats(used)
    )
    return Verdict(1, CLAIM_C1, combine(results), explanation, cells_of(used))


def check_token_delay(rows: Rows) -> Verdict:
    polls = _by_users(rows, "short_polling", "latency_max_ms")
    if not polls:
        return Verdict(2, CLAIM_C2, NOT_MEASURED, "No short-polling chat cell in this run.")
    results, parts = [], []
    for users, row in polls.items():
        interval_ms = (row.interval_s or 0) * 1000
        within = row.latency_max_ms <= interval_ms * (1 + INTERVAL_SLACK)
        adds = row.latency_p50_ms >= ADDS_SHARE * interval_ms
        results.append((users, within and adds))
        parts.append(
            f"at {users_text(users)} a median of {fmt_ms(row.latency_p50_ms)}, a mean of "
            f"{fmt_ms(row.latency_mean_ms)} (theory {fmt_ms(row.theory_latency_mean_ms)}) and "
            f"at most {fmt_ms(row.latency_max_ms)} against a "
            f"{fmt_seconds(row.interval_s or 0)} interval"
        )
    others = [
        f"{fmt_ms(row.latency_p50_ms)} over {label} (p99 {fmt_ms(row.latency_p99_ms)})"
        for label, transport in (("long polling", "long_polling"), ("SSE", "sse"))
        for row in list(_by_users(rows, transport, "latency_p50_ms").values())[-1:]
    ]
    used = list(polls.values())
    explanation = (
        "Each token's delay is its receipt minus the moment the model made it. Short "
        f"polling's tokens waited {join(parts)}. It holds when no token waited longer than "
        f"the interval (plus {INTERVAL_SLACK:.0%}) and the median one waited at least "
        f"{ADDS_SHARE:.0%} of it."
        + where(results)
        + (
            f" A long poll's interval is a round trip, since it asks again at once: at the "
            f"largest user count the median token waited {join(others)}."
            if others
            else ""
        )
        + caveats(used)
    )
    return Verdict(2, CLAIM_C2, combine(results), explanation, cells_of(used))


def check_requests_per_answer(rows: Rows) -> Verdict:
    found = {
        t: _by_users(rows, t, "requests_per_answer")
        for t in ("sse", "long_polling", "short_polling")
    }
    if not found["sse"] or not (found["long_polling"] or found["short_polling"]):
        return Verdict(
            3,
            CLAIM_C3,
            NOT_MEASURED,
            "It needs SSE chat cells and polling chat cells in the same run.",
        )
    matches: dict[int, bool] = {}
    parts = []
    for transport, label in (
        ("sse", "SSE"),
        ("long_polling", "long polling"),
        ("short_polling", "short polling"),
    ):
        for users, row in found[transport].items():
            expected = row.theory_requests_per_answer or 1.0
            ok = abs(row.requests_per_answer - expected) <= REQUESTS_MATCH * expected
            matches[users] = matches.get(users, True) and ok
        shown = ", ".join(
            f"{fmt_number(r.requests_per_answer)} at {users_text(u)}"
            for u, r in found[transport].items()
        )
        if shown:
            theory = next(iter(found[transport].values())).theory_requests_per_answer
            parts.append(f"{label} {shown} (theory {fmt_number(theory or 0)})")
    results = sorted(matches.items())
    used = [r for rows_by_users in found.values() for r in rows_by_users.values()]
    interval = next(iter(found["short_polling"].values()), None)
    explanation = (
        f"Requests per answer (the question and every poll for its tokens): {join(parts)}. "
        "It holds when each matches its theory within "
        f"{REQUESTS_MATCH:.0%}: one for SSE; for short polling one per "
        + (fmt_seconds(interval.interval_s or 0) if interval else "interval")
        + " the answer lasts, plus the question; for long polling one per token, since each "
        "token comes long after a round trip, so long polling's interval is the model's pace."
        + where(results)
        + caveats(used)
    )
    return Verdict(3, CLAIM_C3, combine(results), explanation, cells_of(used))


CHAT_CHECKS: tuple[Callable[[Rows], Verdict], ...] = (
    check_first_token,
    check_token_delay,
    check_requests_per_answer,
)


def check_chat_claims(rows: Rows) -> list[Verdict]:
    """C1-C3 against a run's chat rows (an empty list when there are none)."""
    return [check(rows) for check in CHAT_CHECKS] if rows else []
