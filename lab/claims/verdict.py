"""What every claim check shares: the verdicts, and how numbers become one.

A check takes a run's summary rows (`CellSummary`) and returns a `Verdict`: HOLDS,
DOES_NOT_HOLD, NOT_MEASURED or "depends on ...", with the numbers behind it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from lab.cell_selection import main_rows, median_repeat
from lab.cell_summary import CellSummary
from lab.formatting import join, plural

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold"
NOT_MEASURED = "not measured in this run"
LOAD = "load"
"""What a verdict depends on when a claim holds at some user counts and not at others."""
ROUND_TRIP = "the network's round trip"
"""What a verdict depends on when a claim holds at some round trips and not at others."""


def depends_on(what: str) -> str:
    return f"depends on {what}"


ABOUT_FACTOR = 2.0
""""About X" matches a measurement within this factor of X, either way (2.5–10 bytes for
"about 5 bytes", 0.25–1 ms for "about 0.5 ms")."""


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


Rows = Sequence[CellSummary]


def has(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def having(rows: Rows, transport: str, *columns: str) -> list[CellSummary]:
    """The transport's rows with a value in every column."""
    return [r for r in rows if r.transport == transport and all(has(r.get(c)) for c in columns)]


def main_by_users(rows: Rows, transport: str, *columns: str) -> dict[int, CellSummary]:
    """The transport's rows at the run's main settings (as the charts pick them), by users;
    of repeats, the one with the median value of the first column."""
    groups: dict[int, list[CellSummary]] = {}
    for row in main_rows(rows, transport):
        if all(has(row.get(c)) for c in columns):
            groups.setdefault(row.users, []).append(row)
    return {users: median_repeat(group, columns[0]) for users, group in groups.items()}


def users_text(count: int) -> str:
    return plural(count, "user")


def percent_off(measured: float, expected: float) -> str:
    return f"{(measured - expected) / expected * 100:+.1f}%"


def cells_of(rows: Rows) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.cell for r in rows))


def caveats(rows: Rows) -> str:
    """A sentence naming the used cells that cannot be taken at face value ('' if none)."""
    notes = [f"{r.cell} ({'; '.join(r.verdict.problems())})" for r in rows if not r.verdict.ok]
    if not notes:
        return ""
    return (
        " Caution: these numbers include cells that cannot be taken at face value: "
        + "; ".join(notes)
        + "."
    )


def combine(results: Sequence[tuple[object, bool]]) -> str:
    """HOLDS if every check holds, DOES_NOT_HOLD if none does, else 'depends on load'."""
    if all(ok for _key, ok in results):
        return HOLDS
    if not any(ok for _key, ok in results):
        return DOES_NOT_HOLD
    return depends_on(LOAD)


def where_clause(results: Sequence[tuple[int, bool]]) -> str:
    """'holds at 10 and 100 users, not at 1,000' for a mixed verdict ('' otherwise)."""
    yes = sorted({u for u, ok in results if ok})
    no = sorted({u for u, ok in results if not ok})
    if not yes or not no:
        return ""
    return f"holds at {join([f'{u:,}' for u in yes])} users, not at {join([f'{u:,}' for u in no])}"


def where(results: Sequence[tuple[int, bool]]) -> str:
    """' It holds at 10 and 100 users, not at 1,000.' for a mixed verdict ('' otherwise)."""
    clause = where_clause(results)
    return f" It {clause}." if clause else ""


def about(measured: float, claimed: float) -> bool:
    return claimed / ABOUT_FACTOR <= measured <= claimed * ABOUT_FACTOR
