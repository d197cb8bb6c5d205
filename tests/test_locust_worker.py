"""`lab locust-worker`: a Locust worker for a sweep's master, its raw logs sent to the master.

A real server, a real Locust master and a real `lab locust-worker`, all on loopback.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from importlib import resources

from helpers import run_server

from lab.locust_worker import scenario_files, worker_command
from lab.started_programs import free_port


def test_the_worker_loads_every_scenario_and_names_its_master():
    files = scenario_files().split(",")
    assert [f.rsplit("/", 1)[1] for f in files] == [
        "short_polling.py", "long_polling.py", "sse.py", "websocket.py", "chat.py"
    ]  # fmt: skip
    command = worker_command("10.0.0.7", 5599, processes=2)
    assert command[command.index("--master-host") + 1] == "10.0.0.7"
    assert command[command.index("--processes") + 1] == "2"


def test_a_worker_s_deliveries_reach_the_master_s_raw_logs(tmp_path):
    port = free_port()
    logs = tmp_path / "deliveries"
    with run_server("--rate", "10") as server:
        worker = subprocess.Popen(
            [sys.executable, "-m", "lab", "locust-worker", "--cells", "1",
             "--master-port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            with resources.as_file(resources.files("lab.scenarios") / "sse.py") as scenario:
                master = subprocess.run(
                    [sys.executable, "-m", "locust", "-f", str(scenario), "--master",
                     "--master-bind-port", str(port), "--expect-workers", "1",
                     "--expect-workers-max-wait", "30", "--headless", "-u", "5", "-r", "5",
                     "--run-time", "4s", "--stop-timeout", "0", "--only-summary",
                     "--events-log", str(logs), "--host", server.url],
                    capture_output=True,
                    text=True,
                    timeout=90,
                    cwd=tmp_path,
                )  # fmt: skip
            assert master.returncode in (0, 1), master.stderr[-2000:]
            assert worker.wait(timeout=30) == 0
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
            if worker.stderr is not None:
                worker.stderr.close()
    written = sorted(logs.glob("deliveries-*.csv"))
    assert written, f"no raw log reached the master: {sorted(logs.glob('*'))}"
    with open(written[0], newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) >= 5 * 10  # 5 users, 10 events/s, about 3 s live
    assert all(float(row["latency_ms"]) >= 0 for row in rows)
