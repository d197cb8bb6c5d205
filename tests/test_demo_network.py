"""`lab demo --rtt MS`: the page's address goes through a relay that adds a network's round
trip; the server behind it keeps its Host and token rules. Real processes, real sockets."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
from helpers import SSEClient, wait_until

from lab.lab_process import LabProcess

RTT_MS = 200


@contextmanager
def demo(*args: str) -> Iterator[LabProcess]:
    """`lab demo --port 0 ARGS`, as a teacher starts it, stopped afterwards."""
    with LabProcess(["--port", "0", *args], command_name="demo") as running:
        yield running


def fastest_poll_s(url: str, tries: int = 5) -> float:
    """The quickest of a few /poll answers on one kept-alive connection: the least a
    round trip costs, whatever else the machine is doing."""
    with requests.Session() as session:
        session.get(f"{url}/poll", timeout=10)  # the connection, opened once
        times = []
        for _ in range(tries):
            started = time.monotonic()
            response = session.get(f"{url}/poll", timeout=10)
            times.append(time.monotonic() - started)
            assert response.status_code == 200, response.text
    return min(times)


@pytest.mark.slow
def test_lab_demo_rtt_adds_the_round_trip_to_every_answer_and_event():
    with demo("--rate", "0") as direct, demo("--rate", "0", "--rtt", str(RTT_MS)) as relayed:
        wait_until(
            lambda: any(f"round trip of {RTT_MS} ms" in line for line in relayed.output),
            what="the demo to say which round trip it simulates",
        )
        # A poll crosses the relay twice: at least ~100 ms more than without, at its quickest.
        without, through = fastest_poll_s(direct.url), fastest_poll_s(relayed.url)
        assert through >= without + 0.1, (without, through)

        # An event pushed on an open stream crosses once: it arrives half a round trip late.
        with SSEClient(f"{relayed.url}/sse", timeout=10) as stream:
            wait_until(
                lambda: (
                    requests.get(f"{relayed.url}/metrics", timeout=10).json()["transports"]["sse"][
                        "open"
                    ]
                    == 1
                ),
                timeout=10,
                what="the stream to be open at the server",
            )
            published = requests.post(
                f"{relayed.url}/publish", json={"data": "across the network"}, timeout=10
            )
            assert published.status_code == 201, published.text
            event = stream.next_event()
            latency = time.time() - published.json()["ts"]
            assert "across the network" in event.data, event
        assert latency >= RTT_MS / 2 / 1000 * 0.95, latency

        # The page and its settings come through the relay; the page learns the round trip.
        assert requests.get(f"{relayed.url}/", timeout=10).status_code == 200
        metrics = requests.get(f"{relayed.url}/metrics", timeout=10).json()
        assert metrics["network"] == {"simulated_rtt_ms": RTT_MS}
        assert requests.get(f"{direct.url}/metrics", timeout=10).json()["network"] == {
            "simulated_rtt_ms": 0
        }
        # Still a loopback server: only loopback names are answered (DNS rebinding).
        port = relayed.port
        assert requests.get(f"http://localhost:{port}/source", timeout=10).status_code == 200
        foreign = requests.get(
            f"{relayed.url}/source", headers={"Host": f"attacker.example:{port}"}, timeout=10
        )
        assert foreign.status_code == 403, foreign.text


@pytest.mark.slow
def test_a_relayed_demo_on_the_network_still_needs_the_token():
    # The server behind the relay listens on loopback, and every request reaches it from
    # the relay; what the teacher asked for (the network) still decides the rules.
    args = ("--host", "0.0.0.0", "--token", "class-token", "--rate", "0", "--rtt", "20")
    with demo(*args) as relayed:
        assert relayed.url.startswith("http://0.0.0.0:")
        url = f"http://127.0.0.1:{relayed.port}"
        access = requests.get(f"{url}/access", timeout=10).json()
        assert access == {"can_change": False, "needs_token": True, "because": "no token"}
        refused = requests.post(f"{url}/publish", json={"data": "no token"}, timeout=10)
        assert refused.status_code == 401, refused.text
        allowed = requests.post(
            f"{url}/publish",
            json={"data": "the teacher"},
            headers={"X-Lab-Token": "class-token"},
            timeout=10,
        )
        assert allowed.status_code == 201, allowed.text
        # Both printed addresses are the relay's: students and teacher go through it.
        wait_until(
            lambda: any("#token=class-token" in line for line in relayed.output),
            what="the teacher's address",
        )
        addresses = [line for line in relayed.output if "http://" in line]
        assert len(addresses) >= 2 and all(f":{relayed.port}/" in line for line in addresses)


@pytest.mark.parametrize("rtt", ["-1", "5001", "nan", "inf"])
def test_an_impossible_round_trip_is_a_sentence(rtt):
    result = subprocess.run(
        [sys.executable, "-m", "lab", "demo", "--port", "0", "--rtt", rtt],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "--rtt must be a round trip of 0 to 5000 ms" in result.stderr, result.stderr
