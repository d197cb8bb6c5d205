"""WebSocket: one upgraded connection per client, each event a JSON text frame, and frames
from the client that publish events (the second direction SSE does not have).

`GET /ws` is checked like any request (a bad cursor is a 400, the limit a 503, both JSON);
an accepted one leaves its session in the WSGI environ, and the connection (lab.http_handler)
runs it on its socket after the 101 answer instead of writing a body. The protocol is
wsproto's (lab.websocket_session).
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from lab.access import cross_site_reason, token_is_valid
from lab.control import publish_event
from lab.cursors import Resume, parse_resume
from lab.errors import ApiError, too_many_held
from lab.held import CLIENT_SOCKET_KEY, UPGRADE_KEY, TooManyHeld
from lab.state import lab_state
from lab.websocket_session import WebSocketSession

TRANSPORT = "websocket"
blueprint = Blueprint(TRANSPORT, __name__)


def publishing(state) -> tuple[bool, str]:
    """Whether this client may publish over its socket, and if not, why (the same rules as
    POST /publish: not from another site's page, and with the token off loopback)."""
    reason = cross_site_reason()
    if reason:
        return False, f"publishing is refused to another site's page ({reason})"
    if not state.settings.on_loopback and not token_is_valid(request.args.get("token")):
        return False, "publishing needs the token the server printed, as ?token= in the URL"
    return True, ""


@blueprint.get("/ws")
def not_upgraded() -> Response:
    raise ApiError(
        426,
        "this address speaks WebSocket: open it with new WebSocket('ws://…/ws') or any "
        "WebSocket client, which asks for the upgrade",
        {"Upgrade": "websocket", "Connection": "Upgrade"},
    )


# Werkzeug's router tells a WebSocket handshake (Upgrade: websocket) from a plain GET.
@blueprint.get("/ws", websocket=True)
def websocket() -> Response:
    state = lab_state()
    if request.headers.get("Sec-WebSocket-Version") != "13":
        raise ApiError(
            426, "this server speaks WebSocket version 13", {"Sec-WebSocket-Version": "13"}
        )
    if not request.headers.get("Sec-WebSocket-Key"):
        raise ApiError(400, "a WebSocket opening handshake needs a Sec-WebSocket-Key header")
    resume = parse_resume(
        request.args.get("last_event_id"),
        state.source,
        "last_event_id",
        request.args.get("epoch") or None,
    )
    if resume is None:
        resume = Resume(after=state.source.last_id)
    may_publish, refused = publishing(state)

    # The session itself notices a client that leaves (it reads the socket), so the hold
    # does not watch the socket for that.
    environ = {k: v for k, v in request.environ.items() if k != CLIENT_SOCKET_KEY}
    holding = state.held.hold(environ)
    try:
        held = holding.__enter__()
    except TooManyHeld:
        raise too_many_held(state.settings) from None
    session = WebSocketSession(
        state,
        held,
        resume,
        (lambda body: publish_event(state, body)) if may_publish else None,
        refused,
    )
    head = request_head(request.environ)

    def run(connection) -> None:
        """Run the session on the connection: the 101 answer, then frames both ways."""
        try:
            session.accept(head, connection.send)
            session.run(connection.read)
        finally:
            holding.__exit__(None, None, None)

    request.environ[UPGRADE_KEY] = run
    return Response(status=101)


def request_head(environ: dict) -> bytes:
    """The upgrade request's head, rebuilt from the WSGI environ for the handshake."""
    target = environ.get("RAW_URI") or environ.get("PATH_INFO", "/")
    lines = [f"GET {target} HTTP/1.1"]
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            lines.append(f"{key[5:].replace('_', '-').title()}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
