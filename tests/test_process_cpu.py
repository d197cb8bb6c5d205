"""lab.process_cpu: CPU of a process tree, with and without children that have exited."""

import os
import subprocess
import sys

from lab.process_cpu import process_tree_cpu

BURN = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
"""A child that uses 0.3 s of CPU and exits."""

PARENT = f"""
import subprocess, sys
subprocess.run([sys.executable, "-c", {BURN!r}], check=True)  # run and waited for
print("reaped", flush=True)
sys.stdin.read()  # stay alive until the test has looked
"""


def test_a_reaped_childs_cpu_counts_only_with_reaped():
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout.readline().strip() == "reaped"
        own = sum(process_tree_cpu(parent.pid).values())
        with_child = sum(process_tree_cpu(parent.pid, with_reaped=True).values())
        assert with_child - own >= 0.25, (own, with_child)
    finally:
        parent.communicate("", timeout=10)


def test_live_descendants_are_in_the_tree():
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        assert {os.getpid(), child.pid} <= set(process_tree_cpu(os.getpid()))
    finally:
        child.communicate(b"", timeout=10)
