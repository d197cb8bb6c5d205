"""The report of one sweep run: `<run>/report.md`, with its charts and the claims checked.

`write_report(results/<run-id>/)` draws the charts (lab.charts) and writes report.md: the
run's parameters and machine, any cell that cannot be taken at face value (loudly, at the
top), a summary table whose numbers come from summary.csv, each chart with what to look at,
and "Claims checked": six claims from the lab's source notes, each with the numbers that
test it and a verdict computed by lab.claims. This module only writes Markdown.
`lab report [RUN]` is the command-line entry point.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lab import charts
from lab.cell_summary import CellSummary
from lab.chart_notes import CHART_NOTES
from lab.claims import Verdict, check_claims
from lab.claims.chat import check_chat_claims
from lab.claims.proxy import check_proxy_claims, uses_proxy
from lab.claims.websocket import check_websocket_claims
from lab.formatting import fmt_ms
from lab.names import transport_label
from lab.run_description import describe_run
from lab.run_folder import Run, read_run
from lab.servers_section import servers_section
from lab.summary_table import chat_table, connect_table, drop_table, proxy_table, summary_table
from lab.workers_section import workers_section

# --- the report -----------------------------------------------------------------------------


def _problems(rows: Sequence[CellSummary], manifest: Mapping[str, Any]) -> dict[str, list]:
    """Each cell's problems: from its summary row, and from the manifest (failed cells)."""
    found: dict[str, list[str]] = {}
    for row in rows:
        if row.verdict.problems():
            found[row.cell] = row.verdict.problems()
    for cell in manifest.get("cells") or []:
        name = str(cell.get("cell"))
        extra = list(cell.get("problems") or [])
        if cell.get("status") == "failed":
            extra.append(
                f"the cell failed, so it has no row in summary.csv: "
                f"{cell.get('error', 'no reason recorded')}"
            )
        for problem in extra:
            if problem not in found.setdefault(name, []):
                found[name].append(problem)
    return found


def _when(moment: datetime | str | None) -> str | None:
    """A moment as '2025-11-22 19:23 UTC' (None when there is none or it cannot be read)."""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return str(moment)
    if not isinstance(moment, datetime):
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def render_report(
    run: Run, drawn: Sequence[Path], skipped: Mapping[str, str], written: datetime
) -> str:
    """report.md's text for a run (pure: everything it shows is passed in)."""
    rows, manifest = run.rows, run.manifest
    ticker = bool(rows) or not run.chat
    verdicts = check_claims(run.direct().rows) if ticker else []
    chat_verdicts = check_chat_claims(run.chat)
    websocket_verdicts = check_websocket_claims(rows, manifest.get("publish_cost"))
    browser_checks = manifest.get("browser_checks") or []
    proxied = uses_proxy(rows) or bool(browser_checks)
    proxy_verdicts = check_proxy_claims(rows, browser_checks) if proxied else []
    run_id = manifest.get("run_id") or run.name
    what = "Short polling, long polling and SSE" if ticker else "Chat answers"
    out = [f"# {what}: run `{run_id}`", ""]
    started = _when(manifest.get("started"))
    out.append(
        f"Run started {started}; report written {_when(written)}."
        if started
        else f"Report written {_when(written)}; the run's start time is unknown (no manifest.json)."
    )
    out.append("")

    problems = _problems([*rows, *run.chat], manifest)
    if problems:
        out += [
            f"## ⚠ PROBLEMS: {len(problems)} cell{'s' if len(problems) > 1 else ''} "
            "cannot be taken at face value",
            "",
            "**Read these before any number below.** Cells with numbers stay in the "
            "table (⚠), the charts (drawn hollow, labelled) and the claims (named where "
            "used), never averaged away:",
            "",
        ]
        out += [f"- **{cell}**: {'; '.join(found)}" for cell, found in problems.items()]
    else:
        out.append(
            "No cell lost or repeated an event, hit an error or saturated its load generator."
        )
    out.append("")

    out += ["## Claims at a glance", ""]
    out += [f"{v.number}. {v.claim} — **{v.verdict}**" for v in verdicts]
    if proxied:
        out += ["", "Behind a proxy:", ""]
        out += [f"- P{v.number}. {v.claim} — **{v.verdict}**" for v in proxy_verdicts]
    if websocket_verdicts:
        out += ["", "WebSocket against SSE:", ""]
        out += [f"- W{v.number}. {v.claim} — **{v.verdict}**" for v in websocket_verdicts]
    if chat_verdicts:
        out += ["", "Chat answers:", ""] if ticker else []
        out += [f"- C{v.number}. {v.claim} — **{v.verdict}**" for v in chat_verdicts]
    if ticker:
        out += ["", "Details, with the numbers, in [Claims checked](#claims-checked)."]
    out += [""]

    out += ["## The run", ""] + describe_run(rows or run.chat, manifest) + [""]
    if not ticker:
        out += _chat_section(run, drawn, skipped, chat_verdicts)
        return "\n".join(out).rstrip() + "\n"
    out += [
        "**Latency** is the client's clock when an event arrives minus the `ts` the server "
        "stamped on it when it published it. Server and load generator ran on one host, "
        "so both read the same clock; across hosts the difference would include their "
        "clock offset. **Per event** means per delivery: one event reaching one user.",
        "",
    ]

    out += [
        "## Summary",
        "",
        "One row per cell, from summary.csv (rounded for reading). Requests, bytes and "
        "server CPU are counted by the server over the measured window; client CPU is "
        "the busiest load-generator process, in % of one core.",
        "",
        summary_table(rows),
        "",
    ]
    out += _connecting_section(rows)
    out += workers_section(rows)
    out += servers_section(run, drawn, skipped)

    out += ["## Charts", ""]
    if proxied:
        out += [
            "Charts 1–10 and the six claims compare the cells measured directly (no proxy); "
            "the cells through nginx are in [Behind a proxy](#behind-a-proxy).",
            "",
        ]
    drawn_names = {Path(p).stem: Path(p) for p in drawn if Path(p).suffix == ".png"}
    out += _chart_sections(run, charts.CHARTS, drawn_names, skipped, start=1)

    out += [
        "## Claims checked",
        "",
        "These claims come from the lab's source notes (written in Korean; translated "
        "here). They are quoted as claims to test, not as facts. Each verdict is computed "
        "from this run's summary.csv by `lab.claims` — `holds`, `does not hold`, "
        "`depends on …` (true at some user counts, not at others) or `not measured in "
        "this run` — with the thresholds stated in each explanation.",
        "",
    ]
    for v in verdicts:
        out += _verdict_section(v)
    if proxied:
        out += _proxy_section(run, drawn_names, skipped, proxy_verdicts)
    if websocket_verdicts:
        out += _websocket_section(run, websocket_verdicts)
    if run.chat:
        out += _chat_section(run, drawn, skipped, chat_verdicts)
    return "\n".join(out).rstrip() + "\n"


