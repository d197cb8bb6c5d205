"""Why a sweep's settings cannot be run: each a sentence naming the option to change. Pure."""

from __future__ import annotations

import os
from typing import Protocol

from lab.names import CHAT_TRANSPORTS, LAB_SERVER
from lab.peers.peer_metrics import PEER_TRANSPORTS
from lab.proxy.profiles import DIRECT, parse_via
from lab.settings import MAX_WORKERS, PRIVATE_BROKER


class PlanSettings(Protocol):
    """What the checks read of a sweep's settings (lab.sweep_plan.BenchConfig)."""

    transports: tuple[str, ...]
    users: tuple[int, ...]
    rates: tuple[float, ...]
    duration_s: float | None
    interval_s: float
    timeout_s: float
    interval_sweep: tuple[float, ...]
    rtts_ms: tuple[float, ...]
    vias: tuple[str, ...]
    repeat: int
    workers: tuple[int, ...]
    broker: str
    expect_workers: int
    servers: tuple[str, ...]
    server_cpus: str
    server_host: str
    chat: bool
    preset: str


def plan_problems(config: PlanSettings) -> list[str]:
    """Every problem with `config` (empty when it can run)."""
    checks = (
        (any(r <= 0 for r in config.rates), "--rate must be above 0"),
        (any(u < 1 for u in config.users), "--users must all be 1 or more"),
        (config.duration_s is not None and config.duration_s <= 0, "--duration must be above 0"),
        (config.interval_s <= 0, "--interval must be above 0"),
        (not 0 < config.timeout_s <= 120, "--timeout must be above 0 and at most 120"),
        (any(i <= 0 for i in config.interval_sweep), "--interval-sweep must be above 0"),
        (any(not 0 <= r <= 5000 for r in config.rtts_ms), "--rtt must be 0 to 5000 ms"),
        (config.repeat < 1, "--repeat must be 1 or more"),
        (config.expect_workers < 0, "--expect-workers must be 0 or more"),
        (
            config.server_host in ("0.0.0.0", "::", ""),
            "--server-host must be an address the load machines can reach, not "
            f"{config.server_host!r} (every address)",
        ),
        (
            config.server_host != "127.0.0.1" and (config.vias != (DIRECT,) or any(config.rtts_ms)),
            "--server-host works with cells straight to the server: leave out --via and --rtt",
        ),
        (
            any(not 1 <= w <= MAX_WORKERS for w in config.workers),
            f"--workers must all be from 1 to {MAX_WORKERS}",
        ),
        (
            config.broker not in ("", PRIVATE_BROKER),
            f"--broker takes {PRIVATE_BROKER!r} (a private redis-server for each cell)",
        ),
        (
            config.chat and (config.vias != (DIRECT,) or any(config.rtts_ms)),
            "--chat runs on loopback, directly: leave out --via and --rtt",
        ),
        (config.chat and bool(config.preset), "--chat and --preset are two different plans"),
        (
            config.chat and not set(config.transports) & set(CHAT_TRANSPORTS),
            "--chat compares short polling, long polling and SSE: choose one of them",
        ),
    )
    found = [message for failed, message in checks if failed]
    found += server_problems(config)
    for via in config.vias:
        try:
            parse_via(via)
        except ValueError as error:
            found.append(str(error))
    return found


def server_problems(config: PlanSettings) -> list[str]:
    """What cannot be run about the servers compared and where they are pinned."""
    found = []
    peers = [s for s in config.servers if s != LAB_SERVER]
    if peers and not set(config.transports) & set(PEER_TRANSPORTS) and not config.preset:
        found.append(
            "the peers serve short polling, long polling and SSE: choose one of them "
            "with --transports"
        )
    if peers and config.chat:
        found.append("--chat runs on the lab's server only: leave out the peers in --servers")
    if peers and config.server_host != "127.0.0.1":
        found.append("the peers run on loopback: leave out --server-host")
    if config.server_cpus not in ("auto", "none"):
        try:
            cpus = parse_cpus(config.server_cpus)
        except ValueError as error:
            found.append(str(error))
        else:
            available = sorted(os.sched_getaffinity(0))
            if not cpus <= set(available):
                found.append(
                    f"--server-cpus {config.server_cpus}: this machine offers CPUs "
                    + ",".join(map(str, available))
                )
            elif cpus == set(available):
                found.append(
                    f"--server-cpus {config.server_cpus} leaves no CPU for the load generator"
                )
    return found


def parse_cpus(text: str) -> set[int]:
    """CPU numbers written as "0" or "0,2"."""
    try:
        cpus = {int(part) for part in text.split(",")}
    except ValueError:
        raise ValueError(
            f"--server-cpus takes CPU numbers such as 0 or 0,1 (or auto, none), not {text!r}"
        ) from None
    if any(cpu < 0 for cpu in cpus):
        raise ValueError(f"--server-cpus takes CPU numbers of 0 or more, not {text!r}")
    return cpus
