"""Tests for lab.report: report.md on the fixture run, and `lab report`."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rows import chat_summary, summary, with_values

from lab import charts, report, run_folder
from lab.claims import DOES_NOT_HOLD, HOLDS, NOT_MEASURED, depends_on
from lab.cli import main
from lab.names import CHAT_TRANSPORTS, TRANSPORT_LABELS
from lab.run_folder import read_summary

FIXTURE = Path(__file__).parent / "fixtures" / "run_small"
VERDICTS = {HOLDS, DOES_NOT_HOLD, NOT_MEASURED, depends_on("load")}


# --- report.md ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The fixture run copied to a temporary folder, with its report written."""
    before = sorted(p.name for p in FIXTURE.iterdir())
    run_dir = tmp_path_factory.mktemp("run") / "run_small"
    shutil.copytree(FIXTURE, run_dir)
    path = report.write_report(run_dir)
    assert sorted(p.name for p in FIXTURE.iterdir()) == before, "the fixture was written to"
    return run_dir, path, path.read_text(encoding="utf-8")


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("%", "").strip())


def _table(text: str, heading: str = "## Summary") -> list[dict[str, str]]:
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [h.strip() for h in lines[0].strip("|").split("|")]
    return [
        dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True))
        for line in lines[2:]
    ]


def test_the_report_is_written_in_the_run_folder(written):
    run_dir, path, text = written
    assert path == run_dir / "report.md" and path.is_file()
    assert text.startswith("# ")
    assert "client's clock" in text and "`ts`" in text


def test_the_summary_table_numbers_come_from_summary_csv(written):
    run_dir, _path, text = written
    with open(run_dir / "summary.csv", newline="") as file:
        csv_rows = list(csv.DictReader(file))
    table = _table(text)
    assert len(table) == len(csv_rows)
    columns = {
        "p50 ms": "latency_p50_ms",
        "p99 ms": "latency_p99_ms",
        "requests/s": "requests_per_s",
        "bytes/event": "bytes_per_event",
        "server CPU µs/event": "server_cpu_us_per_event",
    }
    for csv_row in csv_rows:
        label = TRANSPORT_LABELS[csv_row["transport"]]
        interval = f"{float(csv_row['interval_s']):g} s" if csv_row["interval_s"] else "–"
        [line] = [
            t
            for t in table
            if t["transport"] == label
            and t["users"] == csv_row["users"]
            and t["interval"] == interval
        ]
        for header, column in columns.items():
            expected = float(csv_row[column])
            assert _number(line[header]) == pytest.approx(expected, rel=0.01, abs=0.006), (
                csv_row["cell"],
                header,
            )
        if csv_row["empty_share"]:
            assert _number(line["empty polls"]) == pytest.approx(
                100 * float(csv_row["empty_share"]), abs=0.06
            )
        flagged = csv_row["client_bound"].lower() == "true" or int(csv_row["events_lost"]) > 0
        assert ("⚠" in line["flags"]) == flagged, csv_row["cell"]


def test_problem_cells_are_listed_before_the_numbers(written):
    _run_dir, _path, text = written
    problems = text.index("PROBLEMS")
    assert problems < text.index("## Summary")
    block = text[problems : text.index("## Summary")]
    assert "short_polling-u100-r2-i0.5" in block and "client" in block
    assert "long_polling-u100-r2" in block and "35 events lost" in block


def test_every_chart_is_linked_relatively_and_exists(written):
    run_dir, _path, text = written
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    # the small run has no round-trip sweep: that chart is named and said to be missing
    assert {Path(link).stem for link in links} == {
        chart.name for chart in charts.CHARTS if chart.name != "06_latency_vs_rtt"
    }
    assert "no transport was measured at more than one round trip" in text
    for link in links:
        assert link.startswith("charts/") and not Path(link).is_absolute()
        assert (run_dir / link).is_file()


def test_the_six_claims_are_checked_with_computed_verdicts(written):
    _run_dir, _path, text = written
    section = text.split("## Claims checked", 1)[1]
    found = re.findall(r"^### (\d)\. .*?\n\n\*\*Verdict: (.+?)\.\*\*", section, flags=re.M)
    assert [int(n) for n, _v in found] == [1, 2, 3, 4, 5, 6]
    # Worked out by hand from tests/fixtures/run_small/summary.csv:
    # 1. no cell polls every 5 s; 2. 10.0 and 100.0 requests/s at 10 and 100 users polling
    # every 1 s; 3. SSE overhead 37.4 and 37.2 bytes, not about 5; 4. long polling's p50 is
    # 1.6 and 3.9 ms (not 50-400) and SSE's 1.1 and 1.9 ms (not 0.25-1); 5. long polling
    # 180 and 175.5 µs and 1.00 requests per event against SSE's 18.3 and 15.0 µs and 0.008;
    # 6. at 100 users every 0.5, 1 and 2 s: mean delay 265, 502, 1,001 ms rising, 190, 100,
    # 50 requests/s falling.
    assert [v for _n, v in found] == [
        NOT_MEASURED,
        HOLDS,
        DOES_NOT_HOLD,
        DOES_NOT_HOLD,
        HOLDS,
        HOLDS,
    ]
    assert all(v in VERDICTS for _n, v in found)


# --- chat answers ---------------------------------------------------------------------------


