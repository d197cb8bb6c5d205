"""CPU time of a process and all its children, read from Linux's /proc: how busy the load
generator was (a Locust process near a whole core measures itself, not the server)."""

from __future__ import annotations

import os
from collections import defaultdict

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_tree_cpu(root_pid: int, with_reaped: bool = False) -> dict[int, float]:
    """CPU seconds used so far by a process and all its descendants (Linux /proc).

    With `with_reaped`, each process's figure also holds what its children that have
    already exited (and been waited for) used: a server that replaces workers, such as
    gunicorn after a worker timeout, keeps the dead workers' CPU in its total.
    """
    children: dict[int, list[int]] = defaultdict(list)
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                values = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children[int(values[1])].append(pid)
        ticks = int(values[11]) + int(values[12])
        if with_reaped:
            ticks += int(values[13]) + int(values[14])
        cpu[pid] = ticks / CLOCK_TICKS
    tree, todo = {}, [root_pid]
    while todo:
        pid = todo.pop()
        if pid in cpu:
            tree[pid] = cpu[pid]
        todo.extend(children.get(pid, []))
    return tree


def busiest_process_percent(
    before: dict[int, float], after: dict[int, float], seconds: float
) -> float:
    """The highest share of one core any load-generator process used over the window."""
    shares = [(after[pid] - before.get(pid, 0.0)) / seconds * 100 for pid in after]
    return max(shares, default=0.0)