def _connecting_section(rows: Sequence[CellSummary]) -> list[str]:
    """How each cell's users connected before its window (runs from before these columns
    have none: no section)."""
    measured = [r for r in rows if r.users_connected is not None]
    if not measured:
        return []
    missing = [r for r in measured if r.verdict.not_connected]
    slowest = max(measured, key=lambda r: r.connect_p99_ms or 0)
    out = [
        "## Connecting",
        "",
        "Each cell's window began only once the server saw every user connected: every "
        "SSE stream, WebSocket and long poll open, or short polls arriving at users ÷ "
        "interval a second. *Connecting* runs from starting the load generator to that "
        "moment (its start-up, the ramp-up and the storm of connections, and for short "
        "polling the interval its rate is judged over); *open* is one "
        "connection's opening before the window: an SSE stream's time to its response "
        "head, a WebSocket's to its 101, a poller's first request.",
        "",
    ]
    if slowest.connect_p99_ms is not None:
        out += [
            f"The slowest openings were {transport_label(slowest.transport)}'s at "
            f"{slowest.users:,} users ({slowest.cell}): p99 {fmt_ms(slowest.connect_p99_ms)}.",
            "",
        ]
    if missing:
        out += [
            f"{len(missing)} cell{'s' if len(missing) > 1 else ''} never had every user "
            "connected before the deadline and "
            f"{'were' if len(missing) > 1 else 'was'} not measured: "
            + ", ".join(r.cell for r in missing)
            + ". Their figures are empty rather than taken from a partial window.",
            "",
        ]
    return out + [connect_table(measured), ""]


def _verdict_section(v: Verdict, prefix: str = "") -> list[str]:
    return [
        f"### {prefix}{v.number}. “{v.claim}”",
        "",
        f"**Verdict: {v.verdict}.**",
        "",
        v.explanation,
        "",
    ]


def _chart_sections(
    run: Run,
    chosen: Sequence[charts.Chart],
    drawn_names: Mapping[str, Path],
    skipped: Mapping[str, str],
    start: int,
) -> list[str]:
    """Each chart, drawn or not (with why not), under a numbered heading."""
    out: list[str] = []
    for number, chart in enumerate(chosen, start=start):
        out.append(f"### {number}. {chart.what[0].upper()}{chart.what[1:]}")
        out.append("")
        path = drawn_names.get(chart.name)
        if path is not None:
            try:
                link = path.relative_to(run.path).as_posix()
            except ValueError:
                link = f"charts/{path.name}"
            out += [f"![{chart.what}]({link})", "", CHART_NOTES.get(chart.name, "")]
        else:
            reason = skipped.get(chart.name, "its data is missing")
            out.append(f"*Not drawn: {reason}.*")
        out.append("")
    return out


