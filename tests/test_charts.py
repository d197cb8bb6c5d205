"""Tests for lab.charts, on the small run in tests/fixtures/run_small.

The fixture: rate 2 events/s (Poisson), 60 s cells; the three transports at 10 and 100 users,
plus short polling at 100 users every 0.5 s (client-bound) and 2 s; long polling at 100
users lost 35 events; Locust stats histories for the three 100-user cells.
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

from lab import charts
from lab.charts import CHARTS, draw_all
from lab.charts.costs import figure_server_cpu_per_event
from lab.charts.latency import figure_latency_vs_users
from lab.charts.over_time import figure_latency_over_time
from lab.charts.style import CLIENT_BOUND_LABEL, LOST_COLOR, LOST_LABEL, TRANSPORT_COLORS
from lab.names import TRANSPORT_LABELS
from lab.run_folder import Run, read_run

FIXTURE = Path(__file__).parent / "fixtures" / "run_small"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WHITE = to_rgba("white")


@pytest.fixture(scope="module")
def run() -> Run:
    return read_run(FIXTURE)


@pytest.fixture(scope="module")
def figures(run):
    """Every chart's Figure, built once for the module."""
    return {chart.name: chart.figure(run) for chart in CHARTS}


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


def copy_fixture(tmp_path: Path, leave_out: str = "") -> Path:
    target = tmp_path / "run"
    shutil.copytree(FIXTURE, target)
    if leave_out:
        for path in target.glob(leave_out):
            path.unlink()
    return target


# --- drawing everything ---------------------------------------------------------------------


def test_draw_all_draws_every_chart(drawn):
    out, result = drawn
    names = [chart.name for chart in CHARTS]
    assert result.drawn == [out / f"{name}.png" for name in names]
    assert result.skipped == {}
    for path in result.drawn:
        assert path.stat().st_size > 20_000, path
        assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_charts_are_saved_where_they_are_told_also_as_svg(figures, tmp_path):
    png, _svg = charts.save(
        figures["04_bytes_per_event"], tmp_path, "04_bytes_per_event", formats=("png", "svg")
    )
    path = png
    assert path == tmp_path / "04_bytes_per_event.png"
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    svg = (tmp_path / "04_bytes_per_event.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


def test_draw_all_writes_into_the_run_folder_by_default(saved, run):
    written = draw_all(run, formats=("png", "svg")).drawn
    assert len(written) == 2 * len(CHARTS)
    assert saved == [(FIXTURE / "charts", chart.name) for chart in CHARTS]


@pytest.mark.parametrize(
    ("leave_out", "skipped", "reason"),
    [
        pytest.param(
            "*_stats_history.csv",
            "07_latency_over_time",
            "no Locust stats history",
            id="no stats history",
        ),
        pytest.param("events.csv", "02_latency_cdf", "no events.csv", id="no events.csv"),
    ],
)
def test_missing_data_skips_a_chart_and_says_why(tmp_path, saved, leave_out, skipped, reason):
    folder = copy_fixture(tmp_path, leave_out)
    result = draw_all(read_run(folder), out_dir=tmp_path / "out")
    assert sorted(p.stem for p in result.drawn) == sorted(
        c.name for c in CHARTS if c.name != skipped
    )
    assert list(result.skipped) == [skipped]
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
        pytest.param(
            "01_latency_vs_users",
            [
                "At 100 users SSE delivers in 1.90 ms",
                "short polling waits about half its 1 s interval (502 ms)",
            ],
            ["short polling 991 ms", "long polling 24.6 ms", "SSE 11.8 ms"],
            id="1 latency",
        ),
        # events.csv at 100 users: 99th percentiles 9.03 ms (SSE) and 989 ms (short polling)
        pytest.param(
            "02_latency_cdf",
            ["At 100 users 99% of SSE events arrive within 9.03 ms", "short polling needs 989 ms"],
            ["short polling 532 ms", "long polling 4.54 ms", "SSE 1.98 ms"],
            id="2 distribution",
        ),
        pytest.param(
            "03_requests_vs_users",
            ["At 100 users long polling makes 201 requests/s", "short polling 100 and SSE 1.67"],
            ["long polling 1.01 per event", "100 ÷ 1 s"],
            id="3 requests",
        ),
        pytest.param(
            "04_bytes_per_event",
            ["SSE puts 132 bytes on the wire per event", "long polling 362 (73.8% of it overhead)"],
            ["at 100 users", "JSON is 95 B"],
            id="4 bytes",
        ),
        pytest.param(
            "05_server_cpu_per_event",
            [
                "At 100 users the server spends 15.0 µs per event on SSE",
                "176 µs on long polling (12×)",
            ],
            ["CPU time"],
            id="5 cpu",
        ),
        pytest.param(
            "06_empty_polls",
            ["the fewer empty polls: 37.2% at 1 event, 1.83% at 4 events"],
            ["2 events/s", "every 0.5 s, 1 s and 2 s"],
            id="6 empty polls",
        ),
        pytest.param(
            "07_latency_over_time",
            [
                "median holds at 510 ms (short polling), 4 ms (long polling) and 2 ms (SSE)",
                "p99 climbs for long polling (18 ms → 28 ms)",
            ],
            [],
            id="7 over time",
        ),
    ],
)
def test_titles_state_the_finding_with_numbers(figures, chart, in_title, in_subtitle):
    fig = figures[chart]
    for text in in_title:
        assert text in title(fig)
    for text in in_subtitle:
        assert text in subtitle(fig)


