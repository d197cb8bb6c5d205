"""A server run's epoch: a short random name that makes cursors from earlier runs visible.

Ids begin at 1 in every run of the server, so "event 20" alone cannot say which run it was
in. An SSE id carries both, `20@k3x9`, and a poll sends `since=20&epoch=k3x9`. Pure: no I/O.
"""

from __future__ import annotations

import secrets

EPOCH_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
"""Lowercase letters and digits, without the look-alikes l, o, 0 and 1."""
EPOCH_LENGTH = 4
"""Characters in an epoch: 32**4, about a million names, so a clash between two runs that a
client meets is a one-in-a-million event."""


def new_epoch() -> str:
    return "".join(secrets.choice(EPOCH_ALPHABET) for _ in range(EPOCH_LENGTH))


def sse_id(event_id: int, epoch: str) -> str:
    """The SSE id of an event: its number and its run, `41@k3x9`."""
    return f"{event_id}@{epoch}"


def split_sse_id(text: str) -> tuple[str, str | None]:
    """An SSE id (or any cursor text) split into its number part and its epoch (or None)."""
    number, at, epoch = text.partition("@")
    return number, (epoch if at else None)
