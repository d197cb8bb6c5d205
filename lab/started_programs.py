"""What every program the lab starts (nginx, redis-server, worker processes) needs: a free
port, a check that something answers there, and an end tied to the lab's own."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def answers(address: tuple[str, int]) -> bool:
    """True when something accepts a TCP connection at `address`."""
    try:
        with socket.create_connection(address, timeout=0.5):
            return True
    except OSError:
        return False


def stop_with_parent() -> None:
    """In the child, before its program starts: on Linux, ask the kernel to send it SIGTERM
    when the process that started it dies, even by SIGKILL, so that nothing is left behind."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def stop_process(process: subprocess.Popen | None, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it has not ended within `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
