"""The report's section on servers: the same cells on the lab's server and on the peers
(`lab bench --servers`), the notes' claims about servers, the comparison's own checks, and
why the figures come out as they do."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path

from lab.cell_summary import CellSummary
from lab.claims.servers import (
    CHEAPER_TARGET,
    ONE_YIELD,
    SYNC_PEER,
    THREE_YIELDS,
    YIELDS_MARGIN,
    check_comparison,
    check_server_claims,
    compare_users,
    compared,
    cpu_ratios,
    largest_held,
    median_at,
    refusal,
    servers_in,
    several_servers,
)
from lab.claims.verdict import DOES_NOT_HOLD, HOLDS, NOT_MEASURED, Verdict
from lab.formatting import fmt_number, join
from lab.names import LAB_SERVER, TRANSPORTS, transport_label
from lab.peers import PEER_DESCRIPTIONS
from lab.run_folder import Run
from lab.summary_table import table_of

SERVERS_CHART = "15_servers"
THREADED_PEER = "flask-threaded"

SERVERS_TABLE = (
    ("server", "server", "text"),
    ("users", "users", "int"),
    ("connected", "users_connected", "int"),
    ("p50 ms", "latency_p50_ms", "number"),
    ("p99 ms", "latency_p99_ms", "number"),
    ("server CPU µs/delivery", "server_cpu_us_per_event", "number"),
    ("server KB/user", "server_rss_per_user_kb", "number"),
    ("client bytes/event", "client_bytes_per_event", "number"),
    ("flags", "flags", "flags"),
)
"""One transport's cells on every server, the lab's first at each user count."""

CHART_NOTE = (
    "Read each panel from the top: the lab's server, then the peers. Left: the most "
    "deliveries a second each server made while 99% of them arrived within 100 ms, with the "
    "user count of that cell. Middle and right: what one delivery cost in server CPU and "
    "what one user cost in server memory, at the largest user count the servers shared. A "
    "row without a bar says why: its users did not connect, or it was not measured there."
)


def servers_section(
    run: Run, drawn: Sequence[Path] = (), skipped: Mapping[str, str] | None = None
) -> list[str]:
    """Empty when every cell ran on one server."""
    rows = run.rows
    if not several_servers(rows):
        return []
    transports = [t for t in TRANSPORTS if len(servers_in(compared(rows, t))) > 1]
    cells = [r for t in transports for r in compared(rows, t)]
    out = ["## Servers", "", _what_was_compared(cells, transports, run.manifest), ""]
    out += [
        f"- **{name}**: {text}."
        for name, text in PEER_DESCRIPTIONS.items()
        if name in servers_in(cells)
    ]
    out += [
        "",
        "A peer cannot count the bytes at its socket, so its rows have no bytes per event; "
        "*client bytes/event*, what the clients read per event, stands in for every server. "
        "*Server KB/user* is the server's resident memory at the end of the window less its "
        "memory before the first user came, per user.",
        "",
    ]
    for transport in transports:
        columns = list(SERVERS_TABLE)
        if len({r.repeat for r in compared(rows, transport)}) > 1:
            columns.insert(2, ("repeat", "repeat", "int"))
        out += [
            f"### {transport_label(transport, True)} on each server",
            "",
            table_of(columns, compared(rows, transport)),
            "",
        ]
    out += _chart(run, drawn, skipped or {})
    out += [
        "### Claims about servers",
        "",
        "What the source notes say about serving streams from other frameworks, quoted as "
        "claims to test and checked against the cells above by `lab.claims.servers`.",
        "",
    ]
    for v in check_server_claims(rows):
        out += [f"#### S{v.number}. “{v.claim}”", "", f"**Verdict: {v.verdict}.**", ""]
        out += [v.explanation, ""]
    out += ["### The comparison's own checks", ""]
    for v, word in zip(check_comparison(rows), (_target_word, _beaten_word), strict=True):
        out += [f"- **{v.claim}** {word(v)}", "", v.explanation, ""]
    out += ["### Why the servers differ", "", " ".join(_why(rows)), ""]
    return out


def _what_was_compared(
    cells: Sequence[CellSummary], transports: Sequence[str], manifest: Mapping
) -> str:
    servers = servers_in(cells)
    users = sorted({r.users for r in cells})
    rates = sorted({r.rate for r in cells})
    text = (
        f"The same cells ran on {len(servers)} servers, {join(_named(servers))}: "
        f"{join([transport_label(t) for t in transports])} at "
        f"{join([f'{u:,}' for u in users])} users and "
        f"{join([f'{r:g}' for r in rates])} event{'s' if rates != [1.0] else ''}/s to each "
        "user, the same scenarios and the same deadline for every server."
    )
    cpus = manifest.get("server_cpus")
    if cpus:
        load = manifest.get("load_cpus")
        text += (
            f" Each server had the same CPUs, {join([str(c) for c in cpus])}"
            + (f", and the load generator had {join([str(c) for c in load])}" if load else "")
            + "."
        )
    else:
        text += (
            " The run does not say that the servers ran on the same CPUs (manifest.json has "
            "no `server_cpus`): each shared the machine with the load generator, so small "
            "differences between servers may be the scheduler's."
        )
    return text


def _named(servers: Sequence[str]) -> list[str]:
    return ["the lab's own gevent server" if s == LAB_SERVER else s for s in servers]


def _chart(run: Run, drawn: Sequence[Path], skipped: Mapping[str, str]) -> list[str]:
    out = ["### The same transport on different servers", ""]
    path = next((Path(p) for p in drawn if Path(p).stem == SERVERS_CHART), None)
    if path is None:
        reason = skipped.get(SERVERS_CHART, "its data is missing")
        return out + [f"*Not drawn: {reason}.*", ""]
    try:
        link = path.relative_to(run.path).as_posix()
    except ValueError:
        link = f"charts/{path.name}"
    return out + [f"![the same transport on different servers]({link})", "", CHART_NOTE, ""]


def _target_word(v: Verdict) -> str:
    if v.verdict == NOT_MEASURED:
        return f"— {NOT_MEASURED}."
    word = {HOLDS: "met", DOES_NOT_HOLD: "not met"}.get(v.verdict, v.verdict)
    return f"— **{word}**."


def _beaten_word(v: Verdict) -> str:
    if v.verdict == NOT_MEASURED:
        return f"— {NOT_MEASURED}."
    return "— **holds**." if v.verdict == HOLDS else "— **does not hold**; where a peer beat it:"


def _why(rows: Sequence[CellSummary]) -> list[str]:
    """The usual explanations, each said only as far as this run's figures bear it out."""
    sse = compared(rows, "sse")
    out = []
    lab = cpu_ratios(sse, ONE_YIELD, LAB_SERVER)
    if lab:
        ratio = statistics.median(a / b for _u, a, b in lab)
        if ratio > 1:
            out.append(
                f"The lab's server spent {fmt_number(ratio)}× less CPU per SSE delivery than "
                f"{ONE_YIELD} (the median over the user counts both measured; the target is "
                f"{CHEAPER_TARGET:g}×). The likely reason is how each fans an event out: the "
                "lab encodes each event once and writes the same bytes to every open socket, "
                "while a StreamingResponse runs one generator, one queue and one pass through "
                "the framework's send path for each subscriber, so every delivery pays for "
                "the framework once more."
            )
        else:
            out.append(
                f"In this run the lab's server was not cheaper per SSE delivery than "
                f"{ONE_YIELD} (it spent {fmt_number(1 / ratio)}× as much), so the saving expected "
                "from writing one encoding to every socket did not show here."
            )
    yields = cpu_ratios(sse, THREE_YIELDS, ONE_YIELD)
    if yields:
        ratio = statistics.median(a / b for _u, a, b in yields)
        if ratio >= YIELDS_MARGIN:
            out.append(
                f"Three yields per event cost {fmt_number(ratio)}× one: each yield becomes "
                "its own chunk and its own send through the server, so an event makes three "
                "trips through the send path instead of one."
            )
        else:
            out.append(
                f"Three yields per event cost {fmt_number(ratio)}× one, within noise: here "
                "the two extra sends were small beside the rest of a delivery's path."
            )
    refused = refusal(sse, SYNC_PEER)
    if refused is not None:
        held = largest_held(sse, SYNC_PEER)
        out.append(
            f"{SYNC_PEER} "
            + (f"held {held:,} streams but " if held else "")
            + f"let only {refused.users_connected:,} of {refused.users:,} connect, as a "
            "process per stream would: a gunicorn sync worker is one process serving one "
            "request at a time, and a stream is a request that does not end, so the open "
            "streams stop at the number of workers and the next connection waits unanswered."
        )
    out += _threads(sse)
    return out or ["The run has too few common cells to explain the differences between servers."]


def _threads(sse: Sequence[CellSummary]) -> list[str]:
    users = compare_users(sse)
    if users is None:
        return []
    threaded = median_at(sse, THREADED_PEER, users, "server_rss_per_user_kb")
    lab = median_at(sse, LAB_SERVER, users, "server_rss_per_user_kb")
    if threaded is None or lab is None or threaded <= lab:
        return []
    return [
        f"At {users:,} users {THREADED_PEER} held {fmt_number(threaded)} KB of memory per "
        f"stream against the lab's {fmt_number(lab)} KB, which fits a thread per connection: "
        "each open stream keeps an operating-system thread with its own stack, where the "
        "lab's server keeps a greenlet."
    ]
