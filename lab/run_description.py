"""A run's parameters and machine, as the bullet lines at the top of its report: from
manifest.json when there is one, else from summary.csv."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lab.cell_summary import CellSummary
from lab.chat.measurement import LOAD_QUESTION, THINK_S
from lab.formatting import fmt_bytes, fmt_seconds, join
from lab.names import CHAT, transport_label
from lab.summary_table import TRANSPORT_ORDER
from lab.sweep_plan import EVENTS_PER_WINDOW, MIN_WINDOW_S, POLLS_PER_WINDOW, PRESET_WINDOWS


def _has(value: object) -> bool:
    return value is not None


def _distinct(values) -> list:
    return sorted({v for v in values if v is not None}, key=lambda v: (str(type(v)), v))


def describe_run(rows: Sequence[CellSummary], manifest: Mapping[str, Any]) -> list[str]:
    """The run's parameters and machine, as bullet lines (from manifest.json when there is
    one, else from summary.csv)."""
    params = manifest.get("parameters") or {}
    lines = []

    def setting(key: str, column: str) -> list:
        """The values the cells were run at; the parameters only when there are no rows (a
        preset's cells vary what its parameters hold fixed)."""
        if rows:
            return _distinct(r.get(column) for r in rows)
        value = params.get(key)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    chat = bool(rows) and all(r.workload == CHAT for r in rows)
    if rows:
        transports = sorted({r.transport for r in rows}, key=lambda t: TRANSPORT_ORDER.get(t, 99))
        users = setting("users", "users")
        lines.append(
            f"- **Cells**: {len(rows)}{' chat cells' if chat else ''} in summary.csv — "
            f"{join([transport_label(t) for t in transports])} "
            f"at {join([f'{u:,}' for u in users])} users"
        )
    else:
        lines.append("- **Cells**: none — summary.csv has no rows")
    rates = [] if chat else setting("rate", "rate")
    if chat:
        lines.append(
            f"- **Chat model**: answers of {LOAD_QUESTION.max_tokens} tokens, the first after "
            f"{LOAD_QUESTION.first_token_ms:g} ms, then {LOAD_QUESTION.tokens_per_s:g} a "
            f"second; each user asks, reads the answer to its end, waits {THINK_S[0]:g}–"
            f"{THINK_S[1]:g} s and asks again"
        )
    if rates:
        source = (
            f"- **Event source**: {join([f'{r:g}' for r in rates])} "
            f"event{'' if rates == [1] else 's'}/s"
        )
        arrivals = setting("arrivals", "arrivals")
        if arrivals:
            source += f", {join([str(a) for a in arrivals])} arrivals"
        pads = setting("payload_bytes", "payload_pad_bytes")
        if pads:
            source += f", payload padded with {join([str(p) for p in pads])} bytes"
        sizes = _distinct(
            round(r.payload_bytes_per_event) for r in rows if r.payload_bytes_per_event is not None
        )
        if sizes:
            source += f" ({join([fmt_bytes(v) for v in sizes])} of JSON per event)"
        lines.append(source)
    intervals = _distinct(r.interval_s for r in rows if r.transport == "short_polling")
    main_interval = params.get("interval_s")
    if main_interval is not None and main_interval in intervals and len(intervals) > 1:
        others = [i for i in intervals if i != main_interval]
        lines.append(
            f"- **Short-polling interval**: {fmt_seconds(main_interval)}; also "
            + join([fmt_seconds(i) for i in others])
        )
    elif intervals:
        lines.append("- **Short-polling interval**: " + join([fmt_seconds(i) for i in intervals]))
    elif main_interval is not None:
        lines.append(f"- **Short-polling interval**: {fmt_seconds(main_interval)}")
    rtts = _distinct(r.rtt_ms for r in rows)
    if any(rtts):
        lines.append(
            "- **Network round trip**: "
            + join([f"{v:g} ms" for v in rtts])
            + " (0: loopback; the others through the lab's delaying relay, `lab relay`)"
        )
    repeats = max((r.repeat for r in rows), default=1)
    if repeats > 1:
        repeated = len({r.cell.rsplit("-n", 1)[0] for r in rows if r.repeat > 1})
        lines.append(
            f"- **Repeats**: {repeated} cells run {repeats} times (`-n2`, `-n3`...); charts "
            "show the median and the range"
        )
    timeouts = [] if chat else setting("timeout_s", "timeout_s")
    if timeouts:
        lines.append("- **Long-poll timeout**: " + join([fmt_seconds(t) for t in timeouts]))
    windows = [r.duration_s for r in rows if _has(r.duration_s)]
    window = []
    if _has(params.get("duration_s")):
        planned = f"{fmt_seconds(params['duration_s'])} planned"
        if _has(params.get("settle_s")):
            planned += f", after the ramp-up and {fmt_seconds(params['settle_s'])} of settling"
        window.append(planned)
    elif "duration_s" in params and params.get("preset") in PRESET_WINDOWS:
        window.append(f"{fmt_seconds(PRESET_WINDOWS[params['preset']])} planned")
    elif "duration_s" in params:
        window.append(
            f"sized for each cell: at least {fmt_seconds(MIN_WINDOW_S)}, "
            f"{EVENTS_PER_WINDOW:g} expected events and {POLLS_PER_WINDOW:g} poll intervals, "
            "once every user was connected"
        )
    if windows:
        low, high = f"{min(windows):.1f}", f"{max(windows):.1f}"
        window.append(f"{low} s measured" if low == high else f"{low}–{high} s measured")
    if window:
        lines.append("- **Measured window per cell**: " + "; ".join(window))
    machine = manifest.get("machine") or {}
    if machine:
        lines.append(
            f"- **Machine**: {machine.get('cores', '?')} cores, CPU "
            f"{machine.get('cpu') or '?'}, {machine.get('system') or '?'}"
        )
    versions = manifest.get("versions") or {}
    if versions:
        lines.append("- **Versions**: " + ", ".join(f"{k} {v}" for k, v in versions.items() if v))
    if manifest:
        commit = manifest.get("commit")
        lines.append(
            f"- **Commit**: `{commit[:12]}`"
            if commit
            else "- **Commit**: unknown (not run from a git checkout)"
        )
    else:
        lines.append(
            "- There is no manifest.json in this run folder: any settings above are "
            "read from summary.csv; machine, versions and commit are unknown."
        )
    if params.get("quick"):
        lines.append(
            "- **This is a `--quick` smoke run**: few users, short windows, no "
            "interval sweep. Read its numbers as a check that everything works, not "
            "as measurements."
        )
    return lines
