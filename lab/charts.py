"""Charts of one sweep run: what each transport costs and how late it delivers.

`draw_all(results/<run-id>/)` reads the run's summary.csv, events.csv and Locust stats
histories and writes one PNG per chart into `<run>/charts/`:

    01_latency_vs_users.png       delivery latency p50 and p99 against users
    02_latency_cdf.png            the latency distribution at one user count
    03_requests_vs_users.png      HTTP requests per second against users, with theory
    04_bytes_per_event.png        bytes on the wire per delivered event, payload vs overhead
    05_server_cpu_per_event.png   server CPU per delivered event against users
    06_empty_polls.png            share of empty short polls against interval × rate
    07_latency_over_time.png      latency through each run at the largest user count

Each chart's title states what it shows, computed from the data. A chart whose data is
missing is skipped with a logged reason. Every `figure_*` function returns a matplotlib
Figure (built without pyplot, so no global state); every `chart_*` function saves one.

Cells whose numbers cannot be taken at face value are drawn hollow and labelled, never
hidden: client-bound cells (the load generator was the bottleneck, so they measure it) and
cells with lost or repeated events or errors.
"""

from __future__ import annotations

import csv
import logging
import math
import statistics
import textwrap
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from lab import theory
from lab.measurement import percentile

__all__ = [
    "CHARTS",
    "CLIENT_BOUND_LABEL",
    "LOST_LABEL",
    "TRANSPORT_COLORS",
    "TRANSPORT_LABELS",
    "MissingData",
    "Run",
    "chart_bytes_per_event",
    "chart_empty_polls",
    "chart_latency_cdf",
    "chart_latency_over_time",
    "chart_latency_vs_users",
    "chart_requests_vs_users",
    "chart_server_cpu_per_event",
    "draw_all",
    "read_run",
]

log = logging.getLogger(__name__)

TRANSPORTS = ("short_polling", "long_polling", "sse")
TRANSPORT_COLORS = {"short_polling": "#1f77b4", "long_polling": "#ff7f0e", "sse": "#2ca02c"}
TRANSPORT_LABELS = {"short_polling": "short polling", "long_polling": "long polling",
                    "sse": "SSE"}
CLIENT_BOUND_LABEL = "client-bound (measures the load generator)"
LOST_LABEL = "lost events (or repeats, errors)"
LOST_COLOR = "#d62728"
MUTED = "#555555"

FIGSIZE = (9.0, 5.5)
WIDE_FIGSIZE = (11.0, 5.5)
DPI = 150
TITLE_PT = 15
SUBTITLE_PT = 11.5
LABEL_PT = 12.5
TICK_PT = 11.5
LEGEND_PT = 11
NOTE_PT = 11


class MissingData(LookupError):
    """The run has no data for this chart; the message says what is missing."""


# --- reading a run --------------------------------------------------------------------------

def _value(text: str | None) -> Any:
    """A CSV cell as a Python value: None for empty/N/A/nan, bool, int, float or str."""
    if text is None:
        return None
    text = text.strip()
    if text.lower() in ("", "n/a", "nan", "none", "null"):
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return None if math.isnan(number) else number


def read_csv(path: Path) -> list[dict[str, Any]]:
    """Rows of a CSV file as dicts of converted values (see `_value`)."""
    with open(path, newline="", encoding="utf-8") as file:
        return [{key: _value(value) for key, value in row.items()} for row in csv.DictReader(file)]


@dataclass
class Run:
    """One run folder's data, as read by `read_run`."""

    path: Path
    rows: list[dict[str, Any]]
    """summary.csv: one row per cell."""
    events: dict[str, list[float]]
    """events.csv: each cell's delivery latencies in ms, sorted (empty if there is no file)."""
    history: dict[str, list[dict[str, Any]]]
    """Each cell's Locust `<cell>_stats_history.csv` rows, for the cells that have one."""

    @property
    def name(self) -> str:
        return self.path.name

    def row(self, cell: str) -> dict[str, Any] | None:
        return next((r for r in self.rows if r["cell"] == cell), None)


def read_run(run_dir: Path | str) -> Run:
    """Read a run folder; only summary.csv is required."""
    path = Path(run_dir)
    summary = path / "summary.csv"
    if not summary.is_file():
        raise FileNotFoundError(f"{summary} does not exist: is {path} a run folder?")
    rows = [r for r in read_csv(summary)
            if r.get("transport") in TRANSPORTS and isinstance(r.get("users"), int)]
    for row in rows:
        row["cell"] = str(row["cell"])
    events: dict[str, list[float]] = {}
    events_csv = path / "events.csv"
    if events_csv.is_file():
        with open(events_csv, newline="", encoding="utf-8") as file:
            for record in csv.DictReader(file):
                latency = _value(record.get("latency_ms"))
                if isinstance(latency, int | float):
                    events.setdefault(record["cell"], []).append(float(latency))
        for latencies in events.values():
            latencies.sort()
    # Locust's files sit in the run folder, or in a folder below it: the shallowest wins.
    histories: dict[str, Path] = {}
    for found in sorted(path.rglob("*_stats_history.csv"),
                        key=lambda p: (len(p.relative_to(path).parts), str(p))):
        histories.setdefault(found.name, found)
    history = {}
    for row in rows:
        found = histories.get(f"{row['cell']}_stats_history.csv")
        if found is not None:
            history[row["cell"]] = read_csv(found)
    return Run(path=path, rows=rows, events=events, history=history)


# --- choosing what to draw ------------------------------------------------------------------

def _mode(values: Iterable[Any]) -> Any:
    """The most common value; ties go to the smallest, None last."""
    counts = Counter(values)
    if not counts:
        return None

    def order(value: Any) -> tuple:
        number = isinstance(value, int | float)
        return (-counts[value], value is None, not number, value if number else str(value))

    return min(counts, key=order)


