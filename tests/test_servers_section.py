"""lab.servers_section and lab.charts.servers: the report's servers section and its chart,
on rows built here; and a one-server run (the fixture, from before the `server` column)
reported exactly as before."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.text import Text
from rows import on_server, refused

from lab import charts, report
from lab.charts.servers import figure_servers
from lab.charts.style import MissingData
from lab.run_folder import Run, read_run
from lab.servers_section import servers_section

FIXTURE = Path(__file__).parent / "fixtures" / "run_small"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WHITE = to_rgba("white")
WRITTEN = datetime(2026, 1, 1, tzinfo=UTC)

COSTS = {
    # server: (CPU µs per delivery, KB per user, p99 ms at 100 / 1,000 / 2,000 users)
    "lab": (7.0, 1.5, (20.0, 60.0, 95.0)),
    "fastapi": (30.0, 6.0, (25.0, 70.0, 300.0)),
    "fastapi-three-yields": (45.0, 7.0, (30.0, 85.0, 400.0)),
    "django-asgi": (50.0, 9.0, (35.0, 90.0, 500.0)),
    "flask-threaded": (25.0, 40.0, (30.0, 80.0, 150.0)),
}


def cell(server: str, transport: str, users: int, p99: float, **values):
    cpu, kb, _ = COSTS.get(server, (60.0, 300.0, ()))
    figures = {
        "latency_p50_ms": p99 / 4,
        "latency_p99_ms": p99,
        "server_cpu_us_per_event": cpu,
        "server_rss_per_user_kb": kb,
    }
    return on_server(server, transport, users, **(figures | values))


def servers_rows(**lab_values):
    rows = [
        cell(server, "sse", users, p99, **(lab_values if server == "lab" else {}))
        for server, (_cpu, _kb, p99s) in COSTS.items()
        for users, p99 in zip((100, 1000, 2000), p99s, strict=True)
    ]
    rows += [cell(s, "long_polling", 100, 30.0) for s in ("lab", "fastapi")]
    rows += [
        cell("django-wsgi", "sse", 1, 8.0),
        cell("django-wsgi", "sse", 4, 9.0),
        refused("django-wsgi", "sse", 10, 5),
    ]
    return rows


def servers_run(tmp_path: Path, manifest: dict | None = None, **lab_values) -> Run:
    return Run(path=tmp_path, rows=servers_rows(**lab_values), manifest=manifest or {})


def text_of(lines: list[str]) -> str:
    return "\n".join(lines)


# --- a run with one server ------------------------------------------------------------------


def test_no_section_and_no_chart_for_a_one_server_run(tmp_path, monkeypatch):
    run = read_run(FIXTURE)
    assert {r.server for r in run.rows} == {"lab"}, "a run from before the column is the lab's"
    assert servers_section(run) == []
    monkeypatch.setattr(charts, "save", lambda fig, out, name, formats=("png",): [out / name])
    result = charts.draw_all(run, out_dir=tmp_path)
    assert "15_servers" not in {p.name for p in result.drawn} | set(result.skipped)


def test_a_run_from_before_the_server_column_reports_exactly_as_before(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE, run_dir)
    run = read_run(run_dir)
    drawn = [run_dir / "charts" / f"{c.name}.png" for c in charts.CHARTS]
    text = report.render_report(run, drawn, {}, WRITTEN)
    monkeypatch.setattr(report, "servers_section", lambda *args: [])
    assert text == report.render_report(run, drawn, {}, WRITTEN)
    assert "## Servers" not in text


# --- the section ----------------------------------------------------------------------------


def test_the_section_says_what_was_compared_on_which_cpus(tmp_path):
    run = servers_run(tmp_path, {"server_cpus": [2, 3], "load_cpus": [0, 1]})
    text = text_of(servers_section(run, [tmp_path / "charts" / "15_servers.png"]))
    assert text.startswith("## Servers")
    assert (
        "The same cells ran on 6 servers, the lab's own gevent server, fastapi, "
        "fastapi-three-yields, django-asgi, django-wsgi and flask-threaded: long polling and "
        "SSE at 1, 4, 10, 100, 1,000 and 2,000 users and 1 event/s to each user"
    ) in text
    assert "Each server had the same CPUs, 2 and 3, and the load generator had 0 and 1." in text
    assert "- **django-wsgi**: Django's StreamingHttpResponse with a sync generator" in text
    assert "![the same transport on different servers](charts/15_servers.png)" in text


def test_without_server_cpus_the_section_says_the_servers_were_not_pinned(tmp_path):
    text = text_of(servers_section(servers_run(tmp_path), [], {"15_servers": "no data"}))
    assert "manifest.json has no `server_cpus`" in text
    assert "*Not drawn: no data.*" in text


def test_one_table_per_transport_with_each_server_at_each_count(tmp_path):
    text = text_of(servers_section(servers_run(tmp_path)))
    sse = text.split("### SSE on each server", 1)[1].split("\n### ", 1)[0]
    lines = [line for line in sse.splitlines() if line.startswith("| ")]
    assert lines[0] == (
        "| server | users | connected | p50 ms | p99 ms | server CPU µs/delivery | "
        "server KB/user | client bytes/event | flags |"
    )
    assert "| lab | 2,000 | 2,000 | 23.8 | 95.0 | 7.00 | 1.50 | 60.0 |  |" in lines
    assert (
        "| django-wsgi | 10 | 5 | – | – | – | – | 60.0 | **⚠ 5 of 10 connected, not measured** |"
    ) in lines
    # at each user count, the lab's row first
    assert [line.split(" | ")[0] for line in lines[2:4]] == ["| django-wsgi", "| django-wsgi"]
    assert lines.index("| lab | 100 | 100 | 5.00 | 20.0 | 7.00 | 1.50 | 60.0 |  |") < next(
        i for i, line in enumerate(lines) if line.startswith("| fastapi | 100 |")
    )
    polls = text.split("### Long polling on each server", 1)[1].split("\n### ", 1)[0]
    assert polls.count("| lab |") == 1 and polls.count("| fastapi |") == 1


def test_the_claims_checks_and_why_are_in_the_section(tmp_path):
    text = text_of(servers_section(servers_run(tmp_path)))
    for number in (1, 2, 3):
        assert f"#### S{number}. “" in text
    assert text.count("**Verdict: holds.**") == 3
    assert "- **The lab's server spends at least 3× less CPU per SSE delivery than fastapi.** " in (
        text
    )
    assert "— **met**." in text
    assert "No peer beat the lab on any measured cell" in text
    why = text.split("### Why the servers differ", 1)[1]
    assert "The lab's server spent 4.29× less CPU per SSE delivery than fastapi" in why
    assert "Three yields per event cost 1.50× one" in why
    assert "django-wsgi held 4 streams but let only 5 of 10 connect" in why
    assert "flask-threaded held 40.0 KB of memory per stream against the lab's 1.50 KB" in why


def test_the_why_follows_the_figures_when_the_lab_is_not_cheaper(tmp_path):
    text = text_of(servers_section(servers_run(tmp_path, server_cpu_us_per_event=40.0)))
    assert "— **not met**." in text
    assert (
        "the lab's server was not cheaper per SSE delivery than fastapi (it spent 1.33× as much)"
        in text
    )
    assert "- fastapi, SSE, 1,000 users: CPU per delivery 30.0 µs against the lab's 40.0 µs" in (
        text
    )


# --- the chart ------------------------------------------------------------------------------


def visible_texts(fig) -> list[Text]:
    FigureCanvasAgg(fig).draw()
    return [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]


def test_the_chart_is_drawn_with_a_server_that_never_connected(tmp_path):
    rows = [*servers_rows(), refused("flask-threaded", "long_polling", 100, 0)]
    rows = [r for r in rows if r.server != "django-wsgi"] + [refused("django-wsgi", "sse", 1, 0)]
    (path,) = charts.save(figure_servers(Run(path=tmp_path, rows=rows)), tmp_path, "15_servers")
    assert path.stat().st_size > 20_000
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_the_chart_writes_why_a_server_has_no_bar(tmp_path):
    fig = figure_servers(servers_run(tmp_path))
    texts = [" ".join(t.get_text().split()) for t in visible_texts(fig)]
    assert texts.count("did not connect at 10 users (5 of 10 connected)") == 2
    assert "2,000/s (2,000 users)" in texts and "4.00/s (4 users)" in texts
    assert "7.00 µs" in texts and "40.0 KB" in texts
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles[1] == "Server CPU per delivery\nat 2,000 users"
    title = " ".join(fig.get_suptitle().split())
    assert title.startswith("SSE at 1 event/s to each user, on 6 servers: at 2,000 users")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [
        "lab",
        "fastapi",
        "fastapi-three-yields",
        "django-asgi",
        "django-wsgi",
        "flask-threaded",
    ]


def test_a_server_with_no_cell_under_the_bound_says_so(tmp_path):
    rows = [cell("lab", "sse", 100, 20.0), cell("fastapi", "sse", 100, 250.0)]
    texts = [t.get_text() for t in visible_texts(figure_servers(Run(tmp_path, rows)))]
    assert "none with p99 under 100 ms" in texts


def test_the_chart_is_readable_on_a_projector(tmp_path):
    fig = figure_servers(servers_run(tmp_path))
    assert tuple(fig.get_size_inches()) == (11.0, 5.5)
    small = {t.get_text(): t.get_fontsize() for t in visible_texts(fig) if t.get_fontsize() < 11}
    assert not small
    assert all(ax.get_xlabel() for ax in fig.axes) and fig.legends


def test_one_server_has_no_chart(tmp_path):
    with pytest.raises(MissingData, match="more than one server"):
        figure_servers(Run(tmp_path, [cell("lab", "sse", 100, 20.0)]))


def test_draw_all_draws_the_chart_when_the_run_has_several_servers(tmp_path, monkeypatch):
    monkeypatch.setattr(charts, "save", lambda fig, out, name, formats=("png",): [out / name])
    result = charts.draw_all(servers_run(tmp_path), out_dir=tmp_path)
    assert tmp_path / "15_servers" in result.drawn


def test_a_flagged_cell_is_a_hollow_bar_with_its_reason(tmp_path):
    rows = [
        replace(r, client_cpu_percent=95.0) if (r.server, r.users) == ("fastapi", 2000) else r
        for r in servers_rows()
    ]
    fig = figure_servers(Run(tmp_path, rows))
    hollow = [
        p
        for p in fig.axes[1].patches
        if p.get_gid() == "bar:fastapi" and p.get_facecolor() == WHITE
    ]
    assert hollow
    assert "30.0 µs\n⚠ client-bound" in [t.get_text() for t in visible_texts(fig)]
