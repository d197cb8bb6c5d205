"""The "django-wsgi" peer: Django's StreamingHttpResponse over a sync generator, under
gunicorn's sync workers (`gunicorn --worker-class sync --workers W`), as a Django student
deploys it.

A sync worker is a process that serves one request at a time, and a stream is a request
that does not end: each open stream holds a whole worker. With W workers, W streams take
them all, and the next request (a poll, another stream, even /metrics) waits in the listen
queue until one of the streams closes. The lab's gevent server holds every connection in
one process instead.

The workers are separate processes, so the events cannot live in one process's memory.
With no service beyond Python, the shared source is an SQLite file: the ticker (in the
process that starts gunicorn) and any worker's POST /publish insert rows, their
`INTEGER PRIMARY KEY` numbering the events, and every stream and long poll looks for rows
newer than its cursor every CHECK_EVERY_S. Each worker saves its counters to a file of its
own, so that the worker answering /metrics reports the total over all workers, with the
CPU time and memory of the whole server: this process, gunicorn's arbiter and every worker.

gunicorn's defaults stay as they are (but for a one-second graceful stop), its 30 s
`--timeout` among them: a sync worker that spends longer than that on one request, as
every stream does, is killed by the arbiter ("WORKER TIMEOUT") and replaced. Its stream is
cut after 30 s, without the chunked body's end; a client that reconnects holds a worker
for another 30 s, and a request that waited in the queue gets a worker at last. As in any
generator, a client that has gone is noticed only when a write to it fails, so a worker
serving a vanished client is held until the next event or two.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from lab.peers import PeerOptions
from lab.peers.peer_metrics import PeerCounters
from lab.peers.queries import (
    RETRY_MS,
    BadRequest,
    cursor,
    poll_answer,
    publish_body,
    resume_point,
    timeout,
)
from lab.peers.schedule import TICK_TYPE, tick_data, tick_times
from lab.process_cpu import process_tree_cpu
from lab.worker_metrics import add_up

NAME = "django-wsgi"
CHECK_EVERY_S = 0.05
"""How often a stream or a long poll asks SQLite for new rows. An event waits up to this
long (25 ms on average) before a waiting client sees it, and every waiting client costs
1 / CHECK_EVERY_S = 20 queries a second, events or not."""
START_TIMEOUT_S = 15.0
OPTIONS_VARIABLE = "LAB_PEER_OPTIONS"
FOLDER_VARIABLE = "LAB_PEER_FOLDER"
ROOT_PID_VARIABLE = "LAB_PEER_ROOT_PID"
"""How serve() tells each gunicorn worker its options, its folder (the database and the
counter files) and the pid whose process tree is the whole server."""


def connect(folder: Path) -> sqlite3.Connection:
    # Autocommit: each insert is its own transaction, so its id is visible once it exists.
    return sqlite3.connect(folder / "events.sqlite3", isolation_level=None)


def create_database(folder: Path) -> None:
    db = connect(folder)
    db.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, ts REAL, type TEXT, data TEXT)")
    db.close()


def insert(db: sqlite3.Connection, kind: str, data: object) -> dict:
    ts = time.time()
    row = db.execute(
        "INSERT INTO events (ts, type, data) VALUES (?, ?, ?)", (ts, kind, json.dumps(data))
    )
    return {"id": row.lastrowid, "ts": ts, "type": kind, "data": data}


def newest_id(db: sqlite3.Connection) -> int:
    return db.execute("SELECT max(id) FROM events").fetchone()[0] or 0


def events_after(db: sqlite3.Connection, since: int, up_to: int) -> list[dict]:
    """The kept events after `since`, up to `up_to` (the newest id read before), oldest
    first: rows inserted since that read wait for the next one."""
    rows = db.execute(
        "SELECT id, ts, type, data FROM events WHERE id > ? AND id <= ? ORDER BY id", (since, up_to)
    )
    return [
        {"id": event_id, "ts": ts, "type": kind, "data": json.loads(data)}
        for event_id, ts, kind, data in rows
    ]


class FileCounters(PeerCounters):
    """This worker's counters, saved to a file of its own after each change."""

    def __init__(self, folder: Path) -> None:
        super().__init__(NAME)
        self.path = folder / f"counters-{os.getpid()}.json"

    def request(self, transport: str) -> None:
        super().request(transport)
        self.save()

    def answered(self, transport: str, status: int, events: int = 0) -> None:
        super().answered(transport, status, events)
        self.save()

    def sent(self, transport: str, events: int = 1) -> None:
        super().sent(transport, events)
        self.save()

    def save(self) -> None:
        with self._lock:
            transports = {name: c.snapshot() for name, c in self.transports.items()}
        # Replaced whole, so that another worker never reads half a file.
        part = self.path.with_suffix(".part")
        part.write_text(json.dumps(transports))
        os.replace(part, self.path)


