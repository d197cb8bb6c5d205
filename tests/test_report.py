"""Tests for lab.report: the six claim checks, report.md on the fixture run, `lab report`."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lab import charts, report
from lab.cli import main
from lab.measurement import SUMMARY_COLUMNS
from lab.report import (
    DOES_NOT_HOLD,
    HOLDS,
    NOT_MEASURED,
    Verdict,
    check_claims,
    check_delivery_latency,
    check_interval_tradeoff,
    check_overhead_bytes,
    check_polling_delay,
    check_polling_requests,
    check_server_load,
    depends_on,
)

FIXTURE = Path(__file__).parent / "fixtures" / "run_small"
DEPENDS = depends_on("load")
VERDICTS = {HOLDS, DOES_NOT_HOLD, NOT_MEASURED, DEPENDS}


def row(transport: str, users: int, **values) -> dict:
    """A clean summary row with the lab's default settings; `values` override any column."""
    data = dict.fromkeys(SUMMARY_COLUMNS)
    data.update(
        transport=transport, users=users, rate=1.0, arrivals="fixed", payload_pad_bytes=16,
        interval_s=1.0 if transport == "short_polling" else None,
        timeout_s=25.0 if transport == "long_polling" else None,
        duration_s=30.0, events_received=30 * users, events_lost=0, events_duplicated=0,
        errors=0, client_bound=False, client_cpu_percent=10.0,
    )
    data.update(values)
    name = f"{transport}-u{users}-r{data['rate']:g}"
    if data["interval_s"] is not None:
        name += f"-i{data['interval_s']:g}"
    data["cell"] = values.get("cell", name)
    return data


def poll(users, interval, **values):
    return row("short_polling", users, interval_s=interval, **values)


def longpoll(users, **values):
    return row("long_polling", users, **values)


def sse(users, **values):
    return row("sse", users, **values)


# --- the claims, table-driven ---------------------------------------------------------------

def delay(users, max_ms, interval=5.0):
    return poll(users, interval, latency_max_ms=max_ms, latency_mean_ms=interval * 500,
                latency_p99_ms=max_ms * 0.99)


def requests(users, per_s, interval=1.0, empty=0.0):
    return poll(users, interval, requests_per_s=per_s, empty_share=empty,
                theory_empty_share=0.0)


def overhead(transport, users, nbytes):
    return row(transport, users, overhead_bytes_per_event=nbytes, payload_bytes_per_event=95.0,
               bytes_per_event=95.0 + nbytes, requests_per_event=1.0)


def latency(users, lp_ms, sse_ms):
    return [longpoll(users, latency_p50_ms=lp_ms), sse(users, latency_p50_ms=sse_ms)]


def load(users, lp_cpu, sse_cpu, lp_requests=1.0, sse_requests=0.0):
    return [longpoll(users, server_cpu_us_per_event=lp_cpu, requests_per_event=lp_requests),
            sse(users, server_cpu_us_per_event=sse_cpu, requests_per_event=sse_requests)]


def sweep(users, points):
    return [poll(users, interval, latency_mean_ms=mean, requests_per_s=per_s)
            for interval, mean, per_s in points]