def main_settings(run: Run) -> dict[str, Any]:
    """The settings most cells share: what the per-user-count charts compare at.

    The main poll interval is the one measured at the most user counts (then the most rows),
    so that an interval sweep at one user count does not replace it; among equals, the
    middle one (1 s in a 0.5/1/2 s sweep).
    """
    settings = {key: _mode(r[key] for r in run.rows)
                for key in ("rate", "arrivals", "payload_pad_bytes")}
    polls = [r for r in run.rows if r["transport"] == "short_polling" and r["interval_s"]]
    by_interval = Counter(r["interval_s"] for r in polls)
    users_at = {i: len({r["users"] for r in polls if r["interval_s"] == i}) for i in by_interval}
    settings["interval_s"] = None
    if polls:
        best = max((users_at[i], by_interval[i]) for i in by_interval)
        tied = sorted(i for i in by_interval if (users_at[i], by_interval[i]) == best)
        settings["interval_s"] = tied[(len(tied) - 1) // 2]
    settings["timeout_s"] = _mode(
        r["timeout_s"] for r in run.rows if r["transport"] == "long_polling"
    )
    return settings


def main_rows(run: Run, transport: str) -> list[dict[str, Any]]:
    """The transport's cells at the run's main settings, sorted by users."""
    rows = [r for r in run.rows if r["transport"] == transport]
    main = main_settings(run)
    for key in ("rate", "arrivals", "payload_pad_bytes", "interval_s", "timeout_s"):
        present = {r[key] for r in rows}
        want = main[key] if main[key] in present else _mode(r[key] for r in rows)
        rows = [r for r in rows if r[key] == want]
    return sorted(rows, key=lambda r: r["users"])


def _series(run: Run, *keys: str) -> dict[str, list[dict[str, Any]]]:
    """Main rows per transport that have a number in every key; transports without any left out."""
    out = {}
    for transport in TRANSPORTS:
        rows = [r for r in main_rows(run, transport)
                if all(isinstance(r.get(k), int | float) for k in keys)]
        if rows:
            out[transport] = rows
    return out


def _at(rows: Sequence[dict[str, Any]], users: int) -> dict[str, Any] | None:
    found = [r for r in rows if r["users"] == users]
    return found[-1] if found else None


def _compare_users(series: dict[str, list[dict[str, Any]]]) -> int:
    """The largest user count every transport has; else the largest any has."""
    counts = [{r["users"] for r in rows} for rows in series.values()]
    common = set.intersection(*counts)
    return max(common) if common else max(set.union(*counts))


# --- flags ----------------------------------------------------------------------------------

def _lossy(row: dict[str, Any]) -> bool:
    return any((row.get(k) or 0) > 0 for k in ("events_lost", "events_duplicated", "errors"))


def _client_bound(row: dict[str, Any]) -> bool:
    return row.get("client_bound") is True


def flag_of(row: dict[str, Any]) -> str | None:
    """'lost' (lost or repeated events, errors), 'client_bound', or None for a clean cell."""
    if _lossy(row):
        return "lost"
    if _client_bound(row):
        return "client_bound"
    return None


def flag_text(row: dict[str, Any]) -> str:
    """What is wrong with a cell, in a few words ('' if nothing)."""
    parts = []
    if row.get("events_lost"):
        parts.append(f"{row['events_lost']:,} lost")
    if row.get("events_duplicated"):
        parts.append(f"{row['events_duplicated']:,} repeated")
    if row.get("errors"):
        parts.append(f"{row['errors']:,} errors")
    if _client_bound(row):
        parts.append("client-bound")
    return ", ".join(parts)


def _flag_color(row: dict[str, Any], color: str) -> str:
    """The colour of a flagged cell's note: red for lost events, else the given colour."""
    return LOST_COLOR if _lossy(row) else color


def _lost_mark(ax, x: float, y: float, gid: str | None = None) -> None:
    """The red cross drawn inside a hollow marker whose cell lost events."""
    ax.plot([x], [y], ls="none", marker="x", ms=6, mew=2, color=LOST_COLOR, zorder=5, gid=gid)


def _flag_handles(rows: Iterable[dict[str, Any]], marker: str = "o") -> list:
    """Legend entries for the kinds of flagged cells among `rows`: a hollow marker for
    client-bound cells, a hollow marker with a red cross for lost events."""
    rows = list(rows)
    handles = []
    hollow = {"ls": "none", "marker": marker, "ms": 10, "mfc": "white", "mec": MUTED,
              "mew": 2.2}
    if any(_client_bound(r) for r in rows):
        handles.append(Line2D([], [], label=CLIENT_BOUND_LABEL, **hollow))
    if any(_lossy(r) for r in rows):
        handles.append((Line2D([], [], label=LOST_LABEL, **hollow),
                        Line2D([], [], ls="none", marker="x", ms=6, mew=2, color=LOST_COLOR)))
    return handles


def _handle_label(handle) -> str:
    return (handle[0] if isinstance(handle, tuple) else handle).get_label()


# --- words and numbers ----------------------------------------------------------------------

def _label(transport: str, capital: bool = False) -> str:
    text = TRANSPORT_LABELS[transport]
    return text[0].upper() + text[1:] if capital else text


def fmt_ms(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:.3g} s"
    if value >= 10:
        return f"{value:.0f} ms"
    if value >= 1:
        return f"{value:.1f} ms"
    return f"{value:.2f} ms"


def fmt_number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.1f}"
    return f"{value:.2g}"


def fmt_share(value: float) -> str:
    percent = value * 100
    return f"{percent:.0f}%" if percent >= 10 or percent == 0 else f"{percent:.1f}%"


def _events(count: float) -> str:
    return f"{count:g} event" + ("" if count == 1 else "s")


