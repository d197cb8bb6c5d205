"""The classroom page, served as static files by the same server (no build step, no CDN)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

blueprint = Blueprint("page", __name__)


@blueprint.get("/")
def index() -> Response:
    response = current_app.send_static_file("index.html")
    response.headers["Cache-Control"] = "no-cache"
    return response
