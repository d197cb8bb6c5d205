"""lab.sweep: its readings of the load generator (CPU per process, from /proc), its wait
for the users to connect, and the servers it starts for its cells."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from lab.cell_servers import server_args
from lab.measurement import Cell
from lab.sweep import busiest_process_percent, process_tree_cpu
from lab.sweep_plan import BenchConfig


def test_the_busiest_process_is_the_highest_share_of_one_core():
    before = {1: 10.0, 2: 5.0}
    after = {1: 12.0, 2: 5.5, 3: 0.25}  # 3 started during the window
    assert busiest_process_percent(before, after, seconds=4.0) == 50.0
    assert busiest_process_percent({}, {}, 4.0) == 0.0


def test_cpu_of_a_process_and_its_children_is_read_from_proc():
    spin = "import time\nend = time.time() + 0.6\nwhile time.time() < end: pass\n"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import subprocess, sys; subprocess.run([sys.executable, '-c', {spin!r}])",
        ]
    )
    try:
        deadline = time.monotonic() + 10
        tree = {}
        while len(tree) < 2 and time.monotonic() < deadline:
            tree = process_tree_cpu(parent.pid)
            time.sleep(0.05)
        assert parent.pid in tree and len(tree) == 2, tree
        parent.wait(timeout=10)
    finally:
        parent.kill()
    assert process_tree_cpu(os.getpid())[os.getpid()] > 0


def test_each_cell_gets_its_own_server_on_a_free_loopback_port():
    args = server_args(Cell("sse", users=20_000, rate=2.0, payload_pad_bytes=32))
    assert args[:4] == ["--host", "127.0.0.1", "--port", "0"]
    assert args[args.index("--max-streams") + 1] == "40000"
    assert args[args.index("--payload-bytes") + 1] == "32"


def _stand_in_for_locust() -> subprocess.Popen:
    """A process that runs until stopped, where the sweep expects Locust."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_the_window_waits_for_every_stream_and_gives_up_at_the_deadline(server, monkeypatch):
    import io

    from helpers import SSEClient, wait_until

    import lab.connecting as sweep
    from lab.progress import Progress
    from lab.sweep_plan import BenchConfig

    monkeypatch.setattr(sweep, "CONNECT_DEADLINE_S", 1.0)
    config = BenchConfig(spawn_rate=100.0)
    progress = Progress([1.0], io.StringIO())
    open_before = server.counters("sse")["open"]
    stand_in = _stand_in_for_locust()
    try:
        with SSEClient(server.url + "/sse"), SSEClient(server.url + "/sse"):
            wait_until(lambda: server.counters("sse")["open"] == open_before + 2, what="2 open")
            cell = Cell("sse", users=open_before + 2, rate=1.0)
            _idle, snapshot, connected = sweep.wait_for_users(
                server.url, cell, config, stand_in, progress, time.monotonic()
            )
            assert connected == cell.users and snapshot["transports"]["sse"]["open"] >= 2
            # One user more than the server will ever see: the deadline passes.
            more = Cell("sse", users=open_before + 3, rate=1.0)
            started = time.monotonic()
            _idle, _snapshot, connected = sweep.wait_for_users(
                server.url, more, config, stand_in, progress, started
            )
            assert connected == open_before + 2
            assert 1.0 <= time.monotonic() - started < 5.0
    finally:
        stand_in.kill()
        stand_in.wait()


def test_the_next_cell_s_server_is_started_before_it_is_needed(tmp_path):
    from helpers import wait_until

    from lab.cell_servers import Servers
    from lab.lab_process import LISTENING

    first, second = Cell("sse", 5, 1.0), Cell("sse", 5, 2.0)
    with Servers(tmp_path) as servers:
        servers.prepare(first)
        with servers.take(first) as server:
            assert server.process.poll() is None and server.url.startswith("http://127.0.0.1:")
        # Prepared for a cell that does not run (the next one failed): stopped, not leaked.
        servers.prepare(second)
        log = tmp_path / "raw" / second.name / "server.log"
        wait_until(
            lambda: log.is_file() and LISTENING in log.read_text(), what="the server listening"
        )
        with servers.take(first) as again:
            assert again.url != server.url
        port = int(log.read_text().split(LISTENING, 1)[1].split(":")[2].split("/")[0])
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
    assert server.process.poll() is not None and again.process.poll() is not None


def test_with_expected_workers_a_cell_s_locust_is_a_master_that_waits_for_them(tmp_path):
    from lab.locust_worker import LOCUST_MASTER_PORT
    from lab.sweep import locust_command

    cell = Cell("sse", 1000, 1.0)
    alone = locust_command(
        cell, BenchConfig(), tmp_path / "sse.py", "http://x", tmp_path, tmp_path, 60
    )
    assert "--processes" in alone and "--master" not in alone
    config = BenchConfig(expect_workers=3)
    command = locust_command(cell, config, tmp_path / "sse.py", "http://x", tmp_path, tmp_path, 60)
    assert "--master" in command and "--processes" not in command
    assert command[command.index("--expect-workers") + 1] == "3"
    assert command[command.index("--master-bind-port") + 1] == str(LOCUST_MASTER_PORT)