def fmt_seconds(value: float) -> str:
    return f"{value:g} s"


def _join(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _plain(value: float, _pos: object = None) -> str:
    """Tick labels as plain numbers (1, 10, 0.5, 1,000) rather than powers of ten."""
    if value == 0:
        return "0"
    if abs(value) >= 1:
        return f"{value:,.0f}"
    return f"{value:.3g}"


# --- drawing helpers ------------------------------------------------------------------------

def _figure(figsize: tuple[float, float] = FIGSIZE) -> Figure:
    return Figure(figsize=figsize, layout="constrained")


def _style(ax) -> None:
    ax.tick_params(labelsize=TICK_PT)
    ax.grid(True, which="major", color="#dddddd", lw=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _wrap(text: str, points: float, fig: Figure, share: float = 1.0) -> str:
    """Wrap text to the figure's width (`share` of it) at a font size in points."""
    width = fig.get_figwidth() * 72 * share / (points * 0.55)
    return textwrap.fill(text, int(width), break_long_words=False, break_on_hyphens=False)


def _titles(fig: Figure, title: str, subtitle: str | None = None, ax=None) -> None:
    """The finding as a bold figure title; what is drawn, with numbers, as a subtitle."""
    fig.suptitle(_wrap(title, TITLE_PT * 1.12, fig), fontsize=TITLE_PT, fontweight="bold")
    if subtitle and ax is not None:
        ax.set_title(_wrap(subtitle, SUBTITLE_PT, fig, 0.92), fontsize=SUBTITLE_PT,
                     color="#333333")


_NOTE_BOX = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none",
             "alpha": 0.85}
_BLANK = Line2D([], [], ls="none", label=" ")


def _legend_below(fig: Figure, *groups: list):
    """One legend under the chart, each group of entries in its own column."""
    groups = [g for g in groups if g]
    rows = max(len(g) for g in groups)
    handles = [h for g in groups for h in (*g, *[_BLANK] * (rows - len(g)))]
    return fig.legend(handles, [_handle_label(h) for h in handles],
                      loc="outside lower center", ncols=len(groups), fontsize=LEGEND_PT,
                      frameon=False, columnspacing=2.5)


def _legend(ax, handles: list, **kwargs):
    return ax.legend(handles, [_handle_label(h) for h in handles], fontsize=LEGEND_PT,
                     frameon=False, **kwargs)


THEORY_STYLE = {"lw": 6.5, "alpha": 0.3, "ls": (0, (2.5, 1.2)), "solid_capstyle": "butt",
                "dash_capstyle": "butt", "zorder": 1}
"""Theory lines: wide, pale and dashed, in the transport's colour, so that a measured line
running on top of its band reads as "as predicted"."""


def _theory_handle(label: str = "theory") -> Line2D:
    return Line2D([], [], color=MUTED, label=label, **THEORY_STYLE)


def _log_if_wide(ax, values: Iterable[float], axis: str = "y", ratio: float = 20) -> bool:
    positive = [v for v in values if v is not None and v > 0]
    if not positive or max(positive) / min(positive) < ratio:
        return False
    if axis == "y":
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(_plain))
    else:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(_plain))
    return True


def _users_axis(ax, users: Iterable[int]) -> None:
    values = sorted(set(users))
    if values[-1] / values[0] >= 5:
        ax.set_xscale("log")
        ax.set_xlim(values[0] / 1.5, values[-1] * 1.5)
    ax.xaxis.set_major_locator(FixedLocator(values))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("simulated users", fontsize=LABEL_PT)


def _transport_handles(transports: Iterable[str], marker: str = "o") -> list[Line2D]:
    return [Line2D([], [], color=TRANSPORT_COLORS[t], marker=marker, ms=8, lw=2.2,
                   label=_label(t, capital=True)) for t in transports]


def _plot_points(ax, transport: str, points: Sequence[tuple[float, float, dict]], *,
                 log_y: bool = False, linestyle: str = "-", marker: str = "o",
                 annotate: bool = True, line: bool = True) -> None:
    """A transport's measured points: a line through all, filled markers for clean cells,
    hollow labelled markers for flagged ones."""
    points = [(x, y, r) for x, y, r in points
              if x is not None and y is not None and (y > 0 or not log_y)]
    if not points:
        return
    color = TRANSPORT_COLORS[transport]
    if line:
        ax.plot([p[0] for p in points], [p[1] for p in points], color=color, ls=linestyle,
                lw=2.2, zorder=2)
    clean = [p for p in points if flag_of(p[2]) is None]
    if clean:
        ax.plot([p[0] for p in clean], [p[1] for p in clean], ls="none", marker=marker, ms=8,
                color=color, mfc=color, mec=color, zorder=3, gid=f"clean:{transport}")
    for x, y, row in points:
        flag = flag_of(row)
        if flag is None:
            continue
        ax.plot([x], [y], ls="none", marker=marker, ms=11, mfc="white", mec=color, mew=2.4,
                zorder=4, gid=f"flagged:{flag}:{row['cell']}")
        if _lossy(row):
            _lost_mark(ax, x, y, gid=f"lost-mark:{row['cell']}")
        if annotate:
            ax.annotate(flag_text(row), (x, y), xytext=(9, -15), textcoords="offset points",
                        fontsize=NOTE_PT, color=_flag_color(row, color), zorder=5,
                        bbox=_NOTE_BOX)


def _plot_theory(ax, transport: str, points: Sequence[tuple[float, float | None]],
                 log_y: bool = False) -> bool:
    """The transport's theory line; False if it has no point that can be drawn."""
    shown = [(x, y) for x, y in points if y is not None and (y > 0 or not log_y)]
    if not shown:
        return False
    style = dict(THEORY_STYLE)
    if len(shown) == 1:  # a line needs two points: mark the one value instead
        style.update(marker="_", ms=34, mew=style["lw"])
    ax.plot([p[0] for p in shown], [p[1] for p in shown], color=TRANSPORT_COLORS[transport],
            gid=f"theory:{transport}", **style)
    return True


