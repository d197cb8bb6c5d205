"""JSON errors: every failure a client sees is `{"error": "<sentence>"}` with a 4xx/5xx status."""

from __future__ import annotations

import math

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from lab.json_bytes import to_json_bytes
from lab.settings import Settings


class ApiError(Exception):
    """Raise anywhere in a request to answer with this status and sentence."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def too_many_held(settings: Settings) -> ApiError:
    whole = f"its maximum of {settings.max_streams} streams and long polls (--max-streams)"
    if settings.workers > 1:
        share = math.ceil(settings.max_streams / settings.workers)
        whole = (
            f"its share of the streams and long polls: {share} in each of its "
            f"{settings.workers} workers (--max-streams {settings.max_streams})"
        )
    return ApiError(
        503, f"the server is already holding {whole}; try again shortly", {"Retry-After": "1"}
    )


def error_body(message: str) -> bytes:
    return to_json_bytes({"error": message})


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    response = Response(error_body(message), status=status, mimetype="application/json")
    response.headers.update(headers or {})
    return response


_PLAIN_WORDS = {
    404: "there is nothing at this address; the lab serves /, /poll, /longpoll, /sse, "
    "/publish, /metrics, /source and /drop",
    405: "this address does not accept that method",
}


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def on_api_error(error: ApiError) -> Response:
        return json_error(error.status, error.message, error.headers)

    @app.errorhandler(HTTPException)
    def on_http_exception(error: HTTPException) -> Response:
        status = error.code or 500
        message = _PLAIN_WORDS.get(status) or (error.description or error.name)
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            message = f"the body is larger than this server's limit of {limit} bytes"
        headers = {}
        if status == 405 and error.get_response().headers.get("Allow"):
            headers["Allow"] = error.get_response().headers["Allow"]
            message = f"{message} (allowed: {headers['Allow']})"
        return json_error(status, message, headers)

    @app.errorhandler(Exception)
    def on_unexpected(error: Exception) -> Response:
        app.logger.exception("unexpected error")
        return json_error(500, "the server failed to handle this request; the log says why")
