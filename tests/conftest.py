from __future__ import annotations

import pytest
from helpers import LabServer, run_server


@pytest.fixture(scope="module")
def server() -> LabServer:
    """A lab server with the ticker paused: tests publish the events they need."""
    with run_server("--rate", "0", "--heartbeat", "0.5", "--retry-ms", "1500") as running:
        yield running


@pytest.fixture(scope="module")
def chromium():
    """A headless Chromium browser context (Playwright BrowserContext), one per module."""
    from browser import launched_chromium

    with launched_chromium() as context:
        yield context
