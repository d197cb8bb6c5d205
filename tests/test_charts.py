"""Tests for lab.charts, on two runs in tests/fixtures.

run_small: rate 2 events/s (Poisson), 60 s cells; the three transports at 10 and 100 users,
plus short polling at 100 users every 0.5 s (client-bound) and 2 s; long polling at 100
users lost 35 events; Locust stats histories for the three 100-user cells.

run_sweep: the summary.csv of the reference sweep (`lab bench --preset reference`): the three
transports at 100 users and 0.2, 1 and 5 events/s, three repeats each; 10 and 1,000 users at
1 event/s; short polling every 0.5, 2 and 5 s; and 50 and 200 ms of network round trip.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from rows import chat_summary

from lab import charts
from lab.charts import CHARTS, draw_all
from lab.charts.chat import figure_chat_latency, figure_chat_requests
from lab.charts.latency import figure_latency_vs_users
from lab.charts.over_time import figure_latency_over_time
from lab.charts.rates import figure_server_cpu_vs_rate
from lab.charts.style import (
    CLIENT_BOUND_LABEL,
    LOST_COLOR,
    LOST_LABEL,
    TRANSPORT_COLORS,
    MissingData,
)
from lab.names import CHAT_TRANSPORTS, TRANSPORT_LABELS, transport_label
from lab.run_folder import Run, read_run

FIXTURE = Path(__file__).parent / "fixtures" / "run_small"
SWEEP = Path(__file__).parent / "fixtures" / "run_sweep"
SWEEP_CHARTS = ("01_requests_per_event", "02_bytes_vs_rate", "03_server_cpu_vs_rate")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WHITE = to_rgba("white")


@pytest.fixture(scope="module")
def run() -> Run:
    return read_run(FIXTURE)


@pytest.fixture(scope="module")
def sweep() -> Run:
    return read_run(SWEEP)


@pytest.fixture(scope="module")
def figures(run, sweep):
    """Every chart's Figure, built once for the module: the charts of a rate or round-trip
    sweep from run_sweep, the others from run_small."""
    return {
        chart.name: chart.figure(
            sweep if chart.name in (*SWEEP_CHARTS, "06_latency_vs_rtt") else run
        )
        for chart in CHARTS
    }


@pytest.fixture(scope="module")
def drawn(tmp_path_factory, run):
    out = tmp_path_factory.mktemp("charts")
    return out, draw_all(run, out_dir=out)


@pytest.fixture
def saved(monkeypatch):
    """Replaces saving with a record of what would be saved where (rendering is slow)."""
    calls = []

    def fake_save(fig, out_dir, name, formats=("png",)):
        calls.append((Path(out_dir), name))
        return [Path(out_dir) / f"{name}.{fmt}" for fmt in formats]

    monkeypatch.setattr(charts, "save", fake_save)
    return calls


def title(fig) -> str:
    return " ".join(fig.get_suptitle().split())


def subtitle(fig) -> str:
    return " ".join(fig.axes[0].get_title().split())


def legend_texts(fig) -> list[str]:
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
    return [text.get_text() for legend in legends for text in legend.get_texts()]


NO_PROXY = {
    "11_latency_by_proxy": "no cell was measured through a proxy (--via nginx:PROFILE)",
    "12_idle_timeout": "no idle-timeout cells (they come with --via nginx:short-timeout)",
    "13_chat_latency": "no chat cell in this run (lab bench --chat)",
    "14_chat_requests": "no chat cell in this run (lab bench --chat)",
}
"""The proxy and chat charts, which the fixture run (all direct, all ticker) skips."""


def copy_fixture(tmp_path: Path, leave_out: str = "") -> Path:
    target = tmp_path / "run"
    shutil.copytree(FIXTURE, target)
    if leave_out:
        for path in target.glob(leave_out):
            path.unlink()
    return target


# --- drawing everything ---------------------------------------------------------------------


def test_draw_all_draws_every_chart_the_run_has_data_for(drawn):
    out, result = drawn
    names = [chart.name for chart in CHARTS if chart.name != "06_latency_vs_rtt"]
    assert result.drawn == [out / f"{name}.png" for name in names]
    assert result.skipped == {
        "06_latency_vs_rtt": "no transport was measured at more than one round trip (--rtt)",
        **NO_PROXY,
    }
    for path in result.drawn:
        assert path.stat().st_size > 20_000, path
        assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_charts_are_saved_where_they_are_told_also_as_svg(figures, tmp_path):
    png, _svg = charts.save(
        figures["08_bytes_per_event"], tmp_path, "08_bytes_per_event", formats=("png", "svg")
    )
    path = png
    assert path == tmp_path / "08_bytes_per_event.png"
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    svg = (tmp_path / "08_bytes_per_event.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


def test_draw_all_writes_into_the_run_folder_by_default(saved, run):
    written = draw_all(run, formats=("png", "svg")).drawn
    drawn = [chart.name for chart in CHARTS if chart.name != "06_latency_vs_rtt"]
    assert len(written) == 2 * len(drawn)
    assert saved == [(FIXTURE / "charts", name) for name in drawn]


@pytest.mark.parametrize(
    ("leave_out", "skipped", "reason"),
    [
        pytest.param(
            "*_stats_history.csv",
            "10_latency_over_time",
            "no Locust stats history",
            id="no stats history",
        ),
        pytest.param("events.csv", "05_latency_cdf", "no events.csv", id="no events.csv"),
    ],
)
def test_missing_data_skips_a_chart_and_says_why(tmp_path, saved, leave_out, skipped, reason):
    folder = copy_fixture(tmp_path, leave_out)
    result = draw_all(read_run(folder), out_dir=tmp_path / "out")
    assert sorted(p.stem for p in result.drawn) == sorted(
        c.name for c in CHARTS if c.name not in (skipped, "06_latency_vs_rtt")
    )
    assert sorted(result.skipped) == sorted([skipped, "06_latency_vs_rtt", *NO_PROXY])
    assert reason in result.skipped[skipped]


def test_a_transport_without_stats_history_leaves_its_panel_out(run):
    partial = Run(
        run.path,
        run.rows,
        run.events,
        {k: v for k, v in run.history.items() if not k.startswith("sse")},
    )
    fig = figure_latency_over_time(partial)
    headings = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert [h.split(",")[0] for h in headings] == ["Short polling", "Long polling"]
    assert "(SSE)" not in title(fig)


# --- titles state findings computed from the data -------------------------------------------


@pytest.mark.parametrize(
    ("chart", "in_title", "in_subtitle"),
    [
        # run_sweep, short polling at 100 users every 1 s, requests per event at 0.2/s over
        # three repeats: 4.29, 10.0 and 7.52 (median 7.52); at 5/s: 0.21, 0.213, 0.199
        pytest.param(
            "01_requests_per_event",
            [
                "Short polling makes 7.52 requests per event at λT = 0.2 and 0.21 at 5",
                "long polling 1.00 at every rate and SSE 0",
            ],
            ["every 1 s (squares: every 0.5 s, 2 s and 5 s at 1 event/s)", "held 7, 3 and 4"],
            id="1 requests per event",
        ),
        pytest.param(
            "02_bytes_vs_rate",
            [
                "Short polling spends 2,291 bytes per event at 0.2 events/s, 152 at 5/s",
                "long polling 395–401 at every rate and SSE 123–127 at every rate",
            ],
            ["JSON is 86 B"],
            id="2 bytes",
        ),
        pytest.param(
            "03_server_cpu_vs_rate",
            [
                "At 0.2 events/s the server spends 6,696 µs per delivered event on short "
                "polling, 31.9 µs on SSE (210×)"
            ],
            ["100 users", "No theory line"],
            id="3 cpu",
        ),
        pytest.param(
            "04_latency_vs_users",
            [
                "At 100 users SSE delivers in 1.90 ms",
                "short polling waits about half its 1 s interval (502 ms)",
            ],
            ["short polling 991 ms", "long polling 24.6 ms", "SSE 11.8 ms"],
            id="4 latency",
        ),
        # events.csv at 100 users: 99th percentiles 9.03 ms (SSE) and 989 ms (short polling)
        pytest.param(
            "05_latency_cdf",
            ["At 100 users 99% of SSE events arrive within 9.03 ms", "short polling needs 989 ms"],
            ["short polling 532 ms", "long polling 4.54 ms", "SSE 1.98 ms"],
            id="5 distribution",
        ),
        pytest.param(
            "06_latency_vs_rtt",
            [
                "With 200 ms of round trip: short polling 621 ms, long polling 119 ms and SSE "
                "106 ms (on loopback: 494 ms, 12.1 ms and 2.93 ms)"
            ],
            ["100 users, 1 event/s; short polling every 1 s"],
            id="6 round trip",
        ),
        pytest.param(
            "07_requests_vs_users",
            ["At 100 users long polling makes 201 requests/s", "short polling 100 and SSE 1.67"],
            ["long polling 1.01 per event", "100 ÷ 1 s"],
            id="7 requests",
        ),
        pytest.param(
            "08_bytes_per_event",
            ["SSE puts 132 bytes on the wire per event", "long polling 362 (73.8% of it overhead)"],
            ["at 100 users", "JSON is 95 B"],
            id="8 bytes",
        ),
        pytest.param(
            "09_empty_polls",
            ["the fewer empty polls: 37.2% at 1 event, 1.83% at 4 events"],
            ["2 events/s", "every 0.5 s, 1 s and 2 s"],
            id="9 empty polls",
        ),
        pytest.param(
            "10_latency_over_time",
            [
                "median holds at 510 ms (short polling), 4 ms (long polling) and 2 ms (SSE)",
                "p99 climbs for long polling (18 ms → 28 ms)",
            ],
            [],
            id="10 over time",
        ),
    ],
)
def test_titles_state_the_finding_with_numbers(figures, chart, in_title, in_subtitle):
    fig = figures[chart]
    for text in in_title:
        assert text in title(fig)
    for text in in_subtitle:
        assert text in subtitle(fig)


def _edited(folder: Path, cells: dict[str, dict[str, str]]) -> Run:
    summary = folder / "summary.csv"
    with open(summary, newline="") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        row.update(cells.get(row["cell"], {}))
    with open(summary, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return read_run(folder)


def with_websocket_beside_sse(tmp_path: Path, cpu_factor: float) -> Run:
    """The sweep fixture plus a WebSocket row for each SSE row, its CPU per event
    `cpu_factor` times SSE's (the fixture predates WebSocket)."""
    folder = tmp_path / "sweep"
    shutil.copytree(SWEEP, folder)
    summary = folder / "summary.csv"
    with open(summary, newline="") as file:
        rows = list(csv.DictReader(file))
    for row in [r for r in rows if r["transport"] == "sse"]:
        cost = float(row["server_cpu_us_per_event"]) * cpu_factor
        rows.append(
            row
            | {
                "cell": row["cell"].replace("sse", "websocket"),
                "transport": "websocket",
                "server_cpu_us_per_event": f"{cost:.3f}",
            }
        )
    with open(summary, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return read_run(folder)


@pytest.mark.parametrize("cpu_factor", [1.0, 1.7, 3.0])
def test_value_labels_of_close_transports_do_not_write_over_each_other(tmp_path, cpu_factor):
    fig = figure_server_cpu_vs_rate(with_websocket_beside_sse(tmp_path, cpu_factor))
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    labels = [t for t in fig.axes[0].texts if t.get_text().endswith(" µs")]
    assert len(labels) >= 6
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in labels]
    for i, (text, box) in enumerate(boxes):
        for other, other_box in boxes[i + 1 :]:
            assert not box.overlaps(other_box), f"{text!r} and {other!r} overlap"


