"""The state every endpoint shares, and the accessor for it (as flaskr keeps `get_db`)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from lab.chat.jobs import ChatJobs
from lab.event_source import EventSource
from lab.fanout import Fanout
from lab.held import HeldRequests
from lab.metrics import Metrics
from lab.settings import Settings
from lab.ticker import Ticker
from lab.workers import OneProcess, SharedWorkers


@dataclass
class LabState:
    """Everything the endpoints share, kept in `app.extensions['lab']`."""

    settings: Settings
    source: EventSource
    ticker: Ticker
    held: HeldRequests
    metrics: Metrics
    fanout: Fanout
    chat_jobs: ChatJobs
    workers: OneProcess | SharedWorkers
    network_rtt_ms: float = 0.0
    """The round trip a relay in front of the server adds (`lab demo --rtt`); 0: none."""

    def start(self) -> None:
        """Start what runs beside the requests: the shared parts, the fan-out, the ticker."""
        self.workers.start()
        self.fanout.start()
        self.ticker.start()

    def stop(self) -> None:
        self.ticker.stop()
        self.fanout.stop()
        self.workers.stop()


def lab_state(app: Flask | None = None) -> LabState:
    return (app or current_app).extensions["lab"]
