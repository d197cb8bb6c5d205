"""The notes' claims about servers, checked against a run that measured the same cells on
the lab's server and on peers (`lab bench --servers`), and the comparison's own checks.

    S1. a WSGI server with sync workers cannot hold many SSE streams    (django-wsgi)
    S2. async frameworks hold thousands of streams                      (the async peers)
    S3. yielding each line separately costs more than one write         (three yields)

    the lab against fastapi: CPU per SSE delivery, against a target ratio
    where a peer beats the lab: p99, CPU per delivery or memory per user, cell by cell

Also the selection the servers chart and section share: which cells are compared, at which
user count, and each server's best cell under a latency bound. Pure.
"""

from __future__ import annotations

import statistics

from lab.cell_selection import main_rows
from lab.cell_summary import CellSummary
from lab.claims.verdict import (
    DOES_NOT_HOLD,
    HOLDS,
    NOT_MEASURED,
    Rows,
    Verdict,
    caveats,
    cells_of,
    combine,
    has,
    users_text,
    where,
)
from lab.formatting import fmt_ms, fmt_number, join
from lab.names import LAB_SERVER, transport_label
from lab.peers import SERVERS
from lab.proxy.profiles import DIRECT

CLAIM_S1 = (
    "A WSGI server with sync workers cannot hold many SSE streams: each stream holds a worker."
)
CLAIM_S2 = "Async frameworks hold thousands of streams."
CLAIM_S3 = "Yielding each line separately costs more than one write per event."
TARGET_CLAIM = "The lab's server spends at least {target}× less CPU per SSE delivery than fastapi."
BEATEN_CLAIM = "No peer beats the lab on p99, CPU per delivery or memory per user."

SYNC_PEER = "django-wsgi"
ASYNC_PEERS = ("fastapi", "fastapi-three-yields", "django-asgi")
ONE_YIELD, THREE_YIELDS = "fastapi", "fastapi-three-yields"

MANY_STREAMS = 1_000
"""S2: "thousands" of streams: an async peer holds them when this many users all connected
and lost no event."""
YIELDS_MARGIN = 1.15
"""S3: three yields "cost more" when their CPU per delivery is at least this many times one
yield's: repeats of one cell differ by several percent, so less is noise."""
CHEAPER_TARGET = 3.0
"""The lab's aim: at most a third of fastapi's CPU per SSE delivery."""
FAST_P99_MS = 100.0
"""The chart's bound: deliveries count while 99% of them arrive within this."""

COMPARED_COLUMNS = (
    ("latency_p99_ms", "p99", fmt_ms),
    ("server_cpu_us_per_event", "CPU per delivery", lambda v: f"{fmt_number(v)} µs"),
    ("server_rss_per_user_kb", "memory per user", lambda v: f"{fmt_number(v)} KB"),
)


# --- which cells are compared ---------------------------------------------------------------


def servers_in(rows: Rows) -> list[str]:
    """The servers the rows measured: the lab first, then the peers in their usual order."""
    present = {r.server for r in rows}
    return [s for s in SERVERS if s in present] + sorted(present - set(SERVERS))


def several_servers(rows: Rows) -> bool:
    return len({r.server for r in rows}) > 1


def compared(rows: Rows, transport: str) -> list[CellSummary]:
    """The transport's cells on every server, at the run's main settings, straight from the
    clients to the server: what differs between two of them is the server and the users."""
    plain = [
        r
        for r in rows
        if r.via == DIRECT
        and r.heartbeat_s is None
        and r.drop_every_s is None
        and r.workers == 1
        and not r.broker
    ]
    return main_rows(plain, transport)


def connected(row: CellSummary) -> bool:
    return not row.verdict.not_connected


def of_server(rows: Rows, server: str) -> list[CellSummary]:
    return [r for r in rows if r.server == server]


def median_at(rows: Rows, server: str, users: int, column: str) -> float | None:
    """The server's value of `column` at a user count, the median over its repeats (the
    lower middle one), from the cells that had every user connected."""
    values = [
        r.get(column)
        for r in rows
        if r.server == server and r.users == users and connected(r) and has(r.get(column))
    ]
    return statistics.median_low(values) if values else None


def refusal(rows: Rows, server: str) -> CellSummary | None:
    """The server's smallest cell whose users did not all connect."""
    refused = [r for r in of_server(rows, server) if not connected(r)]
    return min(refused, key=lambda r: r.users) if refused else None


def largest_held(rows: Rows, server: str) -> int | None:
    held = [r.users for r in of_server(rows, server) if connected(r)]
    return max(held) if held else None


def compare_users(rows: Rows) -> int | None:
    """The largest user count that more than half of the servers measured cleanly (every
    user connected, no loss, no error); without one, the count most of them did. A server
    that stopped at a handful of users, or a count only one or two servers held, would hide
    the others."""
    clean: dict[int, set[str]] = {}
    for row in rows:
        if row.verdict.ok:
            clean.setdefault(row.users, set()).add(row.server)
    if not clean:
        return None
    most = len(servers_in(rows)) // 2 + 1
    held_by_most = [users for users, servers in clean.items() if len(servers) >= most]
    if held_by_most:
        return max(held_by_most)
    return max(clean, key=lambda users: (len(clean[users]), users))


