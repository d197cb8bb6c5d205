"""A deterministic fake language model: the same prompt always gives the same answer.

Its timing is what a real model's looks like from outside: a delay before the first token
(reading the prompt), then tokens at a steady rate. The words come from a small vocabulary
chosen by a hash of the prompt, so a test or a class can predict every token. Pure: the
transports do the waiting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

WORDS = (
    "the", "server", "sends", "each", "event", "as", "soon", "as", "it", "is", "published",
    "a", "stream", "stays", "open", "while", "polls", "ask", "again", "and", "again",
    "latency", "is", "the", "time", "from", "publish", "to", "receipt", "proxies", "may",
    "buffer", "bytes", "until", "their", "buffer", "fills", "heartbeats", "keep", "idle",
    "connections", "alive", "one", "request", "per", "answer", "costs", "less", "than",
    "one", "per", "interval",
)  # fmt: skip


@dataclass(frozen=True)
class Timing:
    """When a model's tokens come: the first after `first_token_ms`, then `tokens_per_s`."""

    first_token_ms: float = 400.0
    tokens_per_s: float = 20.0

    def due_s(self, index: int) -> float:
        """Seconds after the question when token `index` (0 first) is ready."""
        return self.first_token_ms / 1000 + index / self.tokens_per_s


def answer_tokens(prompt: str, max_tokens: int) -> Iterator[str]:
    """The answer's tokens, in order: words with their leading space, the first without,
    ending with a full stop."""
    seed = hashlib.sha256(prompt.encode("utf-8")).digest()
    for index in range(max_tokens):
        byte = seed[index % len(seed)] ^ (index * 37 % 256)
        word = WORDS[byte % len(WORDS)]
        if index == max_tokens - 1:
            word += "."
        yield word if index == 0 else " " + word
