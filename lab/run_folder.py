"""A sweep's run folder: what is in it, written once by the sweep and read by everyone else.

    results/<run-id>/
      summary.csv                 one CellSummary per cell (lab.measurement)
      events.csv                  delivery latencies inside each cell's window
      manifest.json               parameters, versions, machine, commit, each cell's status
      <cell>_stats*.csv ...       Locust's own files
      <cell>_metrics.json         the server's /metrics at the window's two ends
      charts/, report.md

`read_run` reads a folder into typed rows: each summary.csv column is converted by the type
the `CellSummary` field declares, never guessed from the text. The charts, the claims, the
report and the notebook all read runs through it, and pick the cells to compare with
`main_rows` (a chart that does not vary a setting shows the cells at its usual value).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from lab.cell_summary import SUMMARY_COLUMNS, CellSummary
from lab.names import CHAT, EVENT_ENTRY, LAB_SERVER, TICKER, TRANSPORTS
from lab.proxy.profiles import DIRECT

SUMMARY_CSV = "summary.csv"
EVENTS_CSV = "events.csv"
MANIFEST_JSON = "manifest.json"
EVENTS_CSV_COLUMNS = ("cell", "transport", "users", "event_id", "latency_ms")
LEGACY_COLUMNS = {"events_duplicated": "events_repeated"}
"""Columns renamed since earlier runs were written: old name -> new name."""
ADDED_COLUMNS = {
    "rtt_ms": "0",
    "repeat": "1",
    "via": "direct",
    "workers": "1",
    "broker": "",
    "server": "lab",
    "heartbeat_s": "",
    "workload": "ticker",
}
"""Columns added since earlier runs were written, with the value those runs had."""


class RunFolderError(ValueError):
    """A run folder (or one of its files) that cannot be read; the message says where."""


# --- writing --------------------------------------------------------------------------------


def point_latest(out: Path, run_id: str) -> None:
    """Make `out`/latest name the run `run_id`."""
    latest = out / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(run_id, target_is_directory=True)


def csv_value(value: object) -> object:
    """A value as a CSV cell: "" for no value, true/false, floats to 6 significant digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return value


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows([csv_value(v) for v in row] for row in rows)


def write_summary(run_dir: Path, rows: Sequence[CellSummary]) -> Path:
    path = run_dir / SUMMARY_CSV
    write_csv(path, SUMMARY_COLUMNS, ([row.get(c) for c in SUMMARY_COLUMNS] for row in rows))
    return path


def write_events(run_dir: Path, rows: Iterable[Sequence[object]]) -> Path:
    path = run_dir / EVENTS_CSV
    write_csv(path, EVENTS_CSV_COLUMNS, rows)
    return path


def write_manifest(run_dir: Path, manifest: Mapping[str, Any]) -> Path:
    path = run_dir / MANIFEST_JSON
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


# --- reading --------------------------------------------------------------------------------


def _parse(text: str, kind: str, where: str) -> Any:
    """A CSV cell as the declared type `kind` ("int", "float | None", "bool", ...)."""
    optional = kind.endswith("| None")
    base = kind.removesuffix("| None").strip()
    text = text.strip()
    if base == "str" and text == "":
        return ""
    if text == "" or text.lower() in ("nan", "none"):
        if optional:
            return None
        raise RunFolderError(f"{where} is empty, but it must hold a value")
    try:
        if base == "int":
            return int(float(text)) if "." in text or "e" in text.lower() else int(text)
        if base == "float":
            return float(text)
        if base == "bool":
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"
        return text
    except ValueError:
        raise RunFolderError(f"{where} holds {text!r}, which is not {base}") from None


_SUMMARY_TYPES = {f.name: str(f.type) for f in fields(CellSummary)}


