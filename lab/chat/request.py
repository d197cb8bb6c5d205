"""A chat question: its JSON body read strictly and every field checked, or a 400 that says
which field is wrong and what it may be."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab.chat.model import Timing
from lab.errors import ApiError

MAX_PROMPT_CHARS = 2_000
LIMITS = {
    # field: (lowest, highest, default)
    "max_tokens": (1, 500, 60),
    "tokens_per_s": (0.5, 200.0, 20.0),
    "first_token_ms": (0.0, 10_000.0, 400.0),
}


@dataclass(frozen=True)
class ChatRequest:
    prompt: str
    max_tokens: int
    timing: Timing

    @classmethod
    def from_json(cls, body: Any) -> ChatRequest:
        """The question in a parsed JSON body (ApiError 400 naming the problem)."""
        if not isinstance(body, dict):
            raise ApiError(400, 'send a JSON object such as {"prompt": "What is SSE?"}')
        unknown = sorted(set(body) - {"prompt", *LIMITS})
        if unknown:
            raise ApiError(
                400,
                f"unknown field {unknown[0]!r}; a question has prompt, max_tokens, "
                "tokens_per_s and first_token_ms",
            )
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise ApiError(400, "prompt must be a non-empty string")
        if len(prompt) > MAX_PROMPT_CHARS:
            raise ApiError(
                400, f"prompt is {len(prompt):,} characters; at most {MAX_PROMPT_CHARS:,}"
            )
        values = {name: _number(body, name) for name in LIMITS}
        return cls(
            prompt=prompt,
            max_tokens=int(values["max_tokens"]),
            timing=Timing(values["first_token_ms"], values["tokens_per_s"]),
        )


def _number(body: dict, name: str) -> float:
    low, high, default = LIMITS[name]
    value = body.get(name, default)
    whole = isinstance(low, int)
    kind = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high:
        what = "a whole number" if whole else "a number"
        raise ApiError(400, f"{name} must be {what} from {low:g} to {high:g}, not {value!r}")
    return float(value)
