"""Push-transport lab: one event source served by short polling, long polling and SSE."""

__version__ = "0.1.0"
