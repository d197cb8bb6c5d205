"""lab.worker_metrics: the server's /metrics from its workers' own snapshots."""

from __future__ import annotations

import pytest

from lab.worker_metrics import add_up, combine_snapshots


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([1, 2, 3], 6),
        ([0.5, 0.25], 0.75),
        ([{"a": 1, "b": {"c": 2}}, {"a": 10, "b": {"c": 20}}], {"a": 11, "b": {"c": 22}}),
        ([{"a": 1}, {"b": 2}], {"a": 1, "b": 2}),  # a key one worker lacks counts as absent
        ([{"200": 3}, {"200": 4, "503": 1}], {"200": 7, "503": 1}),
        ([True, False], True),  # a flag is not a count
        (["k3x9", "k3x9"], "k3x9"),
        ([{"pid": 1, "cpu_s": 1.0}, {"pid": 2, "cpu_s": 2.0}], {"cpu_s": 3.0}),
    ],
)
def test_add_up(parts, expected):
    assert add_up(parts) == expected


def snapshot(worker: int, last_id: int, open_streams: int, cpu_s: float) -> dict:
    return {
        "time": 100.0 + worker,
        "uptime_s": 10.0 + worker,
        "transports": {"sse": {"open": open_streams, "responses": {"200": open_streams}}},
        "connections": {"open": open_streams, "limit": 1000},
        "chat": {"generating": 0},
        "process": {"pid": 40 + worker, "cpu_s": cpu_s, "rss_bytes": 1000},
        "held": {"count": open_streams, "limit": 500},
        "source": {"last_id": last_id, "rate": 2.0, "epoch": "k3x9"},
        "network": {"simulated_rtt_ms": 0.0},
    }


def test_two_workers_add_up_to_one_server():
    combined = combine_snapshots([snapshot(0, 41, 3, 1.5), snapshot(1, 42, 4, 2.5)])
    assert combined["transports"]["sse"] == {"open": 7, "responses": {"200": 7}}
    assert combined["connections"] == {"open": 7, "limit": 2000}
    assert combined["held"] == {"count": 7, "limit": 1000}
    assert combined["process"] == {"cpu_s": 4.0, "rss_bytes": 2000, "pids": [40, 41]}
    assert combined["source"]["last_id"] == 42  # the most advanced mirror
    assert (combined["time"], combined["uptime_s"]) == (101.0, 11.0)


def test_no_worker_is_an_error():
    with pytest.raises(ValueError, match="no worker answered"):
        combine_snapshots([])
