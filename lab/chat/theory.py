"""The simple theory of a chat answer: when its tokens reach the user, and how many
requests it costs, over each transport, from the model's known timing (lab.chat.model).

Pure, like lab.theory, whose loopback delays it shares.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lab.names import TRANSPORTS
from lab.theory import ONE_WAY_S, ROUND_TRIP_S, not_negative, positive


@dataclass(frozen=True)
class ChatPrediction:
    """How one chat answer reaches a client on loopback, from the model's known timing."""

    ttft_ms: float
    """Time to first token: from asking to the first token in hand."""
    token_delay_mean_ms: float
    """Mean of each token's receipt minus the moment the model produced it."""
    requests_per_answer: float
    """HTTP requests one answer costs: the question and every poll for its tokens."""


def chat_answer(
    transport: str,
    *,
    tokens: int,
    tokens_per_s: float,
    first_token_ms: float,
    interval_s: float | None = None,
) -> ChatPrediction:
    """What one answer costs and how late its tokens come, over `transport`.

    The model's token i is ready at d_i = first_token_ms + i / tokens_per_s after the
    question (lab.chat.model.Timing).

    - SSE: one request; each token is written when it is ready, so the first comes after the
      model's own delay and no token waits.
    - Long polling: a held poll is answered when a token is ready; the next poll is back
      within a round trip, long before the next token (when tokens come slower than round
      trips), so it costs the question plus one poll per token and adds nothing either.
    - Short polling with interval T: polls at 0, T, 2T, ... from the question; token i is
      seen at the first poll at or after d_i, so it waits ceil(d_i / T)·T − d_i (up to one
      interval, T/2 on average); the poll that finds the last token ends the answer.
    """
    count = int(positive("tokens", tokens, "tokens"))
    rate = positive("tokens_per_s", tokens_per_s, "tokens per second")
    first = not_negative("first_token_ms", first_token_ms, "ms") / 1000
    due = [first + index / rate for index in range(count)]
    if transport == "sse":
        return ChatPrediction(first * 1000, ONE_WAY_S * 1000, 1.0)
    if transport == "long_polling":
        per_poll = max(1.0, ROUND_TRIP_S * rate)
        return ChatPrediction(
            first * 1000, ONE_WAY_S * 1000, float(1 + math.ceil(count / per_poll))
        )
    if transport != "short_polling":
        raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}, not {transport!r}.")
    interval = positive("interval_s", interval_s, "s")
    seen = [math.ceil(d / interval - 1e-9) * interval for d in due]
    return ChatPrediction(
        ttft_ms=seen[0] * 1000,
        token_delay_mean_ms=math.fsum(s - d for s, d in zip(seen, due, strict=True)) / count * 1000,
        requests_per_answer=float(1 + round(seen[-1] / interval) + 1),
    )
