"""Who may change the server: anyone on loopback; elsewhere, only holders of the start-up token."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable

from flask import request

from lab.app import lab_state
from lab.errors import ApiError

TOKEN_HEADER = "X-Lab-Token"


def requires_token(view: Callable) -> Callable:
    """Guard a view that changes state when the server is reachable from other machines."""

    @functools.wraps(view)
    def guarded(*args, **kwargs):
        settings = lab_state().settings
        if not settings.on_loopback:
            given = request.headers.get(TOKEN_HEADER) or request.args.get("token")
            if not given:
                raise ApiError(
                    401,
                    "this server is reachable from the network, so changing it needs the token "
                    f"printed when it started: add ?token=... or an {TOKEN_HEADER} header",
                )
            if not hmac.compare_digest(given.encode(), settings.token.encode()):
                raise ApiError(403, "that token is not this server's; use the one it printed")
        return view(*args, **kwargs)

    return guarded