def _rows_at(series: dict[str, list[dict[str, Any]]], users: int) -> dict[str, dict[str, Any]]:
    """Each transport's row at a user count, for the transports that have one."""
    found = {t: _at(rows, users) for t, rows in series.items()}
    return {t: r for t, r in found.items() if r is not None}


# --- 1. latency against users ---------------------------------------------------------------

def figure_latency_vs_users(run: Run) -> Figure:
    series = _series(run, "users", "latency_p50_ms")
    if not series:
        raise MissingData("no cell has a delivery latency (latency_p50_ms)")
    users = _compare_users(series)
    fig = _figure()
    ax = fig.add_subplot()
    _style(ax)
    keys = ("latency_p50_ms", "latency_p99_ms", "theory_latency_mean_ms")
    log_y = _log_if_wide(ax, [r.get(k) for rows in series.values() for r in rows for k in keys])
    for transport, rows in series.items():
        _plot_points(ax, transport, [(r["users"], r["latency_p50_ms"], r) for r in rows],
                     log_y=log_y)
        _plot_points(ax, transport, [(r["users"], r.get("latency_p99_ms"), r) for r in rows],
                     log_y=log_y, linestyle="--", marker="^", annotate=False)
        _plot_theory(ax, transport, [(r["users"], r.get("theory_latency_mean_ms")) for r in rows],
                     log_y)
    _users_axis(ax, [r["users"] for rows in series.values() for r in rows])
    ax.set_ylabel("delivery latency (ms" + (", log scale)" if log_y else ")"),
                  fontsize=LABEL_PT)

    at = _rows_at(series, users)
    fastest = min(at, key=lambda t: at[t]["latency_p50_ms"])
    parts = [f"At {users:,} users {_label(fastest)} delivers in "
             f"{fmt_ms(at[fastest]['latency_p50_ms'])}"]
    polls = at.get("short_polling")
    if polls is not None and fastest != "short_polling" and polls.get("interval_s"):
        interval = polls["interval_s"]
        share = polls["latency_p50_ms"] / (interval * 1000)
        how = "about half" if 0.35 <= share <= 0.65 else f"{fmt_share(share)} of"
        parts.append(f"short polling waits {how} its {fmt_seconds(interval)} interval "
                     f"({fmt_ms(polls['latency_p50_ms'])})")
    else:
        slowest = max(at, key=lambda t: at[t]["latency_p50_ms"])
        if slowest != fastest:
            parts.append(f"{_label(slowest)} in {fmt_ms(at[slowest]['latency_p50_ms'])}")
    p99 = [f"{_label(t)} {fmt_ms(r['latency_p99_ms'])}" for t, r in at.items()
           if r.get("latency_p99_ms") is not None]
    subtitle = "median (p50) delivery latency in the title"
    if p99:
        subtitle = f"99th percentile at {users:,} users: " + _join(p99)
    _titles(fig, "; ".join(parts), subtitle, ax)

    rows = [r for rows in series.values() for r in rows]
    _legend_below(fig, _transport_handles(series), [
        Line2D([], [], color=MUTED, lw=2.2, marker="o", label="median (p50)"),
        Line2D([], [], color=MUTED, lw=2.2, ls="--", marker="^", label="99th percentile"),
        _theory_handle("theory: mean"),
    ], _flag_handles(rows))
    return fig


# --- 2. latency distribution ----------------------------------------------------------------

def figure_latency_cdf(run: Run) -> Figure:
    if not run.events:
        raise MissingData("no events.csv (or it has no deliveries)")
    cells: dict[str, dict[int, dict[str, Any]]] = {}
    for transport in TRANSPORTS:
        with_events = {r["users"]: r for r in main_rows(run, transport)
                       if run.events.get(r["cell"])}
        if with_events:
            cells[transport] = with_events
    if not cells:
        raise MissingData("events.csv has no deliveries for the cells in summary.csv")
    common = set.intersection(*(set(c) for c in cells.values()))
    users = max(common) if common else max(set.union(*(set(c) for c in cells.values())))
    chosen = {t: c[users] for t, c in cells.items() if users in c}

    fig = _figure()
    ax = fig.add_subplot()
    _style(ax)
    everything = [v for r in chosen.values() for v in run.events[r["cell"]]]
    log_x = _log_if_wide(ax, everything, axis="x", ratio=30)
    floor = min((v for v in everything if v > 0), default=1.0)
    handles = []
    stats = {}
    for transport, row in chosen.items():
        latencies = run.events[row["cell"]]
        xs = [max(v, floor) for v in latencies] if log_x else list(latencies)
        ys = [100 * (i + 1) / len(xs) for i in range(len(xs))]
        flag = flag_of(row)
        color = TRANSPORT_COLORS[transport]
        label = f"{_label(transport, True)}, {len(xs):,} deliveries"
        if flag is not None:
            label += f": {flag_text(row)}"
        style = "-" if flag is None else "--"
        ax.step([xs[0], *xs], [0, *ys], where="post", color=color, lw=2.4, ls=style,
                gid=f"cdf:{transport}" if flag is None else f"flagged:{flag}:{row['cell']}")
        handles.append(Line2D([], [], color=color, lw=2.4, ls=style, label=label))
        stats[transport] = (percentile(latencies, 50), percentile(latencies, 99))
    for level, text, above in ((50, "half of the events", True), (99, "99%", False)):
        ax.axhline(level, color="#999999", lw=1, ls=":", zorder=1)
        ax.annotate(text, (0, level), xycoords=("axes fraction", "data"),
                    xytext=(4, 3 if above else -4), va="bottom" if above else "top",
                    textcoords="offset points", fontsize=NOTE_PT, color=MUTED)
    ax.set_ylim(0, 108)
    ax.set_yticks(range(0, 101, 20))
    ax.set_xlabel("delivery latency (ms" + (", log scale)" if log_x else ")"),
                  fontsize=LABEL_PT)
    ax.set_ylabel("events delivered within (%)", fontsize=LABEL_PT)

    fast = min(stats, key=lambda t: stats[t][1])
    slow = max(stats, key=lambda t: stats[t][1])
    title = (f"At {users:,} users 99% of {_label(fast)} events arrive within "
             f"{fmt_ms(stats[fast][1])}")
    if slow != fast:
        title += f"; {_label(slow)} needs {fmt_ms(stats[slow][1])}"
    medians = _join([f"{_label(t)} {fmt_ms(s[0])}" for t, s in stats.items()])
    _titles(fig, title, f"share of events delivered within a given latency (from events.csv); "
            f"half arrive within: {medians}", ax)
    _legend_below(fig, handles)
    return fig