def test_titles_follow_the_data(tmp_path):
    folder = copy_fixture(tmp_path)
    summary = folder / "summary.csv"
    with open(summary, newline="") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        if row["cell"] == "sse-u100-r2":
            row["latency_p50_ms"] = "2.7"
            row["server_cpu_us_per_event"] = "44.0"
    with open(summary, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    changed = read_run(folder)
    assert "At 100 users SSE delivers in 2.70 ms" in title(figure_latency_vs_users(changed))
    assert "44.0 µs per event on SSE" in title(figure_server_cpu_per_event(changed))
    assert "(4×)" in title(figure_server_cpu_per_event(changed))


# --- flagged cells are drawn differently, never hidden --------------------------------------


def lines_with_gid(fig, prefix: str) -> list[Line2D]:
    return [
        line
        for ax in fig.axes
        for line in ax.get_lines()
        if (line.get_gid() or "").startswith(prefix)
    ]


def test_lost_events_are_hollow_markers_with_a_red_cross_and_a_label(figures):
    fig = figures["01_latency_vs_users"]
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
    fig = figures["06_empty_polls"]
    (flagged,) = lines_with_gid(fig, "flagged:client_bound:short_polling-u100-r2-i0.5")
    assert to_rgba(flagged.get_markerfacecolor()) == WHITE
    assert to_rgba(flagged.get_markeredgecolor()) == to_rgba(TRANSPORT_COLORS["short_polling"])
    assert CLIENT_BOUND_LABEL in legend_texts(fig)
    assert any("client-bound" in t.get_text() for t in fig.axes[0].texts)
    # every short-polling cell is on the chart, the flagged one included
    points = lines_with_gid(fig, "clean:short_polling") + [flagged]
    assert sum(len(line.get_xdata()) for line in points) == 4


def test_flagged_bars_are_hollow(figures):
    fig = figures["04_bytes_per_event"]
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
    fig = figures["02_latency_cdf"]
    (flagged,) = lines_with_gid(fig, "flagged:lost:long_polling-u100-r2")
    assert flagged.get_linestyle() == "--"
    assert any(t.endswith(": 35 lost") for t in legend_texts(fig))


# --- one look across the charts -------------------------------------------------------------


def test_theory_lines_are_dashed_in_the_transports_colour(figures):
    fig = figures["03_requests_vs_users"]
    for transport, color in TRANSPORT_COLORS.items():
        (line,) = lines_with_gid(fig, f"theory:{transport}")
        assert to_rgba(line.get_color(), alpha=1) == to_rgba(color)
        assert line.get_linestyle() == "--"


def test_colours_and_labels_are_the_lab_s():
    assert TRANSPORT_COLORS == {
        "short_polling": "#1f77b4",
        "long_polling": "#ff7f0e",
        "sse": "#2ca02c",
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
    assert ax.get_xlabel() or chart == "04_bytes_per_event"  # there the bars are named
    assert legend_texts(fig)
