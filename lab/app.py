"""The Flask app factory: one event source, served by every transport's blueprint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from lab import errors
from lab.event_source import EventSource
from lab.fanout import Fanout
from lab.held import HeldRequests
from lab.metrics import Metrics
from lab.settings import Settings
from lab.ticker import Ticker


@dataclass
class LabState:
    """Everything the endpoints share, kept in `app.extensions['lab']`."""

    settings: Settings
    source: EventSource
    ticker: Ticker
    held: HeldRequests
    metrics: Metrics
    fanout: Fanout


def lab_state(app: Flask | None = None) -> LabState:
    return (app or current_app).extensions["lab"]


def create_app(settings: Settings | dict[str, Any] | None = None) -> Flask:
    """Build the app. The ticker and the SSE fan-out are created but not started: the
    server starts them."""
    if not isinstance(settings, Settings):
        settings = Settings(**(settings or {}))
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.ensure_ascii = False
    source = EventSource(history=settings.history)
    metrics = Metrics()
    app.extensions["lab"] = LabState(
        settings=settings,
        source=source,
        ticker=Ticker(
            source,
            rate=settings.rate,
            arrivals=settings.arrivals,
            payload_bytes=settings.payload_bytes,
            paused=settings.paused,
        ),
        held=HeldRequests(limit=settings.max_streams),
        metrics=metrics,
        fanout=Fanout(source, metrics["sse"], settings.max_batch),
    )
    errors.init_app(app)

    from lab import control, page
    from lab.transports import long_polling, short_polling, sse

    for module in (short_polling, long_polling, sse, control, page):
        app.register_blueprint(module.blueprint)
    return app