def test_titles_follow_the_data(tmp_path):
    changed = _edited(copy_fixture(tmp_path), {"sse-u100-r2": {"latency_p50_ms": "2.7"}})
    assert "At 100 users SSE delivers in 2.70 ms" in title(figure_latency_vs_users(changed))
    sweep_copy = tmp_path / "sweep"
    shutil.copytree(SWEEP, sweep_copy)
    # the median of the three SSE repeats at 0.2 events/s moves from 31.9 to 66.9 µs
    changed = _edited(
        sweep_copy,
        {
            "sse-u100-r0.2-n2": {"server_cpu_us_per_event": "66.9"},
            "sse-u100-r0.2-n3": {"server_cpu_us_per_event": "70.0"},
        },
    )
    fig = figure_server_cpu_vs_rate(changed)
    assert "66.9 µs on SSE (100×)" in title(fig)


# --- flagged cells are drawn differently, never hidden --------------------------------------


def lines_with_gid(fig, prefix: str) -> list[Line2D]:
    return [
        line
        for ax in fig.axes
        for line in ax.get_lines()
        if (line.get_gid() or "").startswith(prefix)
    ]


def test_lost_events_are_hollow_markers_with_a_red_cross_and_a_label(figures):
    fig = figures["04_latency_vs_users"]
    flagged = lines_with_gid(fig, "flagged:lost:long_polling-u100-r2")
    assert len(flagged) == 2  # the median and the p99 point
    for line in flagged:
        assert to_rgba(line.get_markerfacecolor()) == WHITE
        assert to_rgba(line.get_markeredgecolor()) == to_rgba(TRANSPORT_COLORS["long_polling"])
    crosses = lines_with_gid(fig, "lost-mark:long_polling-u100-r2")
    assert len(crosses) == 2
    assert all(c.get_marker() == "x" and c.get_color() == LOST_COLOR for c in crosses)
    clean = lines_with_gid(fig, "clean:long_polling")[0]
    assert to_rgba(clean.get_markerfacecolor()) == to_rgba(TRANSPORT_COLORS["long_polling"])
    assert LOST_LABEL in legend_texts(fig)
    notes = [t.get_text() for t in fig.axes[0].texts]
    assert "35 lost" in notes


