"""Textbook claims from the lab's source notes, each checked against a run's figures.

Each check is a pure function of the run's summary rows (`CellSummary`, lab.measurement)
and returns a `Verdict` with the numbers behind it; thresholds are constants in the module
of each claim. The report (lab.report) writes them out; the notebook shows them.

    polling.py   1. delay up to the interval; 2. users ÷ interval requests; 6. the trade-off
    push.py      3. framing bytes; 4. delivery time; 5. server load
"""

from __future__ import annotations

from collections.abc import Callable

from lab.claims.polling import (
    CLAIM_1,
    CLAIM_2,
    CLAIM_6,
    check_interval_tradeoff,
    check_polling_delay,
    check_polling_requests,
)
from lab.claims.push import (
    CLAIM_3,
    CLAIM_4,
    CLAIM_5,
    check_delivery_latency,
    check_overhead_bytes,
    check_server_load,
)
from lab.claims.verdict import DOES_NOT_HOLD, HOLDS, NOT_MEASURED, Rows, Verdict, depends_on

__all__ = [
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
]

CLAIMS = {1: CLAIM_1, 2: CLAIM_2, 3: CLAIM_3, 4: CLAIM_4, 5: CLAIM_5, 6: CLAIM_6}
"""The claims, quoted from the source notes (translated from Korean)."""

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
