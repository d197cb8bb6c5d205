"""The Flask app factory: one event source, served by every transport's blueprint."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider

from lab import access, control, errors, page
from lab.chat.jobs import ChatJobs
from lab.fanout import Fanout
from lab.held import HeldRequests
from lab.json_bytes import to_json_bytes
from lab.metrics import Metrics
from lab.settings import Settings
from lab.state import LabState
from lab.transports import chat, chat_jobs, long_polling, short_polling, sse, websocket
from lab.workers import for_settings, share


class LabJSONProvider(DefaultJSONProvider):
    """Flask's JSON answers written the one way the lab writes JSON (`to_json_bytes`)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return to_json_bytes(obj).decode()

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        return Response(to_json_bytes(obj), mimetype="application/json")


def create_app(settings: Settings | dict[str, Any] | None = None) -> Flask:
    """Build the app. The ticker and the SSE fan-out are created but not started: the
    server starts them."""
    if not isinstance(settings, Settings):
        settings = Settings(**(settings or {}))
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json = LabJSONProvider(app)
    # With several workers each holds its share of the server's limits.
    workers = for_settings(settings)
    metrics = Metrics()
    state = LabState(
        settings=settings,
        source=workers.source,
        ticker=workers.ticker,
        held=HeldRequests(limit=share(settings.max_streams, settings.workers)),
        metrics=metrics,
        fanout=Fanout(
            workers.source,
            metrics["sse"],
            settings.max_batch,
            settings.max_batch_bytes,
            settings.write_timeout,
        ),
        chat_jobs=ChatJobs(metrics.chat, limit=share(settings.max_chat_answers, settings.workers)),
        workers=workers,
    )
    app.extensions["lab"] = state
    workers.serve_commands(state.held, lambda: control.worker_snapshot(state))
    workers.init_app(app)
    errors.init_app(app)
    access.init_app(app)
    for module in (
        short_polling,
        long_polling,
        sse,
        websocket,
        chat,
        chat_jobs,
        control,
        access,
        page,
    ):
        app.register_blueprint(module.blueprint)
    return app
