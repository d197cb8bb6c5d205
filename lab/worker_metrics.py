"""The whole server's `/metrics` from its workers' own snapshots. Pure.

Counters add up (requests, bytes, open streams, CPU seconds, resident memory): each worker
counts only its own clients and its own process. The source is the same in every worker
(each mirrors one shared stream), so the most advanced worker's view stands for it.
"""

from __future__ import annotations

from typing import Any

SUMMED = ("transports", "connections", "chat", "process", "held")
NOT_SUMMED = {"pid"}


def add_up(parts: list[Any]) -> Any:
    """Numbers added, dicts added key by key (a key missing in one part counts as absent),
    anything else taken from the first part."""
    if all(isinstance(part, dict) for part in parts):
        keys: dict[str, None] = {}
        for part in parts:
            keys.update(dict.fromkeys(part))
        return {
            key: add_up([part[key] for part in parts if key in part])
            for key in keys
            if key not in NOT_SUMMED
        }
    if all(isinstance(part, int | float) and not isinstance(part, bool) for part in parts):
        return sum(parts)
    return parts[0]


def combine_snapshots(snapshots: list[dict]) -> dict:
    """One snapshot for the server from each worker's (at least one)."""
    if not snapshots:
        raise ValueError("no worker answered")
    combined: dict[str, Any] = {key: add_up([s[key] for s in snapshots]) for key in SUMMED}
    combined["process"]["pids"] = [s["process"]["pid"] for s in snapshots]
    combined["time"] = max(s["time"] for s in snapshots)
    combined["uptime_s"] = max(s["uptime_s"] for s in snapshots)
    combined["source"] = max(snapshots, key=lambda s: s["source"]["last_id"])["source"]
    combined["network"] = snapshots[0]["network"]
    return combined