# --- 3. requests per second -----------------------------------------------------------------

def figure_requests_vs_users(run: Run) -> Figure:
    series = _series(run, "users", "requests_per_s")
    if not series:
        raise MissingData("no cell has requests_per_s")
    users = _compare_users(series)
    fig = _figure()
    ax = fig.add_subplot()
    _style(ax)
    keys = ("requests_per_s", "theory_requests_per_s")
    log_y = _log_if_wide(ax, [r.get(k) for rows in series.values() for r in rows for k in keys])
    off_scale = []
    for transport, rows in series.items():
        _plot_points(ax, transport, [(r["users"], r["requests_per_s"], r) for r in rows],
                     log_y=log_y)
        points = [(r["users"], r.get("theory_requests_per_s")) for r in rows]
        if not _plot_theory(ax, transport, points, log_y) and any(y is not None
                                                                  for _x, y in points):
            off_scale.append(transport)
    _users_axis(ax, [r["users"] for rows in series.values() for r in rows])
    ax.set_ylabel("HTTP requests per second" + (" (log scale)" if log_y else ""),
                  fontsize=LABEL_PT)

    at = _rows_at(series, users)
    order = sorted(at, key=lambda t: -at[t]["requests_per_s"])
    first = order[0]
    title = (f"At {users:,} users {_label(first)} makes "
             f"{fmt_number(at[first]['requests_per_s'])} requests/s")
    if len(order) > 1:
        title += ", " + _join([f"{_label(t)} {fmt_number(at[t]['requests_per_s'])}"
                               for t in order[1:]])
    why = []
    for transport in order:
        row = at[transport]
        if transport == "short_polling" and row.get("interval_s"):
            why.append(f"short polling asks users ÷ interval = {users:,} ÷ "
                       f"{fmt_seconds(row['interval_s'])}, events or not")
        elif transport == "long_polling" and row.get("requests_per_event") is not None:
            why.append(f"long polling {row['requests_per_event']:.2f} per event "
                       f"({row['rate']:g} events/s to each user)")
        elif transport == "sse":
            why.append("SSE one per user for the whole run")
    _titles(fig, title, "; ".join(why), ax)
    notes = [_theory_handle("theory")]
    if off_scale:
        notes.append(Line2D([], [], ls="none", label=_join(
            [_label(t, True) for t in off_scale]) + " theory: 0, off the log scale"))
    _legend_below(fig, _transport_handles(series), notes,
                  _flag_handles(r for rows in series.values() for r in rows))
    return fig


# --- 4. bytes per event ---------------------------------------------------------------------

def figure_bytes_per_event(run: Run) -> Figure:
    series = _series(run, "users", "payload_bytes_per_event", "overhead_bytes_per_event")
    if not series:
        raise MissingData("no cell has payload_bytes_per_event and overhead_bytes_per_event")
    users = _compare_users(series)
    at = _rows_at(series, users)
    fig = _figure()
    ax = fig.add_subplot()
    _style(ax)
    ax.grid(False, axis="x")
    width = 0.6
    totals = {}
    for x, (transport, row) in enumerate(at.items()):
        color = TRANSPORT_COLORS[transport]
        payload, overhead = row["payload_bytes_per_event"], row["overhead_bytes_per_event"]
        total = payload + overhead
        totals[transport] = total
        flag = flag_of(row)
        if flag is None:
            ax.bar(x, payload, width, color=color, edgecolor=color, gid=f"payload:{transport}")
            ax.bar(x, overhead, width, bottom=payload, color=color, alpha=0.35, hatch="//",
                   edgecolor=color, gid=f"overhead:{transport}")
        else:
            gid = f"flagged:{flag}:{row['cell']}"
            ax.bar(x, payload, width, facecolor="white", edgecolor=color, lw=2.4, gid=gid)
            ax.bar(x, overhead, width, bottom=payload, facecolor="white", hatch="//",
                   edgecolor=color, lw=2.4, gid=gid)
            if _lossy(row):
                _lost_mark(ax, x, payload / 2, gid=f"lost-mark:{row['cell']}")
        expected = row.get("theory_bytes_per_event")
        if expected is not None:
            ax.plot([x - width / 2 - 0.08, x + width / 2 + 0.08], [expected, expected],
                    color="black", lw=2.4, ls=(0, (3, 1.5)), zorder=4,
                    gid=f"theory:{transport}")
        text = f"{total:,.0f} B\n{fmt_share(overhead / total)} overhead"
        if flag is not None:
            text += f"\n{flag_text(row)}"
        ax.annotate(text, (x, max(total, expected or 0)), xytext=(0, 6),
                    textcoords="offset points", ha="center", va="bottom", fontsize=NOTE_PT,
                    color=_flag_color(row, color) if flag else "#222222")
    ax.set_xticks(range(len(at)), [_label(t, True) for t in at], fontsize=LABEL_PT)
    ax.set_xlim(-0.6, len(at) - 0.4)
    top = max([*totals.values(), *(r.get("theory_bytes_per_event") or 0 for r in at.values())])
    ax.set_ylim(0, top * 1.3)
    ax.set_ylabel("bytes on the wire per delivered event", fontsize=LABEL_PT)

    best = min(totals, key=totals.get)
    worst = max(totals, key=totals.get)
    title = f"{_label(best, True)} puts {totals[best]:,.0f} bytes on the wire per event"
    if worst != best:
        share = at[worst]["overhead_bytes_per_event"] / totals[worst]
        title += f", {_label(worst)} {totals[worst]:,.0f} ({fmt_share(share)} of it overhead)"
    payloads = {round(r["payload_bytes_per_event"]) for r in at.values()}
    payload_text = f"is {payloads.pop()} B" if len(payloads) == 1 else "is the solid part"
    _titles(fig, title, f"bytes in + out ÷ deliveries at {users:,} users. The event's JSON "
            f"{payload_text}; the rest is HTTP headers, the JSON envelope, SSE framing", ax)
    _legend_below(fig, [
        Patch(facecolor=MUTED, edgecolor=MUTED, label="event JSON (payload)"),
        Patch(facecolor="#cccccc", edgecolor=MUTED, hatch="//",
              label="overhead: headers, envelope, framing"),
        Line2D([], [], color="black", lw=2.4, ls=(0, (3, 1.5)), label="theory (total)"),
    ], _flag_handles(at.values(), marker="s"))
    return fig


