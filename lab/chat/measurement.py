"""A chat cell's figures: what its clients logged about each answer and each token, and the
server's counters over the window, as one row of summary.csv.

The chat scenario (scenarios/chat.py) writes two raw logs per Locust process:
- `chat-answers-<pid>.csv`: one row per answer read to its end: when it was asked, when it
  ended, its time to first token, how many of its tokens were missing or wrong, and how
  many HTTP requests it took;
- `chat-tokens-<pid>.csv`: one row per token: when it arrived, its delay (receipt minus the
  server's stamp) and the gap since the answer's previous token arrived.

In the row an event is a token (lab.cell_summary says which columns mean what).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from lab.cell_measurement import CellResult
from lab.cell_summary import CellSummary
from lab.chat import theory
from lab.measurement import Cell, LatencySummary, counter_delta, ratio, summarize_cell
from lab.names import CHAT

ANSWER_LOG_COLUMNS = (
    "asked_at",
    "ended_at",
    "user",
    "answer",
    "tokens",
    "wrong",
    "ttft_ms",
    "requests",
)
TOKEN_LOG_COLUMNS = ("received_at", "user", "answer", "index", "delay_ms", "gap_ms")


@dataclass(frozen=True)
class ChatQuestion:
    """What every chat user asks for: the model's length and timing (lab.chat.model)."""

    max_tokens: int = 30
    tokens_per_s: float = 20.0
    first_token_ms: float = 400.0

    def as_json(self, prompt: str) -> dict:
        return {"prompt": prompt, **vars(self)}


LOAD_QUESTION = ChatQuestion()
"""The question's settings in the chat scenario and the sweep: 30 tokens, the first after
400 ms, then 20 a second (an answer takes 1.85 s), as a small model feels to its user."""

THINK_S = (1.0, 3.0)
"""Seconds a chat user reads an answer before asking again, at random in this range (so
that users do not ask in step)."""


@dataclass
class ChatLogs:
    """What the clients logged about the answers that ended inside the window, and their
    tokens (whole answers: a window edge cutting through an answer would keep only its
    early tokens or only its late ones, and a poll's tokens wait longer late in an answer)."""

    ttfts_ms: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    """Per answer: the question and every poll for its tokens."""
    delays_ms: list[float] = field(default_factory=list)
    gaps_ms: list[float] = field(default_factory=list)
    answers: int = 0
    wrong_tokens: int = 0
    extra_tokens: int = 0


def read_chat_logs(log_dir: Path, start: float, end: float, expected_tokens: int) -> ChatLogs:
    """Read every chat log under `log_dir` (one pair per Locust process)."""
    found = ChatLogs()
    kept: set[tuple[str, str]] = set()
    for path in sorted(log_dir.glob("chat-answers-*.csv")):
        with open(path, newline="") as log:
            for record in csv.DictReader(log):
                if not start <= float(record["ended_at"]) <= end:
                    continue
                kept.add((record["user"], record["answer"]))
                found.answers += 1
                found.wrong_tokens += int(record["wrong"])
                found.extra_tokens += max(0, int(record["tokens"]) - expected_tokens)
                found.requests.append(int(record["requests"]))
                if record["ttft_ms"]:
                    found.ttfts_ms.append(float(record["ttft_ms"]))
    for path in sorted(log_dir.glob("chat-tokens-*.csv")):
        with open(path, newline="") as log:
            for record in csv.DictReader(log):
                if (record["user"], record["answer"]) not in kept:
                    continue
                found.delays_ms.append(float(record["delay_ms"]))
                if record["gap_ms"]:
                    found.gaps_ms.append(float(record["gap_ms"]))
    return found


def summarize_chat_cell(
    cell: Cell,
    before: Mapping,
    after: Mapping,
    logs: ChatLogs,
    client_cpu_percent: float,
    client_errors: int,
    question: ChatQuestion = LOAD_QUESTION,
) -> CellSummary:
    """The chat cell's row: its clients' logs and the growth of the server's chat counters
    over the window between two /metrics snapshots."""
    server = counter_delta(before, after, CHAT)
    generated = after[CHAT]["tokens_generated"] - before[CHAT]["tokens_generated"]
    # The costs per token divide by the tokens the server sent, counted with its requests.
    server = {
        **server,
        "events_sent": after[CHAT]["tokens_sent"] - before[CHAT]["tokens_sent"],
        "published": generated,
        "empty_responses": 0,
    }
    row = summarize_cell(
        replace(cell, users=1),  # each token is generated for one user only
        after["time"] - before["time"],
        logs.delays_ms,
        [],
        logs.wrong_tokens,
        logs.extra_tokens,
        server,
        client_cpu_percent,
        client_errors,
    )
    predicted = theory.chat_answer(
        cell.transport,
        tokens=question.max_tokens,
        tokens_per_s=question.tokens_per_s,
        first_token_ms=question.first_token_ms,
        interval_s=cell.interval_s,
    )
    ttft, gap = LatencySummary.of(logs.ttfts_ms), LatencySummary.of(logs.gaps_ms)
    return replace(
        row,
        cell=cell.name,
        users=cell.users,
        events_expected=generated,
        empty_responses=None,
        empty_share=None,
        theory_latency_mean_ms=predicted.token_delay_mean_ms,
        workload=CHAT,
        answers=logs.answers,
        model_first_token_ms=question.first_token_ms,
        ttft_p50_ms=ttft.p50,
        ttft_p90_ms=ttft.p90,
        ttft_p99_ms=ttft.p99,
        gap_p50_ms=gap.p50,
        gap_p90_ms=gap.p90,
        gap_p99_ms=gap.p99,
        requests_per_answer=ratio(sum(logs.requests), len(logs.requests)),
        theory_ttft_ms=predicted.ttft_ms,
        theory_requests_per_answer=predicted.requests_per_answer,
    )


def measure_chat_cell(
    cell: Cell, before: Mapping, after: Mapping, log_dir: Path, client_cpu: float, errors: int
) -> CellResult:
    """The chat cell's result, from the logs its clients left in `log_dir`."""
    logs = read_chat_logs(log_dir, before["time"], after["time"], LOAD_QUESTION.max_tokens)
    summary = summarize_chat_cell(cell, before, after, logs, client_cpu, errors)
    problems = summary.verdict.problems()
    if not summary.answers:
        problems.append("no answer ended in the measured window")
    return CellResult(cell, summary, problems, [], 1)