def test_client_bound_cells_are_hollow_with_a_label(figures):
    fig = figures["09_empty_polls"]
    (flagged,) = lines_with_gid(fig, "flagged:client_bound:short_polling-u100-r2-i0.5")
    assert to_rgba(flagged.get_markerfacecolor()) == WHITE
    assert to_rgba(flagged.get_markeredgecolor()) == to_rgba(TRANSPORT_COLORS["short_polling"])
    assert CLIENT_BOUND_LABEL in legend_texts(fig)
    assert any("client-bound" in t.get_text() for t in fig.axes[0].texts)
    # every short-polling cell is on the chart, the flagged one included
    points = lines_with_gid(fig, "clean:short_polling") + [flagged]
    assert sum(len(line.get_xdata()) for line in points) == 4


def test_flagged_bars_are_hollow(figures):
    fig = figures["08_bytes_per_event"]
    bars = [
        p
        for p in fig.axes[0].patches
        if isinstance(p, Rectangle) and (p.get_gid() or "").startswith("flagged:lost:")
    ]
    assert len(bars) == 2  # payload and overhead of the long-polling bar
    assert all(bar.get_facecolor() == WHITE for bar in bars)
    assert lines_with_gid(fig, "lost-mark:long_polling-u100-r2")
    payload = next(p for p in fig.axes[0].patches if p.get_gid() == "payload:sse")
    assert payload.get_facecolor() == to_rgba(TRANSPORT_COLORS["sse"])