def fastest(rows: Rows, server: str) -> CellSummary | None:
    """The server's cell that delivered the most events per second while 99% of them
    arrived within FAST_P99_MS: clean, every user connected, not client-bound."""
    fit = [
        r
        for r in of_server(rows, server)
        if r.verdict.ok
        and has(r.latency_p99_ms)
        and r.latency_p99_ms < FAST_P99_MS
        and r.duration_s > 0
    ]
    return max(fit, key=lambda r: (deliveries_per_s(r), r.users)) if fit else None


def deliveries_per_s(row: CellSummary) -> float:
    return row.events_received / row.duration_s if row.duration_s else 0.0


def cpu_ratios(rows: Rows, dear: str, cheap: str) -> list[tuple[int, float, float]]:
    """(users, dear's CPU per delivery, cheap's) at each user count both measured with
    every user connected."""
    found = []
    for users in sorted({r.users for r in rows}):
        a = median_at(rows, dear, users, "server_cpu_us_per_event")
        b = median_at(rows, cheap, users, "server_cpu_us_per_event")
        if a is not None and b is not None and a > 0 and b > 0:
            found.append((users, a, b))
    return found


# --- S1-S3 ----------------------------------------------------------------------------------


def _name(server: str) -> str:
    return "the lab's server" if server == LAB_SERVER else server


def check_sync_workers(rows: Rows) -> Verdict:
    sse = compared(rows, "sse")
    mine = of_server(sse, SYNC_PEER)
    if not mine:
        return Verdict(1, CLAIM_S1, NOT_MEASURED, f"No {SYNC_PEER} SSE cell in this run.")
    held, refused = largest_held(sse, SYNC_PEER), refusal(sse, SYNC_PEER)
    if refused is None:
        return Verdict(
            1,
            CLAIM_S1,
            DOES_NOT_HOLD,
            f"{SYNC_PEER} had every user connected in each of its SSE cells, up to "
            f"{users_text(held)}. Its sync workers (2 × cores + 1 by default) cap the open "
            "streams, so a run whose largest count stays below the worker count cannot show "
            "the limit." + caveats(mine),
            cells_of(mine),
        )
    others = {
        s: largest_held(sse, s)
        for s in servers_in(sse)
        if s != SYNC_PEER and (largest_held(sse, s) or 0) >= refused.users
    }
    stopped = (f"{SYNC_PEER} held {users_text(held)}" if held else f"{SYNC_PEER} held no cell") + (
        f" and did not let {users_text(refused.users)} connect: {refused.users_connected:,} "
        f"were connected when the deadline passed ({refused.cell})"
    )
    elsewhere = (
        " In the same run "
        + join([f"{_name(s)} held {users_text(n)}" for s, n in others.items()])
        + ", so the machine and the load generator could hold them."
        if others
        else ""
    )
    if (held is not None and held < refused.users) or others:
        verdict = HOLDS
        tail = (
            " Each sync worker serves one request at a time, and a stream is a request that "
            "does not end: once every worker holds one, the next connection waits unanswered."
        )
    else:
        verdict = NOT_MEASURED
        tail = (
            " No smaller cell connected and no other server held as many, so the run cannot "
            "tell the server's limit from the machine's."
        )
    return Verdict(1, CLAIM_S1, verdict, stopped + "." + elsewhere + tail, cells_of(mine))


def check_async_streams(rows: Rows) -> Verdict:
    sse = compared(rows, "sse")
    peers = [p for p in ASYNC_PEERS if of_server(sse, p)]
    if not peers:
        return Verdict(
            2, CLAIM_S2, NOT_MEASURED, f"No SSE cell on {join(list(ASYNC_PEERS))} in this run."
        )
    parts, passed, failed, short = [], [], [], []
    for peer in peers:
        mine = of_server(sse, peer)
        held = [r for r in mine if connected(r) and r.events_lost == 0]
        broke = [r for r in mine if r not in held and r.users <= MANY_STREAMS]
        best = max(held, key=lambda r: r.users) if held else None
        text = (
            f"{peer} held {users_text(best.users)} with no event lost, p99 "
            + (fmt_ms(best.latency_p99_ms) if has(best.latency_p99_ms) else "–")
            + f" ({best.cell})"
            if best
            else f"{peer} held no cell"
        )
        if broke:
            first = min(broke, key=lambda r: r.users)
            text += f", but not {users_text(first.users)} ({first.verdict.short()}, {first.cell})"
            failed.append(peer)
        elif best is not None and best.users >= MANY_STREAMS:
            passed.append(peer)
        else:
            text += f" (not run at {users_text(MANY_STREAMS)})"
            short.append(peer)
        parts.append(text)
    if failed:
        verdict = DOES_NOT_HOLD
    elif passed:
        verdict = HOLDS
    else:
        verdict = NOT_MEASURED
    explanation = (
        f"{join(parts)}. It holds when every async peer run at {users_text(MANY_STREAMS)} or "
        "more had every user connected there with no event lost, and none failed at fewer."
        + (f" Not counted: {join(short)}, which ran fewer." if short and passed else "")
        + caveats([r for r in sse if r.server in peers])
    )
    return Verdict(
        2, CLAIM_S2, verdict, explanation, cells_of([r for r in sse if r.server in peers])
    )


