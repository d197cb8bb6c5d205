"""One tiny real sweep, end to end: servers, Locust, windows, files."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

from lab.cell_summary import SUMMARY_COLUMNS


@pytest.mark.slow
def test_a_tiny_sweep_writes_a_complete_run_folder(tmp_path):
    command = [
        sys.executable,
        "-m",
        "lab",
        "bench",
        "--users",
        "3",
        "--rate",
        "4",
        "--duration",
        "3",
        "--spawn-rate",
        "10",
        "--interval-sweep",
        "--timeout",
        "5",
        "--out",
        str(tmp_path),
        "--run-id",
        "tiny",
        "--no-report",
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    run = tmp_path / "tiny"
    assert (tmp_path / "latest").resolve() == run.resolve()

    with open(run / "summary.csv", newline="") as summary:
        reader = csv.DictReader(summary)
        assert tuple(reader.fieldnames) == SUMMARY_COLUMNS
        every = list(reader)
    # A 3 s window holds no drop (one every 5 s): no drop cells.
    assert not any(r["drop_every_s"] for r in every)
    rows = {row["transport"]: row for row in every}
    assert set(rows) == {"short_polling", "long_polling", "sse", "websocket"}
    for transport, row in rows.items():
        assert int(row["events_received"]) > 0, transport
        assert row["events_lost"] == "0" and row["events_repeated"] == "0", row
        assert row["errors"] == "0", row
        assert float(row["bytes_per_event"]) > float(row["payload_bytes_per_event"]) > 0
        assert row["theory_requests_per_s"] != ""
        for name in ("stats", "stats_history", "failures"):
            assert (run / f"{row['cell']}_{name}.csv").exists()
    # Latencies are the client's clock minus the server's, in ms: positive, and plausible.
    # Short polling every 1 s waits at most about an interval; the push transports, with
    # three users on loopback, a few milliseconds.
    for transport, row in rows.items():
        p50, worst = float(row["latency_p50_ms"]), float(row["latency_max_ms"])
        assert 0 < p50 <= worst, (transport, p50, worst)
    assert 50 < float(rows["short_polling"]["latency_mean_ms"]) < 1200
    assert float(rows["long_polling"]["latency_p50_ms"]) < 200
    assert float(rows["sse"]["latency_p50_ms"]) < 200
    # SSE and WebSocket make one request per user, before the window: none inside it.
    assert rows["sse"]["requests"] == rows["websocket"]["requests"] == "0"
    # A WebSocket event's overhead is its frame's header: 2 bytes for these small events.
    assert float(rows["websocket"]["overhead_bytes_per_event"]) == 2.0
    assert float(rows["short_polling"]["requests_per_s"]) == pytest.approx(3.0, rel=0.5)

    with open(run / "events.csv", newline="") as events:
        transports = {row["transport"] for row in csv.DictReader(events)}
    assert transports == set(rows)
    manifest = json.loads((run / "manifest.json").read_text())
    assert {"parameters", "versions", "machine", "started", "ended", "cells"} <= set(manifest)
    assert all(cell["status"] == "ok" for cell in manifest["cells"]), manifest["cells"]
    # The window began only once the server saw every user, and each opening was timed.
    for transport, row in rows.items():
        assert row["users_connected"] == "3" and float(row["connect_s"]) > 0, transport
        assert 0 < float(row["connect_p50_ms"]) <= float(row["connect_p99_ms"]) < 1000, row
    assert all(cell["connect_s"] > 0 for cell in manifest["cells"])
    assert all(cell["seconds"]["window"] >= 3 for cell in manifest["cells"])
    assert "No cell lost or repeated an event" in finished.stdout
    # Nothing is left running: every server and Locust process was stopped.
    leftover = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""


@pytest.mark.slow
def test_a_tiny_chat_sweep_writes_chat_rows_that_match_the_model(tmp_path):
    # Six seconds is longer than one user's longest cycle (a 1.85 s answer, up to 3 s of
    # reading, a poll's wait), so every user ends an answer inside each window.
    command = [
        sys.executable, "-m", "lab", "bench", "--chat", "--users", "2", "--duration", "6",
        "--interval", "0.5", "--out", str(tmp_path), "--run-id", "chat",
    ]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    run = tmp_path / "chat"
    with open(run / "summary.csv", newline="") as summary:
        rows = {row["transport"]: row for row in csv.DictReader(summary)}
    assert set(rows) == {"short_polling", "long_polling", "sse"}
    for row in rows.values():
        assert row["workload"] == "chat" and row["cell"].startswith("chat-"), row
        assert int(row["answers"]) >= 2, row
        assert row["events_lost"] == "0" and row["errors"] == "0", row
        # The model makes its first token after 400 ms: no transport brings it sooner.
        assert float(row["ttft_p50_ms"]) >= 400 * 0.95, row
        # Requests per answer are counted by the clients, answer by answer: exact.
        assert float(row["requests_per_answer"]) == float(row["theory_requests_per_answer"])
    assert float(rows["sse"]["requests_per_answer"]) == 1.0
    # Polls every 0.5 s find the first token (made at 0.4 s) at the 0.5 s poll.
    assert float(rows["short_polling"]["ttft_p50_ms"]) >= 500 * 0.95
    report = (run / "report.md").read_text()
    assert "## Chat answers" in report and "### C3." in report
    assert (run / "charts" / "13_chat_latency.png").exists()
    assert "chat-sse-u2" in finished.stdout and "TTFT p50" in finished.stdout


@pytest.mark.slow
def test_a_sweep_compares_servers_pinned_alike_and_sees_where_one_stops(tmp_path):
    """The lab's server and django-wsgi with its default workers (2 × cores + 1): each holds
    2 users; above its workers django-wsgi leaves the rest unanswered, and a larger count is
    not tried."""
    workers = 2 * (os.cpu_count() or 1) + 1
    command = [
        *(sys.executable, "-m", "lab", "bench", "--servers", "lab", "django-wsgi"),
        *("--transports", "sse", "--users", "2", str(workers + 3), str(workers + 6)),
        *("--rate", "4", "--duration", "2", "--out", str(tmp_path), "--run-id", "servers"),
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=240)
    run = tmp_path / "servers"
    assert finished.returncode == 0, finished.stdout + finished.stderr
    with open(run / "summary.csv", newline="") as summary:
        rows = {(r["server"], int(r["users"])): r for r in csv.DictReader(summary)}
    assert set(rows) == {
        ("lab", 2),
        ("lab", workers + 3),
        ("lab", workers + 6),
        ("django-wsgi", 2),
        ("django-wsgi", workers + 3),
    }
    for key in (("lab", 2), ("lab", workers + 3), ("django-wsgi", 2)):
        assert int(rows[key]["events_received"]) > 0, rows[key]
        assert rows[key]["events_lost"] == "0", rows[key]
        assert float(rows[key]["server_cpu_us_per_event"]) > 0
        assert float(rows[key]["server_rss_per_user_kb"]) != 0
    # A peer counts no bytes at its socket: the clients' count stands in.
    assert rows["django-wsgi", 2]["bytes_per_event"] == ""
    assert float(rows["django-wsgi", 2]["client_bytes_per_event"]) > 100
    stopped = rows["django-wsgi", workers + 3]
    assert int(stopped["users_connected"]) == workers
    manifest = json.loads((run / "manifest.json").read_text())
    skipped = [c for c in manifest["cells"] if c["status"] == "skipped"]
    assert [c["cell"] for c in skipped] == [f"sse-u{workers + 6}-r4-django-wsgi"]
    if len(os.sched_getaffinity(0)) >= 2:
        assert manifest["server_cpus"] == [min(os.sched_getaffinity(0))]
    report = (run / "report.md").read_text()
    assert "## Servers" in report
    assert "S1." in report and "**Verdict: holds.**" in report