def test_flagged_distributions_are_dashed(figures):
    fig = figures["05_latency_cdf"]
    (flagged,) = lines_with_gid(fig, "flagged:lost:long_polling-u100-r2")
    assert flagged.get_linestyle() == "--"
    assert any(t.endswith(": 35 lost") for t in legend_texts(fig))


# --- one look across the charts -------------------------------------------------------------


@pytest.mark.parametrize(
    "chart",
    ["01_requests_per_event", "02_bytes_vs_rate", "06_latency_vs_rtt", "07_requests_vs_users"],
)
def test_theory_lines_are_dashed_in_the_transports_colour_and_named(figures, chart):
    fig = figures[chart]
    # The fixture run predates WebSocket: its three transports have theory lines.
    for transport, color in TRANSPORT_COLORS.items():
        if transport == "websocket":
            continue
        (line,) = lines_with_gid(fig, f"theory:{transport}")
        assert to_rgba(line.get_color(), alpha=1) == to_rgba(color)
        assert line.get_linestyle() == "--"
        assert any(
            t.startswith(f"{transport_label(transport, True)} theory") for t in legend_texts(fig)
        ), f"{chart}: no legend entry for {transport}'s theory"


@pytest.mark.parametrize("chart", ["01_requests_per_event", "07_requests_vs_users"])
def test_zero_requests_can_be_drawn_on_the_request_charts(figures, chart):
    ax = figures[chart].axes[0]
    assert ax.get_yscale() == "symlog" and ax.get_ylim()[0] == 0


