"""Charts of one sweep run: what each transport costs and how late it delivers.

`draw_all(run)` draws every chart the run has data for into `<run>/charts/` and says which
it skipped and why:

    01_requests_per_event.png     requests per delivered event against events per interval
    02_bytes_vs_rate.png          bytes on the wire per delivered event against the event rate
    03_server_cpu_vs_rate.png     server CPU per delivered event against the event rate
    04_latency_vs_users.png       delivery latency p50 and p99 against users
    05_latency_cdf.png            the latency distribution at one user count
    06_latency_vs_rtt.png         delivery latency against a network's round trip
    07_requests_vs_users.png      HTTP requests per second against users, with theory
    08_bytes_per_event.png        one delivered event's bytes: payload vs overhead
    09_empty_polls.png            share of empty short polls against interval × rate
    10_latency_over_time.png      latency through each run at the largest user count
    11_latency_by_proxy.png       each transport's latency through each nginx profile
    12_idle_timeout.png           streams cut and 504s through a proxy's short timeout
    13_chat_latency.png           a chat answer's first token, token delay and gaps by users
    14_chat_requests.png          HTTP requests per chat answer against users
    15_servers.png                the same transport on the lab's server and on the peers

Charts 1-10 compare the direct cells (no proxy); 11 and 12 the cells through nginx; 13 and
14 the chat cells (`lab bench --chat`); 15, drawn only when the run measured more than one
server (`lab bench --servers`), the servers side by side.

A point that was measured several times (`--repeat`) is the median of its repeats, with a
bar from the lowest to the highest. Each chart's title states what it shows, computed from
the data. Every `figure_*` function returns a matplotlib Figure built without pyplot (no
global state). The charts only draw: the run is read by lab.run_folder, and numbers are
written by lab.formatting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure

from lab.charts.chat import figure_chat_latency, figure_chat_requests
from lab.charts.costs import figure_bytes_per_event, figure_requests_vs_users
from lab.charts.latency import figure_latency_cdf, figure_latency_vs_users
from lab.charts.network import figure_latency_vs_rtt
from lab.charts.over_time import figure_latency_over_time
from lab.charts.polls import figure_empty_polls
from lab.charts.proxy import figure_idle_timeout, figure_latency_by_proxy
from lab.charts.rates import (
    figure_bytes_vs_rate,
    figure_requests_per_event,
    figure_server_cpu_vs_rate,
)
from lab.charts.servers import figure_servers
from lab.charts.style import DPI, MissingData
from lab.run_folder import Run

__all__ = [
    "CHARTS",
    "CHAT_CHARTS",
    "PROXY_CHARTS",
    "SERVER_CHARTS",
    "Chart",
    "DrawResult",
    "MissingData",
    "draw_all",
    "save",
]


@dataclass(frozen=True)
class Chart:
    name: str
    """The file name without extension."""
    what: str
    figure: Callable[[Run], Figure]


CHARTS = (
    Chart("01_requests_per_event", "requests per delivered event", figure_requests_per_event),
    Chart("02_bytes_vs_rate", "bytes per delivered event", figure_bytes_vs_rate),
    Chart("03_server_cpu_vs_rate", "server CPU per delivered event", figure_server_cpu_vs_rate),
    Chart("04_latency_vs_users", "delivery latency against users", figure_latency_vs_users),
    Chart("05_latency_cdf", "latency distribution", figure_latency_cdf),
    Chart("06_latency_vs_rtt", "latency across a network", figure_latency_vs_rtt),
    Chart("07_requests_vs_users", "requests per second against users", figure_requests_vs_users),
    Chart("08_bytes_per_event", "payload and overhead of one event", figure_bytes_per_event),
    Chart("09_empty_polls", "share of empty polls", figure_empty_polls),
    Chart("10_latency_over_time", "latency over time", figure_latency_over_time),
)
PROXY_CHARTS = (
    Chart("11_latency_by_proxy", "latency through each proxy profile", figure_latency_by_proxy),
    Chart("12_idle_timeout", "idle connections against a proxy's timeout", figure_idle_timeout),
)

CHAT_CHARTS = (
    Chart("13_chat_latency", "how a chat answer arrives", figure_chat_latency),
    Chart("14_chat_requests", "requests per chat answer", figure_chat_requests),
)

SERVER_CHARTS = (Chart("15_servers", "the same transport on different servers", figure_servers),)


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
    direct = run.direct()
    # Not even listed as skipped on a one-server run, so that its report reads as before.
    several = len({r.server for r in run.rows}) > 1
    chosen = CHARTS + PROXY_CHARTS + CHAT_CHARTS + (SERVER_CHARTS if several else ())
    for chart in chosen:
        try:
            fig = chart.figure(direct if chart in CHARTS else run)
        except MissingData as missing:
            result.skipped[chart.name] = str(missing)
            continue
        result.drawn += save(fig, out_dir, chart.name, formats)
    return result
