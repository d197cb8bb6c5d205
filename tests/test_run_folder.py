"""lab.run_folder: rows written and read back with their types; files that say what is
wrong with them; the cells the charts compare."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from rows import summary

from lab.cell_selection import main_rows, main_settings, series
from lab.cell_summary import SUMMARY_COLUMNS
from lab.run_folder import (
    RunFolderError,
    read_run,
    read_summary,
    write_events,
    write_manifest,
    write_summary,
)

FIXTURE = Path(__file__).parent / "fixtures" / "run_small"


def test_rows_come_back_as_they_were_written(tmp_path):
    rows = [
        summary(
            "sse",
            100,
            latency_p50_ms=1.25,
            requests_per_s=0.0,
            client_bound=True,
            client_cpu_percent=93.5,
        ),
        summary(
            "short_polling",
            10,
            empty_share=0.5,
            empty_responses=12,
            theory_empty_share=0.36787944117144233,
        ),
    ]
    write_summary(tmp_path, rows)
    back = read_summary(tmp_path / "summary.csv")
    assert back[0] == rows[0]
    assert back[1].theory_empty_share == pytest.approx(0.367879, rel=1e-6)
    assert back[1].latency_p50_ms is None and back[1].interval_s == 1.0
    assert type(back[0].users) is int and type(back[0].rate) is float
    assert back[0].client_bound is True


def test_the_csv_is_the_lab_s_columns_in_order_with_plain_values(tmp_path):
    write_summary(tmp_path, [summary("sse", 10, latency_p50_ms=0.123456789)])
    with open(tmp_path / "summary.csv", newline="") as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames) == SUMMARY_COLUMNS
        (row,) = reader
    assert row["latency_p50_ms"] == "0.123457" and row["client_bound"] == "false"
    assert row["interval_s"] == ""


@pytest.mark.parametrize(
    ("column", "text", "words"),
    [
        ("users", "many", "column users holds 'many', which is not int"),
        ("users", "", "column users is empty"),
        ("latency_p50_ms", "fast", "column latency_p50_ms holds 'fast', which is not float"),
        ("client_bound", "maybe", "column client_bound holds 'maybe', which is not bool"),
    ],
)
def test_a_bad_value_is_named_by_line_and_column(tmp_path, column, text, words):
    write_summary(tmp_path, [summary("sse", 10), summary("sse", 20)])
    path = tmp_path / "summary.csv"
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    rows[1][column] = text
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=SUMMARY_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(RunFolderError, match=f"summary.csv line 3, {words}"):
        read_summary(path)


def test_a_summary_without_a_column_says_which(tmp_path):
    (tmp_path / "summary.csv").write_text("cell,transport\nx,sse\n")
    with pytest.raises(RunFolderError, match="no column users"):
        read_summary(tmp_path / "summary.csv")


def test_an_earlier_run_s_column_name_is_still_read(tmp_path):
    write_summary(tmp_path, [summary("sse", 10, events_repeated=3)])
    path = tmp_path / "summary.csv"
    path.write_text(path.read_text().replace("events_repeated", "events_duplicated", 1))
    assert read_summary(path)[0].events_repeated == 3


def test_a_whole_folder_is_read(tmp_path):
    write_summary(tmp_path, [summary("sse", 10)])
    write_events(tmp_path, [("sse-u10-r1", "sse", 10, 2, 1.5), ("sse-u10-r1", "sse", 10, 1, 0.5)])
    write_manifest(tmp_path, {"run_id": "x"})
    run = read_run(tmp_path)
    assert run.events == {"sse-u10-r1": [0.5, 1.5]} and run.manifest == {"run_id": "x"}
    assert run.row("sse-u10-r1").users == 10 and run.row("nope") is None


def test_locust_s_history_is_read_typed():
    run = read_run(FIXTURE)
    assert set(run.history) == {"short_polling-u100-r2-i1", "long_polling-u100-r2", "sse-u100-r2"}
    first = run.history["sse-u100-r2"][0]
    assert first.timestamp == 1795375200 and first.p50_ms is None
    events = run.event_history("sse-u100-r2", "sse")
    assert events and all(p.type == "EVENT" and p.name == "sse" for p in events)


def test_a_folder_without_summary_is_not_a_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="summary.csv"):
        read_run(tmp_path)


def test_main_settings_take_the_interval_measured_at_most_user_counts():
    rows = read_run(FIXTURE).rows
    assert main_settings(rows) == {
        "rate": 2.0,
        "arrivals": "poisson",
        "payload_pad_bytes": 16,
        "interval_s": 1.0,
        "timeout_s": 25.0,
        "rtt_ms": 0.0,
    }
    polls = main_rows(rows, "short_polling")
    assert [(r.users, r.interval_s) for r in polls] == [(10, 1.0), (100, 1.0)]
    assert [r.users for r in main_rows(rows, "sse")] == [10, 100]


def test_an_interval_sweep_at_one_user_count_keeps_the_middle_interval():
    rows = [r for r in read_run(FIXTURE).rows if r.users == 100]
    assert main_settings(rows)["interval_s"] == 1.0


def test_series_leaves_out_rows_without_the_columns():
    rows = [
        summary("sse", 10, latency_p50_ms=1.0),
        summary("sse", 100),
        summary("long_polling", 10),
    ]
    assert {t: [r.users for r in found] for t, found in series(rows, "latency_p50_ms").items()} == {
        "sse": [10]
    }


def test_manifest_is_json(tmp_path):
    path = write_manifest(tmp_path, {"cells": [{"cell": "a", "status": "ok"}]})
    assert json.loads(path.read_text())["cells"][0]["status"] == "ok"


def test_the_main_rate_of_a_rate_sweep_is_its_middle_one():
    rows = [summary(t, 100, rate=r) for t in ("sse", "long_polling") for r in (0.2, 1.0, 5.0)]
    assert main_settings(rows)["rate"] == 1.0
    assert [r.rate for r in main_rows(rows, "sse")] == [1.0]


def test_a_run_written_before_rtt_and_repeats_reads_as_loopback_and_one_repeat(tmp_path):
    write_summary(tmp_path, [summary("sse", 10)])
    path = tmp_path / "summary.csv"
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    older = [c for c in SUMMARY_COLUMNS if c not in ("rtt_ms", "repeat")]
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=older, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    (row,) = read_summary(path)
    assert (row.rtt_ms, row.repeat) == (0.0, 1)


def test_a_run_written_before_the_connecting_columns_reads_as_connected(tmp_path):
    write_summary(tmp_path, [summary("sse", 10, users_connected=10, connect_s=1.5)])
    path = tmp_path / "summary.csv"
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    older = [c for c in SUMMARY_COLUMNS if not c.startswith(("users_connected", "connect_"))]
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=older, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    (row,) = read_summary(path)
    assert (row.users_connected, row.connect_s, row.connect_p99_ms) == (None, None, None)
    assert not row.verdict.not_connected and row.verdict.ok
