"""Charts of one sweep run: what each transport costs and how late it delivers.

`draw_all(run)` draws every chart the run has data for into `<run>/charts/` and says which
it skipped and why:

    01_latency_vs_users.png       delivery latency p50 and p99 against users
    02_latency_cdf.png            the latency distribution at one user count
    03_requests_vs_users.png      HTTP requests per second against users, with theory
    04_bytes_per_event.png        bytes on the wire per delivered event, payload vs overhead
    05_server_cpu_per_event.png   server CPU per delivered event against users
    06_empty_polls.png            share of empty short polls against interval × rate
    07_latency_over_time.png      latency through each run at the largest user count

Each chart's title states what it shows, computed from the data. Every `figure_*` function
returns a matplotlib Figure built without pyplot (no global state). The charts only draw:
the run is read by lab.run_folder, and numbers are written by lab.formatting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure

from lab.charts.costs import (
    figure_bytes_per_event,
    figure_requests_vs_users,
    figure_server_cpu_per_event,
)
from lab.charts.latency import figure_latency_cdf, figure_latency_vs_users
from lab.charts.over_time import figure_latency_over_time
from lab.charts.polls import figure_empty_polls
from lab.charts.style import DPI, MissingData
from lab.run_folder import Run

__all__ = ["CHARTS", "Chart", "DrawResult", "MissingData", "draw_all", "save"]


@dataclass(frozen=True)
class Chart:
    name: str
    """The file name without extension."""
    what: str
    figure: Callable[[Run], Figure]


CHARTS = (
    Chart("01_latency_vs_users", "delivery latency against users", figure_latency_vs_users),
    Chart("02_latency_cdf", "latency distribution", figure_latency_cdf),
    Chart("03_requests_vs_users", "requests per second against users", figure_requests_vs_users),
    Chart("04_bytes_per_event", "bytes per delivered event", figure_bytes_per_event),
    Chart("05_server_cpu_per_event", "server CPU per delivered event", figure_server_cpu_per_event),
    Chart("06_empty_polls", "share of empty polls", figure_empty_polls),
    Chart("07_latency_over_time", "latency over time", figure_latency_over_time),
)


@dataclass
class DrawResult:
    drawn: list[Path] = field(default_factory=list)
    """The files written."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Chart name -> why it was not drawn (its data is missing from the run)."""


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


def draw_all(
    run: Run, formats: Sequence[str] = ("png",), out_dir: Path | None = None
) -> DrawResult:
    """Draw every chart the run has data for into `out_dir` (default `<run>/charts`)."""
    out_dir = Path(out_dir) if out_dir is not None else run.path / "charts"
    result = DrawResult()
    for chart in CHARTS:
        try:
            fig = chart.figure(run)
        except MissingData as missing:
            result.skipped[chart.name] = str(missing)
            continue
        result.drawn += save(fig, out_dir, chart.name, formats)
    return result
