"""Which cells a chart or a claim compares: those at the run's usual settings.

A run may vary one setting at one user count (an interval sweep, say); the charts that are
about users compare the cells at the setting most of them share.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lab.cell_summary import CellSummary
from lab.names import TRANSPORTS


def _mode(values: Iterable[Any]) -> Any:
    """The most common value; ties go to the smallest, None last."""
    counts = Counter(values)
    if not counts:
        return None

    def order(value: Any) -> tuple:
        number = isinstance(value, int | float)
        return (-counts[value], value is None, not number, value if number else str(value))

    return min(counts, key=order)


SETTINGS = ("rate", "arrivals", "payload_pad_bytes", "interval_s", "timeout_s", "rtt_ms")
"""The settings a cell is run at, besides its transport, its user count and its repeat."""


def _widest(rows: Sequence[CellSummary], key: str) -> Any:
    """The value of `key` measured at the most user counts (then in the most rows); among
    equals, the middle one (1 s in a 0.5/1/2 s interval sweep, 1/s in a 0.2/1/5 rate sweep)."""
    values = [r.get(key) for r in rows if r.get(key) is not None]
    if not values:
        return None
    count: Counter[Any] = Counter(values)
    users_at = {v: len({r.users for r in rows if r.get(key) == v}) for v in count}
    best = max((users_at[v], count[v]) for v in count)
    tied = sorted(v for v in count if (users_at[v], count[v]) == best)
    return tied[(len(tied) - 1) // 2]


def main_settings(rows: Sequence[CellSummary]) -> dict[str, Any]:
    """The settings most cells share: what the per-user-count charts compare at.

    A sweep over one setting at one user count (an interval sweep, a rate sweep) does not
    replace the value the other cells share; without a network delay (rtt 0) when measured.
    """
    polls = [r for r in rows if r.transport == "short_polling" and r.interval_s]
    rtts = {r.rtt_ms for r in rows}
    return {
        "rate": _widest(rows, "rate"),
        "arrivals": _mode(r.arrivals for r in rows),
        "payload_pad_bytes": _mode(r.payload_pad_bytes for r in rows),
        "interval_s": _widest(polls, "interval_s"),
        "timeout_s": _mode(r.timeout_s for r in rows if r.transport == "long_polling"),
        "rtt_ms": 0.0 if 0.0 in rtts else _widest(rows, "rtt_ms"),
    }


def main_users(rows: Sequence[CellSummary]) -> int | None:
    """The user count most cells were run at (a sweep over rates runs at one)."""
    return _mode(r.users for r in rows)


def main_rows(rows: Sequence[CellSummary], transport: str) -> list[CellSummary]:
    """The transport's cells at the main settings, sorted by users (repeats included)."""
    return sorted(_at_main(rows, transport, SETTINGS), key=lambda r: r.users)


def sweep_rows(rows: Sequence[CellSummary], transport: str, *free: str) -> list[CellSummary]:
    """The transport's cells at the main settings and user count, except for the `free`
    settings, which may take any value: the cells of a sweep over them."""
    fixed = [key for key in (*SETTINGS, "users") if key not in free]
    return _at_main(rows, transport, fixed)


def _at_main(rows: Sequence[CellSummary], transport: str, keys: Iterable[str]) -> list:
    """The transport's rows at the run's main value of each key, or at the value most of its
    own rows have when it was never run at the main one."""
    mine = [r for r in rows if r.transport == transport]
    main = {**main_settings(rows), "users": main_users(rows)}
    for key in keys:
        present = {r.get(key) for r in mine}
        want = main[key] if main[key] in present else _mode(r.get(key) for r in mine)
        mine = [r for r in mine if r.get(key) == want]
    return mine


@dataclass(frozen=True)
class Point:
    """One setting's measurement of a column: the median of its repeats, and their range."""

    x: float
    y: float
    """The median over the repeats (the lower middle one for an even count)."""
    low: float
    high: float
    row: CellSummary
    """The repeat whose flags the point shows: a flagged one if any, else the median one."""
    repeats: int
    members: tuple[CellSummary, ...] = ()
    """Every repeat, lowest value first."""

    @property
    def spread(self) -> bool:
        return self.repeats > 1 and self.high > self.low


def points(
    rows: Sequence[CellSummary], x: Callable[[CellSummary], float | None], column: str
) -> list[Point]:
    """The rows' repeats of each setting collapsed to one point (x, median of `column`),
    sorted by x; rows without a value are left out."""
    groups: dict[tuple, list[CellSummary]] = {}
    for row in rows:
        if row.get(column) is None or x(row) is None:
            continue
        key = (row.transport, row.users, *(row.get(s) for s in SETTINGS))
        groups.setdefault(key, []).append(row)
    found = []
    for group in groups.values():
        ordered = sorted(group, key=lambda r: r.get(column))
        middle = ordered[(len(ordered) - 1) // 2]
        flagged = [r for r in ordered if r.verdict.flag is not None]
        values = [r.get(column) for r in ordered]
        x_value = x(middle)
        assert x_value is not None  # rows without an x were left out above
        found.append(
            Point(
                x=x_value,
                y=middle.get(column),
                low=values[0],
                high=values[-1],
                row=flagged[0] if flagged else middle,
                repeats=len(ordered),
                members=tuple(ordered),
            )
        )
    return sorted(found, key=lambda p: (p.x, p.y))


def median_repeat(rows: Sequence[CellSummary], column: str) -> CellSummary:
    """The repeat whose value of `column` is the median (the lower middle one)."""
    ordered = sorted(rows, key=lambda r: r.get(column))
    return ordered[(len(ordered) - 1) // 2]


def spread_text(values: Sequence[float], fmt: Callable[[float], str]) -> str:
    """'412 ms (398–430 ms over 3 repeats)', or the one value."""
    if len(values) < 2:
        return fmt(values[0])
    middle = statistics.median_low(values)
    return f"{fmt(middle)} ({fmt(min(values))}–{fmt(max(values))} over {len(values)} repeats)"


def series(rows: Sequence[CellSummary], *columns: str) -> dict[str, list[CellSummary]]:
    """Each transport's main rows that have a value in every column, one per user count (of
    repeats, the median one by the last column); transports without any are left out."""
    out = {}
    for transport in TRANSPORTS:
        found = [
            r for r in main_rows(rows, transport) if all(r.get(c) is not None for c in columns)
        ]
        if found:
            by_users: dict[int, list[CellSummary]] = {}
            for row in found:
                by_users.setdefault(row.users, []).append(row)
            out[transport] = [median_repeat(g, columns[-1]) for g in by_users.values()]
    return out


def rows_at(series: dict[str, list[CellSummary]], users: int) -> dict[str, CellSummary]:
    """Each transport's row at a user count, for the transports that have one."""
    found = {t: row_at(rows, users) for t, rows in series.items()}
    return {t: r for t, r in found.items() if r is not None}


def row_at(rows: Sequence[CellSummary], users: int) -> CellSummary | None:
    found = [r for r in rows if r.users == users]
    return found[-1] if found else None


def compare_users(series: dict[str, list[CellSummary]]) -> int:
    """The largest user count every transport has; else the largest any has."""
    counts = [{r.users for r in rows} for rows in series.values()]
    common = set.intersection(*counts)
    return max(common) if common else max(set.union(*counts))
