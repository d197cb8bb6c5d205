"""lab.publish_cost against the real server: a client's message as a request and as a frame."""

from __future__ import annotations

import json

from helpers import run_server

from lab.publish_cost import measure_publish_cost


def test_a_frame_costs_its_payload_and_a_masked_header_a_request_far_more():
    with run_server("--paused") as server:
        found = measure_publish_cost(server.url, messages=50)
    # Every message is the same JSON but for its number (0-49): the mean payload size.
    payload = (
        sum(len(json.dumps({"type": "chat", "data": {"n": n, "text": "hello"}})) for n in range(50))
        / 50
    )
    assert found["messages"] == 50
    assert found["websocket"]["bytes_per_message"] == payload + 6  # masked: 2 + 4 bytes
    assert found["http"]["bytes_per_message"] > payload + 200  # a request head and an answer
    assert found["http"]["cpu_us_per_message"] > 0 and found["websocket"]["cpu_us_per_message"] > 0