def all_workers(folder: Path, live: set[int]) -> dict:
    """Every worker's transports added up. A worker gone from the tree (killed for its
    timeout) left streams counted open that were cut: they count as disconnects."""
    parts = []
    for file in folder.glob("counters-*.json"):
        transports = json.loads(file.read_text())
        if int(file.stem.removeprefix("counters-")) not in live:
            for figures in transports.values():
                figures["disconnects"] += figures["open"]
                figures["open"] = 0
        parts.append(transports)
    return add_up(parts)


def server_process(root_pid: int) -> dict:
    """CPU seconds and resident memory of the whole server tree (workers that gunicorn
    has replaced included), and its pids."""
    cpu = process_tree_cpu(root_pid, with_reaped=True)
    rss = 0
    for pid in cpu:
        try:
            with open(f"/proc/{pid}/statm") as statm:
                rss += int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue  # it exited meanwhile
    return {"pid": root_pid, "pids": sorted(cpu), "cpu_s": sum(cpu.values()), "rss_bytes": rss}


# One of each per worker, set by wsgi_application() in the worker once gunicorn has forked it.
options: PeerOptions
folder: Path
db: sqlite3.Connection
counters: FileCounters


def bad_request(transport: str, error: BadRequest) -> JsonResponse:
    counters.answered(transport, error.status)
    return JsonResponse(error.body(), status=error.status)


@require_GET
def poll(request):
    counters.request("short_polling")
    try:
        last_id = newest_id(db)
        since = cursor(request.GET.get("since"), last_id)
    except BadRequest as error:
        return bad_request("short_polling", error)
    events = [] if since is None else events_after(db, since, last_id)
    answer = poll_answer(events, since, last_id, options.max_batch)
    counters.answered("short_polling", 200, len(answer["events"]))
    return JsonResponse(answer)


@require_GET
def longpoll(request):
    counters.request("long_polling")
    try:
        wait = timeout(
            request.GET.get("timeout"), options.longpoll_timeout, options.longpoll_max_timeout
        )
        last_id = newest_id(db)
        since = cursor(request.GET.get("since"), last_id)
    except BadRequest as error:
        return bad_request("long_polling", error)
    if since is None:
        since = last_id
    deadline = time.monotonic() + wait
    while last_id <= since:
        if time.monotonic() >= deadline:
            counters.answered("long_polling", 204)
            return HttpResponse(status=204)
        time.sleep(CHECK_EVERY_S)
        last_id = newest_id(db)
    answer = poll_answer(events_after(db, since, last_id), since, last_id, options.max_batch)
    counters.answered("long_polling", 200, len(answer["events"]))
    return JsonResponse(answer)


def sse_message(event: dict) -> str:
    kind = "" if event["type"] == "message" else f"event: {event['type']}\n"
    return f"id: {event['id']}\n{kind}data: {json.dumps(event)}\n\n"


def stream(seen: int):
    try:
        yield f"retry: {RETRY_MS}\n\n"
        while True:
            last_id = newest_id(db)
            if last_id == seen:
                time.sleep(CHECK_EVERY_S)
                continue
            for event in events_after(db, seen, last_id):
                yield sse_message(event)
                counters.sent("sse")
                seen = event["id"]
    finally:
        counters.answered("sse", 200)


