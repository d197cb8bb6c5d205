"""scenarios/chat.py, run headless by real Locust against a real server, over each transport:
every answer read whole, and what it feels like recorded per transport."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run_server

from lab.chat.measurement import read_chat_logs

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "chat.py"


@pytest.fixture(scope="module")
def server():
    with run_server("--paused") as running:
        yield running


@pytest.mark.slow
@pytest.mark.parametrize("transport", ["sse", "long_polling", "short_polling"])
def test_each_user_reads_whole_answers_over_the_transport(server, transport, tmp_path):
    done = subprocess.run(
        [
            sys.executable, "-m", "locust", "-f", str(SCENARIO), "--headless",
            "--host", server.url, "-u", "3", "-r", "3", "--run-time", "5s",
            "--stop-timeout", "3", "--only-summary", "--csv", str(tmp_path / "chat"),
            "--chat-transport", transport, "--poll-interval", "0.5",
            "--events-log", str(tmp_path / "logs"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    with open(tmp_path / "chat_stats.csv", newline="") as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    first = rows[f"chat first token {transport}"]
    tokens = rows[f"chat token {transport}"]
    assert int(first["Request Count"]) >= 3 and int(first["Failure Count"]) == 0
    # Every token of every answer read was recorded: 30 per answer.
    assert int(tokens["Request Count"]) == 30 * int(first["Request Count"])
    # The model waits 400 ms before its first token: no transport beats that.
    assert float(first["Min Response Time"]) >= 400 * 0.95
    assert f"chat sequence {transport}" not in rows
    # Between two tokens of one answer, a gap: 29 per answer.
    assert int(rows[f"chat gap {transport}"]["Request Count"]) == 29 * int(first["Request Count"])
    # The raw logs hold the same answers and tokens, for exact percentiles.
    logs = read_chat_logs(tmp_path / "logs", 0, math.inf, expected_tokens=30)
    assert logs.answers == int(first["Request Count"]) == len(logs.ttfts_ms)
    assert len(logs.delays_ms) == int(tokens["Request Count"])
    assert len(logs.gaps_ms) == 29 * logs.answers
    assert logs.wrong_tokens == logs.extra_tokens == 0
    assert min(logs.ttfts_ms) >= 400 * 0.95
