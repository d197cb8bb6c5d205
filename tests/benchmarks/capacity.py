"""Benchmark: the largest user count this machine holds per transport with p99 under 1 s.

For each transport it runs `lab bench` cells at growing user counts (doubling from
--start) and stops at the first count whose p99 delivery latency reaches the limit, whose
load generator is saturated (client_bound), or which lost events or hit errors. It prints
the last count that passed, with the figures of every count tried.

Run:  python tests/benchmarks/capacity.py [--transports sse] [--start 500] [--max 16000]
It prints figures; it asserts nothing. Traffic goes to 127.0.0.1 only; each cell stops by
itself. Expect 10 to 20 minutes for all three transports.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

TRANSPORTS = ("short_polling", "long_polling", "sse")


def run_cell(transport: str, users: int, duration: float, out: Path) -> dict:
    run_id = f"{transport}-{users}"
    command = [
        sys.executable,
        "-m",
        "lab",
        "bench",
        "--transports",
        transport,
        "--users",
        str(users),
        "--duration",
        str(duration),
        "--interval-sweep",
        "--no-report",
        "--out",
        str(out),
        "--run-id",
        run_id,
    ]
    finished = subprocess.run(command, capture_output=True, text=True)
    summary = out / run_id / "summary.csv"
    if finished.returncode != 0 or not summary.exists():
        return {"users": users, "failed": finished.stderr.strip()[-300:] or "no summary"}
    with open(summary, newline="") as rows:
        row = next(csv.DictReader(rows))
    if not row["latency_p50_ms"]:  # not measured: its users never all connected
        return {"users": users, "failed": f"only {row['users_connected']} users connected"}
    return {
        "users": users,
        "p50": float(row["latency_p50_ms"]),
        "p99": float(row["latency_p99_ms"]),
        "client": float(row["client_cpu_percent"]),
        "client_bound": row["client_bound"].lower() == "true",
        "lost": int(row["events_lost"]) + int(row["events_repeated"]),
        "errors": int(row["errors"]),
        "server_cpu_us": float(row["server_cpu_us_per_event"]),
    }


def passes(result: dict, limit_ms: float) -> bool:
    return (
        "failed" not in result
        and result["p99"] < limit_ms
        and not result["client_bound"]
        and not result["lost"]
        and not result["errors"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transports", nargs="+", choices=TRANSPORTS, default=list(TRANSPORTS))
    parser.add_argument("--start", type=int, default=500)
    parser.add_argument("--max", type=int, default=16_000)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--limit-ms", type=float, default=1000.0)
    args = parser.parse_args()

    table = []
    with tempfile.TemporaryDirectory() as folder:
        for transport in args.transports:
            users, best, tried = args.start, None, []
            while users <= args.max:
                result = run_cell(transport, users, args.duration, Path(folder))
                tried.append(result)
                print(f"{transport:>13} x {users:>6}: {describe(result)}", flush=True)
                if not passes(result, args.limit_ms):
                    break
                best = result
                users *= 2
            table.append((transport, best, tried[-1]))

    print(
        f"\nLargest user count with p99 < {args.limit_ms:g} ms, no lost events, no errors "
        "and the load generator below 90% of a core (1 event/s, 1 s polling):"
    )
    print("| transport | users | p50 | p99 | stopped at |")
    print("|---|---|---|---|---|")
    for transport, best, last in table:
        if best is None:
            print(f"| {transport} | below {args.start} | | | {describe(last)} |")
            continue
        stop = "the --max limit" if last is best else f"{last['users']}: {describe(last)}"
        print(
            f"| {transport} | {best['users']:,} | {best['p50']:.0f} ms | {best['p99']:.0f} ms "
            f"| {stop} |"
        )


def describe(result: dict) -> str:
    if "failed" in result:
        return f"failed ({result['failed']})"
    flags = []
    if result["client_bound"]:
        flags.append(f"client-bound ({result['client']:.0f}% of a core)")
    if result["lost"]:
        flags.append(f"{result['lost']} lost/repeated")
    if result["errors"]:
        flags.append(f"{result['errors']} errors")
    return (
        f"p50 {result['p50']:.0f} ms, p99 {result['p99']:.0f} ms, client "
        f"{result['client']:.0f}%, server {result['server_cpu_us']:.0f} us/event"
        + (f" [{', '.join(flags)}]" if flags else "")
    )


if __name__ == "__main__":
    main()
