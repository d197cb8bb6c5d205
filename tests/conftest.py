from __future__ import annotations

import pytest
from helpers import LabServer, run_server


@pytest.fixture(scope="module")
def server() -> LabServer:
    """A lab server with the ticker paused: tests publish the events they need."""
    with run_server("--rate", "0", "--heartbeat", "0.5", "--retry-ms", "1500") as running:
        yield running