CASES = [
    # (check, rows, expected verdict)
    pytest.param(check_polling_delay, [delay(100, 4950)], HOLDS, id="1-holds"),
    pytest.param(check_polling_delay, [delay(100, 7000)], DOES_NOT_HOLD, id="1-too-long"),
    pytest.param(check_polling_delay, [delay(100, 2000)], DOES_NOT_HOLD, id="1-never-close"),
    pytest.param(check_polling_delay, [delay(10, 4990), delay(1000, 6200)], DEPENDS,
                 id="1-depends"),
    pytest.param(check_polling_delay, [delay(100, 990, interval=1.0)], NOT_MEASURED,
                 id="1-not-measured"),
    pytest.param(check_polling_requests, [requests(10, 10.0), requests(1000, 985.0)], HOLDS,
                 id="2-holds"),
    pytest.param(check_polling_requests, [requests(1000, 700.0)], DOES_NOT_HOLD,
                 id="2-does-not-hold"),
    pytest.param(check_polling_requests, [requests(10, 10.0), requests(1000, 700.0)], DEPENDS,
                 id="2-depends"),
    pytest.param(check_polling_requests, [requests(100, 50.0, interval=2.0)], NOT_MEASURED,
                 id="2-not-measured"),
    pytest.param(check_overhead_bytes, [overhead("sse", 10, 6), overhead("long_polling", 10, 280)],
                 HOLDS, id="3-holds"),
    pytest.param(check_overhead_bytes, [overhead("sse", 10, 33), overhead("long_polling", 10, 280)],
                 DOES_NOT_HOLD, id="3-sse-part-fails"),
    pytest.param(check_overhead_bytes, [overhead("sse", 10, 6), overhead("long_polling", 10, 40)],
                 DOES_NOT_HOLD, id="3-long-polling-part-fails"),
    pytest.param(check_overhead_bytes, [overhead("sse", 10, 6), overhead("sse", 100, 33),
                                        overhead("long_polling", 10, 280)],
                 DEPENDS, id="3-depends"),
    pytest.param(check_overhead_bytes, [overhead("long_polling", 10, 280)], NOT_MEASURED,
                 id="3-not-measured"),
    pytest.param(check_delivery_latency, latency(10, 150, 0.5) + latency(100, 180, 0.6), HOLDS,
                 id="4-holds"),
    pytest.param(check_delivery_latency, latency(10, 2.4, 1.5) + latency(100, 20, 4.2),
                 DOES_NOT_HOLD, id="4-does-not-hold"),
    pytest.param(check_delivery_latency, latency(10, 2.4, 0.5) + latency(1000, 150, 0.8),
                 DEPENDS, id="4-depends"),
    pytest.param(check_delivery_latency, [longpoll(10, latency_p50_ms=150)], NOT_MEASURED,
                 id="4-not-measured"),
    pytest.param(check_server_load, load(10, 180, 18) + load(100, 176, 15), HOLDS, id="5-holds"),
    pytest.param(check_server_load, load(10, 10, 18), DOES_NOT_HOLD, id="5-does-not-hold"),
    pytest.param(check_server_load, load(10, 180, 18) + load(100, 12, 15), DEPENDS,
                 id="5-depends"),
    pytest.param(check_server_load, [sse(10, server_cpu_us_per_event=15, requests_per_event=0)],
                 NOT_MEASURED, id="5-not-measured"),
    pytest.param(check_interval_tradeoff,
                 sweep(100, [(0.5, 250, 200), (1, 500, 100), (2, 1000, 50)]), HOLDS,
                 id="6-holds"),
    pytest.param(check_interval_tradeoff,
                 sweep(100, [(0.5, 250, 200), (1, 500, 100), (2, 400, 50)]), DOES_NOT_HOLD,
                 id="6-does-not-hold"),
    pytest.param(check_interval_tradeoff,
                 sweep(10, [(1, 500, 10), (2, 1000, 5)])
                 + sweep(100, [(1, 500, 100), (2, 1000, 120)]), DEPENDS, id="6-depends"),
    pytest.param(check_interval_tradeoff, sweep(100, [(1, 500, 100)]), NOT_MEASURED,
                 id="6-not-measured"),
]


@pytest.mark.parametrize(("check", "rows", "expected"), CASES)
def test_each_claim_gets_the_verdict_its_numbers_give(check, rows, expected):
    verdict = check(rows)
    assert isinstance(verdict, Verdict)
    assert verdict.verdict == expected, verdict.explanation
    assert verdict.claim and verdict.explanation
    if expected != NOT_MEASURED:
        assert verdict.cells, "a measured verdict names the cells it used"
        assert set(verdict.cells) <= {r["cell"] for r in rows}


FLIPS = [
    # (check, rows, (row index, column, new value), verdict before, verdict after)
    pytest.param(check_polling_delay, [delay(100, 4950)], (0, "latency_max_ms", 6000),
                 HOLDS, DOES_NOT_HOLD, id="1"),
    pytest.param(check_polling_requests, [requests(1000, 1000.0)], (0, "requests_per_s", 880.0),
                 HOLDS, DOES_NOT_HOLD, id="2"),
    pytest.param(check_overhead_bytes, [overhead("sse", 10, 33), overhead("long_polling", 10, 280)],
                 (0, "overhead_bytes_per_event", 5.0), DOES_NOT_HOLD, HOLDS, id="3"),
    pytest.param(check_delivery_latency, latency(10, 150, 0.5) + latency(100, 180, 0.6),
                 (2, "latency_p50_ms", 20.0), HOLDS, DEPENDS, id="4"),
    pytest.param(check_server_load, load(10, 180, 18), (1, "server_cpu_us_per_event", 200.0),
                 HOLDS, DOES_NOT_HOLD, id="5"),
    pytest.param(check_interval_tradeoff,
                 sweep(100, [(0.5, 250, 200), (1, 500, 100), (2, 1000, 50)]),
                 (2, "requests_per_s", 150.0), HOLDS, DOES_NOT_HOLD, id="6"),
]


@pytest.mark.parametrize(("check", "rows", "change", "before", "after"), FLIPS)
def test_changing_one_number_flips_the_verdict(check, rows, change, before, after):
    assert check(rows).verdict == before
    index, column, value = change
    changed = [dict(r) for r in rows]
    changed[index][column] = value
    assert check(changed).verdict == after
    assert check(rows).verdict == before, "the check must not change its input"