@require_GET
def sse(request):
    counters.request("sse")
    try:
        last_id = newest_id(db)
        start = resume_point(
            request.headers.get("Last-Event-ID"), request.GET.get("last_event_id"), last_id
        )
    except BadRequest as error:
        return bad_request("sse", error)
    response = StreamingHttpResponse(
        stream(last_id if start is None else start), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


@require_POST
def publish(request):
    try:
        kind, data = publish_body(request.body, request.content_type)
    except BadRequest as error:
        return JsonResponse(error.body(), status=error.status)
    return JsonResponse(insert(db, kind, data), status=201)


@require_GET
def metrics(request):
    oldest, newest = db.execute("SELECT min(id), max(id) FROM events").fetchone()
    source = {
        "last_id": newest or 0,
        "rate": options.rate,
        "arrivals": options.arrivals,
        "payload_bytes": options.payload_bytes,
        "history": newest - oldest + 1 if newest else 0,
    }
    process = server_process(int(os.environ[ROOT_PID_VARIABLE]))
    snapshot = counters.snapshot(source=source, process=process)
    snapshot["transports"] = all_workers(folder, set(process["pids"]))
    return JsonResponse(snapshot)


urlpatterns = [
    path("poll", poll),
    path("longpoll", longpoll),
    path("sse", sse),
    path("publish", publish),
    path("metrics", metrics),
]


def wsgi_application():
    """gunicorn's entry point (`lab.peers.django_wsgi:wsgi_application()`), called in each
    worker: Django configured in code, and this worker's database connection."""
    import django
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    global options, folder, db, counters
    options = PeerOptions(**json.loads(os.environ[OPTIONS_VARIABLE]))
    folder = Path(os.environ[FOLDER_VARIABLE])
    db = connect(folder)
    counters = FileCounters(folder)
    counters.save()  # every transport at 0: /metrics on this worker adds up from its file
    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        SECRET_KEY="a peer that signs nothing",
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
    )
    django.setup()
    return get_wsgi_application()


def tick(folder: Path, options: PeerOptions, stop: threading.Event) -> None:
    db = connect(folder)
    for n, at in enumerate(tick_times(options.rate, options.arrivals), start=1):
        if stop.wait(max(0.0, at - time.monotonic())):
            return
        event = insert(db, TICK_TYPE, tick_data(n, options.payload_bytes))
        db.execute("DELETE FROM events WHERE id <= ?", (event["id"] - options.history,))


def wait_until_answered(url: str, gunicorn: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(url + "metrics", timeout=1):
                return
        except OSError:
            if gunicorn.poll() is not None:
                sys.exit(f"lab: gunicorn exited with code {gunicorn.returncode}")
            if time.monotonic() > deadline:
                sys.exit(f"lab: gunicorn did not answer within {START_TIMEOUT_S:g} s")
            time.sleep(0.1)


def serve(options: PeerOptions) -> None:
    workers = options.workers or 2 * (os.cpu_count() or 1) + 1
    folder = Path(tempfile.mkdtemp(prefix="lab-django-wsgi-"))
    stop = threading.Event()
    gunicorn = None
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        create_database(folder)
        # Bound here, so that port 0 is known before gunicorn starts; gunicorn listens on
        # the inherited socket.
        listener = socket.create_server((options.host, options.port))
        environment = {
            **os.environ,
            OPTIONS_VARIABLE: json.dumps(dataclasses.asdict(options)),
            FOLDER_VARIABLE: str(folder),
            ROOT_PID_VARIABLE: str(os.getpid()),
        }
        command = [
            *(sys.executable, "-m", "gunicorn", "--worker-class", "sync"),
            *("--workers", str(workers), "--bind", f"fd://{listener.fileno()}"),
            # A stream never ends by itself, so a graceful stop would wait gunicorn's 30 s
            # for it: a second, then the workers are killed, streams and all.
            *("--graceful-timeout", "1"),
            # Several peers may run at once: none takes the shared default control socket.
            "--no-control-socket",
            f"{__name__}:wsgi_application()",
        ]
        gunicorn = subprocess.Popen(command, env=environment, pass_fds=[listener.fileno()])
        url = f"http://{options.host}:{listener.getsockname()[1]}/"
        listener.close()
        threading.Thread(target=tick, args=(folder, options, stop), daemon=True).start()
        wait_until_answered(url, gunicorn)
        print(f"listening on {url}", flush=True)
        gunicorn.wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop.set()
        if gunicorn is not None and gunicorn.poll() is None:
            gunicorn.terminate()
            try:
                gunicorn.wait(timeout=5)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
                gunicorn.wait()
        shutil.rmtree(folder, ignore_errors=True)
    print("stopped", flush=True)