def _proxy_section(
    run: Run,
    drawn_names: Mapping[str, Path],
    skipped: Mapping[str, str],
    verdicts: Sequence[Verdict],
) -> list[str]:
    out = [
        "## Behind a proxy",
        "",
        "The same transports through a real nginx between the clients and the server, in "
        "the profiles named in each cell (`lab bench --via`; the README quotes each "
        "profile's configuration). Beyond the figures above, each cell says how its events "
        "reached the clients: in bursts (the share of events that came in the same read as "
        "another, and the events per read), how many streams were cut and reopened, how "
        "many answers were the proxy's 504, and the bytes per event the clients received.",
        "",
        proxy_table(run.rows),
        "",
    ]
    out += _chart_sections(run, charts.PROXY_CHARTS, drawn_names, skipped, start=11)
    out += [
        "### Claims behind a proxy",
        "",
        "The source notes' advice on proxies, quoted as claims to test (translated from "
        "Korean; P4 is the long-polling counterpart of their SSE timeout advice, which the "
        "notes leave out), each checked against the cells above by `lab.claims.proxy`.",
        "",
    ]
    for v in verdicts:
        out += _verdict_section(v, prefix="P")
    return out


def _websocket_section(run: Run, verdicts: Sequence[Verdict]) -> list[str]:
    drops = [r for r in run.rows if r.drop_every_s is not None]
    out = [
        "## WebSocket against SSE",
        "",
        "WebSocket runs in every chart above beside the other three: one upgraded "
        "connection per user, each event one JSON text frame. Below, the differences the "
        "notes' comparison tables name, measured. In the drop cells the server closes every "
        "stream and socket (POST /drop) every few seconds and each client comes back a "
        "second later: SSE with `Last-Event-ID`, WebSocket with its last id in the address "
        "(logic its client must carry), and WebSocket without it.",
        "",
    ]
    if drops:
        out += [drop_table(drops), ""]
    for v in verdicts:
        out += _verdict_section(v, prefix="W")
    return out


def _chat_section(
    run: Run, drawn: Sequence[Path], skipped: Mapping[str, str], verdicts: Sequence[Verdict]
) -> list[str]:
    drawn_names = {Path(p).stem: Path(p) for p in drawn if Path(p).suffix == ".png"}
    out = [
        "## Chat answers",
        "",
        "The lab's fake model answers a question token by token, and each transport carries "
        "the answer to users who ask, read it to its end, and ask again (`lab bench --chat`, "
        "scenarios/chat.py): SSE streams the answer of a `POST /chat`, long polling holds "
        "`GET /chat/jobs/<id>?after=N&wait=25` until there are new tokens, short polling "
        "asks the same without `wait` on a clock. **Time to first token** runs from asking "
        "to the first token in hand; a token's **delay** is its receipt minus the moment "
        "the model made it; the **gap** is the time between two tokens of one answer "
        "reaching the user (0: they came in one read). Each figure covers the answers that "
        "ended in the measured window; bytes and server CPU are per token sent.",
        "",
        chat_table(run.chat),
        "",
    ]
    out += _chart_sections(run, charts.CHAT_CHARTS, drawn_names, skipped, start=13)
    out += [
        "### Claims about chat answers",
        "",
        "The source notes present token streaming as SSE's flagship use. These three "
        "claims, each checked against the cells above by `lab.claims.chat`, say what "
        "streaming gives a chat over polling.",
        "",
    ]
    for v in verdicts:
        out += _verdict_section(v, prefix="C")
    return out


def write_report(run_dir: Path | str) -> Path:
    """Draw the run's charts and write `<run_dir>/report.md`; return its path."""
    run = read_run(run_dir)
    result = charts.draw_all(run)
    text = render_report(run, result.drawn, result.skipped, datetime.now(UTC))
    path = run.path / "report.md"
    path.write_text(text, encoding="utf-8")
    return path


# --- the CLI --------------------------------------------------------------------------------

DEFAULT_RUN = Path("results") / "latest"


def run_from_args(args: argparse.Namespace) -> int:
    folder = Path(args.run_dir)
    if not folder.is_dir():
        print(
            f"lab report: there is no run folder at {folder}; run `lab bench` first or name "
            "a run folder.",
            file=sys.stderr,
        )
        return 2
    if not (folder / "summary.csv").is_file():
        print(
            f"lab report: {folder} has no summary.csv, so it is not a finished run folder.",
            file=sys.stderr,
        )
        return 2
    print(write_report(folder))
    return 0