def check_three_yields(rows: Rows) -> Verdict:
    sse = compared(rows, "sse")
    pairs = cpu_ratios(sse, THREE_YIELDS, ONE_YIELD)
    if not pairs:
        return Verdict(
            3,
            CLAIM_S3,
            NOT_MEASURED,
            f"It needs SSE cells on {THREE_YIELDS} and {ONE_YIELD} at the same user count, "
            "both with every user connected.",
        )
    ratio = statistics.median(a / b for _u, a, b in pairs)
    parts = [
        f"{fmt_number(a)} µs against {fmt_number(b)} µs at {users_text(u)} ({fmt_number(a / b)}×)"
        for u, a, b in pairs
    ]
    used = [r for r in sse if r.server in (ONE_YIELD, THREE_YIELDS)]
    explanation = (
        f"Server CPU per SSE delivery, three yields against one: {join(parts)}; the median "
        f"ratio is {fmt_number(ratio)}×. It holds when that is at least {YIELDS_MARGIN:g}× "
        "(repeats of one cell differ by a few percent)." + caveats(used)
    )
    verdict = HOLDS if ratio >= YIELDS_MARGIN else DOES_NOT_HOLD
    return Verdict(3, CLAIM_S3, verdict, explanation, cells_of(used))


def check_server_claims(rows: Rows) -> list[Verdict]:
    """S1-S3, when the run measured more than one server (an empty list when it did not)."""
    if not several_servers(rows):
        return []
    return [check_sync_workers(rows), check_async_streams(rows), check_three_yields(rows)]


# --- the comparison's own checks ------------------------------------------------------------


def check_lab_cheaper(rows: Rows) -> Verdict:
    """The lab's CPU per SSE delivery against fastapi's, at each common user count."""
    claim = TARGET_CLAIM.format(target=f"{CHEAPER_TARGET:g}")
    pairs = cpu_ratios(compared(rows, "sse"), ONE_YIELD, LAB_SERVER)
    if not pairs:
        return Verdict(
            1,
            claim,
            NOT_MEASURED,
            f"It needs SSE cells on the lab and on {ONE_YIELD} at the same user count, both "
            "with every user connected.",
        )
    results = [(u, a / b >= CHEAPER_TARGET) for u, a, b in pairs]
    parts = [
        f"at {users_text(u)} {_cheaper(a / b)} ({fmt_number(b)} µs against {fmt_number(a)} µs)"
        for u, a, b in pairs
    ]
    explanation = (
        f"Server CPU per SSE delivery, the lab against {ONE_YIELD}: {join(parts)}. The target "
        f"is {CHEAPER_TARGET:g}× or more at every user count." + where(results)
    )
    return Verdict(1, claim, combine(results), explanation)


def _cheaper(ratio: float) -> str:
    if ratio >= 1:
        return f"the lab is {fmt_number(ratio)}× cheaper"
    return f"the lab costs {fmt_number(1 / ratio)}× more"


def beaten_cells(rows: Rows) -> list[str]:
    """Each (peer, transport, users) where a peer measured a lower p99, CPU per delivery or
    memory per user than the lab at the same cell, with both figures."""
    found = []
    for transport in ("short_polling", "long_polling", "sse"):
        cells = compared(rows, transport)
        for peer in servers_in(cells)[1:]:
            for users in sorted({r.users for r in of_server(cells, peer)}):
                wins = []
                for column, what, fmt in COMPARED_COLUMNS:
                    theirs = median_at(cells, peer, users, column)
                    ours = median_at(cells, LAB_SERVER, users, column)
                    if theirs is not None and ours is not None and theirs < ours:
                        wins.append(f"{what} {fmt(theirs)} against the lab's {fmt(ours)}")
                if wins:
                    found.append(
                        f"{peer}, {transport_label(transport)}, {users_text(users)}: "
                        + "; ".join(wins)
                    )
    return found


def check_peers_beat_lab(rows: Rows) -> Verdict:
    if LAB_SERVER not in {r.server for r in rows} or not several_servers(rows):
        return Verdict(
            2, BEATEN_CLAIM, NOT_MEASURED, "It needs the lab and a peer on the same cells."
        )
    found = beaten_cells(rows)
    if not found:
        return Verdict(
            2,
            BEATEN_CLAIM,
            HOLDS,
            "No peer beat the lab on any measured cell: at every transport and user count "
            "both measured, the lab's p99, CPU per delivery and memory per user were the "
            "lowest or tied.",
        )
    return Verdict(2, BEATEN_CLAIM, DOES_NOT_HOLD, "\n".join(f"- {line}." for line in found))


def check_comparison(rows: Rows) -> list[Verdict]:
    """The two checks above, when the run measured more than one server."""
    if not several_servers(rows):
        return []
    return [check_lab_cheaper(rows), check_peers_beat_lab(rows)]