def test_sse_s_zero_requests_per_event_are_drawn_not_lost_off_a_log_axis(figures):
    points = lines_with_gid(figures["01_requests_per_event"], "clean:sse")
    assert points and all(y == 0 for line in points for y in line.get_ydata())


def test_repeats_are_drawn_as_their_median_with_the_range(figures):
    fig = figures["01_requests_per_event"]
    (bars,) = [c for c in fig.axes[0].containers if c.get_label() == "spread:short_polling"]
    # the bar at λT = 0.2 runs from the lowest repeat (4.29) to the highest (10.02)
    segments = [seg for collection in bars.lines[2] for seg in collection.get_segments()]
    spans = {(round(a[1], 2), round(b[1], 2)) for a, b in segments}
    assert (4.29, 10.02) in spans
    assert "median of 3 repeats, bar: range" in legend_texts(fig)


def test_colours_and_labels_are_the_lab_s():
    assert TRANSPORT_COLORS == {
        "short_polling": "#1f77b4",
        "long_polling": "#ff7f0e",
        "sse": "#2ca02c",
        "websocket": "#9467bd",
    }
    assert set(TRANSPORT_LABELS) == set(TRANSPORT_COLORS)


@pytest.mark.parametrize("chart", [c.name for c in CHARTS])
def test_readable_on_a_projector(figures, chart):
    fig = figures[chart]
    width, height = fig.get_size_inches()
    assert 9 <= width <= 11 and height == 5.5
    FigureCanvasAgg(fig).draw()  # creates the tick labels
    assert fig.get_suptitle()
    texts = [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]
    small = {t.get_text(): t.get_fontsize() for t in texts if t.get_fontsize() < 11}
    assert not small
    ax = fig.axes[0]
    assert ax.get_ylabel()
    assert ax.get_xlabel() or chart == "08_bytes_per_event"  # there the bars are named
    assert legend_texts(fig)
    for axis, label in ((ax.xaxis, ax.get_xlabel()), (ax.yaxis, ax.get_ylabel())):
        if axis.get_scale() in ("log", "symlog"):
            assert "log" in label, f"{chart}: a log axis must say so: {label!r}"


# --- chat answers ---------------------------------------------------------------------------


def chat_only_run(tmp_path: Path, **sse_values) -> Run:
    rows = [
        chat_summary(t, u, **(sse_values if t == "sse" else {}))
        for t in CHAT_TRANSPORTS
        for u in (1, 10, 100)
    ]
    return Run(path=tmp_path, rows=[], chat=rows)


def test_the_chat_charts_state_what_each_transport_did(tmp_path):
    run = chat_only_run(tmp_path)
    latency = figure_chat_latency(run)
    assert title(latency) == (
        "The model makes its first token in 400 ms; users had it after 1.01 s over short "
        "polling, 405 ms over long polling and 402 ms over SSE (median, 100 users)"
    )
    # Three panels; the gaps' is linear, so that short polling's gap of 0 is drawn.
    first, delay, gap = latency.axes[:3]
    assert (first.get_yscale(), delay.get_yscale(), gap.get_yscale()) == ("linear", "log", "linear")
    drawn = [y for line in gap.get_lines() for y in line.get_ydata()]
    assert 0.0 in drawn and 1000.0 in drawn
    requests = figure_chat_requests(run)
    assert title(requests) == "Requests per answer: short polling 4.00, long polling 31.0, SSE 1.00"
    assert "once every 1 s while the answer lasts" in subtitle(requests)


def test_a_flagged_chat_cell_is_drawn_hollow(tmp_path):
    fig = figure_chat_requests(chat_only_run(tmp_path, errors=2))
    flagged = [line.get_gid() for line in fig.axes[0].get_lines() if line.get_gid()]
    assert "flagged:lost:chat-sse-u10" in flagged


def test_without_chat_cells_the_chat_charts_say_so(tmp_path):
    for figure in (figure_chat_latency, figure_chat_requests):
        with pytest.raises(MissingData, match="no chat cell in this run"):
            figure(Run(path=tmp_path, rows=[]))
