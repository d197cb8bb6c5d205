"""lab.chat: the fake model's tokens and timing, and the checks on a question: pure code."""

from __future__ import annotations

import pytest

from lab.chat.model import Timing, answer_tokens
from lab.chat.request import MAX_PROMPT_CHARS, ChatRequest
from lab.errors import ApiError


def test_the_same_prompt_gives_the_same_answer():
    first = list(answer_tokens("What is SSE?", 40))
    assert first == list(answer_tokens("What is SSE?", 40))
    assert first != list(answer_tokens("What is long polling?", 40))


@pytest.mark.parametrize("count", [1, 2, 33, 500])
def test_an_answer_has_max_tokens_and_ends_with_a_full_stop(count):
    tokens = list(answer_tokens("x", count))
    assert len(tokens) == count
    assert tokens[-1].endswith(".")
    assert not tokens[0].startswith(" ") and all(t.startswith(" ") for t in tokens[1:])


def test_a_shorter_answer_is_the_start_of_a_longer_one():
    assert list(answer_tokens("p", 10))[:9] == list(answer_tokens("p", 20))[:9]


@pytest.mark.parametrize(
    ("timing", "index", "due"),
    [
        (Timing(400, 20), 0, 0.4),
        (Timing(400, 20), 1, 0.45),
        (Timing(0, 10), 5, 0.5),
        (Timing(1000, 0.5), 2, 5.0),
    ],
)
def test_tokens_come_after_the_first_token_delay_at_a_steady_rate(timing, index, due):
    assert timing.due_s(index) == pytest.approx(due)


def test_a_question_takes_its_defaults():
    question = ChatRequest.from_json({"prompt": "hi"})
    assert (question.max_tokens, question.timing) == (60, Timing(400.0, 20.0))


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([], "JSON object"),
        ({}, "prompt must be a non-empty string"),
        ({"prompt": "   "}, "prompt must be a non-empty string"),
        ({"prompt": 7}, "prompt must be a non-empty string"),
        ({"prompt": "x" * (MAX_PROMPT_CHARS + 1)}, "at most 2,000"),
        ({"prompt": "x", "max_tokens": 0}, "max_tokens must be a whole number from 1 to 500"),
        ({"prompt": "x", "max_tokens": 501}, "max_tokens must be"),
        ({"prompt": "x", "max_tokens": 2.5}, "max_tokens must be"),
        ({"prompt": "x", "max_tokens": True}, "max_tokens must be"),
        ({"prompt": "x", "tokens_per_s": 0}, "tokens_per_s must be a number from 0.5 to 200"),
        ({"prompt": "x", "tokens_per_s": "fast"}, "tokens_per_s must be"),
        ({"prompt": "x", "first_token_ms": -1}, "first_token_ms must be a number from 0"),
        ({"prompt": "x", "first_token_ms": 10_001}, "first_token_ms must be"),
        ({"prompt": "x", "temperature": 1}, "unknown field 'temperature'"),
    ],
)
def test_a_bad_question_is_a_400_that_names_the_field(body, words):
    with pytest.raises(ApiError) as refused:
        ChatRequest.from_json(body)
    assert refused.value.status == 400
    assert words in refused.value.message