def chat_run(folder: Path, with_ticker: bool) -> Path:
    """A run folder with the chat cells of tests/rows.py (and the fixture's ticker cells)."""
    rows = [chat_summary(t, u) for t in CHAT_TRANSPORTS for u in (1, 10)]
    rows[-1] = with_values(rows[-1], errors=3)  # SSE at 10 users
    if with_ticker:
        shutil.copytree(FIXTURE, folder)
        rows = read_summary(folder / "summary.csv") + rows
    folder.mkdir(exist_ok=True)
    run_folder.write_summary(folder, rows)
    return folder


def test_a_chat_run_reports_its_answers_charts_and_claims(tmp_path):
    run_dir = chat_run(tmp_path / "chat", with_ticker=False)
    text = report.write_report(run_dir).read_text(encoding="utf-8")
    assert text.startswith("# Chat answers: run `chat`")
    # Nothing of the ticker's: no empty summary, no six claims "not measured".
    assert "## Summary" not in text and "## Claims checked" not in text
    assert "3 chat cells" not in text and "6 chat cells in summary.csv" in text
    assert "answers of 30 tokens, the first after 400 ms, then 20 a second" in text
    # The flagged cell is listed before the numbers, and flagged in the table.
    assert text.index("chat-sse-u10") < text.index("## Chat answers")
    table = _table(text, "## Chat answers")
    assert [(r["transport"], r["users"]) for r in table][:2] == [
        ("short polling", "1"),
        ("short polling", "10"),
    ]
    assert table[0]["first token p50 ms"] == "1,010" and table[0]["requests/answer"] == "4.00"
    assert "⚠ 3 errors" in table[-1]["flags"]
    for chart in ("13_chat_latency", "14_chat_requests"):
        assert f"(charts/{chart}.png)" in text and (run_dir / "charts" / f"{chart}.png").is_file()
    found = re.findall(r"^### C(\d)\. .*?\n\n\*\*Verdict: (.+?)\.\*\*", text, flags=re.M)
    assert found == [("1", HOLDS), ("2", HOLDS), ("3", HOLDS)]
    assert "- C1. With SSE, the time to first token is the model's own delay. — **holds**" in text


def test_a_run_with_both_kinds_reports_the_ticker_then_the_chat(tmp_path):
    text = report.write_report(chat_run(tmp_path / "both", with_ticker=True)).read_text()
    assert text.startswith("# Short polling, long polling and SSE")
    assert text.index("## Claims checked") < text.index("## Chat answers")
    assert "Chat answers:" in text.split("## The run", 1)[0]
    # The ticker's table and claims read only the ticker's cells.
    summary = text.split("## Summary", 1)[1].split("## Charts", 1)[0]
    assert "chat" not in summary.lower()


# --- lab report -----------------------------------------------------------------------------


def test_lab_report_on_a_missing_folder_says_so_and_exits_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    captured = capsys.readouterr()
    assert "no run folder" in captured.err and "Traceback" not in captured.err
    assert captured.err.count("\n") == 1


def test_lab_report_on_a_folder_without_summary_exits_2(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "no summary.csv" in capsys.readouterr().err


def test_lab_report_defaults_to_results_latest(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["report"]) == 2
    assert str(Path("results") / "latest") in capsys.readouterr().err


def test_lab_report_exit_code_from_the_command_line(tmp_path):
    finished = subprocess.run(
        [sys.executable, "-m", "lab", "report", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 2
    assert "Traceback" not in finished.stderr and "no run folder" in finished.stderr


def test_lab_report_writes_the_report_and_prints_its_path(tmp_path, monkeypatch, capsys):
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE, run_dir)
    monkeypatch.setattr(charts, "draw_all", lambda run, *a, **k: charts.DrawResult())
    assert main(["report", str(run_dir)]) == 0
    assert capsys.readouterr().out.strip() == str(run_dir / "report.md")
    text = (run_dir / "report.md").read_text(encoding="utf-8")
    assert "## Claims checked" in text and "Not drawn" in text


def test_how_users_connected_is_reported_and_a_cell_that_never_did_is_not_measured():
    connected = {"users_connected": 100, "connect_s": 1.52, "connect_p50_ms": 12.4}
    rows = [
        summary("sse", 100, **connected, connect_p99_ms=18.4),
        summary("websocket", 100, **connected, connect_p99_ms=46.1),
        summary(
            "long_polling",
            100,
            users_connected=87,
            connect_s=62.0,
            duration_s=0.0,
            events_received=0,
        ),
    ]
    run = run_folder.Run(path=Path("run"), rows=rows)
    text = report.render_report(run, [], {}, datetime(2026, 1, 1, tzinfo=UTC))
    problems = text.split("## Claims at a glance", 1)[0]
    assert "- **long_polling-u100-r1**: only 87 of 100 users were connected" in problems
    assert "no event was delivered" not in text
    section = text.split("## Connecting", 1)[1].split("\n## ", 1)[0]
    assert "WebSocket's at 100 users (websocket-u100-r1): p99 46.1 ms" in section
    assert "1 cell never had every user connected" in section
    table = {r["transport"]: r for r in _table(text, "## Connecting")}
    assert table["SSE"]["connected"] == "100" and table["SSE"]["open p99 ms"] == "18.4"
    assert (
        table["long polling"]["connected"] == "87" and table["long polling"]["open p50 ms"] == "–"
    )
    assert "87 of 100 connected, not measured" in table["long polling"]["flags"]


def test_a_run_from_before_the_connecting_columns_has_no_such_section(written):
    _run_dir, _path, text = written
    assert "## Connecting" not in text
