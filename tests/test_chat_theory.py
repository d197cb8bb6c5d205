"""lab.chat.theory: a chat answer's first token, token delays and requests, worked out by
hand for the load question."""

from __future__ import annotations

import pytest

from lab.chat.theory import chat_answer


@pytest.mark.parametrize(
    ("transport", "interval", "ttft", "delay_mean", "requests"),
    [
        # 30 tokens, the first at 0.4 s, then every 50 ms: the last at 1.85 s.
        ("sse", None, 400.0, 0.5, 1),
        ("long_polling", None, 400.0, 0.5, 31),
        # Polls at 0, 1 and 2 s: tokens 0-12 (0.40-1.00 s) are seen at 1 s, 13-29 at 2 s.
        ("short_polling", 1.0, 1000.0, (13 * 0.3 + 17 * 0.55) / 30 * 1000, 4),
        # Polls every 0.5 s up to 2 s: each token waits 0, 0.45, 0.40, ... 0.05 s, by turns.
        ("short_polling", 0.5, 500.0, 225.0, 6),
    ],
)
def test_chat_answer_for_the_load_question(transport, interval, ttft, delay_mean, requests):
    found = chat_answer(
        transport, tokens=30, tokens_per_s=20, first_token_ms=400, interval_s=interval
    )
    assert found.ttft_ms == pytest.approx(ttft)
    assert found.token_delay_mean_ms == pytest.approx(delay_mean)
    assert found.requests_per_answer == requests


def test_chat_answer_long_polling_batches_tokens_faster_than_round_trips():
    # 2,000 tokens/s: four tokens are made in one 2 ms round trip, so a poll carries four.
    found = chat_answer("long_polling", tokens=40, tokens_per_s=2000, first_token_ms=0)
    assert found.requests_per_answer == 1 + 10


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"transport": "websocket"}, "transport must be one of"),
        ({"transport": "short_polling"}, "interval_s"),
        ({"transport": "sse", "tokens": 0}, "tokens"),
        ({"transport": "sse", "tokens_per_s": -1}, "tokens_per_s"),
    ],
)
def test_chat_answer_refuses_nonsense(params, message):
    arguments = {"tokens": 30, "tokens_per_s": 20.0, "first_token_ms": 400.0, **params}
    with pytest.raises(ValueError, match=message):
        chat_answer(arguments.pop("transport"), **arguments)
