"""lab.metrics: which transport a path belongs to, and the snapshot every client diffs."""

from __future__ import annotations

import pytest

from lab.metrics import OTHER, Metrics, transport_of


@pytest.mark.parametrize(
    ("path", "transport"),
    [
        ("/poll", "short_polling"),
        ("/poll?since=3", "short_polling"),
        ("/longpoll?since=1&timeout=5", "long_polling"),
        ("/sse", "sse"),
        ("/sse?last_event_id=4", "sse"),
        ("/", OTHER),
        ("/metrics", OTHER),
        ("/pollx", OTHER),
        ("/sse/extra", OTHER),
        ("/chat", "chat"),
        ("/chat/jobs", "chat"),
        ("/chat/jobs/abc?after=3&wait=5", "chat"),
        ("/chatter", OTHER),
        ("/ws", "websocket"),
        ("/ws?last_event_id=3&epoch=k3x9", "websocket"),
    ],
)
def test_transport_of(path, transport):
    assert transport_of(path) == transport


def test_a_snapshot_has_every_transport_the_connections_and_the_process():
    metrics = Metrics()
    metrics["sse"].bytes_out += 120
    metrics["sse"].responses[200] += 1
    metrics.connections.refused += 2
    snapshot = metrics.snapshot()
    assert set(snapshot["transports"]) == {
        "short_polling",
        "long_polling",
        "sse",
        "websocket",
        "chat",
        OTHER,
    }
    sse = snapshot["transports"]["sse"]
    assert sse["bytes_out"] == 120 and sse["responses"] == {"200": 1}
    assert set(sse) >= {
        "requests",
        "bytes_in",
        "open",
        "events_sent",
        "empty_responses",
        "disconnects",
        "write_timeouts",
    }
    assert snapshot["connections"]["refused"] == 2
    process = snapshot["process"]
    assert process["cpu_s"] == pytest.approx(process["cpu_user_s"] + process["cpu_system_s"])
    assert process["rss_bytes"] > 1_000_000
