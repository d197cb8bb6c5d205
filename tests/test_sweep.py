"""lab.sweep's readings of the load generator: CPU per process, from /proc."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from lab.measurement import Cell
from lab.sweep import busiest_process_percent, process_tree_cpu, server_args


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
