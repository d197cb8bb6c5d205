"""How the lab writes numbers for people, in one place: charts, report, notebook and README
round the same figure the same way.

The rule is three significant digits, with thousands separators from 100 up and no
exponent: 1,234 / 123 / 12.3 / 1.23 / 0.123. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence


def fmt_number(value: float) -> str:
    """A measured quantity to three significant digits: 1,234 · 123 · 12.3 · 1.23 · 0.0123."""
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) < 100:
        value = float(f"{value:.3g}")  # so that 99.95 is written "100", not "100.0"
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    if size == 0:
        return "0"
    return f"{value:.3g}"


def fmt_ms(value: float) -> str:
    """A duration given in milliseconds: "0.43 ms", "12.3 ms", "123 ms", "1.23 s"."""
    if abs(value) >= 1000:
        return f"{fmt_number(value / 1000)} s"
    return f"{fmt_number(value)} ms"


def fmt_seconds(value: float) -> str:
    """A setting given in seconds, as it was set: "0.5 s", "25 s"."""
    return f"{value:g} s"


def fmt_share(value: float) -> str:
    """A share (0-1) as a percentage, to three significant digits: "61.2%", "4.50%", "0%"."""
    return f"{fmt_number(value * 100)}%"


def fmt_bytes(value: float) -> str:
    return f"{fmt_number(value)} bytes"


def fmt_count(value: int) -> str:
    """A whole count: "1,000"."""
    return f"{value:,}"


def plural(count: float, word: str) -> str:
    """ "1 user", "1,000 users", "0.5 events"."""
    number = f"{count:,}" if isinstance(count, int) else f"{count:g}"
    return f"{number} {word}" + ("" if count == 1 else "s")


def join(parts: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    parts = list(parts)
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