# --- 5. server CPU per event ----------------------------------------------------------------

def figure_server_cpu_per_event(run: Run) -> Figure:
    series = _series(run, "users", "server_cpu_us_per_event")
    if not series:
        raise MissingData("no cell has server_cpu_us_per_event")
    users = _compare_users(series)
    fig = _figure()
    ax = fig.add_subplot()
    _style(ax)
    log_y = _log_if_wide(ax, [r["server_cpu_us_per_event"] for rows in series.values()
                              for r in rows], ratio=30)
    for transport, rows in series.items():
        _plot_points(ax, transport, [(r["users"], r["server_cpu_us_per_event"], r)
                                     for r in rows], log_y=log_y)
    _users_axis(ax, [r["users"] for rows in series.values() for r in rows])
    if not log_y:
        ax.set_ylim(bottom=0)
    ax.set_ylabel("server CPU per delivered event (µs)", fontsize=LABEL_PT)

    cost = {t: r["server_cpu_us_per_event"] for t, r in _rows_at(series, users).items()}
    best, worst = min(cost, key=cost.get), max(cost, key=cost.get)
    title = (f"At {users:,} users the server spends {fmt_number(cost[best])} µs per event "
             f"on {_label(best)}")
    if worst != best:
        title += (f", {fmt_number(cost[worst])} µs on {_label(worst)} "
                  f"({cost[worst] / cost[best]:.0f}×)")
    _titles(fig, title, "server process CPU time (user + system) ÷ deliveries. Each poll is "
            "parsed, routed and answered with headers; an SSE event is one write per open "
            "stream", ax)
    _legend_below(fig, _transport_handles(series),
                  _flag_handles(r for rows in series.values() for r in rows))
    return fig


# --- 6. empty polls -------------------------------------------------------------------------

ARRIVAL_MARKERS = {"poisson": "o", "fixed": "s"}
ARRIVAL_WORDS = {"poisson": "Poisson", "fixed": "evenly spaced"}


