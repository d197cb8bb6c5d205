"""lab.chat.measurement: a chat cell's raw logs and server counters become one summary row."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from lab.cell_measurement import users_connected
from lab.chat.measurement import (
    ANSWER_LOG_COLUMNS,
    TOKEN_LOG_COLUMNS,
    ChatLogs,
    read_chat_logs,
    summarize_chat_cell,
)
from lab.measurement import Cell


def write_log(path: Path, columns: tuple[str, ...], rows: list[tuple]) -> None:
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        writer.writerows(rows)


def answer(ended: float, user: str, number: int, tokens=3, wrong=0, ttft="401.5", requests=1):
    return (ended - 2, ended, user, number, tokens, wrong, ttft, requests)


def token(received: float, user: str, number: int, index: int, delay: float, gap: str = ""):
    return (received, user, number, index, delay, gap)


@pytest.fixture
def logs(tmp_path) -> Path:
    write_log(
        tmp_path / "chat-answers-1.csv",
        ANSWER_LOG_COLUMNS,
        [
            answer(99.0, "1-1", 1),  # ended before the window
            answer(105.0, "1-1", 2, requests=4),
            answer(108.0, "1-2", 1, tokens=2, wrong=1, ttft="900", requests=3),
            answer(131.0, "1-2", 2),  # ended after it
        ],
    )
    write_log(
        tmp_path / "chat-tokens-1.csv",
        TOKEN_LOG_COLUMNS,
        [
            token(98.5, "1-1", 1, 0, 1.0),
            # Answer 2 began before the window: its tokens count whole, with the answer.
            token(99.9, "1-1", 2, 0, 2.0),
            token(104.0, "1-1", 2, 1, 4.0, "50"),
            token(104.9, "1-1", 2, 2, 6.0, "0"),
            token(107.0, "1-2", 1, 0, 500.0),
            token(107.5, "1-2", 1, 1, 100.0, "500"),
            token(129.0, "1-2", 2, 0, 3.0),
        ],
    )
    return tmp_path


def test_read_chat_logs_keeps_the_answers_that_ended_in_the_window_and_their_tokens(logs):
    found = read_chat_logs(logs, 100.0, 130.0, expected_tokens=3)
    assert found.answers == 2
    assert sorted(found.ttfts_ms) == [401.5, 900.0]
    assert found.requests == [4, 3]
    assert sorted(found.delays_ms) == [2.0, 4.0, 6.0, 100.0, 500.0]
    assert sorted(found.gaps_ms) == [0.0, 50.0, 500.0]
    assert found.wrong_tokens == 1 and found.extra_tokens == 0


def test_read_chat_logs_counts_tokens_beyond_the_answer_as_extra(tmp_path):
    write_log(tmp_path / "chat-answers-7.csv", ANSWER_LOG_COLUMNS, [answer(5, "7-1", 1, 5)])
    write_log(tmp_path / "chat-tokens-7.csv", TOKEN_LOG_COLUMNS, [])
    assert read_chat_logs(tmp_path, 0, 10, expected_tokens=3).extra_tokens == 2


def snapshot(time: float, requests: int, bytes_out: int, cpu: float, tokens: int, **chat) -> dict:
    counters = {
        "requests": requests,
        "bytes_in": requests * 200,
        "bytes_out": bytes_out,
        "events_sent": 0,
        "empty_responses": 0,
        "responses": {"200": requests},
        "open": 0,
    }
    return {
        "time": time,
        "transports": {"chat": counters},
        "chat": {
            "answers_started": chat.get("started", 0),
            "answers_finished": chat.get("finished", 0),
            "tokens_generated": tokens,
            "tokens_sent": tokens,
        },
        "process": {"cpu_s": cpu},
        "source": {"last_id": 0},
    }


def test_summarize_chat_cell_reads_a_token_as_an_event():
    cell = Cell("short_polling", users=10, rate=20.0, interval_s=1.0, workload="chat")
    before = snapshot(100.0, 1_000, 50_000, 2.0, 3_000)
    after = snapshot(130.0, 1_400, 90_000, 2.6, 9_000)
    logs = ChatLogs(
        ttfts_ms=[1000.0, 1010.0, 1020.0],
        delays_ms=[0.0, 400.0, 800.0, 900.0],
        gaps_ms=[0.0, 0.0, 1000.0],
        requests=[4, 4, 5],
        answers=3,
    )
    row = summarize_chat_cell(cell, before, after, logs, client_cpu_percent=5.0, client_errors=0)
    assert row.cell == "chat-short_polling-u10-i1" and row.users == 10
    assert row.workload == "chat" and row.answers == 3
    assert row.ttft_p50_ms == 1010.0 and row.gap_p50_ms == 0.0 and row.gap_p99_ms > 900
    assert row.latency_p50_ms == 600.0
    assert row.requests == 400 and row.requests_per_answer == pytest.approx(13 / 3)
    # Costs per token: the server's bytes and CPU over the 6,000 tokens it sent.
    assert row.events_published == row.events_expected == 6_000
    assert row.bytes_per_event == pytest.approx((400 * 200 + 40_000) / 6_000)
    assert row.server_cpu_us_per_event == pytest.approx(0.6e6 / 6_000)
    # The theory of the load question over short polling every second.
    assert row.theory_ttft_ms == 1000.0 and row.theory_requests_per_answer == 4.0
    assert row.verdict.ok


def test_summarize_chat_cell_flags_wrong_tokens_as_lost():
    cell = Cell("sse", users=1, rate=20.0, workload="chat")
    logs = ChatLogs(ttfts_ms=[401.0], delays_ms=[1.0], requests=[1], answers=1, wrong_tokens=29)
    row = summarize_chat_cell(
        cell, snapshot(0, 0, 0, 0, 0), snapshot(30, 1, 3_000, 0.1, 30), logs, 1.0, 0
    )
    assert row.events_lost == 29 and "29 events lost" in row.verdict.problems()


@pytest.mark.parametrize(("asked", "connected"), [(9, False), (10, True), (25, True)])
def test_chat_users_are_connected_once_each_has_asked(asked, connected):
    cell = Cell("long_polling", users=10, rate=20.0, workload="chat")
    first = snapshot(0, 0, 0, 0, 0, started=0)
    later = snapshot(5, asked, 0, 0, 0, started=asked)
    assert users_connected(cell, later, later, 1.0, first)[0] is connected