def read_summary(path: Path) -> list[CellSummary]:
    """summary.csv as CellSummary rows (RunFolderError, naming row and column, if not)."""
    with open(path, newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        header = [LEGACY_COLUMNS.get(name, name) for name in reader.fieldnames or []]
        required = [
            f.name
            for f in fields(CellSummary)
            if f.default is MISSING and f.name not in ADDED_COLUMNS
        ]
        missing = [name for name in required if name not in header]
        if missing:
            raise RunFolderError(
                f"{path} has no column {', '.join(missing)}: was it written by a `lab bench`?"
            )
        rows = []
        for number, record in enumerate(reader, start=2):
            values = ADDED_COLUMNS | {
                LEGACY_COLUMNS.get(k, k): v for k, v in record.items() if k is not None
            }
            rows.append(
                CellSummary(
                    **{
                        name: _parse(
                            values.get(name) or "",
                            kind,
                            f"{path.name} line {number}, column {name}",
                        )
                        for name, kind in _SUMMARY_TYPES.items()
                        if name in values
                    }
                )
            )
    return rows


def read_events(path: Path) -> dict[str, list[float]]:
    """events.csv: each cell's delivery latencies in ms, sorted."""
    events: dict[str, list[float]] = {}
    with open(path, newline="", encoding="utf-8") as file:
        for number, record in enumerate(csv.DictReader(file), start=2):
            latency = _parse(
                record.get("latency_ms") or "",
                "float",
                f"{path.name} line {number}, column latency_ms",
            )
            events.setdefault(record["cell"], []).append(latency)
    for latencies in events.values():
        latencies.sort()
    return events


@dataclass(frozen=True)
class HistoryPoint:
    """One line of Locust's <cell>_stats_history.csv (Locust's percentiles of its last 10 s)."""

    timestamp: int
    users: int
    type: str
    name: str
    p50_ms: float | None
    p99_ms: float | None


def _percentile_ms(record: Mapping[str, str], column: str, where: str) -> float | None:
    text = record.get(column) or ""
    return None if text in ("", "N/A") else _parse(text, "float", f"{where}, column {column}")


def read_history(path: Path) -> list[HistoryPoint]:
    points = []
    with open(path, newline="", encoding="utf-8") as file:
        for number, record in enumerate(csv.DictReader(file), start=2):
            where = f"{path.name} line {number}"
            points.append(
                HistoryPoint(
                    timestamp=_parse(record["Timestamp"], "int", where),
                    users=_parse(record.get("User Count") or "0", "int", where),
                    type=record.get("Type") or "",
                    name=record.get("Name") or "",
                    p50_ms=_percentile_ms(record, "50%", where),
                    p99_ms=_percentile_ms(record, "99%", where),
                )
            )
    return points


@dataclass
class Run:
    """One run folder's data, as read by `read_run`."""

    path: Path
    rows: list[CellSummary]
    """summary.csv: one row per ticker cell."""
    events: dict[str, list[float]] = field(default_factory=dict)
    """events.csv: each cell's delivery latencies in ms, sorted (empty if there is no file)."""
    history: dict[str, list[HistoryPoint]] = field(default_factory=dict)
    """Each cell's Locust stats history, for the cells that have one."""
    manifest: dict[str, Any] = field(default_factory=dict)
    chat: list[CellSummary] = field(default_factory=list)
    """summary.csv's chat cells (`lab bench --chat`): answers instead of events."""

    @property
    def name(self) -> str:
        return self.path.name

    def direct(self) -> Run:
        """The run's cells on the direct path (no proxy, the server's own heartbeat, no
        drops): what the first charts and claims compare. The others have their own."""
        kept = [
            r
            for r in self.rows
            if r.via == DIRECT
            and r.heartbeat_s is None
            and r.drop_every_s is None
            and r.workers == 1
            and not r.broker
            and r.server == LAB_SERVER
        ]
        return replace(self, rows=kept)

    def row(self, cell: str) -> CellSummary | None:
        return next((r for r in self.rows if r.cell == cell), None)

    def event_history(self, cell: str, transport: str) -> list[HistoryPoint]:
        """The cell's history of delivered events (Locust's EVENT entries), oldest first."""
        return sorted(
            (
                p
                for p in self.history.get(cell, [])
                if p.type == EVENT_ENTRY and p.name == transport
            ),
            key=lambda p: p.timestamp,
        )


def read_run(run_dir: Path | str) -> Run:
    """Read a run folder; only summary.csv is required."""
    path = Path(run_dir)
    summary = path / SUMMARY_CSV
    if not summary.is_file():
        raise FileNotFoundError(f"{summary} does not exist: is {path} a run folder?")
    read = [r for r in read_summary(summary) if r.transport in TRANSPORTS]
    rows = [r for r in read if r.workload == TICKER]
    chat = [r for r in read if r.workload == CHAT]
    events_csv = path / EVENTS_CSV
    events = read_events(events_csv) if events_csv.is_file() else {}
    # Locust's files sit in the run folder, or in a folder below it: the shallowest wins.
    found: dict[str, Path] = {}
    for candidate in sorted(
        path.rglob("*_stats_history.csv"), key=lambda p: (len(p.relative_to(path).parts), str(p))
    ):
        found.setdefault(candidate.name, candidate)
    history = {
        row.cell: read_history(found[f"{row.cell}_stats_history.csv"])
        for row in rows
        if f"{row.cell}_stats_history.csv" in found
    }
    manifest: dict[str, Any] = {}
    if (path / MANIFEST_JSON).is_file():
        try:
            manifest = json.loads((path / MANIFEST_JSON).read_text(encoding="utf-8"))
        except ValueError as error:
            raise RunFolderError(f"{path / MANIFEST_JSON} is not valid JSON: {error}") from None
    return Run(path=path, rows=rows, events=events, history=history, manifest=manifest, chat=chat)
