"""Who may reach and change the server, and the browser-side attacks it refuses.

- Changing endpoints (`/publish`, `PUT /source`, `/drop`): anyone on loopback; elsewhere,
  only holders of the start-up token, sent as the `X-Lab-Token` header.
- DNS rebinding: a page on an attacker's domain that resolves to 127.0.0.1 would reach a
  loopback server with its own name in `Host`. On loopback only loopback names are answered.
- Cross-site requests (CSRF): any page the teacher opens could POST to the lab. Changing
  endpoints refuse requests that a browser marks as coming from another site (`Origin`,
  `Sec-Fetch-Site`), and require a JSON body or the token header, which a plain HTML form or
  a "simple" cross-site fetch cannot send.
- Framing (clickjacking): the page may not be shown inside another site's frame.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable

from flask import Blueprint, Flask, Response, jsonify, request

from lab.errors import ApiError
from lab.state import lab_state

TOKEN_HEADER = "X-Lab-Token"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

blueprint = Blueprint("access", __name__)


def host_name(host_header: str) -> str:
    """The name in a Host header, without its port: "[::1]:8000" -> "::1"."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        return host.partition(":")[0]
    return host


def init_app(app: Flask) -> None:
    @app.before_request
    def refuse_foreign_host() -> None:
        settings = lab_state().settings
        host = request.environ.get("HTTP_HOST")
        if not settings.on_loopback or host is None:
            return
        if host_name(host) not in LOOPBACK_NAMES | {settings.host.lower()}:
            raise ApiError(
                403,
                "this server listens on loopback and answers only requests addressed to "
                "127.0.0.1, localhost or [::1], not to another name (a defence against DNS "
                "rebinding); open it as http://127.0.0.1:<port>/",
            )

    @app.after_request
    def protect_the_page(response: Response) -> Response:
        if request.path == "/" or request.path.startswith("/static/"):
            response.headers.update(PAGE_HEADERS)
        return response


def token_is_valid(given: str | None = None) -> bool | None:
    """True or False for the token sent (the header, unless `given`); None when none was."""
    given = given or request.headers.get(TOKEN_HEADER)
    if not given:
        return None
    return hmac.compare_digest(given.encode(), lab_state().settings.token.encode())


def cross_site_reason() -> str | None:
    """Why a browser says this request comes from another site (None when it does not)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return f"Sec-Fetch-Site: {fetch_site[:40]}"
    origin = request.headers.get("Origin")
    if origin is not None:
        host = request.headers.get("Host", "")
        if origin not in (f"http://{host}", f"https://{host}"):
            return f"Origin: {origin[:80]}"
    return None


def changes_state(view: Callable) -> Callable:
    """Guard a view that changes the server for everyone."""

    @functools.wraps(view)
    def guarded(*args, **kwargs):
        reason = cross_site_reason()
        if reason:
            raise ApiError(
                403,
                f"this request comes from another site's page ({reason}); the lab's controls "
                "accept requests from its own page only",
            )
        if not lab_state().settings.on_loopback:
            valid = token_is_valid()
            if valid is None:
                raise ApiError(
                    401,
                    "this server is reachable from the network, so changing it needs the token "
                    f"printed when it started, sent as an {TOKEN_HEADER} header",
                )
            if not valid:
                raise ApiError(403, "that token is not this server's; use the one it printed")
        if request.mimetype != "application/json" and TOKEN_HEADER not in request.headers:
            raise ApiError(
                415,
                "send this request with the header Content-Type: application/json (or "
                f"{TOKEN_HEADER}); a plain form on another site cannot, which is the point",
            )
        return view(*args, **kwargs)

    return guarded


@blueprint.get("/access")
def access() -> Response:
    """Whether this client may use the changing endpoints: a question that changes nothing."""
    settings = lab_state().settings
    valid = token_is_valid()
    if settings.on_loopback:
        can_change, why = True, "loopback"
    elif valid is None:
        can_change, why = False, "no token"
    else:
        can_change, why = valid, "token" if valid else "wrong token"
    return jsonify(
        {"can_change": can_change, "needs_token": not settings.on_loopback, "because": why}
    )