def test_verdict_explanations_carry_the_measured_numbers():
    verdict = check_polling_delay([delay(100, 4950)])
    assert "4.95 s" in verdict.explanation and "2.5 s" in verdict.explanation

    verdict = check_polling_requests([requests(10, 10.0), requests(50, 50.1)])
    assert "largest user count is 50, not 1,000" in verdict.explanation

    verdict = check_overhead_bytes([overhead("sse", 10, 33), overhead("long_polling", 10, 280)])
    assert "SSE part does not hold: 33 bytes" in verdict.explanation
    assert "long-polling part holds: 280 bytes" in verdict.explanation

    verdict = check_delivery_latency(latency(10, 2.4, 0.5) + latency(1000, 150, 0.8))
    assert "holds at 1,000 users, not at 10" in verdict.explanation

    verdict = check_interval_tradeoff(
        sweep(100, [(0.5, 250, 200), (1, 500, 100), (2, 1000, 50)]))
    assert "4.0×" in verdict.explanation


def test_cells_that_cannot_be_taken_at_face_value_are_named_when_used():
    rows = sweep(100, [(0.5, 250, 200), (1, 500, 100), (2, 1000, 50)])
    rows[0].update(client_bound=True, client_cpu_percent=95.0)
    verdict = check_interval_tradeoff(rows)
    assert verdict.verdict == HOLDS
    assert "Caution" in verdict.explanation and rows[0]["cell"] in verdict.explanation
    assert "95% of a core" in verdict.explanation

    clean = check_interval_tradeoff(sweep(100, [(1, 500, 100), (2, 1000, 50)]))
    assert "Caution" not in clean.explanation


def test_check_claims_checks_all_six_in_order_and_partial_rows_work():
    verdicts = check_claims([{"transport": "sse", "users": 10, "cell": "sse-u10-r1"}])
    assert [v.number for v in verdicts] == [1, 2, 3, 4, 5, 6]
    assert all(v.verdict == NOT_MEASURED for v in verdicts)


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


def _table(text: str) -> list[dict[str, str]]:
    section = text.split("## Summary", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [h.strip() for h in lines[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True))
            for line in lines[2:]]


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
    columns = {"p50 ms": "latency_p50_ms", "p99 ms": "latency_p99_ms",
                "requests/s": "requests_per_s", "bytes/event": "bytes_per_event",
                "server CPU µs/event": "server_cpu_us_per_event"}
    for csv_row in csv_rows:
        label = charts.TRANSPORT_LABELS[csv_row["transport"]]
        interval = f"{float(csv_row['interval_s']):g} s" if csv_row["interval_s"] else "–"
        [line] = [t for t in table if t["transport"] == label and t["users"] == csv_row["users"]
                  and t["interval"] == interval]
        for header, column in columns.items():
            expected = float(csv_row[column])
            assert _number(line[header]) == pytest.approx(expected, rel=0.01, abs=0.006), (
                csv_row["cell"], header)
        if csv_row["empty_share"]:
            assert _number(line["empty polls"]) == pytest.approx(
                100 * float(csv_row["empty_share"]), abs=0.06)
        flagged = csv_row["client_bound"] == "True" or int(csv_row["events_lost"]) > 0
        assert ("⚠" in line["flags"]) == flagged, csv_row["cell"]


def test_problem_cells_are_listed_before_the_numbers(written):
    _run_dir, _path, text = written
    problems = text.index("PROBLEMS")
    assert problems < text.index("## Summary")
    block = text[problems:text.index("## Summary")]
    assert "short_polling-u100-r2-i0.5" in block and "client" in block
    assert "long_polling-u100-r2" in block and "35 events lost" in block


def test_every_chart_is_linked_relatively_and_exists(written):
    run_dir, _path, text = written
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert {Path(link).stem for link in links} == {chart.name for chart in charts.CHARTS}
    for link in links:
        assert link.startswith("charts/") and not Path(link).is_absolute()
        assert (run_dir / link).is_file()


def test_the_six_claims_are_checked_with_computed_verdicts(written):
    run_dir, _path, text = written
    section = text.split("## Claims checked", 1)[1]
    found = re.findall(r"^### (\d)\. .*?\n\n\*\*Verdict: (.+?)\.\*\*", section, flags=re.M)
    assert [int(n) for n, _v in found] == [1, 2, 3, 4, 5, 6]
    expected = check_claims(report.read_rows(run_dir))
    assert [v for _n, v in found] == [v.verdict for v in expected]
    assert all(v in VERDICTS for _n, v in found)
    # The fixture has no 5 s interval, and its SSE overhead is about 37 bytes.
    assert expected[0].verdict == NOT_MEASURED
    assert expected[2].verdict == DOES_NOT_HOLD


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
    finished = subprocess.run([sys.executable, "-m", "lab", "report", str(tmp_path / "x")],
                              capture_output=True, text=True, timeout=60)
    assert finished.returncode == 2
    assert "Traceback" not in finished.stderr and "no run folder" in finished.stderr


def test_lab_report_writes_the_report_and_prints_its_path(tmp_path, monkeypatch, capsys):
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE, run_dir)
    monkeypatch.setattr(charts, "draw_all", lambda run_dir, *a, **k: [])  # drawing is slow
    assert main(["report", str(run_dir)]) == 0
    assert capsys.readouterr().out.strip() == str(run_dir / "report.md")
    text = (run_dir / "report.md").read_text(encoding="utf-8")
    assert "## Claims checked" in text and "Not drawn" in text