def _label_polls(ax, rows: Sequence[dict[str, Any]], width: float) -> None:
    """Name each point's interval (and rate, when the run has several), flags included;
    points at the same x share one label, and labels of nearby points are stacked."""
    several_rates = len({r["rate"] for r in rows}) > 1
    groups: dict[float, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(round(row["interval_s"] * row["rate"], 9), []).append(row)
    previous, level = None, 0
    for x in sorted(groups):
        texts = []
        for row in groups[x]:
            text = f"every {fmt_seconds(row['interval_s'])}"
            if several_rates:
                text += f" at {row['rate']:g}/s"
            if flag_text(row):
                text += f" ({flag_text(row)})"
            if text not in texts:
                texts.append(text)
        level = level + 1 if previous is not None and x - previous < width * 0.08 else 0
        previous = x
        y = max(100 * r["empty_share"] for r in groups[x])
        flagged = [r for r in groups[x] if flag_of(r)]
        ax.annotate("\n".join(texts), (x, y), xytext=(7, 6 + 16 * (level % 4)),
                    textcoords="offset points", fontsize=NOTE_PT, va="bottom",
                    color=_flag_color(flagged[0], MUTED) if flagged else MUTED,
                    bbox=_NOTE_BOX, zorder=5)


def figure_empty_polls(run: Run) -> Figure:
    rows = [r for r in run.rows if r["transport"] == "short_polling"
            and all(isinstance(r.get(k), int | float)
                    for k in ("empty_share", "interval_s", "rate"))]
    if not rows:
        raise MissingData("no short-polling cell has empty_share, interval_s and rate")
    fig = _figure()
    ax = fig.add_subplot()
    _style(ax)
    xs = [r["interval_s"] * r["rate"] for r in rows]
    top = max(1.5, max(xs) * 1.15)
    grid = [top * i / 200 for i in range(1, 201)]
    color = TRANSPORT_COLORS["short_polling"]
    for arrivals, style in (("poisson", "--"), ("fixed", ":")):
        curve = [100 * theory.empty_poll_share(1.0, x, arrivals) for x in grid]
        ax.plot([0, *grid], [100, *curve], color=color, ls=style, lw=1.8, zorder=1,
                gid=f"theory:{arrivals}")
    arrivals_seen = []
    for arrivals in ARRIVAL_MARKERS:
        mine = [r for r in rows if r["arrivals"] == arrivals]
        if mine:
            arrivals_seen.append(arrivals)
            points = [(r["interval_s"] * r["rate"], 100 * r["empty_share"], r) for r in mine]
            _plot_points(ax, "short_polling", points, marker=ARRIVAL_MARKERS[arrivals],
                         line=False, annotate=False)
    _label_polls(ax, rows, top)
    ax.set_xlim(0, top)
    ax.set_ylim(0, 105)
    ax.set_xlabel("events per poll interval (interval × event rate)", fontsize=LABEL_PT)
    ax.set_ylabel("polls that came back empty (%)", fontsize=LABEL_PT)

    by_x: dict[float, list[float]] = {}
    for x, r in zip(xs, rows, strict=True):
        by_x.setdefault(round(x, 9), []).append(r["empty_share"])
    low, high = min(by_x), max(by_x)
    share_low, share_high = statistics.fmean(by_x[low]), statistics.fmean(by_x[high])
    if low == high:
        title = (f"{fmt_share(share_low)} of short polls came back empty at "
                 f"{_events(low)} per poll interval")
    else:
        trend = ("The more events per poll interval, the fewer empty polls"
                 if share_high < share_low else "Empty polls against events per poll interval")
        title = (f"{trend}: {fmt_share(share_low)} at {_events(low)}, "
                 f"{fmt_share(share_high)} at {_events(high)}")
    rates = sorted({r["rate"] for r in rows})
    intervals = sorted({r["interval_s"] for r in rows})
    _titles(fig, title, f"short polling at {_join([f'{v:g}' for v in rates])} events/s, every "
            f"{_join([fmt_seconds(v) for v in intervals])}; a poll finds nothing when no event "
            "came since the last one", ax)
    handles = [Line2D([], [], ls="none", marker=ARRIVAL_MARKERS[a], ms=8, color=color,
                      label=f"measured, {ARRIVAL_WORDS[a]} arrivals") for a in arrivals_seen]
    handles += [
        Line2D([], [], color=color, ls="--", lw=1.8, label=r"theory, Poisson: $e^{-x}$"),
        Line2D([], [], color=color, ls=":", lw=1.8, label="theory, evenly spaced: max(0, 1 − x)"),
    ] + _flag_handles(rows)
    _legend(ax, handles, loc="upper right", bbox_to_anchor=None)
    return fig


# --- 7. latency over time -------------------------------------------------------------------

def _event_history(run: Run, transport: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The transport's largest-user-count cell with a stats history holding EVENT rows."""
    candidates = main_rows(run, transport) or [r for r in run.rows if r["transport"] == transport]
    for row in sorted(candidates, key=lambda r: -r["users"]):
        records = [h for h in run.history.get(row["cell"], [])
                   if h.get("Type") == "EVENT" and h.get("Name") == transport]
        if any(h.get("50%") is not None for h in records):
            return row, run.history[row["cell"]]
    return None


def figure_latency_over_time(run: Run) -> Figure:
    found = {t: h for t in TRANSPORTS if (h := _event_history(run, t)) is not None}
    if not found:
        raise MissingData(
            "no Locust stats history (<cell>_stats_history.csv with EVENT rows) for any cell"
        )
    fig = _figure(WIDE_FIGSIZE)
    axes = fig.subplots(1, len(found), sharey=True, squeeze=False)[0]
    twins = []
    levels = {}
    climbs = {}
    peak_users = 1
    for ax, (transport, (row, history)) in zip(axes, found.items(), strict=True):
        _style(ax)
        color = TRANSPORT_COLORS[transport]
        start = min(h["Timestamp"] for h in history if h.get("Timestamp") is not None)
        records = sorted((h for h in history if h.get("Type") == "EVENT"
                          and h.get("Name") == transport), key=lambda h: h["Timestamp"])
        seconds = [h["Timestamp"] - start for h in records]
        twin = ax.twinx()
        twins.append(twin)
        users = [h.get("User Count") or 0 for h in records]
        twin.fill_between(seconds, users, step="post", color="#bbbbbb", alpha=0.35, lw=0,
                          zorder=0)
        twin.plot(seconds, users, drawstyle="steps-post", color="#999999", lw=1.2)
        peak_users = max(peak_users, *users)
        ax.set_zorder(twin.get_zorder() + 1)
        ax.patch.set_visible(False)
        flag = flag_of(row)
        for key, style, marker in (("50%", "-", "o"), ("99%", "--", "^")):
            points = [(s, h.get(key), row) for s, h in zip(seconds, records, strict=True)]
            _plot_points(ax, transport, points, linestyle=style, marker=marker, annotate=False)
        measured = [h for h in records if h.get("50%") is not None]
        full = [h for h in measured if h.get("User Count") == max(users)] or measured
        levels[transport] = statistics.median(h["50%"] for h in full)
        tails = [h["99%"] for h in full if h.get("99%") is not None]
        if len(tails) >= 4:
            half = len(tails) // 2
            early, late = statistics.median(tails[:half]), statistics.median(tails[half:])
            if late > 1.5 * early and late - early >= 5:
                climbs[transport] = (early, late)
        ax.set_title(f"{_label(transport, True)}, {row['users']:,} users\n"
                     f"median {fmt_ms_whole(levels[transport])} once all are in",
                     fontsize=SUBTITLE_PT, color="#333333")
        if flag is not None:
            ax.annotate(flag_text(row), (0.02, 0.02), xycoords="axes fraction",
                        fontsize=NOTE_PT, color=_flag_color(row, color), bbox=_NOTE_BOX)
        ax.set_xlabel("seconds since start", fontsize=LABEL_PT)
    axes[0].set_yscale("symlog", linthresh=1, linscale=0.5)
    axes[0].yaxis.set_major_formatter(FuncFormatter(_plain))
    axes[0].yaxis.set_minor_locator(NullLocator())
    axes[0].set_ylim(bottom=0)
    axes[0].set_ylabel("delivery latency (ms, log scale)", fontsize=LABEL_PT)
    for index, twin in enumerate(twins):
        twin.set_ylim(0, peak_users * 1.1)
        twin.tick_params(labelsize=TICK_PT, colors="#777777")
        twin.spines["top"].set_visible(False)
        if index == len(twins) - 1:
            twin.set_ylabel("users running", fontsize=LABEL_PT, color="#777777")
        else:
            twin.tick_params(right=False, labelright=False)
            twin.spines["right"].set_visible(False)

    title = "After ramp-up the median holds at " + _join(
        [f"{fmt_ms_whole(v)} ({_label(t)})" for t, v in levels.items()])
    if climbs:
        title += "; the p99 climbs for " + _join([
            f"{_label(t)} ({fmt_ms_whole(a)} → {fmt_ms_whole(b)})" for t, (a, b) in climbs.items()
        ])
    fig.suptitle(_wrap(title, (TITLE_PT - 1) * 1.12, fig), fontsize=TITLE_PT - 1,
                 fontweight="bold")
    _legend_below(fig, [
        Line2D([], [], color=MUTED, lw=2.2, marker="o", label="median (p50)"),
        Line2D([], [], color=MUTED, lw=2.2, ls="--", marker="^", label="99th percentile"),
    ], [Patch(facecolor="#bbbbbb", alpha=0.6, label="users running (right axis)"),
        Line2D([], [], ls="none", label="Locust: percentiles of its last 10 s, whole ms")],
        _flag_handles(row for row, _h in found.values()))
    return fig


def fmt_ms_whole(value: float) -> str:
    """Locust's histogram rounds latencies to whole milliseconds below 100 ms."""
    if value < 1:
        return "under 1 ms"
    return f"{value:.0f} ms" if value == int(value) and value < 1000 else fmt_ms(value)


# --- saving ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Chart:
    name: str
    """The file name without extension."""
    what: str
    figure: Callable[[Run], Figure]


CHARTS = (
    Chart("01_latency_vs_users", "delivery latency against users", figure_latency_vs_users),
    Chart("02_latency_cdf", "latency distribution", figure_latency_cdf),
    Chart("03_requests_vs_users", "requests per second against users",
          figure_requests_vs_users),
    Chart("04_bytes_per_event", "bytes per delivered event", figure_bytes_per_event),
    Chart("05_server_cpu_per_event", "server CPU per delivered event",
          figure_server_cpu_per_event),
    Chart("06_empty_polls", "share of empty polls", figure_empty_polls),
    Chart("07_latency_over_time", "latency over time", figure_latency_over_time),
)
_BY_FIGURE = {chart.figure: chart for chart in CHARTS}


def save(fig: Figure, out_dir: Path, name: str, formats: Sequence[str] = ("png",)) -> list[Path]:
    """Write the figure as `<out_dir>/<name>.<format>` for each format (PNG at 150 dpi)."""
    if not formats:
        raise ValueError("formats must name at least one file format, such as 'png'")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out_dir / f"{name}.{fmt}"
        fig.savefig(path, dpi=DPI, format=fmt, facecolor="white")
        paths.append(path)
    return paths


def _chart(figure: Callable[[Run], Figure], run: Run, out_dir: Path,
           formats: Sequence[str]) -> Path:
    return save(figure(run), out_dir, _BY_FIGURE[figure].name, formats)[0]


def chart_latency_vs_users(run: Run, out_dir: Path, formats: Sequence[str] = ("png",)) -> Path:
    return _chart(figure_latency_vs_users, run, out_dir, formats)


def chart_latency_cdf(run: Run, out_dir: Path, formats: Sequence[str] = ("png",)) -> Path:
    return _chart(figure_latency_cdf, run, out_dir, formats)


def chart_requests_vs_users(run: Run, out_dir: Path, formats: Sequence[str] = ("png",)) -> Path:
    return _chart(figure_requests_vs_users, run, out_dir, formats)


def chart_bytes_per_event(run: Run, out_dir: Path, formats: Sequence[str] = ("png",)) -> Path:
    return _chart(figure_bytes_per_event, run, out_dir, formats)


def chart_server_cpu_per_event(run: Run, out_dir: Path,
                               formats: Sequence[str] = ("png",)) -> Path:
    return _chart(figure_server_cpu_per_event, run, out_dir, formats)


def chart_empty_polls(run: Run, out_dir: Path, formats: Sequence[str] = ("png",)) -> Path:
    return _chart(figure_empty_polls, run, out_dir, formats)


def chart_latency_over_time(run: Run, out_dir: Path, formats: Sequence[str] = ("png",)) -> Path:
    return _chart(figure_latency_over_time, run, out_dir, formats)


def draw_all(run_dir: Path, formats: Sequence[str] = ("png",),
             out_dir: Path | None = None) -> list[Path]:
    """Draw every chart the run has data for into `out_dir` (default `<run_dir>/charts`).

    Returns the files written. A chart without data is skipped, with the reason logged.
    """
    run = read_run(run_dir)
    out_dir = Path(out_dir) if out_dir is not None else Path(run_dir) / "charts"
    written = []
    for chart in CHARTS:
        try:
            fig = chart.figure(run)
        except MissingData as missing:
            log.warning("skipping chart %s (%s): %s", chart.name, chart.what, missing)
            continue
        written += save(fig, out_dir, chart.name, formats)
    return written
